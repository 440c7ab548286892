"""Check one interaction pushed by another system (a JSON object) before it is stored.

:func:`check_item` turns a decoded JSON value into an :class:`IntakeItem`, or into an
:class:`ItemReject` naming the field and the reason. Nothing here touches the store.

Customer text is kept as written (it is escaped where it is shown). Two kinds of
character that no database can store, NUL and unpaired surrogates, are replaced by
U+FFFD, and text longer than :data:`MAX_TEXT` characters is cut there; both are
reported as warnings of the item, never as a failure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cxloop.customers.identity import (
    normal_email,
    normal_member_id,
    normal_phone,
    normal_social,
)
from cxloop.domain.vocab import Channel, InteractionKind, JourneyStage
from cxloop.ingest.intake_fields import (
    SCORES,
    FieldReader,
    ItemProblem,
    clean_value,
    json_type,
    read_turns,
    transcript,
)

#: Most items in one request.
MAX_ITEMS = 1_000
#: Longest ``text`` (and joined transcript) kept, in characters.
MAX_TEXT = 50_000
#: Most attributes of an item.
MAX_ATTRIBUTES = 50
#: Longest source name (it becomes part of a survey key of at most 100 characters).
MAX_SOURCE = 90

#: Kinds the intake takes (survey responses come through surveys, purchases as
#: transactions).
INTAKE_KINDS = tuple(
    kind.value
    for kind in InteractionKind
    if kind not in (InteractionKind.SURVEY_RESPONSE, InteractionKind.PURCHASE)
)
#: The channel of an item that names none, by kind.
DEFAULT_CHANNELS = {
    InteractionKind.CHAT.value: Channel.CHAT.value,
    InteractionKind.CALL.value: Channel.PHONE.value,
    InteractionKind.REVIEW.value: Channel.REVIEW_SITE.value,
    InteractionKind.SOCIAL_POST.value: Channel.SOCIAL.value,
    InteractionKind.KIOSK.value: Channel.STORE.value,
}
#: Customer identifiers, as the intake names them and as the importers do.
CUSTOMER_FIELDS = {
    "member_id": "customer_id",
    "email": "email",
    "phone": "phone",
    "social_handle": "social_handle",
}
#: Every field an item may have.
FIELDS = (
    "source", "external_id", "kind", "occurred_at", "customer", "channel",
    "touchpoint", "journey_stage", "language", "text", "messages", "turns",
    "duration_seconds", "rating", "title", "url", "platform", "answers", "attributes",
)  # fmt: skip
TURN_LISTS = ("messages", "turns")
_URL = re.compile(r"^https?://[^\s]{1,2000}$")


@dataclass(frozen=True)
class IntakeItem:
    """A checked item; ``refs`` are normalised identifiers by importer column name,
    ``occurred_at`` is aware UTC, ``answers`` are scores by metric."""

    index: int
    source: str
    external_id: str
    kind: str
    occurred_at: datetime
    refs: dict[str, str | None]
    channel: str | None
    touchpoint: str | None
    journey_stage: str | None
    language: str | None
    text: str | None
    attributes: dict[str, Any]
    answers: dict[str, float]
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ItemReject:
    """An item refused: its position in the request, its id when readable, why."""

    index: int
    source: str | None
    external_id: str | None
    field: str
    reason: str
    raw: Any


def _refs(reader: FieldReader) -> dict[str, str | None]:
    customer = reader.raw.get("customer")
    refs: dict[str, str | None] = dict.fromkeys(CUSTOMER_FIELDS.values())
    if customer is None:
        return refs
    if not isinstance(customer, dict):
        raise ItemProblem("customer", 'must be an object like {"email": ...}')
    unknown = sorted(set(customer) - set(CUSTOMER_FIELDS) - {"name"})
    if unknown:
        known = ", ".join(CUSTOMER_FIELDS)
        raise ItemProblem(f"customer.{unknown[0]}", f"unknown identifier; use {known}")
    normalisers = {
        "member_id": normal_member_id,
        "email": normal_email,
        "phone": normal_phone,
        "social_handle": normal_social,
    }
    for name, column in CUSTOMER_FIELDS.items():
        value = customer.get(name)
        if value is None or value == "":
            continue
        normal = normalisers[name](str(value)) if isinstance(value, str | int) else None
        if normal is None:
            raise ItemProblem(f"customer.{name}", f"{value!r} is not a valid {name}")
        refs[column] = normal
    return refs


def _answers(reader: FieldReader) -> dict[str, float]:
    given = reader.raw.get("answers")
    answers: dict[str, float] = {}
    if given is not None:
        if not isinstance(given, dict):
            raise ItemProblem("answers", 'must be an object like {"nps": 9}')
        for metric, value in given.items():
            if metric not in SCORES:
                known = ", ".join(SCORES)
                raise ItemProblem(f"answers.{metric}", f"unknown metric; use {known}")
            if value is not None:
                answers[metric] = reader.score(f"answers.{metric}", value, metric)
    if reader.raw.get("rating") is not None:
        answers["rating"] = reader.score("rating", reader.raw["rating"], "rating")
    return answers


def _attributes(reader: FieldReader, kind: str) -> dict[str, Any]:
    given = reader.raw.get("attributes") or {}
    if not isinstance(given, dict):
        raise ItemProblem("attributes", "must be an object")
    if len(given) > MAX_ATTRIBUTES:
        raise ItemProblem("attributes", f"more than {MAX_ATTRIBUTES} keys")
    attributes = {str(key)[:100]: value for key, value in given.items()}
    for name in TURN_LISTS:
        if reader.raw.get(name) is not None:
            attributes[name] = read_turns(reader, name, reader.raw[name])
    if reader.raw.get("duration_seconds") is not None:
        seconds = reader.raw["duration_seconds"]
        if not isinstance(seconds, int | float) or isinstance(seconds, bool):
            raise ItemProblem("duration_seconds", "must be a number of seconds")
        if not 0 <= seconds <= 7 * 86_400:
            raise ItemProblem("duration_seconds", "must be from 0 to 604800 (a week)")
        attributes["duration_seconds"] = seconds
    for name, limit in (("title", 300), ("platform", 40)):
        value = reader.code(name, limit)
        if value is not None:
            attributes[name] = value
    url = reader.code("url", 2000)
    if url is not None:
        if not _URL.match(url):
            raise ItemProblem("url", f"{url[:60]!r} is not an http(s) address")
        attributes["url"] = url
    if reader.raw.get("rating") is not None:
        attributes["rating"] = reader.raw["rating"]
    _check_kind_fields(reader, kind)
    return attributes


def _check_kind_fields(reader: FieldReader, kind: str) -> None:
    """Turns belong to conversations, a kiosk item says something."""
    conversations = (InteractionKind.CHAT, InteractionKind.CALL, InteractionKind.TICKET)
    for name in TURN_LISTS:
        if reader.raw.get(name) is not None and kind not in conversations:
            raise ItemProblem(name, f"only a chat, call or ticket has {name}")
    has_answers = bool(reader.raw.get("answers")) or reader.raw.get("rating")
    if (
        kind == InteractionKind.KIOSK.value
        and not has_answers
        and not reader.raw.get("text")
    ):
        raise ItemProblem("answers", "a kiosk item needs answers or text")


def _body_text(reader: FieldReader, attributes: dict[str, Any]) -> str | None:
    turns = attributes.get("messages") or attributes.get("turns")
    given = reader.raw.get("text")
    if given is None and turns:
        given = transcript(turns)
    return reader.text("text", given, MAX_TEXT)


def _read(reader: FieldReader, index: int, source: str) -> IntakeItem:
    external_id = reader.code("external_id", 200, required=True)
    kind = reader.word("kind", InteractionKind, "interaction kind")
    if kind is None:
        raise ItemProblem("kind", f"a value is required: {', '.join(INTAKE_KINDS)}")
    if kind not in INTAKE_KINDS:
        raise ItemProblem(
            "kind", f"{kind!r} cannot be pushed; use {', '.join(INTAKE_KINDS)}"
        )
    occurred_at = reader.time("occurred_at", reader.raw.get("occurred_at"))
    if occurred_at is None:
        raise ItemProblem("occurred_at", "a value is required (ISO 8601 with offset)")
    attributes = _attributes(reader, kind)
    channel = reader.word("channel", Channel, "channel") or DEFAULT_CHANNELS.get(kind)
    return IntakeItem(
        index=index,
        source=source,
        external_id=str(external_id),
        kind=kind,
        occurred_at=occurred_at,
        refs=_refs(reader),
        channel=channel,
        touchpoint=reader.code("touchpoint", 100),
        journey_stage=reader.word("journey_stage", JourneyStage, "journey stage"),
        language=reader.code("language", 16),
        text=_body_text(reader, attributes),
        attributes=attributes,
        answers=_answers(reader),
        warnings=tuple(reader.warnings),
    )


def _source(raw: dict[str, Any], default: str | None, forced: str | None) -> str:
    if forced is not None:
        return forced
    value = raw.get("source", default)
    if not isinstance(value, str) or not value.strip():
        raise ItemProblem("source", "a value is required (the system it came from)")
    if len(value.strip()) > MAX_SOURCE:
        raise ItemProblem("source", f"longer than {MAX_SOURCE} characters")
    return value.strip()


def check_item(
    raw: Any,
    *,
    index: int,
    zone: str,
    default_source: str | None = None,
    forced_source: str | None = None,
) -> IntakeItem | ItemReject:
    """Check item ``index`` of a request.

    ``default_source`` is used when the item names none; ``forced_source`` replaces
    whatever it names (a webhook endpoint's items always belong to its source).
    """
    replaced = [0]
    raw = clean_value(raw, replaced)
    if not isinstance(raw, dict):
        reason = f"an item must be a JSON object, not {json_type(raw)}"
        return ItemReject(index, None, None, "item", reason, raw)
    source = raw.get("source") if isinstance(raw.get("source"), str) else None
    external_id = raw.get("external_id")
    external = str(external_id)[:200] if external_id is not None else None
    try:
        unknown = sorted(set(map(str, raw)) - set(FIELDS))
        if unknown:
            raise ItemProblem(unknown[0], f"unknown field; fields: {', '.join(FIELDS)}")
        source = _source(raw, default_source, forced_source)
        reader = FieldReader(raw, zone)
        if replaced[0]:
            reader.warnings.append(
                f"{replaced[0]} characters that cannot be stored (NUL or unpaired "
                "surrogates) were replaced by U+FFFD"
            )
        return _read(reader, index, source)
    except ItemProblem as problem:
        return ItemReject(index, source, external, problem.field, problem.reason, raw)
