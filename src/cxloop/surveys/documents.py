"""Survey definitions as files: create a survey from YAML/JSON or a template, export it.

Errors name the file and the place inside it (``survey.yaml: questions[2].type: ...``),
and an exported file is read back unchanged by ``cxloop survey create --replace``.
The links customers use (the anonymous form and the embeddable snippet) are built on
``Settings.public_url``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput
from cxloop.domain.survey_parse import spec_to_dict
from cxloop.surveys.definitions import SurveyRecord, get_survey, save_survey
from cxloop.surveys.templates import template_definition

SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class SurveyLinks:
    """Where customers answer a survey without a personal invitation."""

    form_url: str
    embed_url: str

    @property
    def embed_snippet(self) -> str:
        """The line a website pastes into its pages to show the survey."""
        return f'<script src="{self.embed_url}" async></script>'


def survey_links(*, settings: Settings, public_token: str) -> SurveyLinks:
    """The anonymous form link and the embed script of a survey's public token."""
    base = settings.public_url.rstrip("/")
    return SurveyLinks(
        form_url=f"{base}/s/{public_token}",
        embed_url=f"{base}/embed/{public_token}.js",
    )


def read_definition(path: Path) -> dict[str, Any]:
    """The mapping in a ``.yaml``/``.yml``/``.json`` survey file.

    Raises
    ------
    InvalidInput
        The file is missing, has another suffix, is not UTF-8, does not parse (the
        message gives the line and column), or does not hold a mapping.
    """
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InvalidInput(f"{path}: a survey file must end in .yaml, .yml or .json")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(f"{path}: is not UTF-8 text") from None
    document = _parse_json(path, text) if suffix == ".json" else _parse_yaml(path, text)
    if not isinstance(document, dict):
        raise InvalidInput(f"{path}: a survey definition must be a mapping")
    return document


def _parse_json(path: Path, text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"{path}: line {exc.lineno}, column {exc.colno}: {exc.msg}"
        raise InvalidInput(msg) from None


def _parse_yaml(path: Path, text: str) -> object:
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise InvalidInput(f"{path}: {where}{exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{path}: {str(exc).splitlines()[0]}") from None


def create_survey_from_file(
    *, settings: Settings, path: Path, status: str = "active", replace: bool = False
) -> SurveyRecord:
    """Create (or with ``replace`` update) the survey defined in a YAML/JSON file."""
    definition = read_definition(path)
    try:
        return save_survey(
            settings=settings, definition=definition, status=status, replace=replace
        )
    except InvalidInput as exc:
        raise InvalidInput(f"{path}: {exc}") from None


def create_survey_from_template(
    *,
    settings: Settings,
    template: str,
    key: str,
    name_zh: str | None = None,
    name_en: str | None = None,
    status: str = "active",
    replace: bool = False,
) -> SurveyRecord:
    """Create a survey with key ``key`` from a shipped template."""
    definition = template_definition(
        template, key=key, name_zh=name_zh, name_en=name_en
    )
    return save_survey(
        settings=settings, definition=definition, status=status, replace=replace
    )


def dump_definition(record: SurveyRecord) -> str:
    """A survey's definition as YAML (Chinese kept readable)."""
    return yaml.safe_dump(
        spec_to_dict(record.spec), allow_unicode=True, sort_keys=False, width=100
    )


def export_survey(*, settings: Settings, key: str) -> str:
    """The YAML definition of survey ``key``; ``create --replace`` reads it back."""
    return dump_definition(get_survey(settings=settings, key=key))
