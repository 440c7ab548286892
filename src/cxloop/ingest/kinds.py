"""What each import kind reads: its fields, which are required, and its row key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cxloop.config import Settings
from cxloop.domain.vocab import (
    CaseKind,
    CasePriority,
    CaseStatus,
    Channel,
    InteractionKind,
    JourneyStage,
    RootCause,
    TransactionKind,
)
from cxloop.ingest import parsers
from cxloop.ingest.parsers import Parser

#: Columns that name a customer, in the order they are trusted.
CUSTOMER_REFS = ("customer_id", "email", "phone", "social_handle")


@dataclass(frozen=True)
class FieldSpec:
    """One field of a kind: its name, how to parse it, whether a value is required."""

    name: str
    parser: Callable[[Settings], Parser]
    required: bool = False


@dataclass(frozen=True)
class KindSpec:
    """An import kind: its fields and the field that is the row's external id."""

    name: str
    key: str | None
    fields: tuple[FieldSpec, ...]

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.fields)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.fields if spec.required)


def _fixed(parser: Parser) -> Callable[[Settings], Parser]:
    return lambda _settings: parser


def _time(settings: Settings) -> Parser:
    return parsers.timestamp(settings.timezone)


def _field(name: str, parser: Parser, *, required: bool = False) -> FieldSpec:
    return FieldSpec(name, _fixed(parser), required)


def _when(name: str, *, required: bool = False) -> FieldSpec:
    return FieldSpec(name, _time, required)


def _refs() -> tuple[FieldSpec, ...]:
    return (
        _field("customer_id", parsers.code(200)),
        _field("email", parsers.email()),
        _field("phone", parsers.phone()),
        _field("social_handle", parsers.social()),
    )


def _channel() -> FieldSpec:
    return _field("channel", parsers.vocabulary(Channel, "channel"))


def _stage() -> FieldSpec:
    return _field("journey_stage", parsers.vocabulary(JourneyStage, "journey stage"))


def _customers() -> KindSpec:
    return KindSpec(
        "customers",
        None,
        (
            *_refs(),
            _field("name", parsers.code(200)),
            _field("region", parsers.code(100)),
            _field("segment", parsers.code(100)),
            _field("language", parsers.code(16)),
        ),
    )


def _transactions() -> KindSpec:
    return KindSpec(
        "transactions",
        "transaction_id",
        (
            _field("transaction_id", parsers.code(200), required=True),
            *_refs(),
            _when("occurred_at", required=True),
            _field("amount", parsers.amount(), required=True),
            _field("currency", parsers.currency()),
            _field("kind", parsers.vocabulary(TransactionKind, "transaction kind")),
            _channel(),
            _field("touchpoint", parsers.code(100)),
            _field("product", parsers.code(200)),
        ),
    )


def _feedback() -> KindSpec:
    return KindSpec(
        "feedback",
        "response_id",
        (
            _field("response_id", parsers.code(200), required=True),
            *_refs(),
            _when("submitted_at", required=True),
            _channel(),
            _field("touchpoint", parsers.code(100)),
            _stage(),
            _field("nps", parsers.integer(0, 10)),
            _field("csat", parsers.integer(1, 5)),
            _field("ces", parsers.integer(1, 7)),
            _field("comment", parsers.text()),
        ),
    )


def _interactions() -> KindSpec:
    kinds = parsers.vocabulary(InteractionKind, "interaction kind")
    return KindSpec(
        "interactions",
        "interaction_id",
        (
            _field("interaction_id", parsers.code(200), required=True),
            *_refs(),
            _when("occurred_at", required=True),
            _field("kind", kinds, required=True),
            _channel(),
            _field("touchpoint", parsers.code(100)),
            _stage(),
            _field("text", parsers.text()),
            _field("language", parsers.code(16)),
        ),
    )


def _cases() -> KindSpec:
    return KindSpec(
        "cases",
        "case_id",
        (
            _field("case_id", parsers.code(200), required=True),
            *_refs(),
            _when("opened_at", required=True),
            _field("title", parsers.code(300), required=True),
            _field("description", parsers.text()),
            _field("status", parsers.vocabulary(CaseStatus, "case status")),
            _field("priority", parsers.vocabulary(CasePriority, "case priority")),
            _field("kind", parsers.vocabulary(CaseKind, "case kind")),
            _field("team", parsers.code(100)),
            _field("owner", parsers.code(200)),
            _channel(),
            _field("touchpoint", parsers.code(100)),
            _field("root_cause", parsers.vocabulary(RootCause, "root cause")),
            _field("resolution", parsers.text()),
            _field("contacts", parsers.integer(0, 100_000)),
            _field("handling_seconds", parsers.integer(0, 1_000_000_000)),
            _when("first_response_at"),
            _when("resolved_at"),
            _when("closed_at"),
        ),
    )


_BUILDERS: dict[str, Callable[[], KindSpec]] = {
    "customers": _customers,
    "transactions": _transactions,
    "feedback": _feedback,
    "interactions": _interactions,
    "cases": _cases,
}

#: The kinds ``cxloop import`` accepts.
KINDS: tuple[str, ...] = tuple(_BUILDERS)


def kind_spec(kind: str) -> KindSpec | None:
    """The spec of ``kind``, or None when there is no such kind."""
    builder = _BUILDERS.get(kind)
    return builder() if builder else None
