"""The routing file a manager edits: teams, their agents, routing rules, SLA policies.

>>> config = parse_routing({
...     "teams": [{"key": "billing", "name": "Billing", "members": ["amy@x.example"]}],
...     "rules": [{"name": "Refunds", "team": "billing", "when": {"topic": "refund"}}],
...     "sla": {"urgent": {"first_response": "30m", "resolution": "4h"}},
... })
>>> config.teams[0].members[0].email, config.rules[0].conditions["topic"]
('amy@x.example', ('refund',))
>>> config.policies[0].first_response_minutes, config.policies[0].resolution_minutes
(30, 240)

Errors name the path of the offending value, such as ``rules[2].when.channel``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cxloop.domain.errors import InvalidInput
from cxloop.domain.routing_rules import (
    PRIORITY_ORDER,
    check_assignment,
    parse_conditions,
)

TEAM_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_DURATION = re.compile(r"^(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?$")
_EMAIL = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"'.]+$")
#: At most a year of business minutes for one target.
MAX_MINUTES = 366 * 24 * 60
_TOP = ("teams", "rules", "sla")
_TEAM = ("key", "name", "lead", "assignment", "calendar", "members")
_MEMBER = ("email", "away")
_RULE = ("name", "team", "when", "active")
_POLICY = ("first_response", "resolution")


@dataclass(frozen=True)
class MemberSpec:
    """An agent named by e-mail; ``away`` None keeps what the store says."""

    email: str
    away: bool | None = None


@dataclass(frozen=True)
class TeamSpec:
    """A team as written in the routing file."""

    key: str
    name: str
    lead_email: str | None = None
    assignment: str = "round_robin"
    calendar: str | None = None
    members: tuple[MemberSpec, ...] = ()


@dataclass(frozen=True)
class RuleSpec:
    """A routing rule; rules are tried in file order."""

    name: str
    team: str
    conditions: Mapping[str, tuple[str, ...]]
    active: bool = True


@dataclass(frozen=True)
class PolicySpec:
    """SLA targets for one priority, in business minutes."""

    priority: str
    first_response_minutes: int
    resolution_minutes: int


@dataclass(frozen=True)
class RoutingConfig:
    """Everything in one routing file."""

    teams: tuple[TeamSpec, ...]
    rules: tuple[RuleSpec, ...]
    policies: tuple[PolicySpec, ...]


def parse_routing(document: object) -> RoutingConfig:
    """Validate a routing document (see docs/en/cases.md, "Routing")."""
    if document is None:
        document = {}
    if not isinstance(document, Mapping):
        raise InvalidInput("the routing file must be a mapping with teams, rules, sla")
    _known(document, _TOP, "")
    teams = tuple(_team(raw, f"teams[{i + 1}]") for i, raw in _items(document, "teams"))
    seen: set[str] = set()
    for i, team in enumerate(teams):
        if team.key in seen:
            msg = f"teams[{i + 1}].key: team {team.key!r} is listed twice"
            raise InvalidInput(msg)
        seen.add(team.key)
    rules = tuple(_rule(raw, f"rules[{i + 1}]") for i, raw in _items(document, "rules"))
    return RoutingConfig(
        teams=teams, rules=rules, policies=_policies(document.get("sla"))
    )


def _items(document: Mapping[str, Any], section: str) -> list[tuple[int, Any]]:
    items = document.get(section) or []
    if not isinstance(items, list):
        msg = f"{section}: must be a list"
        raise InvalidInput(msg)
    return list(enumerate(items))


def _known(mapping: Mapping[str, Any], keys: tuple[str, ...], where: str) -> None:
    for key in mapping:
        if key not in keys:
            at = f"{where}.{key}" if where else str(key)
            msg = f"{at}: unknown field; use {', '.join(keys)}"
            raise InvalidInput(msg)


def _mapping(raw: object, where: str, what: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        msg = f"{where}: must be a mapping ({what})"
        raise InvalidInput(msg)
    return raw


def _text(raw: object, where: str, *, required: bool = True) -> str | None:
    if raw is None and not required:
        return None
    if not isinstance(raw, str) or not raw.strip() or len(raw) > 200:
        msg = f"{where}: must be a text of 1 to 200 characters"
        raise InvalidInput(msg)
    return raw.strip()


def _email(raw: object, where: str) -> str:
    if not isinstance(raw, str) or not _EMAIL.match(raw.strip()):
        msg = f"{where}: {raw!r} is not an e-mail address"
        raise InvalidInput(msg)
    return raw.strip().lower()


def _team(raw: object, where: str) -> TeamSpec:
    team = _mapping(raw, where, "key, name, lead, assignment, calendar, members")
    _known(team, _TEAM, where)
    key = team.get("key")
    if not isinstance(key, str) or not TEAM_KEY.match(key):
        msg = f"{where}.key: {key!r} must be lower-case letters, digits, - or _"
        raise InvalidInput(msg)
    lead = team.get("lead")
    members = team.get("members") or []
    if not isinstance(members, list):
        raise InvalidInput(f"{where}.members: must be a list of e-mail addresses")
    return TeamSpec(
        key=key,
        name=_text(team.get("name", key), f"{where}.name") or key,
        lead_email=None if lead is None else _email(lead, f"{where}.lead"),
        assignment=check_assignment(
            team.get("assignment", "round_robin"), where=f"{where}.assignment"
        ),
        calendar=_text(team.get("calendar"), f"{where}.calendar", required=False),
        members=_members(members, f"{where}.members"),
    )


def _members(raw: list[Any], where: str) -> tuple[MemberSpec, ...]:
    members: dict[str, MemberSpec] = {}
    for i, item in enumerate(raw):
        at = f"{where}[{i + 1}]"
        entry = item if isinstance(item, Mapping) else {"email": item}
        _known(entry, _MEMBER, at)
        email = _email(entry.get("email"), f"{at}.email" if entry is item else at)
        away = entry.get("away")
        if away is not None and not isinstance(away, bool):
            raise InvalidInput(f"{at}.away: must be true or false")
        if email in members:
            raise InvalidInput(f"{at}: {email} is listed twice")
        members[email] = MemberSpec(email=email, away=away)
    return tuple(members.values())


def _rule(raw: object, where: str) -> RuleSpec:
    rule = _mapping(raw, where, "name, team, when, active")
    _known(rule, _RULE, where)
    team = rule.get("team")
    if not isinstance(team, str) or not TEAM_KEY.match(team):
        raise InvalidInput(f"{where}.team: give the key of a team, got {team!r}")
    active = rule.get("active", True)
    if not isinstance(active, bool):
        raise InvalidInput(f"{where}.active: must be true or false")
    return RuleSpec(
        name=_text(rule.get("name"), f"{where}.name") or "",
        team=team,
        conditions=parse_conditions(rule.get("when"), where=f"{where}.when"),
        active=active,
    )


def _policies(raw: object) -> tuple[PolicySpec, ...]:
    if raw is None:
        return ()
    policies = _mapping(raw, "sla", "priority: {first_response, resolution}")
    _known(policies, PRIORITY_ORDER, "sla")
    result = []
    for priority in PRIORITY_ORDER:
        if priority not in policies:
            continue
        where = f"sla.{priority}"
        entry = _mapping(policies[priority], where, "first_response, resolution")
        _known(entry, _POLICY, where)
        first = parse_minutes(entry.get("first_response"), f"{where}.first_response")
        resolution = parse_minutes(entry.get("resolution"), f"{where}.resolution")
        if first > resolution:
            msg = f"{where}: first_response ({first} min) exceeds resolution ({resolution} min)"
            raise InvalidInput(msg)
        result.append(PolicySpec(priority, first, resolution))
    return tuple(result)


def parse_minutes(raw: object, where: str = "duration") -> int:
    """Business minutes from ``90``, ``"90m"``, ``"4h"`` or ``"1h30m"`` (more than 0).

    >>> parse_minutes("1h30m"), parse_minutes(45), parse_minutes("8h")
    (90, 45, 480)
    """
    if isinstance(raw, int) and not isinstance(raw, bool):
        minutes = raw
    else:
        found = _DURATION.match(raw.strip().lower()) if isinstance(raw, str) else None
        if found is None or not any(found.groups()):
            msg = f'{where}: {raw!r} is not a duration; write minutes, "4h", "30m" or "1h30m"'
            raise InvalidInput(msg)
        hours, mins = (int(part or 0) for part in found.groups())
        minutes = hours * 60 + mins
    if not 0 < minutes <= MAX_MINUTES:
        msg = f"{where}: must be more than 0 and at most {MAX_MINUTES} minutes"
        raise InvalidInput(msg)
    return minutes
