"""Opening hours within a day: ``09:00-18:00`` intervals, checked and ordered."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise

from cxloop.domain.errors import InvalidInput

#: Seconds in a day; an interval may end at 24:00.
DAY_SECONDS = 86_400
#: Weekday keys, Monday first (``date.weekday()`` order).
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, order=True)
class OpenInterval:
    """Opening hours within one day: seconds after local midnight, ``[start, end)``."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end <= DAY_SECONDS:
            msg = f"opening hours {self} must run forward within 00:00-24:00"
            raise InvalidInput(msg)

    @classmethod
    def parse(cls, text: str) -> OpenInterval:
        """An interval written ``HH:MM-HH:MM`` (the end may be ``24:00``).

        >>> OpenInterval.parse("09:00-12:30")
        OpenInterval(start=32400, end=45000)
        """
        parts = str(text).replace(" ", "").split("-")
        if len(parts) != 2:
            msg = f"opening hours {text!r} must look like 09:00-18:00"
            raise InvalidInput(msg)
        return cls(_clock_seconds(parts[0], text), _clock_seconds(parts[1], text))

    def __str__(self) -> str:
        return f"{_clock_text(self.start)}-{_clock_text(self.end)}"


DayHours = tuple[OpenInterval, ...]


def _clock_seconds(part: str, text: str) -> int:
    hours, _, minutes = part.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        msg = f"opening hours {text!r} must look like 09:00-18:00"
        raise InvalidInput(msg)
    seconds = int(hours) * 3600 + int(minutes) * 60
    if int(minutes) >= 60 or seconds > DAY_SECONDS:
        msg = f"opening hours {text!r}: {part} is not a time of day"
        raise InvalidInput(msg)
    return seconds


def _clock_text(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def day_hours(intervals: Iterable[OpenInterval], where: str) -> DayHours:
    """``intervals`` in order; overlapping ones are refused, naming ``where``."""
    ordered = tuple(sorted(intervals))
    for before, after in pairwise(ordered):
        if after.start < before.end:
            msg = f"{where}: opening hours {before} and {after} overlap"
            raise InvalidInput(msg)
    return ordered


def open_seconds(hours: DayHours) -> int:
    """Seconds open in a day with these hours (without clock changes)."""
    return sum(interval.end - interval.start for interval in hours)
