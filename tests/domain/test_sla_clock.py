"""SLA clocks: due time, elapsed and remaining business time, breach, pauses, stops."""

from __future__ import annotations

import doctest
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from cxloop.domain import sla_clock
from cxloop.domain.business_hours import weekday_calendar
from cxloop.domain.errors import InvalidInput
from cxloop.domain.sla_clock import sla_status

TAIPEI = ZoneInfo("Asia/Taipei")
HOUR = 3600.0


def test_sla_clock_reports_due_elapsed_remaining_and_breach() -> None:
    office = weekday_calendar("Asia/Taipei", ["09:00-18:00"])
    opened = datetime(2026, 3, 6, 17, 0, tzinfo=TAIPEI)
    now = datetime(2026, 3, 9, 14, 0, tzinfo=TAIPEI)
    clock = sla_status(office, target_seconds=4 * HOUR, start=opened, now=now)
    assert clock.due_at == datetime(2026, 3, 9, 12, 0, tzinfo=TAIPEI)
    assert (clock.elapsed_seconds, clock.remaining_seconds) == (6 * HOUR, 0.0)
    assert (clock.overdue_seconds, clock.percent_used) == (2 * HOUR, 150.0)
    assert clock.breached
    assert not clock.paused
    assert not clock.stopped


def test_sla_clock_stops_at_the_first_response() -> None:
    office = weekday_calendar("Asia/Taipei", ["09:00-18:00"])
    opened = datetime(2026, 3, 9, 9, 0, tzinfo=TAIPEI)
    answered = opened.replace(hour=11)
    clock = sla_status(
        office, target_seconds=4 * HOUR, start=opened, now=opened.replace(hour=17),
        stopped_at=answered,
    )  # fmt: skip
    assert clock.stopped
    assert not clock.breached
    assert (clock.elapsed_seconds, clock.remaining_seconds) == (2 * HOUR, 2 * HOUR)
    assert clock.percent_used == 50.0


def test_sla_clock_stands_still_while_waiting_on_the_customer() -> None:
    office = weekday_calendar("Asia/Taipei", ["09:00-18:00"])
    opened = datetime(2026, 3, 9, 9, 0, tzinfo=TAIPEI)
    now = opened.replace(hour=15)
    clock = sla_status(
        office, target_seconds=4 * HOUR, start=opened, now=now,
        pauses=[(opened.replace(hour=10), None)],
    )  # fmt: skip
    assert clock.paused
    assert not clock.breached
    assert clock.elapsed_seconds == HOUR
    # 3 hours left once the pause ends now: they run out at closing, so the target is
    # met until the next opening
    assert clock.due_at == datetime(2026, 3, 10, 9, 0, tzinfo=TAIPEI)


def test_sla_clock_refuses_a_target_of_nothing_and_naive_moments() -> None:
    office = weekday_calendar("Asia/Taipei", ["09:00-18:00"])
    opened = datetime(2026, 3, 9, 9, 0, tzinfo=TAIPEI)
    with pytest.raises(InvalidInput, match="more than 0"):
        sla_status(office, target_seconds=0, start=opened, now=opened)
    with pytest.raises(InvalidInput, match="now"):
        sla_status(
            office, target_seconds=60, start=opened, now=opened.replace(tzinfo=None)
        )


def test_sla_clock_doctest_holds() -> None:
    assert doctest.testmod(sla_clock).failed == 0
