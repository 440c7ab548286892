"""Everything a dashboard overview shows, from one aggregate per metric.

The summary of each metric, its trend per period and its breakdown by a few fields
are the same numbers as separate requests to :mod:`cxloop.analytics.service` give
(``metric_summary`` and ``metric_frame``), but come from one query per metric: its
statistics grouped by every breakdown field, the period and the window an answer falls
in, which :func:`cxloop.analytics.results.rollup` then sums up for each view.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import ibis.expr.types as ir
import pandas as pd

from cxloop.analytics import changes, queries, results
from cxloop.analytics.changes import Rows
from cxloop.analytics.definitions import period_start
from cxloop.analytics.engines import Source
from cxloop.domain.metrics import SCORED_METRICS, Change, compare
from cxloop.domain.vocab import MetricKind

#: Months in the window when no dates are given.
DEFAULT_MONTHS = 12
#: What a breakdown is keyed by: the field's value (None when missing).
BreakdownKey = str | None


@dataclass(frozen=True)
class OverviewFigures:
    """The numbers of an overview for one window and filter.

    ``summary`` maps a metric to its change from the window before; ``trend`` maps a
    metric to the change of each period (by its first day, in order) from the period
    before; ``breakdowns`` maps a field to a metric to the change of each of its
    values. The window is empty when the store has no scored answer.
    """

    span: tuple[date, date] | None
    channels: tuple[str, ...]
    date_from: date | None = None
    date_to: date | None = None
    summary: Mapping[str, Change] = field(default_factory=dict)
    trend: Mapping[str, Mapping[date, Change]] = field(default_factory=dict)
    breakdowns: Mapping[str, Mapping[str, Mapping[BreakdownKey, Change]]] = field(
        default_factory=dict
    )


def default_window(first: date, last: date, months: int) -> tuple[date, date]:
    """The last ``months`` calendar months of data (from the first of a month)."""
    month_index = last.year * 12 + last.month - 1 - (months - 1)
    start = date(month_index // 12, month_index % 12 + 1, 1)
    return max(start, first), last


def resolve_window(
    span: tuple[date, date],
    date_from: date | None,
    date_to: date | None,
    months: int,
) -> tuple[date, date]:
    """The window shown: the dates given, completed from the data's span."""
    if date_from is None and date_to is None:
        return default_window(*span, months)
    return date_from or span[0], date_to or span[1]


def span_and_channels(
    source: Source,
) -> tuple[tuple[date, date] | None, tuple[str, ...]]:
    """The data's first and last day and its channels, in one query."""
    facts = source.facts
    frame = (
        facts.group_by("channel")
        .aggregate(first=facts.occurred_on.min(), last=facts.occurred_on.max())
        .execute()
    )
    channels = sorted(str(value) for value in frame["channel"] if not pd.isna(value))
    return changes.span_of(frame["first"], frame["last"]), tuple(channels)


def figures(
    source: Source,
    *,
    date_from: date | None,
    date_to: date | None,
    where: Mapping[str, str],
    fields: Sequence[str],
    period: str,
    months: int = DEFAULT_MONTHS,
) -> OverviewFigures:
    """The overview of the checked request (see :class:`OverviewFigures`)."""
    span, channels = span_and_channels(source)
    if span is None:
        return OverviewFigures(span=None, channels=channels)
    window = resolve_window(span, date_from, date_to, months)
    table = changes.prepared(source, fields, where)
    summary: dict[str, Change] = {}
    trend: dict[str, Mapping[date, Change]] = {}
    breakdowns: dict[str, dict[str, Mapping[BreakdownKey, Change]]] = {
        name: {} for name in fields
    }
    for kind in SCORED_METRICS:
        fine = _fine_statistics(kind, table, fields, period, window)
        keys = {*fields, "period", changes.WINDOW}
        names = [name for name in (fine[0] if fine else {}) if name not in keys]
        summary[kind.value] = _summary(kind, fine, names)
        trend[kind.value] = _trend(kind, fine, names, period, window[0])
        for name in fields:
            breakdowns[name][kind.value] = _breakdown(kind, fine, names, name)
    return OverviewFigures(span, channels, *window, summary, trend, breakdowns)


def _fine_statistics(
    kind: MetricKind,
    table: ir.Table,
    fields: Sequence[str],
    period: str,
    window: tuple[date, date],
) -> Rows:
    """Statistics by every field, period and window, from the earliest day needed."""
    date_from, date_to = window
    previous_from = date_from - timedelta(days=(date_to - date_from).days + 1)
    before = queries.previous_period(queries.period_floor(date_from, period), period)
    scope = table.filter(
        queries.in_days(table.occurred_on, min(previous_from, before), date_to)
    )
    keys = [
        *(scope[name] for name in fields),
        period_start(scope, period).name("period"),
        changes.window_label(scope.occurred_on, date_from, previous_from),
    ]
    stats = changes.statistics(kind, scope, keys)
    return [row | {"period": results.as_date(row["period"])} for row in stats]


def _summary(kind: MetricKind, fine: Rows, names: Sequence[str]) -> Change:
    stats = results.rollup(fine, [changes.WINDOW], names)
    empty = results.empty(kind)
    return changes.between_windows(kind, stats, ()).get((), compare(empty, empty))


def _breakdown(
    kind: MetricKind, fine: Rows, names: Sequence[str], name: str
) -> dict[BreakdownKey, Change]:
    stats = results.rollup(fine, [name, changes.WINDOW], names)
    found = changes.between_windows(kind, stats, [name])
    return {
        None if key[0] is None else str(key[0]): change for key, change in found.items()
    }


def _trend(
    kind: MetricKind,
    fine: Rows,
    names: Sequence[str],
    period: str,
    date_from: date,
) -> dict[date, Change]:
    """Each period from ``date_from`` on (counted from that day) against the one before.

    The period before the first one counts whole, as ``metric_frame`` does.
    """
    first = queries.period_floor(date_from, period)
    before = queries.previous_period(first, period)
    kept = [
        row
        for row in fine
        if row[changes.WINDOW] == changes.CURRENT or row["period"] == before
    ]
    stats = results.rollup(kept, ["period"], names)
    found = changes.between_periods(kind, stats, (), period, first)
    return {date.fromisoformat(key[0]): found[key] for key in sorted(found)}
