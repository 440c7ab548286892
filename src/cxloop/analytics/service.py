"""Metric use cases shared by the CLI, the web API and notebooks (keyword-only).

Each call opens the analytics engine of the configured store (refreshing the DuckDB
mirror of an SQLite store), runs one aggregate per request and closes it again::

    metric_frame(settings=get_settings(), metric="nps", by=["channel"], period="month")
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta

import ibis
import ibis.expr.types as ir
import pandas as pd

from cxloop.analytics import queries, results
from cxloop.analytics.definitions import DEFINITIONS, period_start
from cxloop.analytics.engines import Source, connect
from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput
from cxloop.domain.metrics import Change, compare
from cxloop.domain.vocab import MetricKind

#: Days in the default window of :func:`metric_summary`.
SUMMARY_DAYS = 90
_WINDOW = "window"


def parse_where(items: Iterable[str]) -> dict[str, str]:
    """``FIELD=VALUE`` strings (from a command line or a query string) as a filter."""
    return queries.parse_where(items)


def metric_frame(
    *,
    settings: Settings,
    metric: str,
    by: Sequence[str] = (),
    period: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    where: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """NPS, CSAT or CES per group, with n, 95 % margin and the change from before.

    Columns: the ``by`` fields, ``period`` (ISO date of the period start, when a
    period is given), ``value``, ``n``, ``moe``, ``previous_value``, ``change``,
    ``p_value`` and ``significant``. With a period, "previous" is the preceding period
    of the same group; without one and with both dates, it is the window of the same
    length just before ``[date_from, date_to]`` (both inclusive, business-zone dates);
    otherwise the comparison columns are empty. When ``date_from`` falls inside a
    period, that first period counts answers from ``date_from`` on and is compared
    with the whole period before it.
    """
    kind = queries.parse_metric(metric)
    period = queries.parse_period(period)
    fields = queries.check_fields(by)
    filters = {queries.check_field(k): v for k, v in (where or {}).items()}
    queries.check_dates(date_from, date_to)
    with connect(
        settings, customers=queries.needs_customers([*fields, *filters])
    ) as source:
        table = _prepared(source, fields, filters)
        if period is not None:
            changes = _period_changes(kind, table, fields, period, date_from, date_to)
        elif date_from is not None and date_to is not None:
            changes = _window_changes(kind, table, fields, date_from, date_to)
        else:
            scope = queries.in_days(table.occurred_on, date_from, date_to)
            changes = _plain_changes(kind, table.filter(scope), fields)
    leading = [*fields, "period"] if period is not None else list(fields)
    rows = (
        results.row(dict(zip(leading, key, strict=True)), changes[key])
        for key in sorted(changes, key=results.sort_key)
    )
    return results.frame(rows, leading)


def metric_summary(
    *,
    settings: Settings,
    metric: str,
    date_from: date | None = None,
    date_to: date | None = None,
    where: Mapping[str, str] | None = None,
) -> Change:
    """One metric over a window against the window of equal length just before it.

    Without dates the window is the last 90 days up to the latest answer; with one
    date only, the other end is 90 days away (or the latest answer).
    """
    kind = queries.parse_metric(metric)
    filters = {queries.check_field(k): v for k, v in (where or {}).items()}
    queries.check_dates(date_from, date_to)
    with connect(settings, customers=queries.needs_customers(filters)) as source:
        table = _prepared(source, (), filters)
        window = _summary_window(source, date_from, date_to)
        changes = {} if window is None else _window_changes(kind, table, (), *window)
    empty = results.empty(kind)
    return changes.get((), compare(empty, empty))


def available_values(*, settings: Settings, field: str) -> list[str]:
    """The distinct values of a field (for filter drop-downs), sorted, without nulls."""
    name = queries.check_field(field)
    with connect(settings, customers=queries.needs_customers([name])) as source:
        if name in queries.FACT_FIELDS:
            table = source.facts
            column = table[name]
        else:
            _refuse_missing(source, [name])
            table = source.customers
            column = queries.customer_column(source, name)
        values = table.select(column.name("v")).distinct().execute()["v"]
    return sorted(str(value) for value in values if not pd.isna(value))


def data_range(*, settings: Settings) -> tuple[date, date] | None:
    """The business-zone dates of the first and the last scored answer, if any."""
    with connect(settings, customers=False) as source:
        return _data_range(source)


def _data_range(source: Source) -> tuple[date, date] | None:
    facts = source.facts
    span = facts.aggregate(
        first=facts.occurred_on.min(), last=facts.occurred_on.max()
    ).execute()
    first, last = span["first"].iloc[0], span["last"].iloc[0]
    if pd.isna(first) or pd.isna(last):
        return None
    return results.as_date(first), results.as_date(last)


def _summary_window(
    source: Source, date_from: date | None, date_to: date | None
) -> tuple[date, date] | None:
    span = timedelta(days=SUMMARY_DAYS - 1)
    if date_from is not None and date_to is not None:
        return date_from, date_to
    if date_to is not None:
        return date_to - span, date_to
    known = _data_range(source)
    if known is None:
        return None
    last = known[1]
    if date_from is not None:
        return date_from, max(last, date_from)
    return last - span, last


def _refuse_missing(source: Source, fields: Iterable[str]) -> None:
    missing = queries.missing_attributes(source, fields)
    if missing:
        known = ", ".join(queries.FACT_FIELDS + queries.CUSTOMER_FIELDS)
        msg = (
            f"unknown field {', '.join(map(repr, missing))}: no customer has such an "
            f"attribute (fields: {known} or a customer attribute)"
        )
        raise InvalidInput(msg)


def _prepared(
    source: Source, fields: Sequence[str], filters: Mapping[str, str]
) -> ir.Table:
    names = list(dict.fromkeys([*fields, *filters]))
    _refuse_missing(source, names)
    return queries.filter_where(queries.annotate(source, names), filters)


def _statistics(
    kind: MetricKind, table: ir.Table, keys: Sequence[ir.Value]
) -> pd.DataFrame:
    frame: pd.DataFrame = DEFINITIONS[kind](table, keys).execute()
    return frame


def _plain_changes(
    kind: MetricKind, table: ir.Table, fields: Sequence[str]
) -> dict[results.GroupKey, Change]:
    stats = _statistics(kind, table, [table[f] for f in fields])
    groups = results.grouped(kind, stats, fields)
    empty = results.empty(kind)
    return {key: compare(current, empty) for key, current in groups.items()}


def _window_changes(
    kind: MetricKind,
    table: ir.Table,
    fields: Sequence[str],
    date_from: date,
    date_to: date,
) -> dict[results.GroupKey, Change]:
    length = (date_to - date_from).days + 1
    scope = table.filter(
        queries.in_days(table.occurred_on, date_from - timedelta(days=length), date_to)
    )
    keys = [scope[f] for f in fields]
    label = (scope.occurred_on >= ibis.literal(date_from, type="date")).ifelse(
        "current", "previous"
    )
    stats = _statistics(kind, scope, [*keys, label.name(_WINDOW)])
    groups = results.grouped(kind, stats, [*fields, _WINDOW])
    empty = results.empty(kind)
    return {
        key[:-1]: compare(current, groups.get((*key[:-1], "previous"), empty))
        for key, current in groups.items()
        if key[-1] == "current"
    }


def _period_changes(
    kind: MetricKind,
    table: ir.Table,
    fields: Sequence[str],
    period: str,
    date_from: date | None,
    date_to: date | None,
) -> dict[results.GroupKey, Change]:
    day = table.occurred_on
    scope = queries.in_days(day, date_from, date_to)
    first = None
    if date_from is not None:
        first = queries.period_floor(date_from, period)
        before = queries.previous_period(first, period)
        scope |= queries.in_days(day, before, first - timedelta(days=1))
    kept = table.filter(scope)
    keys = [kept[f] for f in fields]
    start = period_start(kept, period).name("period")
    stats = _statistics(kind, kept, [*keys, start])
    stats["period"] = [results.as_date(value) for value in stats["period"]]
    groups = results.grouped(kind, stats, [*fields, "period"])
    empty = results.empty(kind)
    changes: dict[results.GroupKey, Change] = {}
    for key, current in groups.items():
        *group, begins = key
        if first is not None and begins < first:
            continue
        previous = groups.get((*group, queries.previous_period(begins, period)), empty)
        changes[(*group, begins.isoformat())] = compare(current, previous)
    return changes
