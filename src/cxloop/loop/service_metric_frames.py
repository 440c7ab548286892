"""Service metrics one at a time, as ``cxloop metrics`` and ``/api/v1/metrics`` serve them.

Each metric of :data:`SERVICE_METRICS` is one figure of
:func:`cxloop.loop.service_metrics.service_metrics` (the cases opened in the window),
as a table with the same shape as the survey metrics: the cut column (``team``,
``agent`` or ``channel``), ``period`` (ISO date of the period start), ``value``,
``n``, ``unit`` (``%`` or ``seconds``) and ``cases``, then a few columns of its own
(the mean of a time whose value is the median, say). Service metrics are cut by one
of team, agent or channel and by period; any other cut or a ``where`` filter is
refused with a message saying so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput
from cxloop.loop.service_metrics import (
    CUTS,
    PERIODS,
    Figure,
    ServiceRow,
    service_metrics,
)

if TYPE_CHECKING:
    import pandas as pd

Pick = Callable[[ServiceRow], Figure]


@dataclass(frozen=True)
class ServiceMetric:
    """One service metric: its unit, its figure and the extra columns it carries."""

    name: str
    unit: str
    description: str
    value: Pick
    extras: tuple[tuple[str, Pick], ...] = ()


def _sla(row: ServiceRow) -> Figure:
    """Both clocks pooled: % of the first-response and resolution clocks met."""
    parts = [row.sla_first_response, row.sla_resolution]
    n = sum(f.n for f in parts)
    met = sum((f.value or 0.0) * f.n for f in parts)
    return Figure(met / n if n else None, n)


#: The service metrics, by the name the CLI and API use.
SERVICE_METRICS: dict[str, ServiceMetric] = {
    m.name: m
    for m in (
        ServiceMetric("fcr", "%", "First contact resolution: % of resolved cases "
                      "resolved with one contact.", lambda r: r.fcr),
        ServiceMetric("aht", "seconds", "Average handle time of the cases that "
                      "record it.", lambda r: r.aht_seconds),
        ServiceMetric("first_response_time", "seconds", "Median time from opening "
                      "to the first response (mean beside it).",
                      lambda r: r.first_response_median,
                      (("mean", lambda r: r.first_response_mean),)),
        ServiceMetric("resolution_time", "seconds", "Median time from opening to "
                      "resolution (mean beside it).", lambda r: r.resolution_median,
                      (("mean", lambda r: r.resolution_mean),)),
        ServiceMetric("sla_compliance", "%", "% of SLA clocks met, first response "
                      "and resolution pooled (each beside it).", _sla,
                      (("first_response", lambda r: r.sla_first_response),
                       ("resolution", lambda r: r.sla_resolution))),
        ServiceMetric("recovery_rate", "%", "% of cases opened for a detractor whose "
                      "customer later answered NPS 7 or more.", lambda r: r.recovery),
        ServiceMetric("followup_csat", "%", "% of follow-up CSAT answers of 4-5 "
                      "(mean score and % solved beside it).", lambda r: r.followup_csat,
                      (("mean", lambda r: r.followup_mean),
                       ("solved", lambda r: r.followup_solved))),
    )
}  # fmt: skip


def is_service_metric(name: str) -> bool:
    """True for a metric of :data:`SERVICE_METRICS`."""
    return name in SERVICE_METRICS


def _cut(
    metric: str, by: Sequence[str], where: Mapping[str, str] | Sequence[str]
) -> str | None:
    fields = [name.strip() for item in by for name in item.split(",") if name.strip()]
    cuts = ", ".join(CUTS)
    if where:
        raise InvalidInput(f"{metric} cannot be filtered with where FIELD=VALUE: "
                           f"service metrics are cut by {cuts} and period")  # fmt: skip
    if len(fields) > 1:
        raise InvalidInput(f"{metric} is cut by one field at a time ({cuts}), "
                           f"not {', '.join(fields)}")  # fmt: skip
    if fields and fields[0] not in CUTS:
        raise InvalidInput(f"{metric} cannot be cut by {fields[0]!r}: service metrics "
                           f"are cut by {cuts}")  # fmt: skip
    return fields[0] if fields else None


def service_metric_records(
    *,
    settings: Settings,
    metric: str,
    by: Sequence[str] = (),
    period: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    where: Mapping[str, str] | Sequence[str] = (),
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """One service metric per group and period, as flat records (JSON-ready).

    Raises
    ------
    InvalidInput
        An unknown metric, a cut other than one of team, agent or channel, a
        ``where`` filter, an unknown period or a window that ends before it starts.
    """
    spec = SERVICE_METRICS.get(metric)
    if spec is None:
        raise InvalidInput(f"unknown service metric {metric!r}: choose one of "
                           f"{', '.join(SERVICE_METRICS)}")  # fmt: skip
    cut = _cut(metric, by, where)
    if period is not None and period not in PERIODS:
        raise InvalidInput(f"period {period!r}: choose one of {', '.join(PERIODS)}")
    rows = service_metrics(settings=settings, by=cut, period=period,
                           date_from=date_from, date_to=date_to, now=now)  # fmt: skip
    return [_record(spec, row, cut, period) for row in rows]


def _record(
    spec: ServiceMetric, row: ServiceRow, cut: str | None, period: str | None
) -> dict[str, Any]:
    record: dict[str, Any] = {}
    if cut is not None:
        record[cut] = row.group
    if period is not None:
        record["period"] = row.period.isoformat() if row.period else None
    figure = spec.value(row)
    record |= {"value": figure.value, "n": figure.n, "unit": spec.unit,
               "cases": row.cases}  # fmt: skip
    for name, pick in spec.extras:
        extra = pick(row)
        record[name], record[f"{name}_n"] = extra.value, extra.n
    return record


def columns(
    metric: str, by: Sequence[str] = (), period: str | None = None
) -> list[str]:
    """The columns of a service metric's table, in order."""
    spec = SERVICE_METRICS[metric]
    leading = [*by[:1], *(["period"] if period else [])]
    extras = [name for extra, _ in spec.extras for name in (extra, f"{extra}_n")]
    return [*leading, "value", "n", "unit", "cases", *extras]


def service_metric_frame(
    *,
    settings: Settings,
    metric: str,
    by: Sequence[str] = (),
    period: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    where: Mapping[str, str] | Sequence[str] = (),
    now: datetime | None = None,
) -> pd.DataFrame:
    """:func:`service_metric_records` as a DataFrame (for CSV), columns in order."""
    import pandas as pd

    records = service_metric_records(
        settings=settings, metric=metric, by=by, period=period,
        date_from=date_from, date_to=date_to, where=where, now=now,
    )  # fmt: skip
    cut = _cut(metric, by, where)
    order = columns(metric, [cut] if cut else [], period)
    return pd.DataFrame.from_records(records, columns=order)
