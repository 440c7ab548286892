"""Several metric requests on one opened store (see ``service.open_session``).

A :class:`Session` holds one analytics :class:`~cxloop.analytics.engines.Source`: the
DuckDB mirror of an SQLite store is opened, refreshed and locked once for all its
requests, or a PostgreSQL connection is made once. The requests are those of
:mod:`cxloop.analytics.service`, which opens a session for each call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta

import pandas as pd

from cxloop.analytics import changes, overview, queries, results
from cxloop.analytics.engines import Source
from cxloop.domain.metrics import Change, compare

#: Days in the default window of :meth:`Session.metric_summary`.
SUMMARY_DAYS = 90


class Session:
    """Metric requests on one opened analytics source."""

    def __init__(self, source: Source) -> None:
        self._source = source

    def metric_frame(
        self,
        *,
        metric: str,
        by: Sequence[str] = (),
        period: str | None = None,
        date_from: date | None = None,
        date_to: date | None = None,
        where: Mapping[str, str] | None = None,
    ) -> pd.DataFrame:
        """NPS, CSAT or CES per group (see ``service.metric_frame``)."""
        kind = queries.parse_metric(metric)
        period = queries.parse_period(period)
        fields = queries.check_fields(by)
        filters = _filters(where)
        queries.check_dates(date_from, date_to)
        table = changes.prepared(self._source, fields, filters)
        if period is not None:
            found = changes.period_changes(
                kind, table, fields, period, date_from, date_to
            )
        elif date_from is not None and date_to is not None:
            found = changes.window_changes(kind, table, fields, date_from, date_to)
        else:
            scope = queries.in_days(table.occurred_on, date_from, date_to)
            found = changes.plain_changes(kind, table.filter(scope), fields)
        leading = [*fields, "period"] if period is not None else list(fields)
        rows = (
            results.row(dict(zip(leading, key, strict=True)), found[key])
            for key in sorted(found, key=results.sort_key)
        )
        return results.frame(rows, leading)

    def metric_summary(
        self,
        *,
        metric: str,
        date_from: date | None = None,
        date_to: date | None = None,
        where: Mapping[str, str] | None = None,
    ) -> Change:
        """One metric over a window against the one before (see ``service``)."""
        kind = queries.parse_metric(metric)
        filters = _filters(where)
        queries.check_dates(date_from, date_to)
        table = changes.prepared(self._source, (), filters)
        window = self._summary_window(date_from, date_to)
        found = (
            {} if window is None else changes.window_changes(kind, table, (), *window)
        )
        empty = results.empty(kind)
        return found.get((), compare(empty, empty))

    def available_values(self, *, field: str) -> list[str]:
        """The distinct values of a field, sorted, without nulls."""
        name = queries.check_field(field)
        source = self._source
        if name in queries.FACT_FIELDS:
            table = source.facts
            column = table[name]
        else:
            changes.refuse_missing(source, [name])
            table = source.customers
            column = queries.customer_column(source, name)
        values = table.select(column.name("v")).distinct().execute()["v"]
        return sorted(str(value) for value in values if not pd.isna(value))

    def data_range(self) -> tuple[date, date] | None:
        """The business-zone dates of the first and the last scored answer, if any."""
        return changes.data_range(self._source)

    def overview(
        self,
        *,
        date_from: date | None = None,
        date_to: date | None = None,
        where: Mapping[str, str] | None = None,
        fields: Sequence[str] = ("channel", "touchpoint"),
        period: str = "month",
        months: int = overview.DEFAULT_MONTHS,
    ) -> overview.OverviewFigures:
        """Summaries, trend and breakdowns of every metric (see ``service.overview``)."""
        checked = queries.parse_period(period)
        queries.check_dates(date_from, date_to)
        return overview.figures(
            self._source,
            date_from=date_from,
            date_to=date_to,
            where=_filters(where),
            fields=queries.check_fields(fields),
            period=checked or "month",
            months=months,
        )

    def _summary_window(
        self, date_from: date | None, date_to: date | None
    ) -> tuple[date, date] | None:
        span = timedelta(days=SUMMARY_DAYS - 1)
        if date_from is not None and date_to is not None:
            return date_from, date_to
        if date_to is not None:
            return date_to - span, date_to
        known = self.data_range()
        if known is None:
            return None
        last = known[1]
        if date_from is not None:
            return date_from, max(last, date_from)
        return last - span, last


def _filters(where: Mapping[str, str] | None) -> dict[str, str]:
    return {queries.check_field(k): v for k, v in (where or {}).items()}
