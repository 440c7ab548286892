"""What the overview page shows, computed from the analytics service.

The page-context dataclasses here hold plain numbers and strings; the templates format
and translate them. Nothing here knows HTML.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from cxloop.analytics import service as analytics
from cxloop.config import Settings
from cxloop.web.i18n import N_

METRICS = ("nps", "csat", "ces")
BREAKDOWN_FIELDS = ("channel", "touchpoint")
#: Decimals and unit shown for each metric.
DISPLAY: dict[str, tuple[int, str]] = {"nps": (1, ""), "csat": (1, "%"), "ces": (2, "")}
DEFAULT_MONTHS = 12


@dataclass(frozen=True)
class Filters:
    """The filter form: a date window and an optional channel."""

    date_from: date | None = None
    date_to: date | None = None
    channel: str | None = None
    errors: tuple[str, ...] = ()

    def where(self) -> dict[str, str] | None:
        return {"channel": self.channel} if self.channel else None


@dataclass(frozen=True)
class MetricCard:
    """One metric over the filter window, and its change from the window before."""

    metric: str
    value: float | None
    moe: float | None
    n: int
    previous: float | None
    difference: float | None
    p_value: float | None
    significant: bool
    direction: str
    digits: int
    unit: str


@dataclass(frozen=True)
class TrendPoint:
    period: date
    values: dict[str, float | None]
    counts: dict[str, int]


@dataclass(frozen=True)
class BreakdownRow:
    key: str | None
    values: dict[str, float | None]
    counts: dict[str, int]


@dataclass(frozen=True)
class Breakdown:
    field: str
    rows: tuple[BreakdownRow, ...]


@dataclass(frozen=True)
class Overview:
    """Everything the overview page shows for one set of filters."""

    filters: Filters
    channels: tuple[str, ...] = ()
    data_from: date | None = None
    data_to: date | None = None
    cards: tuple[MetricCard, ...] = ()
    trend: tuple[TrendPoint, ...] = ()
    breakdowns: tuple[Breakdown, ...] = field(default_factory=tuple)

    @property
    def empty(self) -> bool:
        return self.data_to is None

    def trend_values(self, metric: str) -> list[float | None]:
        """The monthly values of ``metric``, aligned with ``trend``."""
        return [point.values.get(metric) for point in self.trend]


def _parse_day(raw: str | None, errors: list[str], message: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors.append(message)
        return None


def parse_filters(
    raw_from: str | None, raw_to: str | None, raw_channel: str | None
) -> Filters:
    """Read the filter form; bad values are dropped and named in ``errors``."""
    errors: list[str] = []
    date_from = _parse_day(raw_from, errors, N_("The start date is not a valid date."))
    date_to = _parse_day(raw_to, errors, N_("The end date is not a valid date."))
    if date_from and date_to and date_from > date_to:
        errors.append(N_("The start date is after the end date."))
        date_from = date_to = None
    channel = (raw_channel or "").strip() or None
    return Filters(date_from, date_to, channel, tuple(errors))


def default_window(first: date, last: date) -> tuple[date, date]:
    """The last twelve calendar months of data (from the first of a month)."""
    month_index = last.year * 12 + last.month - 1 - (DEFAULT_MONTHS - 1)
    start = date(month_index // 12, month_index % 12 + 1, 1)
    return max(start, first), last


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _card(settings: Settings, metric: str, filters: Filters) -> MetricCard:
    change = analytics.metric_summary(
        settings=settings,
        metric=metric,
        date_from=filters.date_from,
        date_to=filters.date_to,
        where=filters.where(),
    )
    digits, unit = DISPLAY[metric]
    return MetricCard(
        metric=metric,
        value=change.current.value,
        moe=change.current.moe,
        n=change.current.n,
        previous=change.previous.value,
        difference=change.difference,
        p_value=change.p_value,
        significant=change.significant,
        direction=change.direction,
        digits=digits,
        unit=unit,
    )


def _frame_rows(
    settings: Settings, metric: str, filters: Filters, **kwargs: Any
) -> list[dict[str, Any]]:
    frame = analytics.metric_frame(
        settings=settings,
        metric=metric,
        date_from=filters.date_from,
        date_to=filters.date_to,
        where=filters.where(),
        **kwargs,
    )
    return [
        {str(key): value for key, value in row.items()}
        for row in frame.to_dict(orient="records")
    ]


def _trend(settings: Settings, filters: Filters) -> tuple[TrendPoint, ...]:
    points: dict[str, TrendPoint] = {}
    for metric in METRICS:
        for row in _frame_rows(settings, metric, filters, period="month"):
            period = str(row["period"])[:10]
            point = points.setdefault(
                period, TrendPoint(date.fromisoformat(period), {}, {})
            )
            point.values[metric] = _number(row["value"])
            point.counts[metric] = int(row["n"])
    return tuple(points[key] for key in sorted(points))


def _breakdown(settings: Settings, name: str, filters: Filters) -> Breakdown:
    rows: dict[str | None, BreakdownRow] = {}
    for metric in METRICS:
        for row in _frame_rows(settings, metric, filters, by=(name,)):
            raw = row[name]
            key = None if raw is None or raw != raw else str(raw)
            entry = rows.setdefault(key, BreakdownRow(key, {}, {}))
            entry.values[metric] = _number(row["value"])
            entry.counts[metric] = int(row["n"])
    ordered = sorted(
        rows.values(), key=lambda r: (-max(r.counts.values(), default=0), r.key or "")
    )
    return Breakdown(name, tuple(ordered))


def build_overview(*, settings: Settings, filters: Filters) -> Overview:
    """The overview for ``filters``; the last twelve months of data when no dates given."""
    span = analytics.data_range(settings=settings)
    channels = tuple(analytics.available_values(settings=settings, field="channel"))
    if span is None:
        return Overview(filters=filters, channels=channels)
    if filters.date_from is None and filters.date_to is None:
        start, end = default_window(*span)
    else:
        start, end = filters.date_from or span[0], filters.date_to or span[1]
    filters = replace(filters, date_from=start, date_to=end)
    cards = tuple(_card(settings, metric, filters) for metric in METRICS)
    return Overview(
        filters=filters,
        channels=channels,
        data_from=span[0],
        data_to=span[1],
        cards=cards,
        trend=_trend(settings, filters),
        breakdowns=tuple(_breakdown(settings, f, filters) for f in BREAKDOWN_FIELDS),
    )
