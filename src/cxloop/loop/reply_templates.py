"""Reply templates: agents' starting points, with ``{placeholders}`` from the customer.

A template file (YAML or JSON) holds a list, or a mapping with a ``templates`` list::

    templates:
      - key: delivery-delay            # lower-case letters, digits, - and _
        language: zh-TW                # zh-TW or en
        title: 配送延遲致歉
        topics: [配送, 延遲]            # optional words that help ranking
        body: |
          {name} 您好，我是 {agent_name}。您的會員編號 {member_id} 於
          {last_order_date} 的訂單延遲送達，非常抱歉。

Placeholders (:data:`PLACEHOLDERS`): ``{name}``, ``{first_name}``, ``{member_id}``,
``{last_order_date}``, ``{agent_name}`` and ``{case_id}``; ``{{`` and ``}}`` write a
brace. Any other placeholder, a format spec or unbalanced braces is refused when the
file is saved. Values are filled in one pass (a customer's name that contains
``{agent_name}`` stays as written) and are plain text: :attr:`FilledTemplate.html`
escapes them for HTML.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import ReplyTemplate
from cxloop.store.types import utcnow
from cxloop.surveys.mailer import escape

PLACEHOLDERS = (
    "name", "first_name", "member_id", "last_order_date", "agent_name", "case_id",
)  # fmt: skip
LANGUAGES = ("zh-TW", "en")
_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]+")
MAX_BODY = 20_000


@dataclass(frozen=True)
class TemplateSpec:
    """A template as written in a template file."""

    key: str
    language: str
    title: str
    body: str
    topics: tuple[str, ...] = ()


@dataclass(frozen=True)
class FilledTemplate:
    """A template filled for one case's customer.

    ``missing`` names the placeholders that had no value (left empty in ``body``).
    """

    key: str
    title: str
    body: str
    language: str = "zh-TW"
    score: float = 0.0
    missing: tuple[str, ...] = ()

    @property
    def html(self) -> str:
        """``body`` escaped for HTML, line breaks as ``<br>``."""
        return escape(self.body).replace("\n", "<br>\n")


@dataclass(frozen=True)
class TemplatesSaved:
    """What :func:`save_templates` did."""

    inserted: tuple[str, ...]
    updated: tuple[str, ...]
    unchanged: tuple[str, ...]


def placeholders_of(text: str, where: str) -> list[str]:
    """The placeholder names used in ``text``; InvalidInput for any not allowed.

    >>> placeholders_of("{name} 您好 {{literal}}", "t")
    ['name']
    """
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise InvalidInput(f"{where}: {exc} (write {{{{ or }}}} for a brace)") from None
    names = []
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            shown = "{" + name + (f"!{conversion}" if conversion else "")
            shown += (f":{spec}" if spec else "") + "}"
            known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            raise InvalidInput(f"{where}: unknown placeholder {shown}; use {known}")
        names.append(name)
    return names


def _text(raw: Mapping[str, Any], name: str, where: str, limit: int) -> str:
    value = raw.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{where}.{name}: a non-empty text is required")
    if len(value) > limit:
        raise InvalidInput(f"{where}.{name}: longer than {limit} characters")
    return value.strip()


def parse_template(raw: object, where: str) -> TemplateSpec:
    """One template from its mapping; errors name ``where`` and the field."""
    if not isinstance(raw, Mapping):
        raise InvalidInput(f"{where}: a template must be a mapping")
    key = _text(raw, "key", where, 64)
    if not _KEY.match(key):
        raise InvalidInput(
            f"{where}.key: {key!r}: use lower-case letters, digits, - and _"
        )
    language = raw.get("language", "zh-TW")
    if language not in LANGUAGES:
        raise InvalidInput(f"{where}.language: {language!r}: choose zh-TW or en")
    topics = raw.get("topics", [])
    if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
        raise InvalidInput(f"{where}.topics: a list of texts is required")
    spec = TemplateSpec(key, language, _text(raw, "title", where, 300),
                        _text(raw, "body", where, MAX_BODY), tuple(topics))  # fmt: skip
    placeholders_of(spec.title, f"{where}.title")
    placeholders_of(spec.body, f"{where}.body")
    return spec


def read_template_file(path: Path) -> list[TemplateSpec]:
    """The templates of a YAML or JSON file; keys must be distinct."""
    import yaml

    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read the file: {exc.strerror}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: not valid YAML or JSON: {exc}") from None
    if isinstance(document, Mapping):
        document = document.get("templates")
    if not isinstance(document, list) or not document:
        raise InvalidInput(
            f"{path}: expected a list of templates (or templates: [...])"
        )
    specs = [
        parse_template(t, f"{path}: templates[{n}]") for n, t in enumerate(document)
    ]
    keys = [spec.key for spec in specs]
    twice = sorted({key for key in keys if keys.count(key) > 1})
    if twice:
        raise InvalidInput(f"{path}: the key {twice[0]!r} is used twice")
    return specs


def save_templates(*, settings: Settings, path: Path) -> TemplatesSaved:
    """Insert or update the templates of a file by key (others stay)."""
    specs = read_template_file(path)
    done: dict[str, list[str]] = {"inserted": [], "updated": [], "unchanged": []}
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        stored = {t.key: t for t in session.scalars(select(ReplyTemplate))}
        for spec in specs:
            values = {"language": spec.language, "title": spec.title,
                      "body": spec.body, "topics": list(spec.topics)}  # fmt: skip
            row = stored.get(spec.key)
            if row is None:
                session.add(ReplyTemplate(key=spec.key, **values))
                done["inserted"].append(spec.key)
            elif {name: getattr(row, name) for name in values} == values:
                done["unchanged"].append(spec.key)
            else:
                for name, value in values.items():
                    setattr(row, name, value)
                row.updated_at = utcnow()
                done["updated"].append(spec.key)
    return TemplatesSaved(*(tuple(keys) for keys in done.values()))


def clean_value(value: str | None) -> str:
    """A placeholder value without control characters (line breaks become spaces)."""
    return _CONTROL.sub(" ", (value or "").replace("\n", " ")).strip()


def first_name(name: str | None) -> str:
    """The name a reply greets: the first word, or a Chinese name without its surname.

    >>> first_name("Amy Chen"), first_name("王小明"), first_name("歐陽")
    ('Amy', '小明', '歐陽')
    """
    name = clean_value(name)
    if " " in name:
        return name.split()[0]
    han = all("\u3400" <= c <= "\u9fff" or "\uf900" <= c <= "\ufaff" for c in name)
    return name[1:] if han and 3 <= len(name) <= 4 else name


def fill(
    template: TemplateSpec, values: Mapping[str, str | None], score: float = 0.0
) -> FilledTemplate:
    """``template`` with its placeholders filled from ``values`` in one pass."""
    used = placeholders_of(template.title, template.key)
    used += placeholders_of(template.body, template.key)
    given = {name: clean_value(values.get(name)) for name in PLACEHOLDERS}
    missing = tuple(dict.fromkeys(name for name in used if not given[name]))
    return FilledTemplate(
        key=template.key,
        title=template.title.format_map(given),
        body=template.body.format_map(given),
        language=template.language,
        score=round(score, 4),
        missing=missing,
    )


def stored_templates(settings: Settings) -> list[TemplateSpec]:
    """Every stored template, by key."""
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        rows = session.scalars(select(ReplyTemplate).order_by(ReplyTemplate.key))
        return [
            TemplateSpec(t.key, t.language, t.title, t.body, tuple(t.topics or ()))
            for t in rows
        ]


def rank_templates(
    templates: Sequence[TemplateSpec], text: str, language: str | None
) -> list[tuple[TemplateSpec, float]]:
    """Templates best first: the case's language first, then BM25 over title, topics
    and body (the knowledge base's index), then key."""
    from cxloop.loop.kb_index import article_scores, build_index

    if not templates:
        return []
    want = None
    if language:
        want = "en" if language.lower().startswith("en") else "zh-TW"
    index = build_index(
        [[t.title, *t.topics] for t in templates], [t.body for t in templates]
    )
    scores = article_scores(index, [text])[0]
    ranked = sorted(
        zip(templates, scores.tolist(), strict=True),
        key=lambda pair: (
            pair[0].language != (want or pair[0].language),
            -pair[1],
            pair[0].key,
        ),
    )
    return [(t, float(s)) for t, s in ranked]
