"""The overview dashboard: NPS, CSAT and CES cards, the monthly trend, breakdowns."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from cxloop.web.deps import CurrentUser, SettingsDep
from cxloop.web.templating import render
from cxloop.web.ui.dashboard import build_overview, parse_filters

router = APIRouter(include_in_schema=False)


@router.get("/", name="overview")
def overview(
    request: Request,
    user: CurrentUser,
    settings: SettingsDep,
    date_from: Annotated[str | None, Query(alias="from")] = None,
    date_to: Annotated[str | None, Query(alias="to")] = None,
    channel: str | None = None,
) -> Response:
    """The overview page; with ``HX-Request`` htmx swaps only the dashboard region."""
    filters = parse_filters(date_from, date_to, channel)
    page = build_overview(settings=settings, filters=filters)
    return render(
        request,
        "pages/overview.html",
        {"page": page, "filters": page.filters, "cards": page.cards,
         "trend": page.trend, "breakdowns": page.breakdowns,
         "channels": page.channels, "empty": page.empty, "service": page.service},
        user=user,
    )  # fmt: skip
