"""Path analysis on SQLite (DuckDB stream cache) and PostgreSQL, against hand counts
and a plain-Python reference."""

from __future__ import annotations

import json
import math
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from journey_seeding import Event, seed

from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput
from cxloop.journeys.definitions import parse_journey
from cxloop.journeys.paths import PathOptions
from cxloop.journeys.service import JourneyFilters, journey_paths

#: Three touchpoints A, B, C in two stages; C is split by store name.
JOURNEY = {
    "name": "abc",
    "title": "abc",
    "stages": [
        {"key": "s1", "label": "S1", "touchpoints": [
            {"key": "a", "label": "A", "match": [{"touchpoint": "A"}]},
            {"key": "b", "label": "B", "match": [{"touchpoint": "B"}]}]},
        {"key": "s2", "label": "S2", "touchpoints": [
            {"key": "c", "label": "C", "split": True, "match": [{"channel": "store"}]}]},
    ],
}  # fmt: skip


def _settings(settings: Settings, tmp_path: Path) -> Settings:
    from cxloop.journeys.catalog import journey_dir

    folder = tmp_path / "journeys"
    folder.mkdir()
    (folder / "abc.json").write_text(json.dumps(JOURNEY), "utf-8")
    assert parse_journey(JOURNEY, origin="test").name == "abc"
    found = settings.model_copy(update={"journey_dir": str(folder)})
    assert journey_dir(found) == folder
    return found


def _event(customer: int, hour: int, touchpoint: str) -> Event:
    at = (datetime(2025, 3, 1, tzinfo=UTC) + timedelta(hours=hour)).isoformat()
    channel = "store" if touchpoint.startswith("店") else "web"
    return Event(customer, at, channel, touchpoint)


HAND = [
    _event(1, 0, "A"), _event(1, 1, "A"), _event(1, 3, "B"), _event(1, 9, "店1"),
    _event(2, 0, "A"), _event(2, 2, "B"),
    _event(3, 5, "B"),
    _event(4, 0, "A"), _event(4, 100, "B"),
    Event(None, "2025-03-01T00:00:00", "web", "A"),  # no customer: not on a path
    _event(5, 0, "unplaced"),  # placed nowhere
]  # fmt: skip


def test_paths_collapse_repeats_and_count_by_hand(
    settings: Settings, tmp_path: Path
) -> None:
    settings = _settings(settings, tmp_path)
    seed(settings, HAND)
    report = journey_paths(settings=settings, name="abc", options=PathOptions(k=2))
    assert (report.paths, report.customers, report.steps) == (4, 4, 8)
    pairs = {s.nodes: s.count for s in report.sequences}
    assert pairs == {("s1/a", "s1/b"): 3, ("s1/b", "s2/c/店1"): 1}
    assert report.name("s2/c/店1") == "店1"
    exits = {d.node: (d.visits, d.exits) for d in report.node_dropoffs}
    assert exits == {"s1/a": (3, 0), "s1/b": (4, 3), "s2/c/店1": (1, 1)}
    steps = {d.step: (d.reached, d.ended) for d in report.step_dropoffs}
    assert steps == {1: (4, 1), 2: (3, 2), 3: (1, 1)}
    times = {(t.source, t.target): t for t in report.transitions}
    a_to_b = times[("s1/a", "s1/b")]
    # Hours from the first A of the collapsed run: 3, 2 and 100.
    assert a_to_b.median_hours == pytest.approx(3.0)
    assert a_to_b.p90_hours == pytest.approx(float(np.quantile([3, 2, 100], 0.9)))
    assert next((link.step, link.count) for link in report.links) == (1, 3)


def test_session_gap_starts_new_paths(settings: Settings, tmp_path: Path) -> None:
    settings = _settings(settings, tmp_path)
    seed(settings, HAND)
    options = PathOptions(k=2, session_gap_hours=5)
    report = journey_paths(settings=settings, name="abc", options=options)
    # Customer 1 breaks before 店1 (6 h), customer 4 before B (100 h).
    assert (report.paths, report.customers) == (6, 4)
    assert {s.nodes: s.count for s in report.sequences} == {("s1/a", "s1/b"): 2}


def test_stage_level_and_customer_filter(settings: Settings, tmp_path: Path) -> None:
    settings = _settings(settings, tmp_path)
    seed(settings, HAND, segments={1: "家庭", 2: "家庭"})
    options = PathOptions(k=2, level="stage")
    report = journey_paths(
        settings=settings, name="abc", options=options,
        filters=JourneyFilters(segment="家庭"),
    )  # fmt: skip
    assert report.customers == 2
    assert {s.nodes: s.count for s in report.sequences} == {("s1", "s2"): 1}


def _reference(events: list[Event], k: int) -> tuple[int, Counter[tuple[str, ...]]]:
    """Plain Python: order by time, collapse repeats, count k-step windows."""
    by_customer: dict[int, list[tuple[str, str, str]]] = {}
    for number, e in enumerate(events):
        assert e.customer is not None
        by_customer.setdefault(e.customer, []).append(
            (e.at, f"{number:06d}", e.touchpoint)
        )
    windows: Counter[tuple[str, ...]] = Counter()
    for rows in by_customer.values():
        nodes: list[str] = []
        for _at, _n, touchpoint in sorted(rows):
            node = (
                f"s1/{touchpoint.lower()}"
                if touchpoint in "AB"
                else f"s2/c/{touchpoint}"
            )
            if not nodes or nodes[-1] != node:
                nodes.append(node)
        windows.update(tuple(nodes[i : i + k]) for i in range(len(nodes) - k + 1))
    return len(by_customer), windows


def test_random_stream_matches_python_reference(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    settings = _settings(sqlite_settings, tmp_path)
    rng = np.random.default_rng(7)
    events = [
        _event(
            int(rng.integers(1, 61)),
            int(rng.integers(0, 2001)),
            str(rng.choice(["A", "B", "店1", "店2"])),
        )
        for _ in range(1500)
    ]
    seed(settings, events)
    report = journey_paths(
        settings=settings, name="abc", options=PathOptions(k=3, top=1000)
    )
    customers, windows = _reference(events, 3)
    assert report.customers == customers
    assert {s.nodes: s.count for s in report.sequences} == dict(windows)
    assert math.fsum(s.share for s in report.sequences) == pytest.approx(1.0)


def test_path_options_refuse_bad_values() -> None:
    with pytest.raises(InvalidInput, match="2 to 6"):
        PathOptions(k=1)
    with pytest.raises(InvalidInput, match="level"):
        PathOptions(level="channel")
    with pytest.raises(InvalidInput, match="positive"):
        PathOptions(session_gap_hours=0)


def test_stream_cache_follows_appended_and_backfilled_interactions(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    settings = _settings(sqlite_settings, tmp_path)
    seed(settings, HAND[:4])
    first = journey_paths(settings=settings, name="abc", options=PathOptions(k=2))
    assert {s.nodes: s.count for s in first.sequences} == {
        ("s1/a", "s1/b"): 1, ("s1/b", "s2/c/店1"): 1,
    }  # fmt: skip
    # Later interactions continue the sequence; an older one (a back-filled import)
    # lands before them in customer 1's path.
    seed(settings, [_event(1, 20, "A"), _event(1, 2, "店2")], start=100)
    again = journey_paths(settings=settings, name="abc", options=PathOptions(k=2))
    assert {s.nodes: s.count for s in again.sequences} == {
        ("s1/a", "s2/c/店2"): 1, ("s2/c/店2", "s1/b"): 1,
        ("s1/b", "s2/c/店1"): 1, ("s2/c/店1", "s1/a"): 1,
    }  # fmt: skip
