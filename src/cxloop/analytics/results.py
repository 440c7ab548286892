"""From per-group statistics (what an engine returns) to metric results and frames.

The formulas are those of :mod:`cxloop.domain.metrics`; this module only reads the
statistics columns the definitions produce and lays the results out as a DataFrame.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

import pandas as pd

from cxloop.domain.metrics import (
    Change,
    MetricResult,
    ces_from_sums,
    csat_from_sums,
    nps_from_counts,
)
from cxloop.domain.vocab import MetricKind

#: Columns after the ``by`` fields (and ``period``) in every metric frame.
VALUE_COLUMNS = (
    "value",
    "n",
    "moe",
    "previous_value",
    "change",
    "p_value",
    "significant",
)
GroupKey = tuple[Any, ...]


def empty(kind: MetricKind) -> MetricResult:
    """The result of a group without answers."""
    return MetricResult(metric=kind, value=None, n=0, moe=None, se=None)


def from_statistics(kind: MetricKind, row: Mapping[str, Any]) -> MetricResult:
    """The metric of one group from the statistics a definition computed for it."""
    n = int(row["n"])
    if kind is MetricKind.NPS:
        return nps_from_counts(n, int(row["promoters"]), int(row["detractors"]))
    if kind is MetricKind.CSAT:
        return csat_from_sums(n, int(row["top_two"]), float(row["total"]))
    return ces_from_sums(
        n, float(row["total"]), float(row["total_sq"]), int(row["top_three"])
    )


def _plain(value: Any) -> Any:
    """A Python value with pandas' missing markers turned into None."""
    if value is None or (not isinstance(value, str | bytes) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def as_date(value: Any) -> date:
    """A period start returned by an engine (date, datetime or numpy) as a date."""
    return pd.Timestamp(value).date()


def grouped(
    kind: MetricKind, stats: Iterable[Mapping[str, Any]], keys: Sequence[str]
) -> dict[GroupKey, MetricResult]:
    """The metric of every group, keyed by the values of ``keys`` in that group.

    ``stats`` are the rows a definition returned (see :func:`records`). A group
    without answers (the single row of an aggregate over nothing) is left out.
    """
    out: dict[GroupKey, MetricResult] = {}
    for row in stats:
        if not row["n"]:
            continue
        key = tuple(_plain(row[name]) for name in keys)
        out[key] = from_statistics(kind, row)
    return out


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of a statistics frame as dicts keyed by column name."""
    return [
        {str(name): value for name, value in row.items()}
        for row in frame.to_dict("records")
    ]


def sort_key(key: GroupKey) -> tuple[Any, ...]:
    """Order group keys with missing values last."""
    return tuple((part is None, "" if part is None else part) for part in key)


def _number(value: float | None) -> float:
    return float("nan") if value is None else value


def row(fields: Mapping[str, Any], change: Change) -> dict[str, Any]:
    """One line of a metric frame: the group's fields, then value, n, moe and change."""
    current = change.current
    return {
        **fields,
        "value": _number(current.value),
        "n": current.n,
        "moe": _number(current.moe),
        "previous_value": _number(change.previous.value),
        "change": _number(change.difference),
        "p_value": _number(change.p_value),
        "significant": change.significant,
    }


def frame(rows: Iterable[dict[str, Any]], leading: Sequence[str]) -> pd.DataFrame:
    """The metric frame with the ``leading`` columns (fields, period) then the values."""
    columns = [*leading, *VALUE_COLUMNS]
    result = pd.DataFrame(list(rows), columns=columns)
    floats = ["value", "moe", "previous_value", "change", "p_value"]
    result[floats] = result[floats].astype("float64")
    result["n"] = result["n"].astype("int64")
    result["significant"] = result["significant"].astype(bool)
    for name in leading:
        column = result[name].astype(object)
        result[name] = column.where(column.notna(), None)
    return result


def rollup(
    stats: Iterable[Mapping[str, Any]], keys: Sequence[str], statistics: Sequence[str]
) -> list[dict[str, Any]]:
    """The statistics of coarser groups, keyed by ``keys``.

    Every statistic a definition computes is a count or a sum, so the statistics of
    a group are the sums of those of the finer groups it holds.
    """
    sums: dict[GroupKey, dict[str, Any]] = {}
    for row in stats:
        key = tuple(_plain(row[name]) for name in keys)
        total = sums.get(key)
        if total is None:
            sums[key] = dict(zip(keys, key, strict=True)) | {
                name: row[name] for name in statistics
            }
            continue
        for name in statistics:
            total[name] += row[name]
    return list(sums.values())
