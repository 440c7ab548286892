"""Business hours: how much working time lies between two moments, and when a target
of working time runs out.

A :class:`BusinessCalendar` holds a time zone, opening hours per weekday (several
intervals a day are allowed, e.g. a lunch break), closed dates (holidays) and dates
open with their own hours (working days such as Taiwan's make-up Saturdays, 補班日).
Local wall times are turned into instants with :mod:`zoneinfo`, so days that are 23
or 25 hours long count correctly; a wall time skipped by a clock change means the
first moment after the change, a repeated one its first occurrence.

Every moment is an aware :class:`~datetime.datetime`; naive ones are refused. Pauses
(``(start, end)`` pairs, e.g. "waiting on customer") stop the clock; they may overlap
each other and the ends. Long spans are counted a week at a time wherever a week has
no holiday, working day or clock change (assuming no zone changes its offset twice
within one week, which holds for every zone we know of).

The due moment of a target is the *last* moment at which no more than the target has
elapsed, so a response at the due moment meets the target and one a moment later
misses it: with a lunch break from 12:00 to 13:00, four hours from Friday 17:00 are
due on Monday at 13:00, not 12:00.

>>> from datetime import datetime
>>> from zoneinfo import ZoneInfo
>>> office = weekday_calendar("Asia/Taipei", ["09:00-18:00"])
>>> opened = datetime(2026, 3, 6, 17, 0, tzinfo=ZoneInfo("Asia/Taipei"))  # Friday
>>> add_business_seconds(office, opened, 4 * 3600).isoformat()
'2026-03-09T12:00:00+08:00'
>>> business_seconds_between(office, opened, opened.replace(day=9, hour=10)) / 3600
2.0
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cxloop.domain.errors import InvalidInput
from cxloop.domain.opening_hours import DAY_SECONDS, WEEKDAYS, day_hours, open_seconds
from cxloop.domain.opening_hours import DayHours as DayHours
from cxloop.domain.opening_hours import OpenInterval as OpenInterval

#: How many days ahead an open moment is looked for before giving up.
MAX_CLOSED_DAYS = 3_660
#: The longest target :func:`add_business_seconds` accepts (ten years of seconds).
MAX_BUSINESS_SECONDS = 10 * 365 * 86_400
_ZERO = timedelta(0)
_WEEK = timedelta(days=7)
_ONE_DAY = timedelta(days=1)

Pause = tuple[datetime, datetime]
Span = tuple[datetime, datetime]


@dataclass(frozen=True)
class BusinessCalendar:
    """When a team works: a time zone, weekly hours, holidays and extra working days.

    Parameters
    ----------
    timezone
        An IANA zone name such as ``Asia/Taipei``.
    weekly
        Seven tuples of :class:`OpenInterval`, Monday first; an empty tuple is a
        closed day.
    holidays
        Closed dates and their names.
    working_days
        Dates open with the given hours instead of the weekly ones (make-up working
        days, special hours). A date cannot be both a holiday and a working day.
    name
        A label for reports.
    """

    timezone: str
    weekly: tuple[DayHours, ...]
    holidays: Mapping[date, str] = field(default_factory=dict)
    working_days: Mapping[date, DayHours] = field(default_factory=dict)
    name: str = ""
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _week: timedelta = field(init=False, repr=False, compare=False)
    _exceptions: tuple[date, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.weekly) != 7:
            msg = f"weekly hours need 7 days (Monday first), got {len(self.weekly)}"
            raise InvalidInput(msg)
        weekly = tuple(day_hours(day, WEEKDAYS[i]) for i, day in enumerate(self.weekly))
        if not any(weekly):
            msg = "a calendar needs opening hours on at least one weekday"
            raise InvalidInput(msg)
        working = {d: day_hours(h, d.isoformat()) for d, h in self.working_days.items()}
        both = sorted(set(self.holidays) & set(working))
        if both:
            msg = f"{both[0].isoformat()} is both a holiday and a working day"
            raise InvalidInput(msg)
        object.__setattr__(self, "weekly", weekly)
        object.__setattr__(self, "holidays", MappingProxyType(dict(self.holidays)))
        object.__setattr__(self, "working_days", MappingProxyType(working))
        object.__setattr__(self, "_zone", zone_named(self.timezone))
        object.__setattr__(
            self, "_week", timedelta(seconds=sum(map(open_seconds, weekly)))
        )
        object.__setattr__(
            self, "_exceptions", tuple(sorted({*self.holidays, *working}))
        )

    def hours_on(self, day: date) -> DayHours:
        """The opening hours of a local date (empty when closed)."""
        if day in self.holidays:
            return ()
        if day in self.working_days:
            return self.working_days[day]
        return self.weekly[day.weekday()]

    # -- local dates and instants ------------------------------------------------

    def _instant(self, day: date, seconds: int) -> datetime:
        """The UTC instant of a local wall time; a skipped time maps to the change."""
        wall = datetime.combine(day, time(), tzinfo=self._zone) + timedelta(
            seconds=seconds
        )
        instant = wall.astimezone(UTC)
        if instant.astimezone(self._zone).replace(tzinfo=None) == wall.replace(
            tzinfo=None
        ):
            return instant
        return _clock_change(self._zone, wall)

    def _midnight(self, day: date) -> datetime:
        return self._instant(day, 0)

    def _day_of(self, instant: datetime) -> date:
        """The local date whose midnight-to-midnight span holds ``instant``."""
        day = instant.astimezone(self._zone).date()
        if instant < self._midnight(day):
            return day - _ONE_DAY
        if instant >= self._midnight(day + _ONE_DAY):
            return day + _ONE_DAY
        return day

    def _spans(self, day: date) -> list[Span]:
        """The open spans of a local date as UTC instants, in order, none empty."""
        spans = []
        for interval in self.hours_on(day):
            start = self._instant(day, interval.start)
            end = self._instant(day, interval.end)
            if end > start:
                spans.append((start, end))
        return spans

    def _regular_week(self, day: date) -> bool:
        """Whether the seven days from ``day`` have their weekly hours unchanged."""
        at = bisect.bisect_left(self._exceptions, day)
        if at < len(self._exceptions) and self._exceptions[at] < day + _WEEK:
            return False
        first = datetime.combine(day, time(), tzinfo=self._zone).utcoffset()
        last = datetime.combine(day + _WEEK, time(), tzinfo=self._zone).utcoffset()
        return first == last

    # -- counting ----------------------------------------------------------------

    def _open_between(self, start: datetime, end: datetime) -> timedelta:
        """Open time within ``[start, end)`` (UTC instants)."""
        if end <= start:
            return _ZERO
        first, last = self._day_of(start), self._day_of(end)
        total = _overlap(self._spans(first), start, end)
        if last > first:
            total += _overlap(self._spans(last), start, end)
            total += self._whole_days(first + _ONE_DAY, last)
        return total

    def _whole_days(self, day: date, stop: date) -> timedelta:
        """Open time of the local dates ``day`` up to, not including, ``stop``."""
        total = _ZERO
        while day < stop:
            if stop - day >= _WEEK and self._regular_week(day):
                total += self._week
                day += _WEEK
                continue
            total += _overlap(self._spans(day), None, None)
            day += _ONE_DAY
        return total

    def _advance(self, start: datetime, amount: timedelta) -> datetime:
        """The earliest instant by which ``amount`` of open time has passed."""
        if amount <= _ZERO:
            return start
        day = self._day_of(start)
        left, found = _consume(self._spans(day), start, amount)
        day += _ONE_DAY
        while found is None:
            if left > self._week and self._regular_week(day):
                left -= self._week
                day += _WEEK
                continue
            left, found = _consume(self._spans(day), start, left)
            day += _ONE_DAY
        return found

    def _next_open(self, instant: datetime) -> datetime:
        """``instant`` when open, else the start of the next open span."""
        day = self._day_of(instant)
        for offset in range(MAX_CLOSED_DAYS):
            for start, end in self._spans(day + timedelta(days=offset)):
                if end > instant:
                    return max(start, instant)
        msg = f"{self.name or 'the calendar'} has no open time within {MAX_CLOSED_DAYS} days after {instant.isoformat()}"
        raise InvalidInput(msg)


def zone_named(name: str) -> ZoneInfo:
    """The time zone called ``name``; an unknown name is refused."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        msg = f"unknown time zone {name!r} (use an IANA name such as Asia/Taipei)"
        raise InvalidInput(msg) from None


def _clock_change(zone: ZoneInfo, wall: datetime) -> datetime:
    """The instant a forward clock change skips over the nonexistent ``wall`` time."""
    low = wall.replace(fold=1).astimezone(UTC)
    high = wall.replace(fold=0).astimezone(UTC)
    after = high.astimezone(zone).utcoffset()
    low, high = min(low, high), max(low, high)
    while high - low > timedelta(microseconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).utcoffset() == after:
            high = middle
        else:
            low = middle
    return high


def _overlap(
    spans: Sequence[Span], start: datetime | None, end: datetime | None
) -> timedelta:
    """Total length of ``spans`` clipped to ``[start, end)`` (``None``: unbounded)."""
    total = _ZERO
    for span_start, span_end in spans:
        low = span_start if start is None else max(span_start, start)
        high = span_end if end is None else min(span_end, end)
        if high > low:
            total += high - low
    return total


def _consume(
    spans: Sequence[Span], start: datetime, amount: timedelta
) -> tuple[timedelta, datetime | None]:
    """Spend ``amount`` over ``spans`` from ``start``: what is left, or where it ran out."""
    for span_start, span_end in spans:
        low = max(span_start, start)
        if span_end <= low:
            continue
        if amount <= span_end - low:
            return _ZERO, low + amount
        amount -= span_end - low
    return amount, None


# -- public functions ----------------------------------------------------------


def weekday_calendar(
    timezone: str, hours: Sequence[str], *, days: int = 5, name: str = ""
) -> BusinessCalendar:
    """Open the same ``hours`` (e.g. ``["09:00-12:00", "13:00-18:00"]``) on the first
    ``days`` weekdays, Monday first; no holidays."""
    day = tuple(OpenInterval.parse(text) for text in hours)
    weekly = tuple(day if i < days else () for i in range(7))
    return BusinessCalendar(timezone=timezone, weekly=weekly, name=name)


def always_open(timezone: str = "UTC") -> BusinessCalendar:
    """A 24x7 calendar: every moment counts."""
    whole = (OpenInterval(0, DAY_SECONDS),)
    return BusinessCalendar(timezone=timezone, weekly=(whole,) * 7, name="24x7")


def is_open(calendar: BusinessCalendar, moment: datetime) -> bool:
    """Whether the calendar is open at ``moment`` (an opening interval is ``[start, end)``)."""
    instant = as_utc(moment, "moment")
    spans = calendar._spans(calendar._day_of(instant))
    return any(start <= instant < end for start, end in spans)


def business_seconds_between(
    calendar: BusinessCalendar,
    start: datetime,
    end: datetime,
    pauses: Iterable[Pause] = (),
) -> float:
    """Open seconds from ``start`` to ``end``, leaving out ``pauses``; 0 when ``end``
    is not after ``start``."""
    low, high = as_utc(start, "start"), as_utc(end, "end")
    merged = merge_pauses(pauses)
    if high <= low:
        return 0.0
    total = calendar._open_between(low, high)
    for pause_start, pause_end in merged:
        total -= calendar._open_between(max(pause_start, low), min(pause_end, high))
    return total.total_seconds()


def add_business_seconds(
    calendar: BusinessCalendar,
    start: datetime,
    seconds: float,
    pauses: Iterable[Pause] = (),
) -> datetime:
    """The due moment: the last instant at which at most ``seconds`` of open time,
    outside ``pauses``, have passed since ``start``; in the calendar's time zone."""
    position = as_utc(start, "start")
    left = _duration(seconds)
    merged = merge_pauses(pauses)
    for pause_start, pause_end in merged:
        if pause_end <= position:
            continue
        if pause_start > position:
            room = calendar._open_between(position, pause_start)
            if left <= room:
                break
            left -= room
        position = pause_end
    try:
        due = _next_counting(calendar, calendar._advance(position, left), merged)
    except OverflowError:
        msg = f"{seconds} business seconds from {start.isoformat()} is beyond the calendar"
        raise InvalidInput(msg) from None
    return due.astimezone(calendar._zone)


def _next_counting(
    calendar: BusinessCalendar, instant: datetime, pauses: Sequence[Pause]
) -> datetime:
    """The first instant from ``instant`` at which open, unpaused time runs."""
    while True:
        moved = calendar._next_open(instant)
        for pause_start, pause_end in pauses:
            if pause_start <= moved < pause_end:
                moved = pause_end
        if moved == instant:
            return instant
        instant = moved


def merge_pauses(pauses: Iterable[Pause]) -> list[Pause]:
    """Pauses as sorted, non-overlapping UTC spans; an end before its start is refused."""
    spans = []
    for i, (start, end) in enumerate(pauses):
        low, high = (
            as_utc(start, f"pause {i + 1} start"),
            as_utc(end, f"pause {i + 1} end"),
        )
        if high < low:
            msg = f"pause {i + 1} ends ({end.isoformat()}) before it starts ({start.isoformat()})"
            raise InvalidInput(msg)
        spans.append((low, high))
    merged: list[Pause] = []
    for low, high in sorted(spans):
        if merged and low <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        elif high > low:
            merged.append((low, high))
    return merged


def as_utc(moment: datetime, what: str) -> datetime:
    """``moment`` in UTC; a naive datetime (or not a datetime) is refused, naming ``what``."""
    if not isinstance(moment, datetime):
        msg = f"{what} must be a datetime, got {type(moment).__name__}"
        raise InvalidInput(msg)
    if moment.tzinfo is None or moment.utcoffset() is None:
        msg = f"{what} ({moment.isoformat()}) has no time zone; give an aware datetime"
        raise InvalidInput(msg)
    return moment.astimezone(UTC)


def _duration(seconds: float) -> timedelta:
    if not math.isfinite(seconds) or seconds < 0:
        msg = f"business seconds must be a finite number of at least 0, got {seconds}"
        raise InvalidInput(msg)
    if seconds > MAX_BUSINESS_SECONDS:
        msg = f"{seconds} business seconds is too long (at most {MAX_BUSINESS_SECONDS})"
        raise InvalidInput(msg)
    return timedelta(seconds=seconds)
