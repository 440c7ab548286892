"""overview() and sessions against the one-shot requests, on SQLite and PostgreSQL."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from analytics_seeding import Seeder

from cxloop.analytics import service
from cxloop.analytics.service import OverviewFigures
from cxloop.config import Settings
from cxloop.domain import metrics
from cxloop.domain.errors import InvalidInput
from cxloop.domain.metrics import Change

TAIPEI = ZoneInfo("Asia/Taipei")
METRICS = ("nps", "csat", "ces")
RANGES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
CHANNELS = ("web", "app", "phone")
TOUCHPOINTS = ("checkout", "delivery", None)


def _seed(seeder: Seeder) -> list[dict[str, Any]]:
    """Answers of every metric over January to May 2024, some without a touchpoint."""
    seeder.customer("c1", attributes={"tier": "gold"})
    seeder.customer("c2", attributes={"tier": "silver"})
    rng = random.Random("overview")  # noqa: S311 - test data, not secrets
    records = []
    for metric in METRICS:
        low, high = RANGES[metric]
        for _ in range(90):
            at = datetime(2024, rng.randint(1, 5), rng.randint(1, 28), 9, tzinfo=TAIPEI)
            record: dict[str, Any] = {
                "metric": metric,
                "value": rng.randint(low, high),
                "day": at.date(),
                "channel": rng.choice(CHANNELS),
                "touchpoint": rng.choice(TOUCHPOINTS),
                "customer": rng.choice(["c1", "c2"]),
            }
            seeder.answers(
                metric,
                [record["value"]],
                at=at,
                channel=record["channel"],
                touchpoint=record["touchpoint"],
                customer=record["customer"],
            )
            records.append(record)
    return records


def _numbers(change: Change) -> tuple[Any, ...]:
    return (
        change.current.value,
        change.current.n,
        change.previous.value,
        change.previous.n,
        change.p_value,
    )


def _row_numbers(row: Mapping[Any, Any]) -> tuple[Any, ...]:
    return (row["value"], row["n"], row["previous_value"], row["p_value"])


def _close(actual: tuple[Any, ...], expected: tuple[Any, ...]) -> bool:
    def plain(value: Any) -> float:
        return math.nan if value is None else float(value)

    return [plain(v) for v in actual] == pytest.approx(
        [plain(v) for v in expected], nan_ok=True
    )


def _assert_like_one_shot_requests(
    settings: Settings, figures: OverviewFigures, where: dict[str, str]
) -> None:
    window: dict[str, Any] = {
        "date_from": figures.date_from,
        "date_to": figures.date_to,
    }
    for metric in METRICS:
        summary = service.metric_summary(
            settings=settings, metric=metric, where=where, **window
        )
        assert _close(_numbers(figures.summary[metric]), _numbers(summary))
        trend = service.metric_frame(
            settings=settings, metric=metric, period="month", where=where, **window
        ).to_dict("records")
        got = figures.trend[metric]
        assert [p.isoformat() for p in got] == [row["period"] for row in trend]
        for row in trend:
            change = got[date.fromisoformat(row["period"])]
            numbers = (change.current.value, change.current.n, change.previous.value)
            assert _close((*numbers, change.p_value), _row_numbers(row))
        for field in ("channel", "touchpoint"):
            frame = service.metric_frame(
                settings=settings, metric=metric, by=[field], where=where, **window
            ).to_dict("records")
            cut = figures.breakdowns[field][metric]
            assert set(cut) == {row[field] for row in frame}
            for row in frame:
                change = cut[row[field]]
                numbers = (
                    change.current.value,
                    change.current.n,
                    change.previous.value,
                )
                assert _close((*numbers, change.p_value), _row_numbers(row))


@pytest.mark.parametrize(
    ("date_from", "date_to", "where"),
    [
        (None, None, {}),
        (date(2024, 2, 14), date(2024, 4, 20), {}),
        (date(2024, 3, 10), None, {"channel": "web"}),
        (None, date(2024, 3, 31), {"tier": "gold", "channel": "app"}),
    ],
    ids=[
        "default-window",
        "window-cuts-months",
        "from-and-channel",
        "to-and-attribute",
    ],
)
def test_overview_equals_one_shot_requests_when_filtered(
    settings: Settings,
    seeder: Seeder,
    date_from: date | None,
    date_to: date | None,
    where: dict[str, str],
) -> None:
    _seed(seeder)

    figures = service.overview(
        settings=settings, date_from=date_from, date_to=date_to, where=where
    )

    assert figures.span is not None
    assert figures.channels == ("app", "phone", "web")
    assert figures.date_from == (date_from or figures.span[0])
    assert figures.date_to == (date_to or figures.span[1])
    _assert_like_one_shot_requests(settings, figures, where)


def test_overview_matches_reference_scores_when_channel_filtered(
    settings: Settings, seeder: Seeder
) -> None:
    records = _seed(seeder)
    march = (date(2024, 3, 1), date(2024, 3, 31))

    figures = service.overview(
        settings=settings,
        date_from=march[0],
        date_to=march[1],
        where={"channel": "web"},
    )

    def scores(metric: str, **match: Any) -> list[float]:
        return [
            r["value"]
            for r in records
            if r["metric"] == metric
            and march[0] <= r["day"] <= march[1]
            and r["channel"] == "web"
            and all(r[k] == v for k, v in match.items())
        ]

    for metric in METRICS:
        expected = metrics.compute(metric, scores(metric))
        summary = figures.summary[metric].current
        assert summary.value == pytest.approx(expected.value)
        assert summary.n == expected.n
        assert figures.trend[metric][date(2024, 3, 1)].current.n == expected.n
        for touchpoint, change in figures.breakdowns["touchpoint"][metric].items():
            part = metrics.compute(metric, scores(metric, touchpoint=touchpoint))
            assert change.current.value == pytest.approx(part.value)
            assert change.current.n == part.n
        assert set(figures.breakdowns["channel"][metric]) == {"web"}


def test_overview_is_empty_when_store_has_no_answers(settings: Settings) -> None:
    figures = service.overview(settings=settings)

    assert figures.span is None
    assert figures.channels == ()
    assert (figures.date_from, figures.date_to) == (None, None)
    assert figures.summary == {}


def test_overview_refuses_unknown_period(settings: Settings) -> None:
    with pytest.raises(InvalidInput, match="unknown period 'year'"):
        service.overview(settings=settings, period="year")


def test_session_answers_several_requests_when_opened_once(
    settings: Settings, seeder: Seeder
) -> None:
    _seed(seeder)

    with service.open_session(settings=settings) as session:
        span = session.data_range()
        channels = session.available_values(field="channel")
        tiers = session.available_values(field="tier")
        gold = session.metric_summary(metric="csat", where={"tier": "gold"})
        frame = session.metric_frame(metric="nps", by=["channel"])

    assert span == service.data_range(settings=settings)
    assert channels == ["app", "phone", "web"]
    assert tiers == ["gold", "silver"]
    alone = service.metric_summary(
        settings=settings, metric="csat", where={"tier": "gold"}
    )
    assert _close(_numbers(gold), _numbers(alone))
    assert frame["n"].sum() == 90
