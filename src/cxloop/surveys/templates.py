"""Ready-made survey templates shipped with cxloop (``templates/<name>.yaml``).

Each template is a complete survey definition in Traditional Chinese and English:
relational NPS, CSAT after a purchase or a closed case, CES after self-service,
SERVQUAL and the CX index. :func:`template_definition` returns one as a mapping for
:func:`cxloop.surveys.definitions.save_survey`, under the key the user picks.

>>> [t.name for t in list_templates()][:2]
['relational-nps', 'csat-purchase']
>>> definition = template_definition("relational-nps", key="nps-2025")
>>> definition["key"], definition["template"]
('nps-2025', 'relational-nps')
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from cxloop.domain.errors import InvalidInput
from cxloop.domain.survey_parse import parse_survey, spec_to_dict

#: The shipped templates, in the order they are listed.
TEMPLATE_NAMES = (
    "relational-nps",
    "csat-purchase",
    "csat-case",
    "ces-self-service",
    "servqual",
    "cx-index",
)
TEMPLATE_DIR = Path(__file__).with_name("templates")


@dataclass(frozen=True)
class TemplateInfo:
    """A line of the template list."""

    name: str
    title_zh: str
    title_en: str
    description_zh: str
    description_en: str
    questions: int


def _load(name: str) -> dict[str, Any]:
    if name not in TEMPLATE_NAMES:
        msg = f"no survey template {name!r}; choose one of {', '.join(TEMPLATE_NAMES)}"
        raise InvalidInput(msg)
    text = (TEMPLATE_DIR / f"{name}.yaml").read_text(encoding="utf-8")
    document = yaml.safe_load(text)
    if not isinstance(document, dict):  # pragma: no cover - shipped files are mappings
        raise InvalidInput(f"survey template {name!r} is not a mapping")
    return document


def list_templates() -> list[TemplateInfo]:
    """The shipped templates with their titles, descriptions and question counts."""
    infos = []
    for name in TEMPLATE_NAMES:
        spec = parse_survey(_load(name))
        description = spec.description
        infos.append(
            TemplateInfo(
                name=name,
                title_zh=spec.name.zh,
                title_en=spec.name.en,
                description_zh=description.zh if description else "",
                description_en=description.en if description else "",
                questions=len(spec.questions),
            )
        )
    return infos


def template_definition(
    name: str,
    *,
    key: str | None = None,
    name_zh: str | None = None,
    name_en: str | None = None,
) -> dict[str, Any]:
    """The definition of template ``name``, ready for ``save_survey``.

    Parameters
    ----------
    name
        One of :data:`TEMPLATE_NAMES`.
    key
        Key of the new survey; the template's name when not given.
    name_zh, name_en
        Survey titles replacing the template's.

    Raises
    ------
    InvalidInput
        For an unknown template (the message lists the valid ones) or an invalid key.
    """
    document = _load(name)
    if key is not None:
        document["key"] = key
    title = dict(document.get("name") or {})
    if name_zh:
        title["zh-TW"] = name_zh
    if name_en:
        title["en"] = name_en
    document["name"] = title
    document["template"] = name
    return spec_to_dict(parse_survey(document))
