"""Control charts over the store's metrics, and a case for a new signal.

:func:`control_chart` reads a metric per period through
:func:`cxloop.analytics.service.metric_frame` and draws its chart with
:mod:`cxloop.domain.control_charts`: a p chart for NPS and CSAT, an XmR chart for CES.
:func:`open_signal_case` turns a signal of the latest period into one follow-up case
(kind ``request``, source ``monitor``), once per metric, scope and period. Alert rules
will hook in at the same place: a rule that watches a chart calls it on a new signal.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from cxloop.config import Settings
from cxloop.domain import control_charts as charts
from cxloop.domain.errors import InvalidInput
from cxloop.domain.metrics import Z_95
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import Case
from cxloop.store.types import utcnow

CHART_KINDS = {"nps": "p", "csat": "p", "ces": "xmr"}
CASE_SOURCE = "monitor"


@dataclass(frozen=True)
class ChartResult:
    """A metric's control chart with what was asked for.

    ``skipped`` lists periods left off the chart because fewer than two answers give
    them no standard error.
    """

    metric: str
    period: str
    where: dict[str, str]
    chart: charts.ControlChart
    skipped: tuple[str, ...] = ()
    baseline_periods: tuple[str, str] | None = None
    scope: str = field(default="all")

    @property
    def latest_signals(self) -> tuple[charts.Signal, ...]:
        """The signals of the most recent charted period."""
        last = len(self.chart.points) - 1
        return tuple(s for s in self.chart.signals if s.index == last)


def _scope(where: Mapping[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(where.items())) or "all"


def _baseline(
    labels: list[str], window: tuple[date, date] | None
) -> tuple[int, int] | None:
    if window is None:
        return None
    first, last = (d.isoformat() for d in window)
    inside = [i for i, label in enumerate(labels) if first <= label <= last]
    if not inside:
        msg = f"no charted period starts between {first} and {last}"
        raise InvalidInput(msg)
    return inside[0], inside[-1] + 1


def control_chart(
    *,
    settings: Settings,
    metric: str,
    period: str = "week",
    where: Mapping[str, str] | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    baseline_periods: tuple[date, date] | None = None,
) -> ChartResult:
    """The control chart of ``metric`` per ``period`` (day, week, month, quarter).

    The centre line and limits come from the periods that start within
    ``baseline_periods`` (both ends inclusive) when given, else from every period;
    choose a baseline before a suspected change so the change shows as a signal.
    """
    from cxloop.analytics.service import metric_frame

    if metric not in CHART_KINDS:
        raise InvalidInput(f"no control chart for {metric!r}: choose nps, csat or ces")
    filters = dict(where or {})
    frame = metric_frame(
        settings=settings, metric=metric, period=period, date_from=date_from,
        date_to=date_to, where=filters,
    )  # fmt: skip
    points, skipped = [], []
    columns = zip(
        frame["period"].astype(str).tolist(),
        frame["value"].tolist(),
        frame["n"].tolist(),
        frame["moe"].tolist(),
        strict=True,
    )
    for label, value, n, moe in columns:
        if n < 2 or moe != moe:
            skipped.append(label[:10])
            continue
        points.append(charts.PeriodValue(label[:10], float(value), int(n), moe / Z_95))
    window = _baseline([p.period for p in points], baseline_periods)
    draw = charts.p_chart if CHART_KINDS[metric] == "p" else charts.xmr_chart
    chart = draw(points, baseline=window)
    labels = (
        (points[window[0]].period, points[window[1] - 1].period) if window else None
    )
    return ChartResult(
        metric, period, filters, chart, tuple(skipped), labels, _scope(filters)
    )


def _external_id(result: ChartResult, period: str) -> str:
    raw = f"{result.metric}|{result.scope}|{result.period}|{period}"
    if len(raw) <= 200:
        return raw
    return raw[:150] + "|" + hashlib.sha256(raw.encode()).hexdigest()[:40]


def open_signal_case(*, settings: Settings, result: ChartResult) -> int | None:
    """Open one case for a signal in the latest period; None when there is none.

    Idempotent: a second call for the same metric, scope and period returns the id of
    the case opened the first time.
    """
    signals = result.latest_signals
    if not signals:
        return None
    point = result.chart.points[signals[0].index]
    external_id = _external_id(result, point.period)
    rules = ", ".join(sorted({f"{s.rule} ({s.side})" for s in signals}))
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        found = session.scalar(
            select(Case.id).where(
                Case.source == CASE_SOURCE, Case.external_id == external_id
            )
        )
        if found is not None:
            return int(found)
        case = Case(
            kind="request", source=CASE_SOURCE, external_id=external_id,
            title=f"{result.metric.upper()} shift ({result.scope}, {point.period})",
            description=(
                f"{result.metric.upper()} {point.value:.2f} in the {result.period} of "
                f"{point.period}; limits {point.lower:.2f} to {point.upper:.2f}, centre "
                f"{result.chart.centre:.2f}; rules: {rules}"
            ),
            channel=result.where.get("channel"),
            touchpoint=result.where.get("touchpoint"),
            opened_at=utcnow(),
        )  # fmt: skip
        session.add(case)
        session.flush()
        return case.id
