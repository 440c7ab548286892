"""Reading the fields of a pushed interaction: text, codes, vocabularies, times,
scores and conversation turns. Each reader raises :class:`ItemProblem` naming the
field and the reason."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from cxloop.ingest.vocabularies import allowed, spellings

#: Who speaks in a transcript, and how the joined text labels them.
SPEAKERS = {"customer": "客戶", "agent": "客服", "bot": "機器人"}
#: Longest text of one message or turn, and most turns.
MAX_TURN_TEXT = 10_000
MAX_TURNS = 2_000
#: Scored answers an item may carry, with their ranges.
SCORES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7), "rating": (1, 5)}
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class ItemProblem(Exception):
    """A field of an item is not acceptable."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def clean_text(value: str) -> tuple[str, int]:
    """``value`` with unstorable characters replaced, and how many there were.

    >>> clean_text("ok\\x00")
    ('ok\\ufffd', 1)
    """
    cleaned, count = UNSTORABLE.subn("\ufffd", value)
    return cleaned, count


def clean_value(value: Any, replaced: list[int]) -> Any:
    """``value`` (decoded JSON) with every string cleaned; counts into ``replaced``."""
    if isinstance(value, str):
        cleaned, count = clean_text(value)
        replaced[0] += count
        return cleaned
    if isinstance(value, dict):
        return {
            clean_value(k, replaced): clean_value(v, replaced) for k, v in value.items()
        }
    if isinstance(value, list):
        return [clean_value(v, replaced) for v in value]
    return value


class FieldReader:
    """Reads the fields of one raw item; each method raises :class:`ItemProblem`."""

    def __init__(self, raw: dict[str, Any], zone: str) -> None:
        self.raw = raw
        self.zone = zone
        self.warnings: list[str] = []

    def code(self, name: str, limit: int, *, required: bool = False) -> str | None:
        value = self.raw.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise ItemProblem(name, "a value is required")
            return None
        if not isinstance(value, str):
            raise ItemProblem(name, f"must be a string, not {json_type(value)}")
        if len(value.strip()) > limit:
            raise ItemProblem(name, f"longer than {limit} characters")
        return value.strip()

    def word(self, name: str, vocabulary: type[Any], label: str) -> str | None:
        value = self.code(name, 100)
        if value is None:
            return None
        found = spellings(vocabulary).get(value.lower())
        if found is None:
            reason = f"{value!r} is not a valid {label}; allowed: {allowed(vocabulary)}"
            raise ItemProblem(name, reason)
        return found

    def text(self, name: str, value: Any, limit: int) -> str | None:
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise ItemProblem(name, f"must be a string, not {json_type(value)}")
        if len(value) > limit:
            self.warnings.append(
                f"{name} was cut to {limit:,} characters (it had {len(value):,})"
            )
            return value[:limit]
        return value

    def time(self, name: str, value: Any) -> datetime | None:
        if value is None or value == "":
            return None
        return parse_time(name, value, self.zone)

    def score(self, name: str, value: Any, metric: str) -> float:
        low, high = SCORES[metric]
        number = isinstance(value, int | float) and not isinstance(value, bool)
        whole = number and math.isfinite(value) and float(value).is_integer()
        if whole and low <= value <= high:
            return float(value)
        raise ItemProblem(
            name, f"{value!r} must be a whole number from {low} to {high}"
        )


def json_type(value: Any) -> str:
    names = {bool: "true/false", int: "a number", float: "a number", str: "a string"}
    names.update({list: "a list", dict: "an object"})
    return names.get(type(value), type(value).__name__)


def parse_time(name: str, value: Any, zone: str) -> datetime:
    """An ISO 8601 time (``2024-03-01T09:30:00+08:00``; without an offset it is in
    ``zone``) or Unix seconds, as aware UTC."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ItemProblem(name, f"{value!r} is not a time")
        moment = datetime.fromtimestamp(value, UTC)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            reason = (
                f"{value[:60]!r} is not an ISO 8601 time like 2024-03-01T09:30:00+08:00"
            )
            raise ItemProblem(name, reason) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo(zone))
    else:
        raise ItemProblem(name, f"must be a time string, not {json_type(value)}")
    if not 1900 <= moment.year <= 2100:
        raise ItemProblem(name, f"{value!r} is outside the years 1900 to 2100")
    return moment.astimezone(UTC)


def read_turns(reader: FieldReader, name: str, value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise ItemProblem(name, "must be a list of {speaker, at, text}")
    if len(value) > MAX_TURNS:
        raise ItemProblem(name, f"more than {MAX_TURNS:,} entries")
    turns = []
    for position, turn in enumerate(value):
        where = f"{name}[{position}]"
        if not isinstance(turn, dict):
            raise ItemProblem(where, "must be an object {speaker, at, text}")
        speaker = str(turn.get("speaker") or "").strip().lower()
        if speaker not in SPEAKERS:
            choices = ", ".join(SPEAKERS)
            raise ItemProblem(
                f"{where}.speaker", f"{speaker!r} is not one of {choices}"
            )
        said = reader.text(f"{where}.text", turn.get("text"), MAX_TURN_TEXT) or ""
        at = reader.time(f"{where}.at", turn.get("at"))
        stamp = at.isoformat().replace("+00:00", "Z") if at else None
        turns.append({"speaker": speaker, "at": stamp, "text": said})
    return turns


def transcript(turns: list[dict[str, Any]]) -> str:
    """Turns joined one a line, each labelled with its speaker.

    >>> transcript([{"speaker": "customer", "text": "hi"}, {"speaker": "agent", "text": "hello"}])
    '客戶: hi\\n客服: hello'
    """
    return "\n".join(f"{SPEAKERS[turn['speaker']]}: {turn['text']}" for turn in turns)
