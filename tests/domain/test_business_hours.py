"""Business-hours arithmetic: properties over many calendars and moments, and worked
examples (weekends, lunch breaks, Lunar New Year, make-up Saturdays, clock changes)."""

from __future__ import annotations

import doctest
import itertools
import math
import os
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxloop.domain import business_hours, opening_hours
from cxloop.domain.business_hours import (
    BusinessCalendar,
    OpenInterval,
    add_business_seconds,
    always_open,
    business_seconds_between,
    is_open,
    weekday_calendar,
)
from cxloop.domain.errors import InvalidInput
from cxloop.loop.calendars import load_calendar

TAIPEI = ZoneInfo("Asia/Taipei")
LONDON = ZoneInfo("Europe/London")
HOUR = 3600.0


def _hours(*texts: str) -> tuple[OpenInterval, ...]:
    return tuple(OpenInterval.parse(text) for text in texts)


def _london_office() -> BusinessCalendar:
    """Weekdays with a lunch break, a Saturday morning, holidays and a working day."""
    day = _hours("09:00-12:30", "13:30-17:30")
    return BusinessCalendar(
        timezone="Europe/London",
        weekly=(day, day, day, day, day, _hours("10:00-13:00"), ()),
        holidays={date(2026, 4, 3): "Good Friday", date(2026, 12, 25): "Christmas"},
        working_days={date(2026, 3, 29): _hours("01:30-03:00", "08:00-09:00")},
    )


def _night_shift() -> BusinessCalendar:
    """Hours across the hours London's clocks skip and repeat."""
    night = _hours("00:30-01:30", "01:45-02:15", "22:00-24:00")
    return BusinessCalendar(timezone="Europe/London", weekly=(night,) * 7)


CALENDARS = [
    weekday_calendar("Asia/Taipei", ["09:00-18:00"]),
    weekday_calendar("Asia/Taipei", ["09:00-12:00", "13:00-18:00"]),
    load_calendar(),
    _london_office(),
    _night_shift(),
    always_open("Europe/London"),
    weekday_calendar("America/New_York", ["00:00-24:00"], days=3),
]
ZONES = [UTC, TAIPEI, LONDON, ZoneInfo("America/New_York")]
#: Modest and repeatable for CI; CXLOOP_TEST_EXAMPLES=5000 searches further by hand.
EXAMPLES = int(os.environ.get("CXLOOP_TEST_EXAMPLES", "50"))
PROPERTIES = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize="CXLOOP_TEST_EXAMPLES" not in os.environ,
)

calendars = st.sampled_from(CALENDARS)
moments = st.datetimes(
    min_value=datetime(2025, 1, 1),  # noqa: DTZ001 (hypothesis bounds are naive)
    max_value=datetime(2027, 12, 31),  # noqa: DTZ001
    timezones=st.sampled_from(ZONES),
    allow_imaginary=False,
)
pause_lists = st.lists(
    st.tuples(moments, st.integers(0, 5 * 86_400)).map(
        lambda p: (p[0], p[0].astimezone(UTC) + timedelta(seconds=p[1]))
    ),
    max_size=4,
)


def _utc(moment: datetime) -> datetime:
    """The same instant in UTC: aware datetimes sharing a zone compare by wall time."""
    return moment.astimezone(UTC)


def _ordered(*found: datetime) -> list[datetime]:
    return sorted(found, key=_utc)


def _close(left: float, right: float) -> bool:
    return math.isclose(left, right, rel_tol=0.0, abs_tol=1e-6)


@PROPERTIES
@given(calendars, st.lists(moments, min_size=3, max_size=3), pause_lists)
def test_elapsed_is_additive_over_a_midpoint(
    calendar: BusinessCalendar,
    three: list[datetime],
    pauses: list[tuple[datetime, datetime]],
) -> None:
    a, b, c = _ordered(*three)
    whole = business_seconds_between(calendar, a, c, pauses)
    parts = business_seconds_between(calendar, a, b, pauses)
    parts += business_seconds_between(calendar, b, c, pauses)
    assert _close(whole, parts)


@PROPERTIES
@given(calendars, moments, st.integers(0, 400 * 86_400 * 10**6), pause_lists)
def test_elapsed_until_the_due_moment_is_the_target(
    calendar: BusinessCalendar,
    start: datetime,
    micros: int,
    pauses: list[tuple[datetime, datetime]],
) -> None:
    seconds = micros / 10**6
    due = add_business_seconds(calendar, start, seconds, pauses)
    assert _utc(due) >= _utc(start)
    assert business_seconds_between(calendar, start, due, pauses) == seconds


@PROPERTIES
@given(calendars, moments, moments)
def test_due_moment_of_elapsed_time_is_the_open_end(
    calendar: BusinessCalendar, first: datetime, second: datetime
) -> None:
    start, end = _ordered(first, second)
    elapsed = business_seconds_between(calendar, start, end)
    due = add_business_seconds(calendar, start, elapsed)
    if is_open(calendar, end):
        assert _utc(due) == _utc(end)
    else:
        assert _utc(due) >= _utc(end)
        assert business_seconds_between(calendar, end, due) == 0.0


@PROPERTIES
@given(calendars, moments, moments, pause_lists)
def test_pauses_never_add_time_and_elapsed_never_exceeds_the_wall_clock(
    calendar: BusinessCalendar,
    first: datetime,
    second: datetime,
    pauses: list[tuple[datetime, datetime]],
) -> None:
    start, end = _ordered(first, second)
    plain = business_seconds_between(calendar, start, end)
    paused = business_seconds_between(calendar, start, end, pauses)
    assert 0.0 <= paused <= plain <= (_utc(end) - _utc(start)).total_seconds()


@PROPERTIES
@given(
    calendars, moments, moments, moments, st.integers(0, 10**12), st.integers(0, 10**12)
)
def test_elapsed_and_due_moments_grow_monotonically(
    calendar: BusinessCalendar,
    start: datetime,
    one: datetime,
    two: datetime,
    micros_one: int,
    micros_two: int,
) -> None:
    early, late = _ordered(one, two)
    assert business_seconds_between(calendar, start, early) <= business_seconds_between(
        calendar, start, late
    )
    small, big = sorted([micros_one / 10**6, micros_two / 10**6])
    assert _utc(add_business_seconds(calendar, start, small)) <= _utc(
        add_business_seconds(calendar, start, big)
    )


@settings(max_examples=max(15, EXAMPLES // 4), deadline=None, database=None)
@given(calendars, moments, st.integers(1, 150))
def test_long_spans_equal_the_sum_of_their_days(
    calendar: BusinessCalendar, start: datetime, days: int
) -> None:
    zone = ZoneInfo(calendar.timezone)
    first = start.astimezone(zone).date()
    midnights = [
        datetime.combine(first + timedelta(days=i), datetime.min.time(), tzinfo=zone)
        for i in range(days + 1)
    ]
    by_day = sum(
        business_seconds_between(calendar, low, high)
        for low, high in itertools.pairwise(midnights)
    )
    assert _close(
        business_seconds_between(calendar, midnights[0], midnights[-1]), by_day
    )


def _reference_open(calendar: BusinessCalendar, instant: datetime) -> bool:
    """Open by reading the wall clock: the local time lies in the date's hours."""
    local = instant.astimezone(ZoneInfo(calendar.timezone))
    seconds = local.hour * 3600 + local.minute * 60 + local.second
    return any(i.start <= seconds < i.end for i in calendar.hours_on(local.date()))


@settings(max_examples=max(25, EXAMPLES // 2), deadline=None, database=None)
@given(
    st.sampled_from(CALENDARS[:4]),
    st.sampled_from(
        [
            datetime(2025, 2, 6, tzinfo=UTC),
            datetime(2026, 2, 12, tzinfo=UTC),
            datetime(2026, 3, 27, tzinfo=UTC),
        ]
    ),
    st.integers(0, 3 * 24 * 60),
    st.integers(0, 4 * 24 * 60),
)
def test_elapsed_matches_counting_minute_by_minute(
    calendar: BusinessCalendar, base: datetime, offset: int, length: int
) -> None:
    start = base + timedelta(minutes=offset)
    minutes = [start + timedelta(minutes=m) for m in range(length)]
    expected = 60.0 * sum(_reference_open(calendar, m) for m in minutes)
    assert (
        business_seconds_between(calendar, start, start + timedelta(minutes=length))
        == expected
    )


def test_four_hours_from_friday_five_pm_are_due_monday_noon() -> None:
    office = weekday_calendar("Asia/Taipei", ["09:00-18:00"])
    opened = datetime(2026, 3, 6, 17, 0, tzinfo=TAIPEI)
    assert add_business_seconds(office, opened, 4 * HOUR) == datetime(
        2026, 3, 9, 12, 0, tzinfo=TAIPEI
    )


def test_four_hours_from_friday_five_pm_are_due_one_pm_with_a_lunch_break() -> None:
    office = weekday_calendar("Asia/Taipei", ["09:00-12:00", "13:00-18:00"])
    opened = datetime(2026, 3, 6, 17, 0, tzinfo=TAIPEI)
    due = add_business_seconds(office, opened, 4 * HOUR)
    assert due == datetime(2026, 3, 9, 13, 0, tzinfo=TAIPEI)
    assert business_seconds_between(office, opened, due) == 4 * HOUR
    assert (
        business_seconds_between(office, opened, due + timedelta(seconds=1)) > 4 * HOUR
    )


def test_target_running_out_at_closing_is_due_at_the_next_opening() -> None:
    office = weekday_calendar("Asia/Taipei", ["09:00-18:00"])
    opened = datetime(2026, 3, 6, 17, 0, tzinfo=TAIPEI)
    assert add_business_seconds(office, opened, HOUR) == datetime(
        2026, 3, 9, 9, 0, tzinfo=TAIPEI
    )


def test_case_opened_before_lunar_new_year_2026_is_due_after_the_holiday() -> None:
    taiwan = load_calendar()
    opened = datetime(2026, 2, 13, 17, 0, tzinfo=TAIPEI)  # Friday before the holiday
    due = add_business_seconds(taiwan, opened, 4 * HOUR)
    assert due == datetime(2026, 2, 23, 12, 0, tzinfo=TAIPEI)
    assert (
        business_seconds_between(taiwan, opened, datetime(2026, 2, 23, tzinfo=TAIPEI))
        == HOUR
    )


def test_make_up_saturday_counts_as_open() -> None:
    taiwan = load_calendar()
    assert is_open(taiwan, datetime(2025, 2, 8, 10, 0, tzinfo=TAIPEI))
    assert not is_open(taiwan, datetime(2025, 1, 27, 10, 0, tzinfo=TAIPEI))
    opened = datetime(2025, 2, 7, 17, 0, tzinfo=TAIPEI)
    assert add_business_seconds(taiwan, opened, 4 * HOUR) == datetime(
        2025, 2, 8, 12, 0, tzinfo=TAIPEI
    )


@pytest.mark.parametrize(
    ("day", "hours"),
    [(date(2026, 3, 28), 23.0), (date(2026, 10, 24), 25.0), (date(2026, 6, 6), 24.0)],
)
def test_a_round_the_clock_day_in_london_follows_the_clock_change(
    day: date, hours: float
) -> None:
    start = datetime.combine(day, datetime.min.time(), tzinfo=LONDON) + timedelta(
        hours=12
    )
    end = start + timedelta(days=1)  # the same wall time a day later
    assert (
        business_seconds_between(always_open("Europe/London"), start, end)
        == hours * HOUR
    )


def test_london_office_hours_are_unchanged_by_the_clock_change() -> None:
    office = weekday_calendar("Europe/London", ["09:00-17:00"])
    friday = datetime(2026, 3, 27, 12, 0, tzinfo=LONDON)
    monday = datetime(2026, 3, 30, 12, 0, tzinfo=LONDON)
    assert business_seconds_between(office, friday, monday) == 8 * HOUR
    due = add_business_seconds(office, friday, 8 * HOUR)
    assert due == monday
    assert due.utcoffset() == timedelta(hours=1)


def test_skipped_wall_time_opens_at_the_clock_change() -> None:
    night = BusinessCalendar(
        timezone="Europe/London", weekly=(_hours("01:30-03:00"),) * 7
    )
    day = datetime(2026, 3, 29, tzinfo=UTC)
    assert business_seconds_between(night, day, day + timedelta(days=1)) == HOUR
    assert is_open(night, datetime(2026, 3, 29, 1, 0, tzinfo=UTC))  # 02:00 BST
    assert not is_open(night, datetime(2026, 3, 29, 0, 59, tzinfo=UTC))


def test_pause_while_waiting_on_the_customer_moves_the_due_moment() -> None:
    office = weekday_calendar("Asia/Taipei", ["09:00-18:00"])
    monday = datetime(2026, 3, 9, 9, 0, tzinfo=TAIPEI)
    waiting = [(monday.replace(hour=10), monday.replace(hour=14))]
    overlapping = [*waiting, (monday.replace(hour=11), monday.replace(hour=13))]
    for pauses in (waiting, overlapping):
        assert business_seconds_between(
            office, monday, monday.replace(hour=18), pauses
        ) == (5 * HOUR)
        assert add_business_seconds(office, monday, 4 * HOUR, pauses) == monday.replace(
            hour=17
        )


def test_pause_around_the_due_moment_pushes_it_past_the_pause() -> None:
    office = weekday_calendar("Asia/Taipei", ["09:00-18:00"])
    monday = datetime(2026, 3, 9, 9, 0, tzinfo=TAIPEI)
    pauses = [(monday.replace(hour=10), monday.replace(hour=11))]
    assert add_business_seconds(office, monday, HOUR, pauses) == monday.replace(hour=11)


def test_ten_years_of_weekdays_count_nine_hours_each() -> None:
    office = weekday_calendar("UTC", ["09:00-18:00"])
    start, end = date(2020, 1, 1), date(2030, 1, 1)
    weekdays = sum(
        (start + timedelta(days=i)).weekday() < 5 for i in range((end - start).days)
    )
    low = datetime.combine(start, datetime.min.time(), tzinfo=UTC)
    high = datetime.combine(end, datetime.min.time(), tzinfo=UTC)
    assert business_seconds_between(office, low, high) == weekdays * 9 * HOUR
    assert (
        business_seconds_between(always_open("UTC"), low, high)
        == (high - low).total_seconds()
    )


def test_naive_datetimes_are_refused() -> None:
    office = weekday_calendar("Asia/Taipei", ["09:00-18:00"])
    naive = datetime(2026, 3, 9, 9, 0)  # noqa: DTZ001
    aware = naive.replace(tzinfo=TAIPEI)
    with pytest.raises(InvalidInput, match=r"start .* has no time zone"):
        business_seconds_between(office, naive, aware)
    with pytest.raises(InvalidInput, match="no time zone"):
        add_business_seconds(office, naive, HOUR)
    with pytest.raises(InvalidInput, match="moment"):
        is_open(office, naive)
    with pytest.raises(InvalidInput, match="pause 1 end"):
        business_seconds_between(office, aware, aware, [(aware, naive)])


def test_bad_amounts_and_pauses_are_refused() -> None:
    office = weekday_calendar("Asia/Taipei", ["09:00-18:00"])
    start = datetime(2026, 3, 9, 9, 0, tzinfo=TAIPEI)
    for seconds in (-1.0, math.nan, math.inf):
        with pytest.raises(InvalidInput, match="finite number"):
            add_business_seconds(office, start, seconds)
    with pytest.raises(InvalidInput, match="before it starts"):
        business_seconds_between(
            office, start, start, [(start, start - timedelta(hours=1))]
        )
    with pytest.raises(InvalidInput, match="too long"):
        add_business_seconds(office, start, 1e9)
    with pytest.raises(InvalidInput, match="beyond the calendar"):
        add_business_seconds(office, datetime(9999, 12, 1, tzinfo=UTC), 1e7)


def test_end_before_start_counts_nothing() -> None:
    office = weekday_calendar("Asia/Taipei", ["09:00-18:00"])
    start = datetime(2026, 3, 9, 12, 0, tzinfo=TAIPEI)
    assert business_seconds_between(office, start, start - timedelta(hours=2)) == 0.0


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: OpenInterval.parse("18:00-09:00"), "run forward"),
        (lambda: OpenInterval.parse("9-18"), "must look like"),
        (lambda: OpenInterval.parse("09:75-18:00"), "not a time of day"),
        (
            lambda: weekday_calendar("Asia/Taipei", ["09:00-13:00", "12:00-18:00"]),
            "overlap",
        ),
        (
            lambda: weekday_calendar("Nowhere/City", ["09:00-18:00"]),
            "unknown time zone",
        ),
        (
            lambda: weekday_calendar("UTC", ["09:00-18:00"], days=0),
            "at least one weekday",
        ),
        (lambda: BusinessCalendar(timezone="UTC", weekly=((),) * 6), "need 7 days"),
        (
            lambda: BusinessCalendar(
                timezone="UTC",
                weekly=(_hours("09:00-18:00"),) * 7,
                holidays={date(2026, 1, 3): "x"},
                working_days={date(2026, 1, 3): ()},
            ),
            "both a holiday and a working day",
        ),
    ],
)
def test_invalid_calendars_are_refused_with_the_reason(
    build: object, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        build()  # type: ignore[operator]


@pytest.mark.parametrize("module", [business_hours, opening_hours])
def test_docstring_examples_hold(module: object) -> None:
    assert doctest.testmod(module).failed == 0  # type: ignore[arg-type]
