"""Business calendars from YAML: opening hours, holidays and make-up working days.

The shipped ``calendars/tw.yaml`` holds Taiwan's national holidays; a team may give its
own file in the same format::

    name: support-desk
    timezone: Asia/Taipei            # an IANA zone; default Asia/Taipei
    hours:                           # a weekday left out is closed; default Mon-Fri 09:00-18:00
      mon: ["09:00-12:00", "13:00-18:00"]
      sat: "10:00-14:00"
    holidays_from: tw                # optional: start from a shipped calendar's dates
    holidays:                        # closed dates
      - {date: 2026-12-31, name: Year-end stocktake}
      - 2026-12-30                   # a bare date is allowed
    working_days:                    # dates open although usually closed (補班日)
      - {date: 2026-11-28, name: Make-up Saturday}  # the first open weekday's hours
      - {date: 2026-11-29, hours: "09:00-12:00"}

``hours: 24x7`` opens every moment. Errors name the file, the line and the field.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from cxloop.domain.business_hours import BusinessCalendar, zone_named
from cxloop.domain.errors import InvalidInput
from cxloop.domain.opening_hours import (
    DAY_SECONDS,
    WEEKDAYS,
    DayHours,
    OpenInterval,
    day_hours,
)

#: Folder of the shipped calendars (``<name>.yaml``).
CALENDARS_DIR = Path(__file__).with_name("calendars")
#: The calendar used when none is given.
DEFAULT_CALENDAR = "tw"
DEFAULT_TIMEZONE = "Asia/Taipei"
DEFAULT_HOURS = "09:00-18:00"
_KEYS = ("name", "timezone", "hours", "holidays_from", "holidays", "working_days")
_DAY_KEYS = {"holidays": ("date", "name"), "working_days": ("date", "name", "hours")}
_ALWAYS = "24x7"


class _Mapping(dict[Any, Any]):
    """A YAML mapping that remembers the line of each key (1-based)."""

    line: int = 0
    lines: dict[Any, int]


class _Sequence(list[Any]):
    """A YAML sequence that remembers the line of each item (1-based)."""

    line: int = 0
    lines: list[int]


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, keeping line numbers and refusing duplicate keys."""


def _mapping(loader: _Loader, node: yaml.MappingNode) -> _Mapping:
    result = _Mapping()
    result.line, result.lines = node.start_mark.line + 1, {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in result:
            msg = f"line {line}: {key!r} is given twice"
            raise InvalidInput(msg)
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = line
    return result


def _timestamp(loader: _Loader, node: yaml.ScalarNode) -> date:
    try:
        value: date = loader.construct_yaml_timestamp(node)
    except ValueError as exc:
        msg = f"line {node.start_mark.line + 1}: {node.value!r} is not a date: {exc}"
        raise InvalidInput(msg) from None
    return value


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> _Sequence:
    result = _Sequence(loader.construct_object(item, deep=True) for item in node.value)
    result.line = node.start_mark.line + 1
    result.lines = [item.start_mark.line + 1 for item in node.value]
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


class _Where:
    """Where a value sits: the origin, a line and a dotted field, for messages."""

    def __init__(self, origin: str, line: int, field: str) -> None:
        self.origin, self.line, self.field = origin, line, field

    def fail(self, message: str) -> InvalidInput:
        at = f" line {self.line}" if self.line else ""
        return InvalidInput(f"{self.origin}{at}: {self.field}: {message}")

    def child(self, parent: object, key: Any, field: str) -> _Where:
        lines = getattr(parent, "lines", None)
        line = self.line
        if isinstance(lines, dict):
            line = lines.get(key, line)
        elif isinstance(lines, list) and isinstance(key, int) and key < len(lines):
            line = lines[key]
        return _Where(self.origin, line, field)


def load_calendar(path: str | None = None) -> BusinessCalendar:
    """The calendar in a YAML file, or Taiwan's shipped one when ``path`` is None."""
    file = CALENDARS_DIR / f"{DEFAULT_CALENDAR}.yaml" if path is None else Path(path)
    if not file.is_file():
        msg = f"{file}: no such calendar file"
        raise InvalidInput(msg)
    try:
        document = yaml.load(file.read_text(encoding="utf-8-sig"), Loader=_Loader)  # noqa: S506
    except UnicodeDecodeError:
        msg = f"{file}: not UTF-8 text"
        raise InvalidInput(msg) from None
    except yaml.YAMLError as exc:
        msg = f"{file}: not valid YAML: {str(exc).splitlines()[0]}"
        raise InvalidInput(msg) from None
    except InvalidInput as exc:
        msg = f"{file} {exc}"
        raise InvalidInput(msg) from None
    return parse_calendar(document, origin=str(file))


def shipped_calendars() -> list[str]:
    """Names of the shipped calendars (usable as ``holidays_from``)."""
    return sorted(path.stem for path in CALENDARS_DIR.glob("*.yaml"))


def parse_calendar(document: object, *, origin: str = "calendar") -> BusinessCalendar:
    """A calendar from an already-read mapping (see the module docstring for fields)."""
    top = _Where(origin, getattr(document, "line", 0), "calendar")
    if not isinstance(document, dict):
        raise top.fail("must be a mapping with timezone, hours, holidays ...")
    for key in document:
        if key not in _KEYS:
            where = top.child(document, key, str(key))
            raise where.fail(f"unknown field; use {', '.join(_KEYS)}")
    name = _text(document, "name", top, default="")
    timezone = _text(document, "timezone", top, default=DEFAULT_TIMEZONE)
    try:
        zone_named(timezone)
    except InvalidInput as exc:
        raise top.child(document, "timezone", "timezone").fail(str(exc)) from None
    weekly = _weekly(document.get("hours"), top.child(document, "hours", "hours"))
    holidays, working = _inherited(document, top)
    default_hours = next((day for day in weekly if day), ())
    holidays_own, working_own = _dated(document, top, default_hours)
    for day in holidays_own:
        working.pop(day, None)
    for day in working_own:
        holidays.pop(day, None)
    try:
        return BusinessCalendar(
            timezone=timezone,
            weekly=weekly,
            holidays={**holidays, **holidays_own},
            working_days={**working, **working_own},
            name=name,
        )
    except InvalidInput as exc:
        raise top.fail(str(exc)) from None


def _text(document: dict[Any, Any], key: str, top: _Where, *, default: str) -> str:
    value = document.get(key, default)
    if not isinstance(value, str) or (not value and key == "timezone"):
        raise top.child(document, key, key).fail("must be a text")
    return value


def _weekly(value: object, where: _Where) -> tuple[DayHours, ...]:
    if value is None:
        workday = (OpenInterval.parse(DEFAULT_HOURS),)
        return tuple(workday if i < 5 else () for i in range(7))
    if value == _ALWAYS:
        return ((OpenInterval(0, DAY_SECONDS),),) * 7
    if not isinstance(value, dict):
        raise where.fail(
            f"must map weekdays ({', '.join(WEEKDAYS)}) to hours, or be 24x7"
        )
    for key in value:
        if key not in WEEKDAYS:
            raise where.child(value, key, f"hours.{key}").fail(
                f"not a weekday; use {', '.join(WEEKDAYS)}"
            )
    weekly = tuple(
        _hours(value.get(day), where.child(value, day, f"hours.{day}"))
        for day in WEEKDAYS
    )
    if not any(weekly):
        raise where.fail("no weekday has opening hours")
    return weekly


def _hours(value: object, where: _Where) -> DayHours:
    """Hours written as ``"09:00-18:00"``, a list of such, or empty/``closed``."""
    if value in (None, "closed", "", []):
        return ()
    items = value if isinstance(value, list) else [value]
    for item in items:
        if not isinstance(item, str):
            raise where.fail(f'{item!r} must be written like "09:00-18:00" (in quotes)')
    try:
        return day_hours([OpenInterval.parse(str(item)) for item in items], where.field)
    except InvalidInput as exc:
        raise where.fail(str(exc).removeprefix(f"{where.field}: ")) from None


def _inherited(
    document: dict[Any, Any], top: _Where
) -> tuple[dict[date, str], dict[date, DayHours]]:
    source = document.get("holidays_from")
    if source is None:
        return {}, {}
    where = top.child(document, "holidays_from", "holidays_from")
    if source not in shipped_calendars():
        raise where.fail(
            f"{source!r} is not a shipped calendar; use one of {shipped_calendars()}"
        )
    base = load_calendar(str(CALENDARS_DIR / f"{source}.yaml"))
    return dict(base.holidays), dict(base.working_days)


def _dated(
    document: dict[Any, Any], top: _Where, default_hours: DayHours
) -> tuple[dict[date, str], dict[date, DayHours]]:
    holidays: dict[date, str] = {}
    working: dict[date, DayHours] = {}
    seen: set[date] = set()
    for section in ("holidays", "working_days"):
        for day, entry, where in _entries(document, section, top):
            if day in seen:
                raise where.fail(f"{day.isoformat()} is listed twice")
            seen.add(day)
            name = entry.get("name", "")
            if not isinstance(name, str):
                raise where.child(entry, "name", f"{where.field}.name").fail(
                    "must be a text"
                )
            if section == "holidays":
                holidays[day] = name
            else:
                hours_where = where.child(entry, "hours", f"{where.field}.hours")
                given = entry.get("hours")
                working[day] = (
                    default_hours if given is None else _hours(given, hours_where)
                )
    return holidays, working


def _entries(
    document: dict[Any, Any], section: str, top: _Where
) -> Iterator[tuple[date, dict[Any, Any], _Where]]:
    """Each entry of ``holidays``/``working_days`` with its date, fields and place."""
    items = document.get(section) or []
    where = top.child(document, section, section)
    if not isinstance(items, list):
        raise where.fail("must be a list of dates or {date, name} entries")
    for i, item in enumerate(items):
        at = where.child(items, i, f"{section}[{i + 1}]")
        entry = item if isinstance(item, dict) else {"date": item}
        for key in entry:
            if key not in _DAY_KEYS[section]:
                raise at.child(entry, key, f"{at.field}.{key}").fail(
                    f"unknown field; use {', '.join(_DAY_KEYS[section])}"
                )
        yield (
            _date(entry.get("date"), at.child(entry, "date", f"{at.field}.date")),
            entry,
            at,
        )


def _date(value: object, where: _Where) -> date:
    if isinstance(value, datetime):
        raise where.fail(f"{value} must be a date without a time (YYYY-MM-DD)")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise where.fail(f"{value!r} is not a date (YYYY-MM-DD)")
