"""Journey maps, paths and blueprints as plain JSON documents and CSV text.

The JSON documents are what the API returns and ``--json`` prints; the CSV files open
in a spreadsheet. A CSV cell that starts with ``=``, ``+``, ``-``, ``@`` or a control
character is prefixed with ``'`` so that a spreadsheet shows it as text instead of
running it as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from cxloop.domain.metrics import MetricResult
from cxloop.journeys.catalog import Blueprint
from cxloop.journeys.definitions import BLUEPRINT_LANES, Journey, localized
from cxloop.journeys.maps import Cell, JourneyMap, Score
from cxloop.journeys.paths import PathReport
from cxloop.journeys.placement import cell_name

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """``value`` ready for a CSV cell, defused when it could run as a formula.

    >>> safe_cell("=HYPERLINK(1)"), safe_cell(-3), safe_cell("台中公益店")
    ("'=HYPERLINK(1)", -3, '台中公益店')
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _csv(rows: Iterable[Iterable[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return out.getvalue()


def _score(score: Score | None) -> dict[str, Any] | None:
    if score is None:
        return None
    return {"mean": score.mean, "moe": score.moe, "n": score.n}


def _metric(result: MetricResult) -> dict[str, Any]:
    return {"value": result.value, "n": result.n, "moe": result.moe}


def journey_document(journey: Journey) -> dict[str, Any]:
    """A journey definition as JSON (what ``cxloop journey show --json`` prints)."""
    return journey.model_dump(mode="json")


def _cell(cell: Cell, language: str) -> dict[str, Any]:
    return {
        "key": cell.key,
        "stage": cell.slot.stage,
        "touchpoint": cell.slot.touchpoint,
        "name": cell_name(cell.slot, cell.detail, language),
        "detail": cell.detail or None,
        "volume": cell.volume,
        "customers": cell.customers,
        "metrics": {name: _metric(result) for name, result in cell.metrics.items()},
        "score": _score(cell.score),
        "sentiment": cell.sentiment,
        "sentiment_n": cell.sentiment_n,
        "topics": [{"topic": t, "n": n} for t, n in cell.topics],
        "worst_rank": cell.worst_rank,
    }


def map_document(journey_map: JourneyMap, language: str) -> dict[str, Any]:
    """The journey map as JSON: stages with their cells, the curve, the worst cells."""
    f = journey_map.filters
    return {
        "journey": journey_map.journey.name,
        "title": localized(journey_map.journey.title, language),
        "filters": {
            "persona": f.persona,
            "segment": f.segment,
            "channel": f.channel,
            "from": f.date_from.isoformat() if f.date_from else None,
            "to": f.date_to.isoformat() if f.date_to else None,
            "where": journey_map.where,
        },
        "overall": _score(journey_map.overall),
        "stages": [
            {
                "stage": point.stage,
                "label": localized(point.label, language),
                "score": _score(point.score),
                "volume": point.volume,
                "sentiment": point.sentiment,
                "cells": [
                    _cell(cell, language) for cell in journey_map.cells_of(point.stage)
                ],
            }
            for point in journey_map.stages
        ],
        "worst": [_cell(cell, language) for cell in journey_map.worst],
    }


MAP_COLUMNS = (
    "stage", "touchpoint", "cell", "volume", "customers",
    "nps", "nps_n", "nps_moe", "csat", "csat_n", "csat_moe", "ces", "ces_n", "ces_moe",
    "score", "score_moe", "score_n", "sentiment", "sentiment_n", "topics", "worst_rank",
)  # fmt: skip


def _map_row(cell: Cell, stage_label: str, language: str) -> list[object]:
    row: list[object] = [
        stage_label,
        localized(cell.slot.label, language),
        cell_name(cell.slot, cell.detail, language),
        cell.volume,
        cell.customers,
    ]
    for name in ("nps", "csat", "ces"):
        result = cell.metrics.get(name)
        row += [result.value, result.n, result.moe] if result else ["", "", ""]
    score = cell.score
    row += [score.mean, score.moe, score.n] if score else ["", "", ""]
    row += [
        "" if cell.sentiment is None else cell.sentiment,
        cell.sentiment_n,
        "; ".join(f"{topic} ({n})" for topic, n in cell.topics),
        cell.worst_rank or "",
    ]
    return row


def map_csv(journey_map: JourneyMap, language: str) -> str:
    """The journey map as CSV, one row per cell in journey order."""
    labels = {s.key: localized(s.label, language) for s in journey_map.journey.stages}
    rows = [
        _map_row(cell, labels[cell.slot.stage], language) for cell in journey_map.cells
    ]
    return _csv([MAP_COLUMNS, *rows])


def paths_document(report: PathReport) -> dict[str, Any]:
    """The path analysis as JSON, with a display name for every node key."""
    names = {}

    def name(key: str) -> str:
        names[key] = report.name(key)
        return key

    document = {
        "options": report.options.__dict__,
        "paths": report.paths,
        "customers": report.customers,
        "steps": report.steps,
        "sequences": [
            {"nodes": [name(n) for n in s.nodes], "count": s.count, "share": s.share}
            for s in report.sequences
        ],
        "node_dropoffs": [
            {"node": name(d.node), "visits": d.visits, "exits": d.exits,
             "share": d.share}
            for d in report.node_dropoffs
        ],
        "step_dropoffs": [
            {"step": d.step, "reached": d.reached, "ended": d.ended, "share": d.share}
            for d in report.step_dropoffs
        ],
        "transitions": [
            {"source": name(t.source), "target": name(t.target), "count": t.count,
             "median_hours": t.median_hours, "p90_hours": t.p90_hours}
            for t in report.transitions
        ],
        "links": [
            {"step": link.step, "source": name(link.source),
             "target": name(link.target), "count": link.count}
            for link in report.links
        ],
    }  # fmt: skip
    document["names"] = names
    return document


def blueprint_csv(journey: Journey, blueprint: Blueprint, language: str) -> str:
    """The service blueprint as CSV: one row per lane, one column per stage."""
    header = ["row", *(localized(stage.label, language) for stage in journey.stages)]
    rows = [
        [lane, *(blueprint.cell(lane, stage.key) for stage in journey.stages)]
        for lane in BLUEPRINT_LANES
    ]
    return _csv([header, *rows])
