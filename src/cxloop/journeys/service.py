"""Journey use cases shared by the CLI, the web pages and the API (keyword-only).

::

    journey_map(settings=settings, name="retail", filters=JourneyFilters(channel="store"))
    journey_paths(settings=settings, name="retail", options=PathOptions(k=3))

Definitions and blueprints are YAML files (:mod:`cxloop.journeys.catalog`); maps and
paths run on the analytics engine of the store (:mod:`cxloop.journeys.stream`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cxloop.config import Settings
from cxloop.journeys import catalog, exports
from cxloop.journeys.catalog import Blueprint
from cxloop.journeys.definitions import BLUEPRINT_LANES, Journey
from cxloop.journeys.filters import JourneyFilters, PersonaOption, personas
from cxloop.journeys.maps import JourneyMap, build_map
from cxloop.journeys.paths import LEVELS, PathOptions, PathReport, path_report
from cxloop.journeys.stream import open_stream

__all__ = [
    "BLUEPRINT_LANES",
    "LEVELS",
    "Blueprint",
    "Journey",
    "JourneyFilters",
    "JourneyMap",
    "JourneyView",
    "PathOptions",
    "PathReport",
    "PersonaOption",
    "blueprint_csv",
    "get_blueprint",
    "get_journey",
    "import_journey",
    "journey_map",
    "journey_paths",
    "journey_personas",
    "journey_view",
    "list_journeys",
    "map_csv",
    "rebuild_stream",
    "save_blueprint",
]


@dataclass(frozen=True)
class JourneyView:
    """The map and the paths of one journey, computed on one opened store."""

    journey_map: JourneyMap
    paths: PathReport


def list_journeys(*, settings: Settings) -> list[Journey]:
    """Every journey: the shipped retail journey and those imported."""
    return catalog.list_journeys(settings=settings)


def get_journey(*, settings: Settings, name: str) -> Journey:
    """The journey called ``name`` (NotFound lists the others)."""
    return catalog.get_journey(settings=settings, name=name)


def import_journey(*, settings: Settings, path: Path, replace: bool = False) -> Journey:
    """Check a YAML or JSON journey file and keep it under its name."""
    return catalog.import_journey(settings=settings, path=path, replace=replace)


def journey_personas(*, settings: Settings, name: str) -> list[PersonaOption]:
    """The personas to view a journey through (its own, segments, tiers, RFM)."""
    return personas(
        settings=settings, journey=get_journey(settings=settings, name=name)
    )


def journey_map(
    *, settings: Settings, name: str, filters: JourneyFilters | None = None
) -> JourneyMap:
    """The journey map: volume, NPS/CSAT/CES, score, sentiment and topics per cell."""
    journey = get_journey(settings=settings, name=name)
    with open_stream(settings) as stream:
        return build_map(stream, journey, filters or JourneyFilters())


def journey_paths(
    *,
    settings: Settings,
    name: str,
    filters: JourneyFilters | None = None,
    options: PathOptions | None = None,
    language: str = "zh-TW",
) -> PathReport:
    """Common paths, drop-offs and time between steps of the journey's customers."""
    journey = get_journey(settings=settings, name=name)
    with open_stream(settings) as stream:
        return path_report(
            stream,
            journey,
            filters or JourneyFilters(),
            options or PathOptions(),
            language=language,
        )


def journey_view(
    *,
    settings: Settings,
    name: str,
    filters: JourneyFilters | None = None,
    options: PathOptions | None = None,
    language: str = "zh-TW",
) -> JourneyView:
    """The map and the paths together, opening the store once (the journey page)."""
    journey = get_journey(settings=settings, name=name)
    chosen = filters or JourneyFilters()
    with open_stream(settings) as stream:
        found = build_map(stream, journey, chosen)
        paths = path_report(
            stream, journey, chosen, options or PathOptions(), language=language
        )
    return JourneyView(found, paths)


def map_csv(*, journey_map: JourneyMap, language: str) -> str:
    """The journey map as CSV (one row per cell)."""
    return exports.map_csv(journey_map, language)


def get_blueprint(*, settings: Settings, name: str) -> Blueprint:
    """The service blueprint of a journey (saved, or the one it ships with)."""
    return catalog.get_blueprint(settings=settings, name=name)


def save_blueprint(
    *, settings: Settings, name: str, cells: dict[str, dict[str, str]]
) -> Blueprint:
    """Check and save the service blueprint of a journey."""
    return catalog.save_blueprint(settings=settings, name=name, cells=cells)


def blueprint_csv(*, settings: Settings, name: str, language: str) -> str:
    """The service blueprint as CSV (rows: lanes; columns: stages)."""
    journey = get_journey(settings=settings, name=name)
    blueprint = catalog.get_blueprint(settings=settings, name=name)
    return exports.blueprint_csv(journey, blueprint, language)


def rebuild_stream(*, settings: Settings) -> int:
    """Copy the interaction stream again from scratch; returns the interactions."""
    with open_stream(settings, rebuild=True) as stream:
        return int(stream.interactions.count().execute())
