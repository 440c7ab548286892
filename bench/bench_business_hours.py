"""Business-hours arithmetic: cxloop against stepping minute by minute.

Counts the business time between two moments on Taiwan's shipped calendar (Mon-Fri
09:00-18:00, 2025-2027 holidays) with :func:`business_seconds_between`, and against a
peer that walks the span one minute at a time and asks the wall clock whether each
minute is open (the obvious implementation). Both must agree. Also times a typical SLA
call (a four-hour target from a Friday evening) and a ten-year span, which cxloop
counts a week at a time. Run: ``.venv/bin/python bench/bench_business_hours.py``.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from cxloop.domain.business_hours import (
    BusinessCalendar,
    add_business_seconds,
    business_seconds_between,
)
from cxloop.loop.calendars import load_calendar

TAIPEI = ZoneInfo("Asia/Taipei")


def minute_by_minute(
    calendar: BusinessCalendar, start: datetime, end: datetime
) -> float:
    open_minutes = 0
    moment = start
    while moment < end:
        local = moment.astimezone(TAIPEI)
        seconds = local.hour * 3600 + local.minute * 60
        hours = calendar.hours_on(local.date())
        open_minutes += any(i.start <= seconds < i.end for i in hours)
        moment += timedelta(minutes=1)
    return open_minutes * 60.0


def timed(call: Callable[[], object], repeat: int) -> tuple[float, object]:
    runs = []
    result: object = None
    for _ in range(repeat):
        began = time.perf_counter()
        result = call()
        runs.append(time.perf_counter() - began)
    return statistics.median(runs), result


def main() -> None:
    taiwan = load_calendar()
    start = datetime(2025, 1, 1, 10, 30, tzinfo=TAIPEI)
    year_end = datetime(2026, 1, 1, 10, 30, tzinfo=TAIPEI)
    ours, elapsed = timed(lambda: business_seconds_between(taiwan, start, year_end), 50)
    peer, expected = timed(lambda: minute_by_minute(taiwan, start, year_end), 1)
    assert elapsed == expected, (elapsed, expected)
    friday = datetime(2026, 2, 13, 17, 0, tzinfo=TAIPEI)
    sla, due = timed(lambda: add_business_seconds(taiwan, friday, 4 * 3600), 2000)
    decade = datetime(2035, 1, 1, tzinfo=TAIPEI)
    ten, _ = timed(lambda: business_seconds_between(taiwan, start, decade), 50)
    load = os.getloadavg()
    print(f"one year (2025) on Taiwan's calendar: {elapsed / 3600:.0f} business hours")
    print(f"cxloop business_seconds_between, median of 50: {ours * 1e3:.3f} ms")
    print(f"peer minute by minute (525,600 steps): {peer:.2f} s")
    print(f"ratio peer / cxloop: {peer / ours:,.0f}x")
    print(
        f"four hours from Friday 2026-02-13 17:00 are due {due}; median {sla * 1e6:.0f} µs"
    )
    print(f"ten years (2025-2034), median of 50: {ten * 1e3:.2f} ms")
    print(
        f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}; load average "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}"
    )


if __name__ == "__main__":
    main()
