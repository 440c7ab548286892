"""Business calendars from YAML: Taiwan's shipped holidays and the loader's checks."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cxloop.domain.business_hours import (
    BusinessCalendar,
    add_business_seconds,
    business_seconds_between,
    is_open,
)
from cxloop.domain.errors import InvalidInput
from cxloop.domain.opening_hours import OpenInterval
from cxloop.loop.calendars import (
    CALENDARS_DIR,
    load_calendar,
    parse_calendar,
    shipped_calendars,
)

TAIPEI = ZoneInfo("Asia/Taipei")
NINE_TO_SIX = (OpenInterval.parse("09:00-18:00"),)


@pytest.fixture(scope="module")
def taiwan() -> BusinessCalendar:
    return load_calendar()


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "calendar.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_taiwan_calendar_is_monday_to_friday_nine_to_six_in_taipei(
    taiwan: BusinessCalendar,
) -> None:
    assert (taiwan.name, taiwan.timezone) == ("tw", "Asia/Taipei")
    assert taiwan.weekly == (NINE_TO_SIX,) * 5 + ((), ())
    assert shipped_calendars() == ["tw"]
    assert (CALENDARS_DIR / "tw.yaml").is_file()


def test_lunar_new_year_2026_closes_the_sixteenth_to_the_twentieth(
    taiwan: BusinessCalendar,
) -> None:
    closed = [date(2026, 2, day) for day in range(14, 23)]
    assert all(taiwan.hours_on(day) == () for day in closed)
    assert taiwan.hours_on(date(2026, 2, 13)) == NINE_TO_SIX
    assert taiwan.hours_on(date(2026, 2, 23)) == NINE_TO_SIX
    assert "除夕" in taiwan.holidays[date(2026, 2, 16)]


@pytest.mark.parametrize(
    "day",
    [
        date(2025, 1, 29),  # 春節 初一
        date(2026, 2, 17),
        date(2027, 2, 8),  # 初三 (初一 and 初二 fall on the weekend)
        date(2025, 5, 30),  # 端午節 on Saturday 31 May, observed Friday
        date(2026, 6, 19),
        date(2027, 6, 9),
        date(2025, 10, 6),  # 中秋節
        date(2026, 9, 25),
        date(2027, 9, 15),
        date(2026, 2, 27),  # 和平紀念日 on Saturday, observed Friday
        date(2026, 10, 26),  # 光復節 on Sunday, observed Monday
        date(2026, 9, 28),  # 教師節
        date(2025, 12, 25),  # 行憲紀念日
    ],
)
def test_taiwan_holidays_are_closed(taiwan: BusinessCalendar, day: date) -> None:
    assert day in taiwan.holidays
    assert not is_open(
        taiwan, datetime.combine(day, datetime.min.time(), TAIPEI) + timedelta(hours=10)
    )


def test_make_up_saturday_2025_is_a_working_day(taiwan: BusinessCalendar) -> None:
    saturday = date(2025, 2, 8)
    assert saturday.weekday() == 5
    assert taiwan.hours_on(saturday) == NINE_TO_SIX
    assert taiwan.hours_on(date(2025, 1, 27)) == ()  # the bridge holiday it makes up
    assert date(2026, 1, 2) not in taiwan.holidays  # 2026 has no bridge holidays


def test_every_taiwan_holiday_weekday_is_a_closed_day(taiwan: BusinessCalendar) -> None:
    years = {day.year for day in taiwan.holidays}
    assert years == {2025, 2026, 2027}
    assert all(name for name in taiwan.holidays.values())
    weekdays = [day for day in taiwan.holidays if day.weekday() < 5]
    assert len(weekdays) >= 45
    assert all(taiwan.hours_on(day) == () for day in weekdays)


def test_own_file_with_lunch_break_saturday_and_taiwan_holidays(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
name: desk
timezone: Asia/Taipei
hours:
  mon: ["09:00-12:00", "13:00-18:00"]
  tue: "09:00-18:00"
  sat: "10:00-14:00"
holidays_from: tw
holidays:
  - 2026-03-03
  - {date: 2025-02-08, name: we do not make up}
working_days:
  - {date: 2026-03-08, name: fair}
  - {date: 2026-03-15, hours: ["10:00-11:00"]}
""",
    )
    desk = load_calendar(path)
    assert desk.name == "desk"
    assert desk.hours_on(date(2026, 3, 2)) == (
        OpenInterval.parse("09:00-12:00"),
        OpenInterval.parse("13:00-18:00"),
    )
    assert desk.hours_on(date(2026, 3, 4)) == ()  # Wednesday: not listed, closed
    assert desk.hours_on(date(2026, 3, 3)) == ()  # own holiday
    assert desk.hours_on(date(2026, 2, 17)) == ()  # Taiwan's
    assert (
        desk.hours_on(date(2025, 2, 8)) == ()
    )  # own holiday beats Taiwan's working day
    assert (
        desk.hours_on(date(2026, 3, 8)) == desk.weekly[0]
    )  # Monday's hours by default
    assert desk.hours_on(date(2026, 3, 15)) == (OpenInterval.parse("10:00-11:00"),)


def test_round_the_clock_calendar_counts_every_second(tmp_path: Path) -> None:
    always = load_calendar(_write(tmp_path, "timezone: Europe/London\nhours: 24x7\n"))
    start = datetime(2026, 3, 28, 12, 0, tzinfo=ZoneInfo("Europe/London"))
    end = datetime(2026, 3, 29, 12, 0, tzinfo=ZoneInfo("Europe/London"))
    assert business_seconds_between(always, start, end) == 23 * 3600.0


def test_minimal_file_uses_the_default_hours_and_zone(tmp_path: Path) -> None:
    plain = load_calendar(_write(tmp_path, "holidays: []\n"))
    assert plain.timezone == "Asia/Taipei"
    assert plain.weekly == (NINE_TO_SIX,) * 5 + ((), ())
    opened = datetime(2026, 2, 13, 17, 0, tzinfo=TAIPEI)
    assert add_business_seconds(plain, opened, 7200) == datetime(
        2026, 2, 16, 10, 0, tzinfo=TAIPEI
    )


def test_parse_calendar_accepts_a_mapping_without_lines() -> None:
    calendar = parse_calendar(
        {"hours": {"sun": "08:00-09:00"}, "holidays": ["2026-03-01"]}
    )
    assert calendar.hours_on(date(2026, 3, 8)) == (OpenInterval.parse("08:00-09:00"),)
    assert calendar.hours_on(date(2026, 3, 1)) == ()
    with pytest.raises(InvalidInput, match=r"^calendar: hours\.sun: "):
        parse_calendar({"hours": {"sun": "8-9"}})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("colour: red\n", r"line 1: colour: unknown field"),
        ("timezone: Mars/Base\n", r"line 1: timezone: unknown time zone 'Mars/Base'"),
        ("timezone: 8\n", r"line 1: timezone: must be a text"),
        ("hours:\n  funday: '09:00-10:00'\n", r"line 2: hours\.funday: not a weekday"),
        (
            "hours:\n  mon: '9-18'\n",
            r"line 2: hours\.mon: opening hours '9-18' must look like",
        ),
        ("hours:\n  mon: 540\n", r"line 2: hours\.mon: 540 must be written like"),
        (
            "hours:\n  mon: '09:00-18:00'\n  tue: ['09:00-12:00', '11:00-13:00']\n",
            r"line 3: hours\.tue: opening hours 09:00-12:00 and 11:00-13:00 overlap",
        ),
        ("hours: {}\n", r"line 1: hours: no weekday has opening hours"),
        ("hours: weekdays\n", r"line 1: hours: must map weekdays"),
        ("hours:\n  mon: a\n  mon: b\n", r"line 3: 'mon' is given twice"),
        (
            "holidays:\n  - 2026-01-01\n  - {date: 2026-01-01}\n",
            r"line 3: holidays\[2\]: 2026-01-01 is listed twice",
        ),
        ("holidays:\n  - {date: 2026-13-01}\n", r"line 2: '2026-13-01' is not a date"),
        (
            "holidays:\n  - {date: tomorrow}\n",
            r"line 2: holidays\[1\]\.date: 'tomorrow' is not a date",
        ),
        (
            "holidays:\n  - {day: 2026-01-01}\n",
            r"line 2: holidays\[1\]\.day: unknown field",
        ),
        (
            "holidays:\n  - {date: 2026-01-01, name: 3}\n",
            r"line 2: holidays\[1\]\.name: must be a text",
        ),
        (
            "holidays: [2026-01-01 10:00:00]\n",
            r"line 1: holidays\[1\]\.date: .* without a time",
        ),
        ("holidays: 2026-01-01\n", r"line 1: holidays: must be a list"),
        (
            "holidays: [2026-03-07]\nworking_days: [2026-03-07]\n",
            r"line 2: working_days\[1\]: 2026-03-07 is listed twice",
        ),
        (
            "working_days:\n  - {date: 2026-03-07, hours: '25:00-26:00'}\n",
            r"line 2: working_days\[1\]\.hours: .*25:00 is not a time of day",
        ),
        (
            "holidays_from: jp\n",
            r"line 1: holidays_from: 'jp' is not a shipped calendar",
        ),
        ("- 2026-01-01\n", r"line 1: calendar: must be a mapping"),
        ("hours: [unclosed\n", r"not valid YAML"),
    ],
)
def test_invalid_calendar_files_name_the_line_and_field(
    tmp_path: Path, text: str, message: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(InvalidInput, match=message) as raised:
        load_calendar(path)
    assert str(raised.value).startswith(path)


def test_missing_and_unreadable_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no such calendar file"):
        load_calendar(str(tmp_path / "absent.yaml"))
    big5 = tmp_path / "big5.yaml"
    big5.write_bytes("name: 台灣\n".encode("big5"))
    with pytest.raises(InvalidInput, match="not UTF-8"):
        load_calendar(str(big5))


@pytest.mark.parametrize("language", ["en", "zh-TW"])
def test_calendar_example_in_the_docs_loads(tmp_path: Path, language: str) -> None:
    page = Path(__file__).resolve().parents[2] / "docs" / language / "cases.md"
    blocks = [
        block.split("```")[0]
        for block in page.read_text(encoding="utf-8").split("```yaml\n")[1:]
    ]
    example = next(block for block in blocks if "holidays_from" in block)
    desk = load_calendar(_write(tmp_path, example))
    assert desk.hours_on(date(2026, 11, 28)) == desk.weekly[0]  # make-up Saturday
    assert desk.hours_on(date(2026, 12, 31)) == ()
    assert desk.hours_on(date(2026, 2, 17)) == ()  # from Taiwan's calendar
