"""Routing rules and assignment within a team, as pure functions.

A rule's conditions map a case field to the values it accepts (one value or a list).
Every condition given must hold; within one condition any listed value will do. Topic
and segment conditions hold when the case has at least one of the listed topics or
segments. Values are compared without regard to case; a language condition ``zh`` also
accepts ``zh-TW``.

>>> rule = parse_conditions({"topic": ["billing", "refund"], "channel": "email"})
>>> facts = CaseFacts(topics=frozenset({"refund"}), channel="email")
>>> matches(rule, facts), matches(rule, CaseFacts(channel="email"))
(True, False)

Within a team, round-robin gives the next case to the present member who was assigned
longest ago (never first); least-loaded to the one with the fewest open cases. Away
members get nothing; with no present member the case stays unassigned.

>>> team = [Member(1, open_cases=3), Member(2, open_cases=1), Member(3, away=True)]
>>> least_loaded(team), round_robin(team)
(2, 1)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from cxloop.domain.errors import InvalidInput
from cxloop.domain.vocab import CaseKind, CasePriority, Channel

#: The fields a rule may test, in the order they are documented.
CONDITION_FIELDS = (
    "topic",
    "intent",
    "channel",
    "segment",
    "language",
    "touchpoint",
    "kind",
    "priority",
)
#: Fields whose values must come from a fixed vocabulary.
_VOCABULARIES: dict[str, tuple[str, ...]] = {
    "channel": tuple(c.value for c in Channel),
    "kind": tuple(k.value for k in CaseKind),
    "priority": tuple(p.value for p in CasePriority),
}
#: How cases are handed out within a team.
ASSIGNMENTS = ("round_robin", "least_loaded", "manual")
#: Priorities from lowest to highest (escalation moves one step up).
PRIORITY_ORDER = ("low", "normal", "high", "urgent")
MAX_VALUE_LENGTH = 200

#: Parsed conditions: field -> accepted values (lower-cased), fields in CONDITION_FIELDS.
Conditions = Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class CaseFacts:
    """What routing knows about a case (``topics`` and ``segments`` may hold several)."""

    topics: frozenset[str] = frozenset()
    intent: str | None = None
    channel: str | None = None
    segments: frozenset[str] = frozenset()
    language: str | None = None
    touchpoint: str | None = None
    kind: str | None = None
    priority: str | None = None


@dataclass(frozen=True)
class Member:
    """An agent of a team as assignment sees them."""

    user_id: int
    away: bool = False
    last_assigned_at: datetime | None = None
    open_cases: int = 0


def parse_conditions(
    raw: object, *, where: str = "conditions"
) -> dict[str, tuple[str, ...]]:
    """Validated conditions from a mapping of field to a value or a list of values.

    An empty or missing mapping matches every case (a catch-all rule).

    Raises
    ------
    InvalidInput
        For an unknown field, an empty list, a value that is not text, or a channel,
        kind or priority outside the vocabulary; the message starts with ``where``.
    """
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        msg = f"{where}: must map fields ({', '.join(CONDITION_FIELDS)}) to values"
        raise InvalidInput(msg)
    parsed: dict[str, tuple[str, ...]] = {}
    for field, value in raw.items():
        if field not in CONDITION_FIELDS:
            msg = (
                f"{where}.{field}: unknown condition; use {', '.join(CONDITION_FIELDS)}"
            )
            raise InvalidInput(msg)
        parsed[field] = _values(value, f"{where}.{field}", field)
    return parsed


def _values(value: object, where: str, field: str) -> tuple[str, ...]:
    items = value if isinstance(value, list | tuple) else [value]
    if not items:
        msg = f"{where}: give at least one value"
        raise InvalidInput(msg)
    values = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, str | int):
            msg = f"{where}: {item!r} is not a text value"
            raise InvalidInput(msg)
        text = str(item).strip().casefold()
        if not text or len(text) > MAX_VALUE_LENGTH:
            msg = f"{where}: values must have 1 to {MAX_VALUE_LENGTH} characters"
            raise InvalidInput(msg)
        allowed = _VOCABULARIES.get(field)
        if allowed is not None and text not in allowed:
            msg = f"{where}: {item!r} is not a {field}; use {', '.join(allowed)}"
            raise InvalidInput(msg)
        values.append(text)
    return tuple(dict.fromkeys(values))


def matches(conditions: Conditions, facts: CaseFacts) -> bool:
    """Whether every condition holds for the case."""
    return all(_holds(field, accepted, facts) for field, accepted in conditions.items())


def _holds(field: str, accepted: Sequence[str], facts: CaseFacts) -> bool:
    if field in ("topic", "segment"):
        have = facts.topics if field == "topic" else facts.segments
        return any(item.casefold() in accepted for item in have)
    value: str | None = getattr(facts, field)
    if value is None:
        return False
    value = value.casefold()
    if field == "language":
        return any(value == a or value.startswith(f"{a}-") for a in accepted)
    return value in accepted


def first_match(rules: Sequence[Conditions], facts: CaseFacts) -> int | None:
    """The index of the first rule whose conditions all hold, or None."""
    return next((i for i, rule in enumerate(rules) if matches(rule, facts)), None)


def _never_first(member: Member) -> tuple[bool, datetime | None]:
    """Sort key: members never assigned before those assigned, then oldest first."""
    return (member.last_assigned_at is not None, member.last_assigned_at)


def round_robin(members: Sequence[Member]) -> int | None:
    """The present member assigned longest ago (never assigned first), else None.

    Ties go to the lowest user id, so the order is stable.
    """
    present = [m for m in members if not m.away]
    if not present:
        return None
    chosen = min(present, key=lambda m: (*_never_first(m), m.user_id))
    return chosen.user_id


def least_loaded(members: Sequence[Member]) -> int | None:
    """The present member with the fewest open cases, else None.

    Ties go to the one assigned longest ago, then to the lowest user id.
    """
    present = [m for m in members if not m.away]
    if not present:
        return None
    chosen = min(present, key=lambda m: (m.open_cases, *_never_first(m), m.user_id))
    return chosen.user_id


def choose_member(assignment: str, members: Sequence[Member]) -> int | None:
    """The user id a new case goes to under ``assignment`` (None: nobody, or manual)."""
    if assignment == "round_robin":
        return round_robin(members)
    if assignment == "least_loaded":
        return least_loaded(members)
    if assignment == "manual":
        return None
    msg = f"assignment {assignment!r} is unknown; use {', '.join(ASSIGNMENTS)}"
    raise InvalidInput(msg)


def check_assignment(value: object, *, where: str = "assignment") -> str:
    """``value`` when it names an assignment method; InvalidInput otherwise."""
    if value not in ASSIGNMENTS:
        msg = f"{where}: {value!r} is unknown; use {', '.join(ASSIGNMENTS)}"
        raise InvalidInput(msg)
    return str(value)


def raised_priority(priority: str) -> str:
    """The next priority up (``urgent`` stays ``urgent``).

    >>> raised_priority("normal"), raised_priority("urgent")
    ('high', 'urgent')
    """
    if priority not in PRIORITY_ORDER:
        msg = f"priority {priority!r} is unknown; use {', '.join(PRIORITY_ORDER)}"
        raise InvalidInput(msg)
    return PRIORITY_ORDER[
        min(PRIORITY_ORDER.index(priority) + 1, len(PRIORITY_ORDER) - 1)
    ]
