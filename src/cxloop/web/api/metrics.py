"""``GET /api/v1/metrics/{name}``: the same cuts as ``cxloop metrics`` on the CLI.

Survey metrics (nps, csat, ces) are cut by any field; the service metrics of cases
(fcr, aht, first_response_time, resolution_time, sla_compliance, recovery_rate,
followup_csat) by one of team, agent or channel and by period.
"""

from __future__ import annotations

import math
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Path, Query
from starlette.responses import JSONResponse, Response

from cxloop.analytics import service as analytics
from cxloop.loop import service_metric_frames as service_frames
from cxloop.web.deps import CurrentUser, SettingsDep

if TYPE_CHECKING:
    import pandas as pd

router = APIRouter(prefix="/api/v1", tags=["metrics"])


class MetricName(StrEnum):
    NPS = "nps"
    CSAT = "csat"
    CES = "ces"
    FCR = "fcr"
    AHT = "aht"
    FIRST_RESPONSE_TIME = "first_response_time"
    RESOLUTION_TIME = "resolution_time"
    SLA_COMPLIANCE = "sla_compliance"
    RECOVERY_RATE = "recovery_rate"
    FOLLOWUP_CSAT = "followup_csat"


class OutputFormat(StrEnum):
    JSON = "json"
    CSV = "csv"


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _clean(value.item())
    return value


@router.get(
    "/metrics/{name}",
    summary="A survey or service metric, overall or cut by fields and periods",
    responses={
        200: {
            "description": "An array of objects: the `by` fields, `period` (ISO "
            "date of the period start) when asked, `value`, `n`, `moe` (95 % margin "
            "of error), `previous_value`, `change`, `p_value` and `significant`; "
            "null where undefined. A service metric has `value`, `n`, `unit` (% or "
            "seconds), `cases` and its own columns (`mean` of a time, the two SLA "
            "clocks, ...) instead of the margin and change. CSV with the same "
            "columns when `format=csv`.",
            "content": {"text/csv": {}},
        },
        401: {"description": "No session and no valid API key."},
        422: {"description": "A parameter is not valid (the message says which)."},
    },
)
def metric(
    settings: SettingsDep,
    user: CurrentUser,  # noqa: ARG001 - signs the request in
    name: Annotated[
        MetricName,
        Path(
            description="nps, csat, ces, or a service metric: fcr, aht, "
            "first_response_time, resolution_time, sla_compliance, recovery_rate, "
            "followup_csat."
        ),
    ],
    by: Annotated[
        list[str],
        Query(
            description="Cut by this field (repeat or comma-separate): channel, "
            "touchpoint, journey_stage, source, region, segment, language or a "
            "customer attribute; service metrics: one of team, agent or channel."
        ),
    ] = [],  # noqa: B006 - FastAPI copies defaults per request
    period: Annotated[
        str | None,
        Query(description="Cut by period: day, week, month or quarter."),
    ] = None,
    date_from: Annotated[
        date | None, Query(alias="from", description="First day (inclusive).")
    ] = None,
    date_to: Annotated[
        date | None, Query(alias="to", description="Last day (inclusive).")
    ] = None,
    where: Annotated[
        list[str],
        Query(description="Keep only rows where FIELD=VALUE (repeatable)."),
    ] = [],  # noqa: B006
    format: Annotated[
        OutputFormat, Query(description="json (default) or csv.")
    ] = OutputFormat.JSON,
) -> Response:
    """NPS, CSAT or CES with its n and 95 % margin of error, or a service metric."""
    if service_frames.is_service_metric(name.value):
        frame = service_frames.service_metric_frame(
            settings=settings, metric=name.value, by=by, period=period,
            date_from=date_from, date_to=date_to, where=where,
        )  # fmt: skip
        return _respond(frame, format)
    frame = analytics.metric_frame(
        settings=settings,
        metric=name.value,
        by=[name.strip() for item in by for name in item.split(",") if name.strip()],
        period=period,
        date_from=date_from,
        date_to=date_to,
        where=analytics.parse_where(where),
    )
    return _respond(frame, format)


def _respond(frame: pd.DataFrame, format: OutputFormat) -> Response:
    if format is OutputFormat.CSV:
        return Response(frame.to_csv(index=False), media_type="text/csv")
    records = [
        {key: _clean(value) for key, value in row.items()}
        for row in frame.to_dict(orient="records")
    ]
    return JSONResponse(records)
