"""Metric use cases shared by the CLI, the web API and notebooks (keyword-only).

Each function opens the analytics engine of the configured store (refreshing the
DuckDB mirror of an SQLite store), runs its aggregate and closes it again::

    metric_frame(settings=get_settings(), metric="nps", by=["channel"], period="month")

A caller with several requests opens the store once and asks them all of a session::

    with open_session(settings=settings) as session:
        session.metric_summary(metric="nps")
        session.available_values(field="channel")

:func:`overview` gives the summaries, monthly trend and breakdowns of every metric
that a dashboard shows with one query per metric.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date

import pandas as pd

from cxloop.analytics import queries
from cxloop.analytics.engines import connect
from cxloop.analytics.overview import DEFAULT_MONTHS, OverviewFigures
from cxloop.analytics.session import SUMMARY_DAYS, Session
from cxloop.config import Settings
from cxloop.domain.metrics import Change

__all__ = [
    "SUMMARY_DAYS",
    "OverviewFigures",
    "Session",
    "available_values",
    "data_range",
    "metric_frame",
    "metric_summary",
    "open_session",
    "overview",
    "parse_where",
    "rebuild_mirror",
]


def parse_where(items: Iterable[str]) -> dict[str, str]:
    """``FIELD=VALUE`` strings (from a command line or a query string) as a filter."""
    return queries.parse_where(items)


@contextmanager
def open_session(*, settings: Settings) -> Iterator[Session]:
    """A :class:`Session` on the configured store, for several requests in a row.

    The store is opened once (an SQLite store's mirror is refreshed and locked until
    the ``with`` block ends), so each request of the session only runs its query.
    """
    with connect(settings) as source:
        yield Session(source)


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
    _check_request(metric=metric, fields=by, period=period, where=where)
    with open_session(settings=settings) as session:
        return session.metric_frame(
            metric=metric,
            by=by,
            period=period,
            date_from=date_from,
            date_to=date_to,
            where=where,
        )


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
    _check_request(metric=metric, where=where)
    with open_session(settings=settings) as session:
        return session.metric_summary(
            metric=metric, date_from=date_from, date_to=date_to, where=where
        )


def available_values(*, settings: Settings, field: str) -> list[str]:
    """The distinct values of a field (for filter drop-downs), sorted, without nulls."""
    queries.check_field(field)
    with open_session(settings=settings) as session:
        return session.available_values(field=field)


def data_range(*, settings: Settings) -> tuple[date, date] | None:
    """The business-zone dates of the first and the last scored answer, if any."""
    with open_session(settings=settings) as session:
        return session.data_range()


def overview(
    *,
    settings: Settings,
    date_from: date | None = None,
    date_to: date | None = None,
    where: Mapping[str, str] | None = None,
    fields: Sequence[str] = ("channel", "touchpoint"),
    period: str = "month",
    months: int = DEFAULT_MONTHS,
) -> OverviewFigures:
    """Every metric's summary, trend per ``period`` and breakdown by ``fields``.

    The window is ``[date_from, date_to]``, the last ``months`` calendar months of
    data when no date is given, or completed from the first or last answer when one
    is. The numbers equal those of :func:`metric_summary` over the window,
    :func:`metric_frame` with ``period`` over it, and :func:`metric_frame` by each
    field over it; ``OverviewFigures.channels`` are the channels of every answer and
    ``OverviewFigures.span`` the first and last day of data (None when there is none).
    """
    _check_request(fields=fields, period=period, where=where)
    with open_session(settings=settings) as session:
        return session.overview(
            date_from=date_from,
            date_to=date_to,
            where=where,
            fields=fields,
            period=period,
            months=months,
        )


def _check_request(
    *,
    metric: str | None = None,
    fields: Sequence[str] = (),
    period: str | None = None,
    where: Mapping[str, str] | None = None,
) -> None:
    """Refuse a malformed request before the store is opened."""
    if metric is not None:
        queries.parse_metric(metric)
    queries.parse_period(period)
    queries.check_cuts(fields)
    queries.check_fields([*fields, *(where or {})])


def rebuild_mirror(*, settings: Settings) -> int | None:
    """Rebuild the DuckDB analytics mirror of an SQLite store from scratch.

    Returns the number of scored answers mirrored, or None for a PostgreSQL store,
    whose metrics run on the store itself and need no mirror.
    """
    from cxloop.analytics import mirror
    from cxloop.analytics.engines import business_zone
    from cxloop.store.engine import sqlite_path

    database = sqlite_path(settings.database_url)
    if database is None:
        return None
    return mirror.rebuild(
        database,
        timezone=business_zone(settings),
        analytics_dir=settings.analytics_dir,
    )
