"""Where journey definitions and service blueprints are kept: YAML files in a folder.

The folder is ``settings.journey_dir``, or ``<database name>.journeys/`` next to an
SQLite store, or ``./cxloop.journeys/`` for a PostgreSQL store. Each journey is
``<name>.yaml`` (``.yml`` and ``.json`` are read too); its blueprint, once edited, ``<name>.blueprint.yaml``. The shipped
retail journey is always there unless a file of the same name replaces it.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from cxloop.config import Settings
from cxloop.domain.errors import Conflict, InvalidInput, NotFound
from cxloop.journeys.definitions import (
    Journey,
    check_blueprint,
    default_journey,
    dump_journey,
    load_journey,
    parse_journey,
    read_document,
)
from cxloop.store.engine import sqlite_path

BLUEPRINT_SUFFIX = ".blueprint.yaml"
JOURNEY_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class Blueprint:
    """A service blueprint: text per (lane, stage); ``saved`` once a team edited it."""

    journey: str
    cells: dict[str, dict[str, str]]
    saved: bool

    def cell(self, lane: str, stage: str) -> str:
        return self.cells.get(lane, {}).get(stage, "")


def journey_dir(settings: Settings) -> Path:
    """The folder holding the journey files of this store."""
    if settings.journey_dir:
        return Path(settings.journey_dir)
    database = sqlite_path(settings.database_url)
    if database is None:
        return Path("cxloop.journeys")
    return database.parent / f"{database.stem}.journeys"


def _files(settings: Settings) -> dict[str, Path]:
    folder = journey_dir(settings)
    if not folder.is_dir():
        return {}
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix in JOURNEY_SUFFIXES and not path.name.endswith(BLUEPRINT_SUFFIX):
            found.setdefault(path.stem, path)
    return found


def list_journeys(*, settings: Settings) -> list[Journey]:
    """Every journey: the shipped one (unless replaced) and those in the folder."""
    journeys = {"retail": default_journey()}
    for name, path in _files(settings).items():
        journeys[name] = _load(path)
    return [journeys[name] for name in sorted(journeys, key=lambda n: n != "retail")]


def get_journey(*, settings: Settings, name: str) -> Journey:
    """The journey called ``name``; NotFound names the journeys there are."""
    path = _files(settings).get(name)
    if path is not None:
        return _load(path)
    if name == "retail":
        return default_journey()
    known = ", ".join(journey.name for journey in list_journeys(settings=settings))
    msg = f"no journey called {name!r}: choose one of {known}"
    raise NotFound(msg)


def _load(path: Path) -> Journey:
    journey = load_journey(path)
    if journey.name != path.stem:
        msg = f"{path}: the file must be named after its journey ({journey.name})"
        raise InvalidInput(msg)
    return journey


def import_journey(*, settings: Settings, path: Path, replace: bool = False) -> Journey:
    """Check the YAML/JSON file ``path`` and store it under its ``name``."""
    journey = load_journey(path)
    target = journey_dir(settings) / f"{journey.name}.yaml"
    if target.exists() and not replace:
        msg = f"journey {journey.name!r} exists already: pass --replace to overwrite it"
        raise Conflict(msg)
    _write(target, dump_journey(journey))
    return journey


def journey_text(*, settings: Settings, name: str) -> str:
    """The journey ``name`` as YAML, for editing in the dashboard."""
    return dump_journey(get_journey(settings=settings, name=name))


def save_journey_text(*, settings: Settings, name: str, text: str) -> Journey:
    """Check an edited YAML definition of journey ``name`` and store it.

    The journey keeps its name (import a file to add another journey); a YAML error or
    an invalid definition is refused with its place and nothing is written.
    """
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        msg = f"the definition is not valid YAML: {str(exc).splitlines()[0]}"
        raise InvalidInput(msg) from None
    journey = parse_journey(document, origin="the definition")
    if journey.name != name:
        msg = f"the definition must keep the name {name!r} (import a file to add a journey)"
        raise InvalidInput(msg)
    _write(journey_dir(settings) / f"{name}.yaml", dump_journey(journey))
    return journey


def _write(target: Path, text: str) -> None:
    """Write ``text`` to ``target`` atomically (a reader never sees half a file)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    Path(temporary).replace(target)


def get_blueprint(*, settings: Settings, name: str) -> Blueprint:
    """The saved blueprint of a journey, or the one its definition starts with."""
    journey = get_journey(settings=settings, name=name)
    path = journey_dir(settings) / f"{name}{BLUEPRINT_SUFFIX}"
    if not path.exists():
        return Blueprint(name, dict(journey.blueprint), saved=False)
    document = read_document(path)
    cells = _clean_cells(journey, document, origin=str(path))
    return Blueprint(name, cells, saved=True)


def save_blueprint(
    *, settings: Settings, name: str, cells: dict[str, dict[str, str]]
) -> Blueprint:
    """Check and save the blueprint of a journey (empty cells are dropped)."""
    journey = get_journey(settings=settings, name=name)
    clean = _clean_cells(journey, cells, origin=f"blueprint of {name!r}")
    path = journey_dir(settings) / f"{name}{BLUEPRINT_SUFFIX}"
    _write(path, yaml.safe_dump(clean, allow_unicode=True, sort_keys=False))
    return Blueprint(name, clean, saved=True)


def _clean_cells(
    journey: Journey, document: object, *, origin: str
) -> dict[str, dict[str, str]]:
    if document is None:
        return {}
    if not isinstance(document, dict) or not all(
        isinstance(row, dict) for row in document.values()
    ):
        msg = f"{origin}: a blueprint maps each row to its stages' text"
        raise InvalidInput(msg)
    clean = {
        str(lane): {
            str(stage): str(text).strip()
            for stage, text in row.items()
            if text is not None and str(text).strip()
        }
        for lane, row in document.items()
    }
    try:
        check_blueprint(journey, clean)
    except ValueError as exc:
        raise InvalidInput(f"{origin}: {exc}") from None
    return {lane: row for lane, row in clean.items() if row}
