"""What the overview page shows, computed from the analytics service.

The page-context dataclasses here hold plain numbers and strings; the templates format
and translate them. Nothing here knows HTML.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from cxloop.analytics import service as analytics
from cxloop.analytics.service import OverviewFigures
from cxloop.config import Settings
from cxloop.domain.metrics import Change
from cxloop.loop import service_metrics as sm
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
    tone: str
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
    #: FCR, AHT, SLA met and recovery of the cases opened in the window (None: no cases).
    service: sm.ServiceRow | None = None

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


def _card(metric: str, change: Change) -> MetricCard:
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
        tone=change.tone,
        digits=digits,
        unit=unit,
    )


def _trend(figures: OverviewFigures) -> tuple[TrendPoint, ...]:
    points: dict[date, TrendPoint] = {}
    for metric in METRICS:
        for start, change in figures.trend[metric].items():
            point = points.setdefault(start, TrendPoint(start, {}, {}))
            point.values[metric] = change.current.value
            point.counts[metric] = change.current.n
    return tuple(points[key] for key in sorted(points))


def _breakdown(figures: OverviewFigures, name: str) -> Breakdown:
    rows: dict[str | None, BreakdownRow] = {}
    for metric in METRICS:
        for key, change in figures.breakdowns[name][metric].items():
            entry = rows.setdefault(key, BreakdownRow(key, {}, {}))
            entry.values[metric] = change.current.value
            entry.counts[metric] = change.current.n
    ordered = sorted(
        rows.values(), key=lambda r: (-max(r.counts.values(), default=0), r.key or "")
    )
    return Breakdown(name, tuple(ordered))


def build_overview(*, settings: Settings, filters: Filters) -> Overview:
    """The overview for ``filters``; the last twelve months of data when no dates given.

    One call to the analytics service computes every number on the page.
    """
    figures = analytics.overview(
        settings=settings,
        date_from=filters.date_from,
        date_to=filters.date_to,
        where=filters.where(),
        fields=BREAKDOWN_FIELDS,
        period="month",
        months=DEFAULT_MONTHS,
    )
    if figures.span is None:
        return Overview(filters=filters, channels=figures.channels)
    return Overview(
        filters=replace(filters, date_from=figures.date_from, date_to=figures.date_to),
        channels=figures.channels,
        data_from=figures.span[0],
        data_to=figures.span[1],
        cards=tuple(_card(metric, figures.summary[metric]) for metric in METRICS),
        trend=_trend(figures),
        breakdowns=tuple(_breakdown(figures, name) for name in BREAKDOWN_FIELDS),
        service=_service(settings, figures.date_from, figures.date_to),
    )


def _service(
    settings: Settings, start: date | None, end: date | None
) -> sm.ServiceRow | None:
    """The service figures of the window, or None when no case was opened in it."""
    rows = sm.service_metrics(settings=settings, date_from=start, date_to=end)
    return rows[0] if rows and rows[0].cases else None
