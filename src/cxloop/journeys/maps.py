"""The journey map: stages x touchpoints with volume, scores, sentiment and topics.

Every number is computed in the engine from the interaction stream and the answer
facts placed on the journey (:mod:`cxloop.journeys.placement`):

- volume: interactions (and distinct customers) per cell;
- NPS, CSAT and CES per cell with n and 95 % margin (the formulas of
  :mod:`cxloop.domain.metrics` on the statistics of :mod:`cxloop.analytics.definitions`);
- the experience score: every answer on a common 0-1 scale (NPS ``v/10``, CSAT
  ``(v-1)/4``, CES ``(7-v)/6``, higher is better) averaged per cell, per stage (the
  emotion curve) and over the journey, with a 95 % margin;
- sentiment (mean ``sentiment_score``) and top topics, where text analytics wrote them.

The worst touchpoints are the cells whose score's upper 95 % bound lies below the
journey mean, lowest score first.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from cxloop.analytics.definitions import DEFINITIONS
from cxloop.analytics.results import from_statistics
from cxloop.domain.metrics import Z_95, MetricResult
from cxloop.domain.vocab import MetricKind
from cxloop.journeys import filters as journey_filters
from cxloop.journeys.definitions import Journey, Labels
from cxloop.journeys.filters import JourneyFilters
from cxloop.journeys.placement import Slot, place, slots
from cxloop.journeys.stream import Stream

METRICS = (MetricKind.NPS, MetricKind.CSAT, MetricKind.CES)
TOP_TOPICS = 3
CellKey = tuple[int, str]


@dataclass(frozen=True)
class Score:
    """A mean on the common 0-1 scale with its 95 % margin and n."""

    mean: float
    moe: float | None
    n: int

    @property
    def upper(self) -> float | None:
        return None if self.moe is None else self.mean + self.moe


@dataclass(frozen=True)
class Cell:
    """One touchpoint (or, for a split touchpoint, one of its values) of the map."""

    slot: Slot
    detail: str
    volume: int = 0
    customers: int = 0
    metrics: dict[str, MetricResult] = field(default_factory=dict)
    score: Score | None = None
    sentiment: float | None = None
    sentiment_n: int = 0
    topics: tuple[tuple[str, int], ...] = ()
    worst_rank: int | None = None

    @property
    def key(self) -> str:
        base = f"{self.slot.stage}/{self.slot.touchpoint}"
        return f"{base}/{self.detail}" if self.detail else base


@dataclass(frozen=True)
class StagePoint:
    """A stage on the emotion curve: its score, volume and sentiment."""

    stage: str
    label: Labels
    score: Score | None
    volume: int
    sentiment: float | None


@dataclass(frozen=True)
class JourneyMap:
    """The map of one journey under one set of filters."""

    journey: Journey
    filters: JourneyFilters
    where: dict[str, str]
    cells: tuple[Cell, ...]
    stages: tuple[StagePoint, ...]
    overall: Score | None
    worst: tuple[Cell, ...]

    def cells_of(self, stage: str) -> list[Cell]:
        return [cell for cell in self.cells if cell.slot.stage == stage]


def normalised(table: ir.Table) -> ir.FloatingValue:
    """Each scored answer on the common 0-1 scale (higher is better)."""
    value = table.value.cast("float64")
    return ibis.cases(
        (table.metric == "nps", value / 10.0),
        (table.metric == "csat", (value - 1.0) / 4.0),
        (table.metric == "ces", (7.0 - value) / 6.0),
        else_=ibis.null("float64"),
    )


def score_of(n: int, total: float, total_sq: float) -> Score | None:
    """Mean and 95 % margin (sample standard deviation) from the sums."""
    if n <= 0:
        return None
    mean = total / n
    if n < 2:
        return Score(mean, None, n)
    var = max(total_sq - n * mean * mean, 0.0) / (n - 1)
    return Score(mean, Z_95 * math.sqrt(var / n), n)


def build_map(stream: Stream, journey: Journey, filters: JourneyFilters) -> JourneyMap:
    """The journey map of ``journey`` over the stream, under ``filters``."""
    where = journey_filters.customer_where(journey, filters)
    source = stream.source
    facts = journey_filters.apply(source, stream.source.facts, where, filters)
    answers = place(journey, facts)
    found: dict[CellKey, dict[str, Any]] = {}
    _volumes(found, place(journey, _filtered(stream, where, filters)))
    for kind in METRICS:
        _metric(found, kind, answers)
    sums = _score_sums(found, answers)
    _enrichment(found, stream, journey, where, filters)
    by_slot = {slot.index: slot for slot in slots(journey)}
    cells = [Cell(by_slot[key[0]], key[1], **values) for key, values in found.items()]
    cells.sort(key=lambda cell: (cell.slot.index, cell.detail))
    overall = score_of(*_total(sums.values()))
    ranked = _rank_worst(cells, overall)
    return JourneyMap(
        journey=journey,
        filters=filters,
        where=where,
        cells=tuple(ranked),
        stages=tuple(_stage_points(journey, ranked, sums)),
        overall=overall,
        worst=tuple(
            sorted((c for c in ranked if c.worst_rank), key=lambda c: c.worst_rank or 0)
        ),
    )


def _filtered(
    stream: Stream, where: dict[str, str], filters: JourneyFilters
) -> ir.Table:
    return journey_filters.apply(stream.source, stream.interactions, where, filters)


def _rows(table: ir.Table) -> list[dict[str, Any]]:
    frame: pd.DataFrame = table.execute()
    return [
        {str(k): (None if _missing(v) else v) for k, v in row.items()}
        for row in frame.to_dict("records")
    ]


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _entry(found: dict[CellKey, dict[str, Any]], row: dict[str, Any]) -> dict[str, Any]:
    key = (int(row["slot"]), str(row["detail"] or ""))
    return found.setdefault(key, {})


def _volumes(found: dict[CellKey, dict[str, Any]], placed: ir.Table) -> None:
    counts = placed.group_by(["slot", "detail"]).aggregate(
        volume=placed.count(), customers=placed.customer_id.nunique()
    )
    for row in _rows(counts):
        entry = _entry(found, row)
        entry["volume"] = int(row["volume"])
        entry["customers"] = int(row["customers"] or 0)


def _metric(
    found: dict[CellKey, dict[str, Any]], kind: MetricKind, answers: ir.Table
) -> None:
    for row in _rows(DEFINITIONS[kind](answers, ["slot", "detail"])):
        if row["n"]:
            entry = _entry(found, row)
            entry.setdefault("metrics", {})[kind.value] = from_statistics(kind, row)


def _score_sums(
    found: dict[CellKey, dict[str, Any]], answers: ir.Table
) -> dict[CellKey, tuple[int, float, float]]:
    scored = answers.mutate(unit=normalised(answers))
    scored = scored.filter(scored.unit.notnull())
    stats = scored.group_by(["slot", "detail"]).aggregate(
        n=scored.count(), total=scored.unit.sum(), total_sq=(scored.unit**2).sum()
    )
    sums = {}
    for row in _rows(stats):
        key = (int(row["slot"]), str(row["detail"] or ""))
        sums[key] = (int(row["n"]), float(row["total"]), float(row["total_sq"]))
        _entry(found, row)["score"] = score_of(*sums[key])
    return sums


def _total(parts: Any) -> tuple[int, float, float]:
    n, total, total_sq = 0, 0.0, 0.0
    for part_n, part_total, part_sq in parts:
        n, total, total_sq = n + part_n, total + part_total, total_sq + part_sq
    return n, total, total_sq


def _enrichment(
    found: dict[CellKey, dict[str, Any]],
    stream: Stream,
    journey: Journey,
    where: dict[str, str],
    filters: JourneyFilters,
) -> None:
    enriched = journey_filters.apply(stream.source, stream.enriched(), where, filters)
    placed = place(journey, enriched)
    sentiment = placed.filter(placed.sentiment_score.notnull())
    stats = sentiment.group_by(["slot", "detail"]).aggregate(
        sentiment=sentiment.sentiment_score.mean(), sentiment_n=sentiment.count()
    )
    for row in _rows(stats):
        entry = _entry(found, row)
        entry["sentiment"] = float(row["sentiment"])
        entry["sentiment_n"] = int(row["sentiment_n"])
    tagged = placed.filter(placed.topics.notnull())
    combos = tagged.group_by(["slot", "detail", "topics"]).aggregate(n=tagged.count())
    counters: dict[CellKey, Counter[str]] = {}
    for row in _rows(combos):
        key = (int(row["slot"]), str(row["detail"] or ""))
        for topic in topic_names(row["topics"]):
            counters.setdefault(key, Counter())[topic] += int(row["n"])
    for key, counter in counters.items():
        found.setdefault(key, {})["topics"] = tuple(counter.most_common(TOP_TOPICS))


def topic_names(document: str | None) -> list[str]:
    """The topic names in an interaction's ``topics`` JSON (strings or objects).

    >>> topic_names('["配送", {"topic": "價格"}, {"label": "店員態度"}]')
    ['配送', '價格', '店員態度']
    """
    if not document:
        return []
    try:
        items = json.loads(document)
    except ValueError:
        return []
    names = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            item = item.get("topic") or item.get("label") or item.get("name")
        if isinstance(item, str) and item.strip():
            names.append(item.strip())
    return names


def _rank_worst(cells: list[Cell], overall: Score | None) -> list[Cell]:
    """Mark the cells whose upper bound is below the journey mean, lowest first."""
    if overall is None:
        return cells
    below = [
        cell
        for cell in cells
        if cell.score is not None
        and cell.score.upper is not None
        and cell.score.upper < overall.mean
    ]
    below.sort(key=lambda cell: cell.score.mean if cell.score else 0.0)
    rank = {cell.key: position for position, cell in enumerate(below, start=1)}
    return [
        Cell(**{**cell.__dict__, "worst_rank": rank.get(cell.key)}) for cell in cells
    ]


def _stage_points(
    journey: Journey, cells: list[Cell], sums: dict[CellKey, tuple[int, float, float]]
) -> list[StagePoint]:
    points = []
    for stage in journey.stages:
        own = [cell for cell in cells if cell.slot.stage == stage.key]
        keys = {(cell.slot.index, cell.detail) for cell in own}
        score = score_of(*_total(v for k, v in sums.items() if k in keys))
        rated = [(c.sentiment, c.sentiment_n) for c in own if c.sentiment is not None]
        count = sum(n for _, n in rated)
        sentiment = sum(s * n for s, n in rated) / count if count else None
        volume = sum(cell.volume for cell in own)
        points.append(StagePoint(stage.key, stage.label, score, volume, sentiment))
    return points
