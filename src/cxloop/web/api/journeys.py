"""Journeys over the REST API: definitions, the journey map and customer paths.

Every route needs a session or an API key. Filters: ``persona`` (a persona of the
journey, ``segment:KEY``, ``value_tier:TIER`` or ``rfm:SEGMENT``), ``segment`` (the
customer segment), ``channel``, ``from`` and ``to`` (business-zone dates, inclusive).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from cxloop.journeys import service as journeys
from cxloop.journeys.exports import journey_document, map_document, paths_document
from cxloop.web.api.customers import ERRORS, Language
from cxloop.web.deps import CurrentUser, SettingsDep

router = APIRouter(prefix="/api/v1", tags=["journeys"])
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    404: {"description": "No journey of that name."},
}

Persona = Annotated[
    str | None,
    Query(description="A persona: the journey's, segment:KEY, value_tier:T, rfm:S."),
]
Segment = Annotated[str | None, Query(description="Only this customer segment.")]
Channel = Annotated[str | None, Query(description="Only this channel.")]
From = Annotated[date | None, Query(alias="from", description="First day, inclusive.")]
To = Annotated[date | None, Query(alias="to", description="Last day, inclusive.")]


def _filters(
    persona: str | None,
    segment: str | None,
    channel: str | None,
    date_from: date | None,
    date_to: date | None,
) -> journeys.JourneyFilters:
    return journeys.JourneyFilters(
        persona=persona or None, segment=segment or None, channel=channel or None,
        date_from=date_from, date_to=date_to,
    )  # fmt: skip


@router.get("/journeys", responses=ERRORS)
def list_journeys(_user: CurrentUser, settings: SettingsDep) -> dict[str, Any]:
    """Every journey definition: stages, touchpoints, rules, personas."""
    found = journeys.list_journeys(settings=settings)
    return {"data": [journey_document(j) for j in found], "count": len(found)}


@router.get("/journeys/{name}/map", responses=NOT_FOUND)
def journey_map(
    _user: CurrentUser,
    settings: SettingsDep,
    name: str,
    persona: Persona = None,
    segment: Segment = None,
    channel: Channel = None,
    date_from: From = None,
    date_to: To = None,
    language: Language = Language.ZH_TW,
) -> dict[str, Any]:
    """The journey map: per stage and touchpoint the volume, NPS/CSAT/CES with n and
    margin, the 0-1 experience score, sentiment and topics; the worst touchpoints."""
    filters = _filters(persona, segment, channel, date_from, date_to)
    found = journeys.journey_map(settings=settings, name=name, filters=filters)
    return map_document(found, language.value)


@router.get("/journeys/{name}/paths", responses=NOT_FOUND)
def journey_paths(
    _user: CurrentUser,
    settings: SettingsDep,
    name: str,
    persona: Persona = None,
    segment: Segment = None,
    channel: Channel = None,
    date_from: From = None,
    date_to: To = None,
    k: Annotated[int, Query(ge=2, le=6, description="Steps per sequence.")] = 3,
    top: Annotated[int, Query(ge=1, le=1000, description="Sequences to list.")] = 10,
    gap_hours: Annotated[
        float | None,
        Query(gt=0, description="A pause longer than this starts a new path."),
    ] = None,
    level: Annotated[str, Query(pattern="^(touchpoint|stage)$")] = "touchpoint",
    language: Language = Language.ZH_TW,
) -> dict[str, Any]:
    """Common paths, drop-offs, time between steps and Sankey links."""
    options = journeys.PathOptions(
        level=level, k=k, top=top, session_gap_hours=gap_hours
    )
    report = journeys.journey_paths(
        settings=settings, name=name, options=options, language=language.value,
        filters=_filters(persona, segment, channel, date_from, date_to),
    )  # fmt: skip
    return paths_document(report)
