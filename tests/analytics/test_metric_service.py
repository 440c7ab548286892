"""metric_frame against the plain-Python reference, on SQLite (DuckDB mirror) and PostgreSQL."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from analytics_seeding import Seeder

from cxloop.analytics.service import metric_frame
from cxloop.config import Settings
from cxloop.domain import metrics

TAIPEI = ZoneInfo("Asia/Taipei")
REFERENCE = {"nps": metrics.nps, "csat": metrics.csat, "ces": metrics.ces}
RANGES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
CHANNELS = ("web", "app", "phone")
VALUE_COLUMNS = [
    "value",
    "n",
    "moe",
    "previous_value",
    "change",
    "p_value",
    "significant",
]


def _close(actual: float, expected: float | None) -> bool:
    if expected is None:
        return math.isnan(actual)
    return actual == pytest.approx(expected, abs=1e-9)


def _seed_mixed(seeder: Seeder, metric: str) -> list[dict[str, Any]]:
    """Sixty answers over three months, three channels and three customers."""
    seeder.customer("c1", region="north", attributes={"tier": "gold", "age": 31})
    seeder.customer("c2", region="south", attributes={"tier": "silver"})
    seeder.customer("c3", region="north", attributes={})
    tiers = {"c1": "gold", "c2": "silver", "c3": None}
    rng = random.Random(f"mixed-{metric}")  # noqa: S311 - test data, not secrets
    low, high = RANGES[metric]
    records = []
    for _ in range(60):
        at = datetime(2024, rng.randint(1, 3), rng.randint(1, 28), 12, tzinfo=TAIPEI)
        record = {
            "value": rng.randint(low, high),
            "at": at,
            "channel": rng.choice(CHANNELS),
            "customer": rng.choice(list(tiers)),
        }
        seeder.answers(
            metric,
            [record["value"]],
            at=at,
            channel=record["channel"],
            customer=record["customer"],
        )
        records.append(
            record | {"tier": tiers[record["customer"]], "month": f"{at:%Y-%m}-01"}
        )
    return records


@pytest.mark.parametrize("metric", ["nps", "csat", "ces"])
@pytest.mark.parametrize(
    ("by", "period", "key"),
    [
        (["channel"], None, "channel"),
        ([], "month", "month"),
        (["tier"], None, "tier"),
    ],
    ids=["by-channel", "by-month", "by-attribute"],
)
def test_metric_matches_reference_per_group(
    settings: Settings,
    seeder: Seeder,
    metric: str,
    by: list[str],
    period: str | None,
    key: str,
) -> None:
    records = _seed_mixed(seeder, metric)
    groups: dict[Any, list[float]] = defaultdict(list)
    for record in records:
        groups[record[key]].append(record["value"])

    frame = metric_frame(settings=settings, metric=metric, by=by, period=period)

    column = by[0] if by else "period"
    assert list(frame.columns) == [column, *VALUE_COLUMNS]
    assert sorted(frame[column], key=lambda v: (v is None, v or "")) == sorted(
        groups, key=lambda v: (v is None, v or "")
    )
    for row in frame.to_dict("records"):
        expected = REFERENCE[metric](groups[row[column]])
        assert row["n"] == expected.n
        assert _close(row["value"], expected.value)
        assert _close(row["moe"], expected.moe)
    assert frame["n"].sum() == len(records)


def test_metric_is_empty_frame_when_store_has_no_answers(settings: Settings) -> None:
    frame = metric_frame(
        settings=settings, metric="nps", by=["channel"], period="month"
    )

    assert frame.empty
    assert list(frame.columns) == ["channel", "period", *VALUE_COLUMNS]


@pytest.mark.parametrize(
    ("metric", "score", "expected"),
    [("nps", 10, 100.0), ("nps", 7, 0.0), ("csat", 3, 0.0), ("ces", 5, 5.0)],
)
def test_metric_has_value_and_no_margin_when_one_answer(
    settings: Settings, seeder: Seeder, metric: str, score: int, expected: float
) -> None:
    seeder.answers(metric, [score], at=datetime(2024, 5, 1, tzinfo=UTC), channel="web")

    frame = metric_frame(settings=settings, metric=metric)

    assert frame.to_dict("records")[0]["value"] == expected
    assert frame["n"].tolist() == [1]
    assert math.isnan(frame["moe"].iloc[0])


@pytest.mark.parametrize(
    ("scores", "expected"),
    [([9, 10, 10, 9, 10], 100.0), ([0, 6, 3, 5], -100.0)],
    ids=["all-promoters", "all-detractors"],
)
def test_nps_is_extreme_with_zero_margin_when_answers_agree(
    settings: Settings, seeder: Seeder, scores: list[int], expected: float
) -> None:
    seeder.answers("nps", scores, at=datetime(2024, 5, 1, tzinfo=UTC), channel="web")

    frame = metric_frame(settings=settings, metric="nps", by=["channel"])

    row = frame.to_dict("records")[0]
    assert (row["channel"], row["value"], row["n"]) == ("web", expected, len(scores))
    assert row["moe"] == 0.0


@pytest.mark.parametrize(
    ("period", "starts"),
    [
        ("day", ["2024-03-31", "2024-04-01"]),
        ("week", ["2024-03-25", "2024-04-01"]),
        ("month", ["2024-03-01", "2024-04-01"]),
        ("quarter", ["2024-01-01", "2024-04-01"]),
    ],
)
def test_period_is_cut_in_business_zone_when_utc_date_differs(
    settings: Settings, seeder: Seeder, period: str, starts: list[str]
) -> None:
    # 23:30 on 31 March in Taipei is 15:30 UTC; 00:30 on 1 April is 16:30 UTC.
    seeder.answers("nps", [10], at=datetime(2024, 3, 31, 15, 30, tzinfo=UTC))
    seeder.answers("nps", [0, 0], at=datetime(2024, 3, 31, 16, 30, tzinfo=UTC))

    frame = metric_frame(settings=settings, metric="nps", period=period)

    assert frame["period"].tolist() == starts
    assert frame["n"].tolist() == [1, 2]
    assert frame["value"].tolist() == [100.0, -100.0]


def _seed_drop(seeder: Seeder) -> None:
    """app drops from NPS 70 in February to -20 in March; web moves 30 -> 32."""
    feb, mar = (
        datetime(2024, 2, 10, tzinfo=TAIPEI),
        datetime(2024, 3, 10, tzinfo=TAIPEI),
    )
    seeder.answers("nps", [10] * 80 + [8] * 10 + [2] * 10, at=feb, channel="app")
    seeder.answers("nps", [10] * 30 + [8] * 20 + [2] * 50, at=mar, channel="app")
    seeder.answers("nps", [10] * 50 + [7] * 30 + [3] * 20, at=feb, channel="web")
    seeder.answers("nps", [10] * 52 + [7] * 28 + [3] * 20, at=mar, channel="web")


def _expected_change(current: list[int], previous: list[int]) -> metrics.Change:
    return metrics.compare(metrics.nps(current), metrics.nps(previous))


def test_change_is_significant_when_month_drops(
    settings: Settings, seeder: Seeder
) -> None:
    _seed_drop(seeder)

    frame = metric_frame(
        settings=settings, metric="nps", by=["channel"], period="month"
    )

    rows = {(r["channel"], r["period"]): r for r in frame.to_dict("records")}
    assert set(rows) == {
        ("app", "2024-02-01"),
        ("app", "2024-03-01"),
        ("web", "2024-02-01"),
        ("web", "2024-03-01"),
    }
    app = rows["app", "2024-03-01"]
    expected = _expected_change(
        [10] * 30 + [8] * 20 + [2] * 50, [10] * 80 + [8] * 10 + [2] * 10
    )
    assert (app["value"], app["previous_value"]) == (
        pytest.approx(-20.0),
        pytest.approx(70.0),
    )
    assert app["change"] == pytest.approx(-90.0)
    assert app["p_value"] == pytest.approx(expected.p_value)
    assert app["significant"] is True
    web = rows["web", "2024-03-01"]
    assert web["change"] == pytest.approx(2.0)
    assert web["significant"] is False
    assert web["p_value"] > 0.5
    assert math.isnan(rows["app", "2024-02-01"]["previous_value"])


def test_change_uses_previous_period_when_from_cuts_it_off(
    settings: Settings, seeder: Seeder
) -> None:
    _seed_drop(seeder)

    frame = metric_frame(
        settings=settings,
        metric="nps",
        by=["channel"],
        period="month",
        date_from=date(2024, 3, 1),
    )

    assert frame["period"].tolist() == ["2024-03-01", "2024-03-01"]
    assert frame["previous_value"].tolist() == [
        pytest.approx(70.0),
        pytest.approx(30.0),
    ]
    assert frame["significant"].tolist() == [True, False]


def test_change_compares_equal_window_before_when_dates_given(
    settings: Settings, seeder: Seeder
) -> None:
    _seed_drop(seeder)

    frame = metric_frame(
        settings=settings,
        metric="nps",
        date_from=date(2024, 3, 1),
        date_to=date(2024, 3, 31),
    )

    row = frame.to_dict("records")[0]
    current = [10] * 82 + [8] * 20 + [7] * 28 + [3] * 20 + [2] * 50
    previous = [10] * 130 + [8] * 10 + [7] * 30 + [3] * 20 + [2] * 10
    expected = _expected_change(current, previous)
    assert row["n"] == 200
    assert row["value"] == pytest.approx(expected.current.value)
    assert row["previous_value"] == pytest.approx(expected.previous.value)
    assert row["p_value"] == pytest.approx(expected.p_value)
    assert row["significant"] is True


def test_filters_keep_inclusive_local_days_and_where_values(
    settings: Settings, seeder: Seeder
) -> None:
    seeder.customer("c1", region="north", attributes={"tier": "gold"})
    seeder.customer("c2", region="south", attributes={"tier": "silver"})
    seeder.answers(
        "nps",
        [10],
        at=datetime(2024, 2, 29, 23, 59, tzinfo=TAIPEI),
        channel="web",
        customer="c1",
    )
    seeder.answers(
        "nps",
        [9, 3],
        at=datetime(2024, 3, 1, 0, 0, tzinfo=TAIPEI),
        channel="web",
        customer="c1",
    )
    seeder.answers(
        "nps",
        [0],
        at=datetime(2024, 3, 31, 23, 30, tzinfo=TAIPEI),
        channel="app",
        customer="c2",
    )
    seeder.answers(
        "nps",
        [10],
        at=datetime(2024, 4, 1, 0, 30, tzinfo=TAIPEI),
        channel="web",
        customer="c2",
    )
    march = {
        "date_from": date(2024, 3, 1),
        "date_to": date(2024, 3, 31),
    }

    def n(**kwargs: Any) -> int:
        frame = metric_frame(settings=settings, metric="nps", **kwargs)
        return int(frame["n"].sum())

    assert n() == 5
    assert n(**march) == 3
    assert n(date_from=march["date_from"]) == 4
    assert n(date_to=march["date_to"]) == 4
    assert n(where={"channel": "web"}, **march) == 2
    assert n(where={"tier": "silver"}) == 2
    assert n(where={"region": "north", "channel": "web"}) == 3
    assert n(where={"tier": "bronze"}) == 0


def test_frame_types_are_stable_for_json_and_csv(
    settings: Settings, seeder: Seeder
) -> None:
    _seed_drop(seeder)

    frame = metric_frame(
        settings=settings, metric="nps", by=["channel"], period="month"
    )

    assert frame["n"].dtype == "int64"
    assert frame["significant"].dtype == bool
    assert all(
        pd.api.types.is_float_dtype(frame[c]) for c in ["value", "moe", "change"]
    )
    assert all(isinstance(v, str) for v in frame["period"])
