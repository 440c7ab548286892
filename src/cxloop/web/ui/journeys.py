"""The journey page: the map grid, the emotion curve, paths and the service blueprint.

``/journeys`` shows the first journey (the shipped retail journey), ``/journeys/{name}``
any other. Filters come from a GET form, so the tables work without JavaScript; the
charts read JSON the page carries. Exports: the map as CSV and SVG, the blueprint as
CSV; the blueprint form saves the team's edits (admins and analysts).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from cxloop.analytics import service as analytics
from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput
from cxloop.journeys import service as journeys
from cxloop.journeys.definitions import localized
from cxloop.journeys.exports import paths_document
from cxloop.journeys.placement import cell_name
from cxloop.journeys.svg import map_svg, tone
from cxloop.web.deps import CSRFChecked, CurrentUser, SettingsDep, current_user
from cxloop.web.i18n import N_
from cxloop.web.templating import page_language, render
from cxloop.web.ui.dashboard import parse_filters

router = APIRouter(include_in_schema=False)

#: Roles that may edit a service blueprint.
EDIT_ROLES = frozenset({"admin", "analyst"})
LANE_NAMES = {
    "customer_actions": N_("Customer actions"),
    "frontstage": N_("Frontstage"),
    "backstage": N_("Backstage"),
    "support_processes": N_("Support processes"),
    "evidence": N_("Evidence"),
}
FILTER_KEYS = ("persona", "segment", "channel", "from", "to")


@dataclass(frozen=True)
class JourneyPage:
    """Everything ``/journeys/{name}`` shows."""

    journey: journeys.Journey
    names: list[tuple[str, str]]
    view: journeys.JourneyView | None
    filters: journeys.JourneyFilters
    errors: tuple[str, ...]
    personas: list[tuple[str, str]]
    segments: list[str]
    channels: list[str]
    blueprint: journeys.Blueprint
    query: str
    can_edit: bool
    saved: bool


def _choice(
    raw: str | None, known: list[str], errors: list[str], msg: str
) -> str | None:
    value = (raw or "").strip() or None
    if value is not None and value not in known:
        errors.append(msg)
        return None
    return value


def _filters(
    settings: Settings, journey: journeys.Journey, params: dict[str, str], language: str
) -> tuple[
    journeys.JourneyFilters, list[tuple[str, str]], list[str], list[str], list[str]
]:
    dates = parse_filters(params.get("from"), params.get("to"), params.get("channel"))
    errors = list(dates.errors)
    personas = [
        (p.key, localized(p.label, language))
        for p in journeys.journey_personas(settings=settings, name=journey.name)
    ]
    segments = analytics.available_values(settings=settings, field="segment")
    persona = _choice(params.get("persona"), [k for k, _ in personas], errors,
                      N_("That persona is not known."))  # fmt: skip
    segment = _choice(params.get("segment"), segments, errors,
                      N_("That segment is not known."))  # fmt: skip
    chosen = journeys.JourneyFilters(
        persona=persona, segment=segment, channel=dates.channel,
        date_from=dates.date_from, date_to=dates.date_to,
    )  # fmt: skip
    return chosen, personas, segments, _channels(settings, journey), errors


def _channels(settings: Settings, journey: journeys.Journey) -> list[str]:
    named = {
        channel
        for _, touchpoint in journey.touchpoints()
        for rule in touchpoint.match
        for channel in rule.channel
    }
    known = set(analytics.available_values(settings=settings, field="channel"))
    return sorted(named | known)


def build_page(
    *, settings: Settings, name: str, params: dict[str, str], language: str,
    can_edit: bool,
) -> JourneyPage:  # fmt: skip
    """Read the journey, its map and paths under the filters in ``params``."""
    journey = journeys.get_journey(settings=settings, name=name)
    chosen, personas, segments, channels, errors = _filters(
        settings, journey, params, language
    )
    view = None
    try:
        view = journeys.journey_view(
            settings=settings, name=name, filters=chosen, language=language
        )
    except InvalidInput as exc:
        errors.append(str(exc))
    query = urlencode([(k, params[k]) for k in FILTER_KEYS if params.get(k)])
    return JourneyPage(
        journey=journey,
        names=[(j.name, localized(j.title, language))
               for j in journeys.list_journeys(settings=settings)],
        view=view, filters=chosen, errors=tuple(errors), personas=personas,
        segments=segments, channels=channels,
        blueprint=journeys.get_blueprint(settings=settings, name=name),
        query=query, can_edit=can_edit, saved=params.get("saved") == "1",
    )  # fmt: skip


def chart_data(page: JourneyPage, language: str) -> dict[str, Any]:
    """The JSON the charts draw: the emotion curve and the Sankey of paths."""
    if page.view is None:
        return {}
    found = page.view.journey_map
    curve = [
        {
            "label": localized(point.label, language),
            "value": None if point.score is None else round(point.score.mean * 100, 1),
            "low": None if not point.score or point.score.moe is None
            else round((point.score.mean - point.score.moe) * 100, 1),
            "high": None if not point.score or point.score.moe is None
            else round((point.score.mean + point.score.moe) * 100, 1),
        }
        for point in found.stages
    ]  # fmt: skip
    document = paths_document(page.view.paths)
    return {
        "curve": curve,
        "mean": None if found.overall is None else round(found.overall.mean * 100, 1),
        "links": document["links"],
        "names": document["names"],
    }


def cell_view(page: JourneyPage, language: str) -> dict[str, list[dict[str, Any]]]:
    """Per stage, the cells with the name and colour the template shows."""
    if page.view is None:
        return {}
    found = page.view.journey_map
    return {
        stage.key: [
            {
                "cell": cell,
                "name": cell_name(cell.slot, cell.detail, language),
                "tone": tone(cell, found),
            }
            for cell in found.cells_of(stage.key)
        ]
        for stage in page.journey.stages
    }


def _params(request: Request) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items() if k != "lang"}


def _page(
    request: Request, user: CurrentUser, settings: Settings, name: str
) -> Response:
    language = page_language(request, user)
    page = build_page(
        settings=settings, name=name, params=_params(request), language=language,
        can_edit=user.role in EDIT_ROLES,
    )  # fmt: skip
    return render(
        request, "pages/journey.html",
        {"page": page, "charts": chart_data(page, language),
         "cells": cell_view(page, language), "lanes": LANE_NAMES},
        user=user,
    )  # fmt: skip


@router.get("/journeys", name="journeys")
def journeys_page(
    request: Request, user: CurrentUser, settings: SettingsDep
) -> Response:
    """The first journey's page."""
    first = journeys.list_journeys(settings=settings)[0].name
    return _page(request, user, settings, first)


@router.get("/journeys/{name}", name="journey")
def journey_page(
    request: Request, user: CurrentUser, settings: SettingsDep, name: str
) -> Response:
    """One journey: map grid, worst touchpoints, emotion curve, paths, blueprint."""
    return _page(request, user, settings, name)


def _download(text: str, filename: str, media_type: str) -> Response:
    return Response(
        text, media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )  # fmt: skip


def _map(request: Request, settings: Settings, name: str) -> journeys.JourneyMap:
    params = _params(request)
    dates = parse_filters(params.get("from"), params.get("to"), params.get("channel"))
    if dates.errors:
        raise InvalidInput("; ".join(dates.errors))
    chosen = journeys.JourneyFilters(
        persona=params.get("persona") or None, segment=params.get("segment") or None,
        channel=dates.channel, date_from=dates.date_from, date_to=dates.date_to,
    )  # fmt: skip
    return journeys.journey_map(settings=settings, name=name, filters=chosen)


@router.get("/journeys/{name}/map.csv", name="journey_map_csv")
def map_csv(
    request: Request, user: CurrentUser, settings: SettingsDep, name: str
) -> Response:
    """The journey map as CSV, under the page's filters."""
    language = page_language(request, user)
    text = journeys.map_csv(
        journey_map=_map(request, settings, name), language=language
    )
    return _download(text, f"journey-{name}.csv", "text/csv; charset=utf-8")


@router.get("/journeys/{name}/map.svg", name="journey_map_svg")
def map_picture(
    request: Request, user: CurrentUser, settings: SettingsDep, name: str
) -> Response:
    """The journey map as an SVG picture, under the page's filters."""
    language = page_language(request, user)
    word = request.app.state.translations[language].gettext("interactions")
    svg = map_svg(_map(request, settings, name), language, volume_word=word)
    return _download(svg, f"journey-{name}.svg", "image/svg+xml")


@router.get("/journeys/{name}/blueprint.csv", name="journey_blueprint_csv")
def blueprint_csv(
    request: Request, user: CurrentUser, settings: SettingsDep, name: str
) -> Response:
    """The service blueprint as CSV."""
    language = page_language(request, user)
    text = journeys.blueprint_csv(settings=settings, name=name, language=language)
    return _download(text, f"blueprint-{name}.csv", "text/csv; charset=utf-8")


def _cells(form: FormData, journey: journeys.Journey) -> dict[str, dict[str, str]]:
    cells: dict[str, dict[str, str]] = {}
    for lane in journeys.BLUEPRINT_LANES:
        for stage in journey.stages:
            value = form.get(f"{lane}.{stage.key}")
            if isinstance(value, str):
                cells.setdefault(lane, {})[stage.key] = value
    return cells


@router.post(
    "/journeys/{name}/blueprint",
    name="save_blueprint",
    dependencies=[Depends(current_user), CSRFChecked],
)
async def save_blueprint(
    request: Request, user: CurrentUser, settings: SettingsDep, name: str
) -> Response:
    """Save the blueprint table, then show the page again."""
    if user.role not in EDIT_ROLES:
        return Response("Only admins and analysts can edit blueprints.", 403)
    journey = journeys.get_journey(settings=settings, name=name)
    form = await request.form()
    journeys.save_blueprint(settings=settings, name=name, cells=_cells(form, journey))
    return RedirectResponse(f"/journeys/{name}?saved=1#blueprint", status_code=303)
