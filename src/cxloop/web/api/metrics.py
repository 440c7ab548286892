"""``GET /api/v1/metrics/{name}``: the same cuts as ``cxloop metrics`` on the CLI."""

from __future__ import annotations

import math
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from starlette.responses import JSONResponse, Response

from cxloop.analytics import service as analytics
from cxloop.web.deps import CurrentUser, SettingsDep

router = APIRouter(prefix="/api/v1", tags=["metrics"])


class MetricName(StrEnum):
    NPS = "nps"
    CSAT = "csat"
    CES = "ces"


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
    summary="A survey metric, overall or cut by fields and periods",
    responses={
        200: {
            "description": "An array of objects: the `by` fields, `period` (ISO "
            "date of the period start) when asked, `value`, `n`, `moe` (95 % margin "
            "of error), `previous_value`, `change`, `p_value` and `significant`; "
            "null where undefined. CSV with the same columns when `format=csv`.",
            "content": {"text/csv": {}},
        },
        401: {"description": "No session and no valid API key."},
        422: {"description": "A parameter is not valid (the message says which)."},
    },
)
def metric(
    settings: SettingsDep,
    user: CurrentUser,  # noqa: ARG001 - signs the request in
    name: Annotated[MetricName, Path(description="nps, csat or ces.")],
    by: Annotated[
        list[str],
        Query(
            description="Cut by this field (repeat or comma-separate): channel, "
            "touchpoint, journey_stage, source, region, segment, language or a "
            "customer attribute."
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
    """NPS, CSAT or CES with its n and 95 % margin of error, as JSON or CSV."""
    frame = analytics.metric_frame(
        settings=settings,
        metric=name.value,
        by=[name.strip() for item in by for name in item.split(",") if name.strip()],
        period=period,
        date_from=date_from,
        date_to=date_to,
        where=analytics.parse_where(where),
    )
    if format is OutputFormat.CSV:
        return Response(frame.to_csv(index=False), media_type="text/csv")
    records = [
        {key: _clean(value) for key, value in row.items()}
        for row in frame.to_dict(orient="records")
    ]
    return JSONResponse(records)
