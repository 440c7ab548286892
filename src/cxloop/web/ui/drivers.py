"""The journey page's "what to fix first" panel: key drivers of NPS, loaded by htmx.

Ranking the drivers reads every scored answer and bootstraps the intervals (a second or
two on the full demo company), so the journey page asks for this panel after it has
been drawn instead of waiting for it.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from cxloop.analytics import drivers_service
from cxloop.domain.errors import InvalidInput
from cxloop.journeys import service as journeys
from cxloop.web.deps import CurrentUser, SettingsDep
from cxloop.web.templating import render

router = APIRouter(include_in_schema=False)

#: Bootstrap resamples for the panel's intervals (the CLI defaults to 200).
PANEL_RESAMPLES = 100


@router.get("/journeys/{name}/drivers", name="journey_drivers")
def drivers_panel(
    request: Request, user: CurrentUser, settings: SettingsDep, name: str
) -> Response:
    """The journey's key drivers of NPS, most important first, with their quadrant."""
    journey = journeys.get_journey(settings=settings, name=name)
    try:
        result = drivers_service.key_drivers(
            settings=settings,
            outcome="nps",
            drivers=list(journey.drivers),
            resamples=PANEL_RESAMPLES,
        )
        problem = None
    except InvalidInput as exc:
        result, problem = None, str(exc)
    return render(
        request,
        "partials/drivers_panel.html",
        {"result": result, "problem": problem, "journey": journey},
        user=user,
    )
