"""Journey definitions: ordered stages, their touchpoints and the rules that place
interactions on them; read from YAML or JSON and validated with clear messages.

A journey file looks like this (``default_journey.yaml`` is the shipped example)::

    name: retail
    title: {zh-TW: 零售顧客旅程, en: Retail customer journey}
    stages:
      - key: delivery
        label: {zh-TW: 配送, en: Delivery}
        touchpoints:
          - key: home_delivery
            label: {zh-TW: 宅配, en: Home delivery}
            match: [{touchpoint: 宅配}]

A rule names values of the interaction's ``channel``, ``touchpoint``, ``kind`` and
``journey_stage`` (a value or a list); an interaction matches a rule when every field
the rule names holds one of its values, and a touchpoint when any of its rules matches.
Each interaction is placed on the first touchpoint, in journey order, that it matches.
A touchpoint with ``split: true`` shows one cell per interaction touchpoint it matches
(one per store, say).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from cxloop.domain.errors import InvalidInput

#: The fields of an interaction a rule can test.
RULE_FIELDS = ("channel", "touchpoint", "kind", "journey_stage")
#: The rows of a service blueprint, top to bottom.
BLUEPRINT_LANES = (
    "customer_actions",
    "frontstage",
    "backstage",
    "support_processes",
    "evidence",
)
_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MAX_TEXT = 2000

Labels = dict[str, str]


def _labels(value: object) -> object:
    """A plain string is the label in every language."""
    return {"zh-TW": value, "en": value} if isinstance(value, str) else value


def _key(value: str) -> str:
    if not _KEY.match(value):
        msg = (
            f"key {value!r} must be 1-64 lower-case letters, digits, '_' or '-', "
            "starting with a letter or digit"
        )
        raise ValueError(msg)
    return value


Key = Annotated[str, AfterValidator(_key)]
LabelsIn = Annotated[Labels, BeforeValidator(_labels)]


def localized(labels: Labels, language: str) -> str:
    """The label in ``language``, else in English, else any label there is."""
    return labels.get(language) or labels.get("en") or next(iter(labels.values()), "")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rule(_Model):
    """Conditions on an interaction's fields; every named field must match."""

    channel: tuple[str, ...] = ()
    touchpoint: tuple[str, ...] = ()
    kind: tuple[str, ...] = ()
    journey_stage: tuple[str, ...] = ()

    @field_validator(*RULE_FIELDS, mode="before")
    @classmethod
    def _listify(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value

    def conditions(self) -> dict[str, tuple[str, ...]]:
        """The fields this rule tests and the values each may hold."""
        named = {field: getattr(self, field) for field in RULE_FIELDS}
        return {field: values for field, values in named.items() if values}

    def matches(self, interaction: dict[str, Any]) -> bool:
        """Whether one interaction (a mapping of field to value) meets the rule."""
        return all(
            interaction.get(field) in values
            for field, values in self.conditions().items()
        )


class Touchpoint(_Model):
    """A touchpoint of a stage and the rules placing interactions on it."""

    key: Key
    label: LabelsIn
    match: tuple[Rule, ...] = Field(min_length=1)
    split: bool = False
    relationship: bool = False

    @field_validator("match")
    @classmethod
    def _rules_say_something(cls, rules: tuple[Rule, ...]) -> tuple[Rule, ...]:
        for rule in rules:
            if not rule.conditions():
                msg = f"a rule must name at least one of {', '.join(RULE_FIELDS)}"
                raise ValueError(msg)
        return rules


class Stage(_Model):
    """A stage of the journey, with its touchpoints in order."""

    key: Key
    label: LabelsIn
    touchpoints: tuple[Touchpoint, ...] = ()


class Persona(_Model):
    """A named group of customers to view the journey through (``where`` filters)."""

    key: Key
    label: LabelsIn
    where: dict[str, str] = Field(min_length=1)


class Journey(_Model):
    """A journey: ordered stages, personas and the starting service blueprint."""

    name: Key
    title: LabelsIn
    description: LabelsIn = Field(default_factory=dict)
    stages: tuple[Stage, ...] = Field(min_length=1)
    personas: tuple[Persona, ...] = ()
    blueprint: dict[str, dict[str, str]] = Field(default_factory=dict)
    #: Key-driver fields ranked on the journey page (docs/en/drivers.md).
    drivers: tuple[str, ...] = ("touchpoint=*",)

    @model_validator(mode="after")
    def _consistent(self) -> Journey:
        _unique("stage", [stage.key for stage in self.stages])
        _unique("touchpoint", [t.key for _, t in self.touchpoints()])
        _unique("persona", [persona.key for persona in self.personas])
        check_blueprint(self, self.blueprint)
        return self

    def touchpoints(self) -> list[tuple[Stage, Touchpoint]]:
        """Every (stage, touchpoint) pair in journey order."""
        return [(stage, tp) for stage in self.stages for tp in stage.touchpoints]

    def stage(self, key: str) -> Stage:
        for stage in self.stages:
            if stage.key == key:
                return stage
        msg = f"journey {self.name!r} has no stage {key!r}"
        raise InvalidInput(msg)

    def place(self, interaction: dict[str, Any]) -> tuple[Stage, Touchpoint] | None:
        """The first (stage, touchpoint) whose rules match one interaction."""
        for stage, touchpoint in self.touchpoints():
            if any(rule.matches(interaction) for rule in touchpoint.match):
                return stage, touchpoint
        return None


def _unique(what: str, keys: list[str]) -> None:
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            msg = f"{what} key {key!r} is used twice"
            raise ValueError(msg)
        seen.add(key)


def check_blueprint(journey: Journey, cells: dict[str, dict[str, str]]) -> None:
    """Refuse blueprint rows or stages the journey does not have, or overlong text."""
    stages = {stage.key for stage in journey.stages}
    for lane, row in cells.items():
        if lane not in BLUEPRINT_LANES:
            msg = f"blueprint row {lane!r} is not one of {', '.join(BLUEPRINT_LANES)}"
            raise ValueError(msg)
        for stage, text in row.items():
            if stage not in stages:
                msg = (
                    f"blueprint row {lane!r} names stage {stage!r}, not in the journey"
                )
                raise ValueError(msg)
            if len(text) > MAX_TEXT:
                msg = f"blueprint cell {lane}/{stage} is over {MAX_TEXT} characters"
                raise ValueError(msg)


def parse_journey(document: object, *, origin: str) -> Journey:
    """Validate a parsed YAML/JSON document; errors name ``origin`` and the place."""
    try:
        return Journey.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        msg = f"{origin}: {where}: {first['msg']}{more}"
        raise InvalidInput(msg) from None


def read_document(path: Path) -> object:
    """The parsed content of a ``.yaml``/``.yml`` or ``.json`` file."""
    if not path.is_file():
        msg = f"{path}: no such file"
        raise InvalidInput(msg)
    suffix = path.suffix.lower()
    if suffix not in {".yaml", ".yml", ".json"}:
        msg = f"{path}: a journey file must end in .yaml, .yml or .json"
        raise InvalidInput(msg)
    try:
        text = path.read_text(encoding="utf-8-sig")
        if suffix == ".json":
            return json.loads(text)
        return yaml.safe_load(text)
    except (UnicodeDecodeError, json.JSONDecodeError, yaml.YAMLError) as exc:
        msg = f"{path}: cannot be read: {str(exc).splitlines()[0]}"
        raise InvalidInput(msg) from None


def load_journey(path: Path) -> Journey:
    """The journey defined in a YAML or JSON file."""
    return parse_journey(read_document(path), origin=str(path))


def default_journey() -> Journey:
    """The shipped retail journey (discover to renew/leave) the demo company uses."""
    return load_journey(Path(__file__).with_name("default_journey.yaml"))


def dump_journey(journey: Journey) -> str:
    """The journey as YAML, readable again with :func:`load_journey`."""
    document = journey.model_dump(mode="json", exclude_defaults=True)
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
