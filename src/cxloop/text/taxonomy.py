"""The topic taxonomy: which topics exist and the words and rules that find them.

A taxonomy is a YAML file (the shipped default is ``cxloop/text/taxonomy.yaml``)::

    use_model: true            # optional: let the learned classifier add topics
    ignore_terms: ["#禾光生活", Heguang Living, "@heguang_tw"]   # optional, see below
    extends: default           # optional: start from the shipped topics, see below
    topics:
      - key: delivery          # lower-case letters, digits and _
        name: {zh-TW: 配送物流, en: Delivery}
        keywords:
          zh: [配送, 物流, 外送]  # Traditional or Simplified: both scripts match
          en: [delivery, deliver*, shipping]   # word match; * = any ending
        exclude:               # optional: phrases in which the keywords do not count
          zh: [贈送]
        rules:                 # optional: words that must all occur in one clause
          - all: [送, 慢]

:func:`load_taxonomy` validates every field and names the path of a bad one
(``topics[3].keywords.zh[2]: ...``).

``ignore_terms`` lists names that say nothing about how a customer feels: the company's
own brands, hashtags, accounts and stores. They are taken out of the text before
anything is read from it (:func:`cxloop.text.ignore_terms.drop_terms`), because the
letters of a name the models never saw move the sentiment ("#HeguangLiving" appended to
the UCI Yelp test sentences cost 11 points of accuracy) and a brand would otherwise top
every text's keywords.

``extends: default`` starts from the shipped default taxonomy: the file's topics replace
the default topics with the same key and the others are added after them, its
``ignore_terms`` are added to the default's, and ``use_model`` keeps the default's value
unless the file sets it. A company that only lists its own names needs no copy of the
default topics, and gets the default's later fixes.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from cxloop.domain.errors import InvalidInput

_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_EN_WORD = re.compile(r"^[a-z0-9][a-z0-9 '&./+-]*\*?$")
_MAX_BYTES = 2_000_000
_MAX_WORD = 40
_TOPIC_FIELDS = {"key", "name", "description", "keywords", "exclude", "rules"}
_TOP_FIELDS = {"topics", "use_model", "ignore_terms", "extends"}
_BASES = ("default",)
_MAX_IGNORED = 500


@dataclass(frozen=True, slots=True)
class Rule:
    """Words that must all occur in the same clause for the topic to match."""

    all: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Topic:
    """One topic of the taxonomy."""

    key: str
    name_zh: str
    name_en: str
    keywords_zh: tuple[str, ...] = ()
    keywords_en: tuple[str, ...] = ()
    exclude_zh: tuple[str, ...] = ()
    exclude_en: tuple[str, ...] = ()
    rules: tuple[Rule, ...] = ()
    description: str = ""

    def name(self, language: str) -> str:
        """The topic's name for a UI language (``zh-TW`` or ``en``)."""
        return self.name_en if language.startswith("en") else self.name_zh


@dataclass(frozen=True, slots=True)
class Taxonomy:
    """A validated taxonomy; ``version`` is a hash of its content."""

    topics: tuple[Topic, ...]
    version: str
    use_model: bool = True
    ignore_terms: tuple[str, ...] = ()

    @property
    def keys(self) -> tuple[str, ...]:
        """The topic keys, in file order."""
        return tuple(topic.key for topic in self.topics)

    def topic(self, key: str) -> Topic:
        """The topic with ``key`` (:class:`KeyError` when there is none)."""
        for topic in self.topics:
            if topic.key == key:
                return topic
        raise KeyError(key)


def default_taxonomy_path() -> Path:
    """Where the shipped default taxonomy lives."""
    return Path(str(resources.files("cxloop.text").joinpath("taxonomy.yaml")))


def ignored_name_ok(name: str) -> bool:
    """Whether ``name`` can be listed under ``ignore_terms`` (it is also checked there)."""
    return len(name) <= _MAX_WORD and any(ch.isalnum() for ch in name)


def english_word_ok(word: str) -> bool:
    """Whether ``word`` is a valid English keyword of a taxonomy."""
    return len(word) <= _MAX_WORD and _EN_WORD.match(word) is not None


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """Load and validate a taxonomy YAML file.

    Parameters
    ----------
    path
        The YAML file; ``None`` loads the shipped default taxonomy.

    Raises
    ------
    InvalidInput
        When the file is missing, is not YAML, or a field is wrong; the message names the
        file and the path of the field (``topics[3].keywords.zh[2]``).
    """
    source = path or default_taxonomy_path()
    try:
        raw = source.read_bytes()
    except OSError as exc:
        raise InvalidInput(
            f"{source}: cannot read the taxonomy: {exc.strerror}"
        ) from exc
    if len(raw) > _MAX_BYTES:
        raise InvalidInput(f"{source}: the taxonomy is larger than 2 MB")
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{source}: not UTF-8 (byte {exc.start})") from exc
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{source}: not valid YAML: {exc}") from exc
    return parse_taxonomy(data, source=str(source))


def parse_taxonomy(data: Any, *, source: str = "taxonomy") -> Taxonomy:
    """Validate an already parsed taxonomy mapping (see :func:`load_taxonomy`)."""
    if not isinstance(data, dict):
        raise InvalidInput(f"{source}: the taxonomy must be a mapping with 'topics'")
    _no_unknown(data, _TOP_FIELDS, "", source)
    base = _base(data.get("extends"), source)
    use_model = data.get("use_model", True if base is None else base.use_model)
    if not isinstance(use_model, bool):
        raise InvalidInput(f"{source}: use_model: must be true or false")
    items = data.get("topics", [] if base is not None else None)
    if not isinstance(items, list) or (not items and base is None):
        raise InvalidInput(f"{source}: topics: must be a non-empty list")
    topics = tuple(_topic(item, f"topics[{i}]", source) for i, item in enumerate(items))
    seen: set[str] = set()
    for i, topic in enumerate(topics):
        if topic.key in seen:
            raise InvalidInput(
                f"{source}: topics[{i}].key: duplicate key {topic.key!r}"
            )
        seen.add(topic.key)
    ignored = _ignore_terms(data.get("ignore_terms"), source)
    if base is not None:
        own = {topic.key: topic for topic in topics}
        topics = tuple(own.pop(t.key, t) for t in base.topics) + tuple(own.values())
        ignored = tuple(dict.fromkeys(base.ignore_terms + ignored))
        if len(ignored) > _MAX_IGNORED:
            raise InvalidInput(
                f"{source}: ignore_terms: more than {_MAX_IGNORED} names"
            )
    return Taxonomy(topics=topics, version=_version(topics, use_model, ignored),
                    use_model=use_model, ignore_terms=ignored)  # fmt: skip


def _base(value: Any, source: str) -> Taxonomy | None:
    if value is None:
        return None
    if value not in _BASES:
        raise InvalidInput(
            f"{source}: extends: {value!r} is not a taxonomy to extend "
            f"(expected {', '.join(_BASES)})"
        )
    return load_taxonomy(None)


def _ignore_terms(value: Any, source: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InvalidInput(f"{source}: ignore_terms: must be a list of names")
    if len(value) > _MAX_IGNORED:
        raise InvalidInput(f"{source}: ignore_terms: more than {_MAX_IGNORED} names")
    terms = [_text(term, f"ignore_terms[{i}]", source) for i, term in enumerate(value)]
    for i, term in enumerate(terms):
        if not ignored_name_ok(term):  # _text has checked the length
            raise InvalidInput(
                f"{source}: ignore_terms[{i}]: {term!r} has no letter or digit"
            )
    return tuple(dict.fromkeys(terms))


def _topic(item: Any, where: str, source: str) -> Topic:
    if not isinstance(item, dict):
        raise InvalidInput(f"{source}: {where}: must be a mapping")
    _no_unknown(item, _TOPIC_FIELDS, where + ".", source)
    key = item.get("key")
    if not isinstance(key, str) or not _KEY.match(key):
        raise InvalidInput(
            f"{source}: {where}.key: {key!r} is not lower-case letters, digits and _ "
            "(starting with a letter, at most 40)"
        )
    name = item.get("name")
    if not isinstance(name, dict):
        raise InvalidInput(f"{source}: {where}.name: must map zh-TW and en to names")
    names = [
        _text(name.get(lang), f"{where}.name.{lang}", source)
        for lang in ("zh-TW", "en")
    ]
    keywords = _words(item.get("keywords"), f"{where}.keywords", source)
    exclude = _words(item.get("exclude"), f"{where}.exclude", source)
    rules = _rules(item.get("rules"), f"{where}.rules", source)
    if not keywords[0] and not keywords[1] and not rules:
        raise InvalidInput(f"{source}: {where}: needs keywords or rules")
    description = item.get("description", "")
    if not isinstance(description, str):
        raise InvalidInput(f"{source}: {where}.description: must be text")
    return Topic(key=key, name_zh=names[0], name_en=names[1], keywords_zh=keywords[0],
                 keywords_en=keywords[1], exclude_zh=exclude[0], exclude_en=exclude[1],
                 rules=rules, description=description)  # fmt: skip


def _words(
    value: Any, where: str, source: str
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if value is None:
        return (), ()
    if not isinstance(value, dict):
        raise InvalidInput(f"{source}: {where}: must map zh and en to lists of words")
    _no_unknown(value, {"zh", "en"}, where + ".", source)
    zh = _word_list(value.get("zh"), f"{where}.zh", source, english=False)
    en = _word_list(value.get("en"), f"{where}.en", source, english=True)
    return zh, en


def _word_list(
    value: Any, where: str, source: str, *, english: bool
) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InvalidInput(f"{source}: {where}: must be a list of words")
    words = []
    for i, word in enumerate(value):
        text = _text(word, f"{where}[{i}]", source).lower()
        if english and not _EN_WORD.match(text):
            raise InvalidInput(
                f"{source}: {where}[{i}]: {word!r} is not an English word or phrase "
                "(letters, digits, spaces, ' & . / + -, and an optional * at the end)"
            )
        if not english and "*" in text:
            raise InvalidInput(f"{source}: {where}[{i}]: * works only in English words")
        words.append(text)
    return tuple(dict.fromkeys(words))


def _rules(value: Any, where: str, source: str) -> tuple[Rule, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InvalidInput(f"{source}: {where}: must be a list of rules")
    rules = []
    for i, item in enumerate(value):
        if not isinstance(item, dict) or set(item) != {"all"}:
            raise InvalidInput(
                f"{source}: {where}[{i}]: a rule is {{all: [word, word]}}"
            )
        words = item["all"]
        if not isinstance(words, list) or len(words) < 2:
            raise InvalidInput(f"{source}: {where}[{i}].all: needs at least two words")
        terms = [
            _text(w, f"{where}[{i}].all[{j}]", source) for j, w in enumerate(words)
        ]
        rules.append(Rule(all=tuple(t.lower() for t in terms)))
    return tuple(rules)


def _text(value: Any, where: str, source: str) -> str:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise InvalidInput(f"{source}: {where}: must be text, got {value!r}")
    text = str(value).strip()
    if not text:
        raise InvalidInput(f"{source}: {where}: must not be empty")
    if len(text) > _MAX_WORD and ".name." not in where:
        raise InvalidInput(f"{source}: {where}: longer than {_MAX_WORD} characters")
    return text


def _no_unknown(
    mapping: dict[Any, Any], allowed: set[str], where: str, source: str
) -> None:
    unknown = sorted(str(k) for k in mapping if k not in allowed)
    if unknown:
        raise InvalidInput(
            f"{source}: {where}{unknown[0]}: unknown field (expected one of "
            f"{', '.join(sorted(allowed))})"
        )


def _version(
    topics: tuple[Topic, ...], use_model: bool, ignored: tuple[str, ...]
) -> str:
    body: list[Any] = [use_model, [[getattr(t, f) for f in Topic.__slots__] for t in topics]]  # fmt: skip
    if ignored:  # an empty list keeps the versions of taxonomies written before it
        body.append(list(ignored))
    payload = json.dumps(
        body,
        ensure_ascii=False,
        default=lambda rule: list(rule.all),
    )
    return "taxonomy-" + hashlib.sha256(payload.encode("utf-8")).hexdigest()[:12]
