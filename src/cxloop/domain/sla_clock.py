"""SLA clocks: where a target of business time stands for one case.

A clock starts when the case opens, runs only in the calendar's open hours, stands
still during pauses (waiting on the customer) and stops at the moment the target is
about (the first response, the resolution). It is met while the business time used is
at most the target, and breached once it is more.

>>> from datetime import datetime, timedelta
>>> from zoneinfo import ZoneInfo
>>> from cxloop.domain.business_hours import weekday_calendar
>>> office = weekday_calendar("Asia/Taipei", ["09:00-18:00"])
>>> opened = datetime(2026, 3, 9, 9, 0, tzinfo=ZoneInfo("Asia/Taipei"))  # Monday
>>> clock = sla_status(office, target_seconds=4 * 3600, start=opened,
...                    now=opened + timedelta(hours=3))
>>> clock.due_at.isoformat(), clock.percent_used, clock.breached
('2026-03-09T13:00:00+08:00', 75.0, False)
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from cxloop.domain.business_hours import (
    BusinessCalendar,
    Pause,
    add_business_seconds,
    as_utc,
    business_seconds_between,
)
from cxloop.domain.errors import InvalidInput

#: A pause whose end is ``None`` is still running.
OpenPause = tuple[datetime, datetime | None]


@dataclass(frozen=True)
class SlaClock:
    """The state of one SLA target at one moment.

    Attributes
    ----------
    target_seconds
        The business time allowed.
    elapsed_seconds
        Business time used from the start to the clock's end (``now``, or the stop
        when it came first), pauses left out.
    remaining_seconds
        Business time left before the target is missed (0 once breached).
    overdue_seconds
        Business time past the target (0 while met).
    due_at
        The last moment that still meets the target, in the calendar's time zone.
        While a pause runs it assumes the pause ends at ``now``.
    breached
        Whether more than the target has been used.
    percent_used
        ``elapsed / target`` as a percentage; may exceed 100.
    paused
        Whether a pause is running at ``now`` and the clock has not stopped.
    stopped
        Whether the clock stopped (first response or resolution) by ``now``.
    """

    target_seconds: float
    elapsed_seconds: float
    remaining_seconds: float
    overdue_seconds: float
    due_at: datetime
    breached: bool
    percent_used: float
    paused: bool
    stopped: bool


def sla_status(
    calendar: BusinessCalendar,
    *,
    target_seconds: float,
    start: datetime,
    now: datetime,
    pauses: Iterable[OpenPause] = (),
    stopped_at: datetime | None = None,
) -> SlaClock:
    """The clock of a target of ``target_seconds`` business seconds from ``start``.

    Parameters
    ----------
    calendar
        The business hours and holidays the clock runs in.
    target_seconds
        The business time allowed (more than 0).
    start, now
        When the clock started and the moment it is read (aware datetimes).
    pauses
        ``(start, end)`` pairs when the clock stood still; an end of ``None`` means
        the pause is still running.
    stopped_at
        When the target was reached (first response, resolution), if it was.
    """
    if not math.isfinite(target_seconds) or target_seconds <= 0:
        msg = f"an SLA target must be more than 0 seconds, got {target_seconds}"
        raise InvalidInput(msg)
    as_utc(start, "start")
    now = as_utc(now, "now")
    stop = None if stopped_at is None else as_utc(stopped_at, "stopped_at")
    stopped = stop is not None and stop <= now
    end = stop if stop is not None and stopped else now
    given = [
        (as_utc(p_start, f"pause {i + 1} start"), p_end)
        for i, (p_start, p_end) in enumerate(pauses)
    ]
    closed = _close_pauses(given, end)
    elapsed = business_seconds_between(calendar, start, end, closed)
    running = not stopped and any(
        p_start <= now and (p_end is None or now < p_end) for p_start, p_end in given
    )
    return SlaClock(
        target_seconds=float(target_seconds),
        elapsed_seconds=elapsed,
        remaining_seconds=max(0.0, target_seconds - elapsed),
        overdue_seconds=max(0.0, elapsed - target_seconds),
        due_at=add_business_seconds(calendar, start, target_seconds, closed),
        breached=elapsed > target_seconds,
        percent_used=100.0 * elapsed / target_seconds,
        paused=running,
        stopped=stopped,
    )


def _close_pauses(pauses: Iterable[OpenPause], end: datetime) -> list[Pause]:
    """Pauses with a running one ended at ``end`` (and none starting after it)."""
    closed = []
    for p_start, p_end in pauses:
        if p_end is None:
            if p_start <= end:
                closed.append((p_start, end))
        else:
            closed.append((p_start, p_end))
    return closed
