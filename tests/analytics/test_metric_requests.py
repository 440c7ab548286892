"""Summaries, filter values, data range, invalid requests and the definitions' doctests."""

from __future__ import annotations

import doctest
import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from analytics_seeding import Seeder

from cxloop.analytics import definitions
from cxloop.analytics.service import (
    available_values,
    data_range,
    metric_frame,
    metric_summary,
    parse_where,
)
from cxloop.config import Settings
from cxloop.domain import metrics
from cxloop.domain.errors import InvalidInput

TAIPEI = ZoneInfo("Asia/Taipei")


def _seed(seeder: Seeder) -> None:
    seeder.customer("c1", region="north", attributes={"tier": "gold", "age": 31})
    seeder.customer("c2", region="south", attributes={"tier": "silver"})
    jan, mar = (
        datetime(2024, 1, 15, tzinfo=TAIPEI),
        datetime(2024, 3, 20, tzinfo=TAIPEI),
    )
    seeder.answers("ces", [7, 6, 6, 5], at=jan, channel="web", customer="c1")
    seeder.answers("ces", [2, 3, 2, 1], at=mar, channel="app", customer="c2")
    seeder.answers("ces", [4], at=mar, channel="web", customer="c1")


def test_summary_compares_window_with_window_before(
    settings: Settings, seeder: Seeder
) -> None:
    _seed(seeder)

    change = metric_summary(
        settings=settings,
        metric="ces",
        date_from=date(2024, 2, 16),
        date_to=date(2024, 4, 15),
    )

    expected = metrics.compare(metrics.ces([2, 3, 2, 1, 4]), metrics.ces([7, 6, 6, 5]))
    assert change.current.n == 5
    assert change.previous.n == 4
    assert change.current.value == pytest.approx(expected.current.value)
    assert change.p_value == pytest.approx(expected.p_value)
    assert change.direction == "down"


def test_summary_uses_last_90_days_when_no_dates(
    settings: Settings, seeder: Seeder
) -> None:
    _seed(seeder)

    change = metric_summary(settings=settings, metric="ces", where={"channel": "web"})

    # The latest answer is on 20 March: the window is 22 Dec - 20 Mar, all of it web.
    assert change.current.n == 5
    assert change.previous.n == 0
    assert change.difference is None


def test_summary_is_empty_when_store_has_no_answers(settings: Settings) -> None:
    change = metric_summary(settings=settings, metric="nps")

    assert (change.current.n, change.current.value, change.significant) == (
        0,
        None,
        False,
    )


def test_available_values_list_each_kind_of_field(
    settings: Settings, seeder: Seeder
) -> None:
    _seed(seeder)

    assert available_values(settings=settings, field="channel") == ["app", "web"]
    assert available_values(settings=settings, field="region") == ["north", "south"]
    assert available_values(settings=settings, field="tier") == ["gold", "silver"]
    assert available_values(settings=settings, field="age") == ["31"]


def test_data_range_spans_first_and_last_local_day(
    settings: Settings, seeder: Seeder
) -> None:
    assert data_range(settings=settings) is None
    _seed(seeder)
    seeder.answers("nps", [9], at=datetime(2024, 3, 31, 16, 30, tzinfo=UTC))

    assert data_range(settings=settings) == (date(2024, 1, 15), date(2024, 4, 1))


def test_numeric_attribute_is_a_cut_when_grouped(
    settings: Settings, seeder: Seeder
) -> None:
    _seed(seeder)

    frame = metric_frame(settings=settings, metric="ces", by=["age", "region"])

    assert frame[["age", "region", "n"]].values.tolist() == [
        ["31", "north", 5],
        [None, "south", 4],
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"metric": "nsp"}, "unknown metric 'nsp': choose one of nps, csat, ces"),
        (
            {"metric": "nps", "period": "year"},
            "unknown period 'year': choose one of day, week, month, quarter",
        ),
        ({"metric": "nps", "by": ["no_such_key"]}, "'no_such_key'"),
        ({"metric": "nps", "where": {"colour": "red"}}, "'colour'"),
        ({"metric": "nps", "by": ["value"]}, "field 'value' cannot be used"),
        ({"metric": "nps", "by": ["a.b"]}, "field 'a.b' cannot be used"),
        (
            {
                "metric": "nps",
                "date_from": date(2024, 3, 2),
                "date_to": date(2024, 3, 1),
            },
            "before --from",
        ),
    ],
)
def test_metric_frame_refuses_invalid_request(
    settings: Settings, seeder: Seeder, kwargs: dict[str, object], message: str
) -> None:
    _seed(seeder)

    with pytest.raises(InvalidInput, match=re.escape(message)):
        metric_frame(settings=settings, **kwargs)  # type: ignore[arg-type]


def test_parse_where_refuses_item_without_equals() -> None:
    assert parse_where(["channel=web", " tier = gold "]) == {
        "channel": "web",
        "tier": "gold",
    }
    with pytest.raises(InvalidInput, match="'channel' must look like FIELD=VALUE"):
        parse_where(["channel"])


def test_definitions_doctests_pass() -> None:
    result = doctest.testmod(definitions)

    assert result.attempted >= 5
    assert result.failed == 0
