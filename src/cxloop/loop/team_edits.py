"""Teams, routing rules and SLA policies as the dashboard shows and edits them.

:func:`routing_yaml` writes the store as a routing file (the format of
``cxloop team apply``; members without their away flag, which is kept);
:func:`save_routing_yaml` applies edited YAML through
:func:`cxloop.loop.teams.save_routing_rules`, so everything is checked before
anything is written, and a bad value is named by its path and line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from sqlalchemy import select

from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput, NotFound
from cxloop.domain.routing_rules import PRIORITY_ORDER
from cxloop.loop.sla_clocks import load_policies
from cxloop.loop.teams import RoutingSummary, save_routing_rules
from cxloop.loop.yaml_places import (
    PathStyle,
    PlacedInput,
    load_yaml_text,
    placed,
)
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import RoutingRule, Team, TeamMember, User

_STYLE = PathStyle(one_based=True)


@dataclass(frozen=True)
class RoutingRuleInfo:
    """A routing rule in the order rules are tried."""

    position: int
    name: str
    team_key: str
    team_name: str
    conditions: dict[str, list[str]]
    active: bool


def _uow(settings: Settings) -> UnitOfWork:
    return UnitOfWork(engine_for(settings.database_url))


def list_routing_rules(*, settings: Settings) -> list[RoutingRuleInfo]:
    """Every routing rule, in the order they are tried."""
    query = (
        select(RoutingRule, Team.key, Team.name)
        .join(Team, Team.id == RoutingRule.team_id)
        .order_by(RoutingRule.position, RoutingRule.id)
    )
    with _uow(settings).session() as session:
        return [
            RoutingRuleInfo(
                rule.position,
                rule.name,
                key,
                name,
                {k: list(v) for k, v in (rule.conditions or {}).items()},
                rule.active,
            )
            for rule, key, name in session.execute(query)
        ]


def _duration(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    return (
        f"{hours}h{rest}m" if hours and rest else f"{hours}h" if hours else f"{rest}m"
    )


def _teams(session: Any) -> list[dict[str, Any]]:
    members: dict[int, list[str]] = {}
    rows = session.execute(
        select(TeamMember.team_id, User.email)
        .join(User, User.id == TeamMember.user_id)
        .order_by(User.email)
    )
    for team_id, email in rows:
        members.setdefault(team_id, []).append(email)
    found = []
    for team in session.scalars(select(Team).order_by(Team.key)):
        entry: dict[str, Any] = {"key": team.key, "name": team.name}
        if team.lead_email:
            entry["lead"] = team.lead_email
        entry["assignment"] = team.assignment
        if team.calendar:
            entry["calendar"] = team.calendar
        found.append(entry | {"members": members.get(team.id, [])})
    return found


def routing_document(*, settings: Settings) -> dict[str, Any]:
    """The store's teams, routing rules and configured SLA policies as a routing file."""
    with _uow(settings).session() as session:
        teams = _teams(session)
        policies = load_policies(session)
    rules = []
    for rule in list_routing_rules(settings=settings):
        entry: dict[str, Any] = {"name": rule.name, "team": rule.team_key}
        if rule.conditions:
            entry["when"] = rule.conditions
        rules.append(entry | ({} if rule.active else {"active": False}))
    sla = {
        p: {"first_response": _duration(policies[p].first_response_minutes),
            "resolution": _duration(policies[p].resolution_minutes)}
        for p in reversed(PRIORITY_ORDER) if policies[p].configured
    }  # fmt: skip
    return {"teams": teams, "rules": rules, "sla": sla}


def routing_yaml(*, settings: Settings) -> str:
    """:func:`routing_document` written as YAML."""
    return yaml.safe_dump(
        routing_document(settings=settings),
        allow_unicode=True,
        sort_keys=False,
        width=100,
    )


def save_routing_yaml(*, settings: Settings, text: str) -> RoutingSummary:
    """Make the store match the routing YAML ``text`` (see :mod:`cxloop.loop.teams`).

    A relative ``calendar`` path is read from the server's working folder. On a bad
    value InvalidInput (or NotFound for an unknown user) names its line and path, and
    nothing is changed.
    """
    document = load_yaml_text(text)
    if document is not None and not isinstance(document, Mapping):
        msg = "line 1: the routing YAML must be a mapping with teams, rules and sla"
        raise PlacedInput(msg, line=1)
    try:
        return save_routing_rules(settings=settings, document=document)
    except NotFound as exc:
        raise placed(InvalidInput(str(exc)), text, _STYLE) from None
    except InvalidInput as exc:
        raise placed(exc, text, _STYLE) from None


def set_member_away(
    *, settings: Settings, team_key: str, user_id: int, away: bool
) -> None:
    """Mark member ``user_id`` of team ``team_key`` away (no new cases) or back.

    NotFound when the team does not exist or the user is not in it.
    """
    with _uow(settings).session() as session:
        member = session.scalar(
            select(TeamMember)
            .join(Team, Team.id == TeamMember.team_id)
            .where(Team.key == team_key, TeamMember.user_id == user_id)
        )
        if member is None:
            msg = f"user {user_id} is not a member of team {team_key!r}"
            raise NotFound(msg)
        member.away = away
