"""Metric changes: the statistics queries behind each request, and what follows from them.

A request runs one aggregate (a definition of :mod:`cxloop.analytics.definitions`
grouped by its fields and a window or period key); the functions named ``between_*``
then turn those statistics into a :class:`~cxloop.domain.metrics.Change` per group,
without running anything, so a caller that already holds finer statistics (summed up
with :func:`cxloop.analytics.results.rollup`) reaches the same changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from cxloop.analytics import queries, results
from cxloop.analytics.definitions import DEFINITIONS, period_start
from cxloop.analytics.engines import Source
from cxloop.domain.errors import InvalidInput
from cxloop.domain.metrics import Change, compare
from cxloop.domain.vocab import MetricKind

#: Name of the key that tells the window an answer falls in, and its values.
WINDOW = "window"
CURRENT, PREVIOUS, OLDER = "current", "previous", "older"
Changes = dict[results.GroupKey, Change]
Rows = list[dict[str, Any]]


def statistics(kind: MetricKind, table: ir.Table, keys: Sequence[ir.Value]) -> Rows:
    """Run the definition of ``kind`` on ``table`` grouped by ``keys``."""
    frame: pd.DataFrame = DEFINITIONS[kind](table, keys).execute()
    return results.records(frame)


def data_range(source: Source) -> tuple[date, date] | None:
    """The business-zone dates of the first and the last scored answer, if any."""
    facts = source.facts
    span = facts.aggregate(
        first=facts.occurred_on.min(), last=facts.occurred_on.max()
    ).execute()
    return span_of(span["first"], span["last"])


def span_of(firsts: Iterable[Any], lasts: Iterable[Any]) -> tuple[date, date] | None:
    """The earliest of ``firsts`` and the latest of ``lasts`` (missing ones ignored)."""
    known_firsts = [results.as_date(v) for v in firsts if not pd.isna(v)]
    known_lasts = [results.as_date(v) for v in lasts if not pd.isna(v)]
    if not known_firsts or not known_lasts:
        return None
    return min(known_firsts), max(known_lasts)


def refuse_missing(source: Source, fields: Iterable[str]) -> None:
    """Refuse attribute keys that no customer has."""
    missing = queries.missing_attributes(source, fields)
    if missing:
        known = ", ".join(queries.FACT_FIELDS + queries.CUSTOMER_FIELDS)
        msg = (
            f"unknown field {', '.join(map(repr, missing))}: no customer has such an "
            f"attribute (fields: {known} or a customer attribute)"
        )
        raise InvalidInput(msg)


def prepared(
    source: Source, fields: Sequence[str], filters: Mapping[str, str]
) -> ir.Table:
    """The facts with the columns of ``fields``, keeping the rows ``filters`` allow."""
    names = list(dict.fromkeys([*fields, *filters]))
    refuse_missing(source, names)
    return queries.filter_where(queries.annotate(source, names), filters)


def window_label(
    day: ir.DateValue, date_from: date, previous_from: date | None = None
) -> ir.StringValue:
    """``current`` from ``date_from`` on, ``previous`` before (``older`` before that)."""
    earlier: ir.StringValue = ibis.literal(PREVIOUS)
    if previous_from is not None:
        earlier = (day >= ibis.literal(previous_from, type="date")).ifelse(
            PREVIOUS, OLDER
        )
    label: ir.StringValue = (day >= ibis.literal(date_from, type="date")).ifelse(
        CURRENT, earlier
    )
    return label.name(WINDOW)


def plain_changes(kind: MetricKind, table: ir.Table, fields: Sequence[str]) -> Changes:
    """Each group's metric, with nothing to compare it with."""
    stats = statistics(kind, table, [table[f] for f in fields])
    groups = results.grouped(kind, stats, fields)
    empty = results.empty(kind)
    return {key: compare(current, empty) for key, current in groups.items()}


def window_changes(
    kind: MetricKind,
    table: ir.Table,
    fields: Sequence[str],
    date_from: date,
    date_to: date,
) -> Changes:
    """Each group over ``[date_from, date_to]`` against the window as long before it."""
    length = (date_to - date_from).days + 1
    scope = table.filter(
        queries.in_days(table.occurred_on, date_from - timedelta(days=length), date_to)
    )
    keys = [scope[f] for f in fields]
    stats = statistics(kind, scope, [*keys, window_label(scope.occurred_on, date_from)])
    return between_windows(kind, stats, fields)


def between_windows(kind: MetricKind, stats: Rows, fields: Sequence[str]) -> Changes:
    """The changes from statistics keyed by ``fields`` and :data:`WINDOW`."""
    groups = results.grouped(kind, stats, [*fields, WINDOW])
    empty = results.empty(kind)
    return {
        key[:-1]: compare(current, groups.get((*key[:-1], PREVIOUS), empty))
        for key, current in groups.items()
        if key[-1] == CURRENT
    }


def period_changes(
    kind: MetricKind,
    table: ir.Table,
    fields: Sequence[str],
    period: str,
    date_from: date | None,
    date_to: date | None,
) -> Changes:
    """Each group and period against the period before it in the same group."""
    day = table.occurred_on
    scope = queries.in_days(day, date_from, date_to)
    first = None
    if date_from is not None:
        first = queries.period_floor(date_from, period)
        before = queries.previous_period(first, period)
        scope |= queries.in_days(day, before, first - timedelta(days=1))
    kept = table.filter(scope)
    keys = [kept[f] for f in fields]
    stats = statistics(kind, kept, [*keys, period_start(kept, period).name("period")])
    return between_periods(kind, stats, fields, period, first)


def between_periods(
    kind: MetricKind,
    stats: Rows,
    fields: Sequence[str],
    period: str,
    first: date | None,
) -> Changes:
    """The changes from statistics keyed by ``fields`` and ``period`` (its start).

    Periods before ``first`` only serve as the "before" of the first one.
    """
    dated = [row | {"period": results.as_date(row["period"])} for row in stats]
    groups = results.grouped(kind, dated, [*fields, "period"])
    empty = results.empty(kind)
    changes: Changes = {}
    for key, current in groups.items():
        *group, begins = key
        if first is not None and begins < first:
            continue
        previous = groups.get((*group, queries.previous_period(begins, period)), empty)
        changes[(*group, begins.isoformat())] = compare(current, previous)
    return changes
