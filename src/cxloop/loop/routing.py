"""Routing: send a new case to a team by rules, then to an agent of that team.

Active rules are tried in ``position`` order and the first whose conditions all hold
(see :mod:`cxloop.domain.routing_rules`) names the team. Within the team, round-robin
gives the case to the present member assigned longest ago, least-loaded to the one
with the fewest open cases, and manual to nobody; away members are skipped. Each step
writes a case event: ``routed`` (data ``team``, ``team_id``, ``rule``, ``rule_id``;
team None when no rule matched) and ``assigned`` (data ``owner_id``, ``owner``,
``team``, ``method``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cxloop.domain.routing_rules import CaseFacts, Member, choose_member, first_match
from cxloop.loop.sla_clocks import OPEN_STATUSES
from cxloop.store.tables import (
    Case,
    CaseEvent,
    Customer,
    RoutingRule,
    Segment,
    SegmentMember,
    Team,
    TeamMember,
    User,
)

ACTOR = "system"


def route_case(
    session: Session,
    case: Case,
    *,
    topics: Sequence[str] = (),
    intent: str | None = None,
    segment_keys: Sequence[str] = (),
    now: datetime,
) -> None:
    """Set ``case.team_id`` from the first matching rule, then ``case.owner_id``.

    A case that already has an owner keeps it; one that matches no rule keeps the
    team it had (none, usually) and waits in the unassigned queue. The customer's
    saved segments and ``customer.segment`` count as segments besides
    ``segment_keys``. The case is flushed first when it has no id yet.
    """
    if case.id is None:
        session.flush()
    facts = CaseFacts(
        topics=frozenset(topics),
        intent=intent,
        channel=case.channel,
        segments=frozenset(segment_keys) | _segments_of(session, case.customer_id),
        language=case.language,
        touchpoint=case.touchpoint,
        kind=case.kind,
        priority=case.priority,
    )
    rules = list(
        session.scalars(
            select(RoutingRule)
            .where(RoutingRule.active.is_(True))
            .order_by(RoutingRule.position, RoutingRule.id)
        )
    )
    index = first_match([rule.conditions or {} for rule in rules], facts)
    if index is not None:
        team = session.get_one(Team, rules[index].team_id)
        case.team_id, case.team = team.id, team.key
        _event(session, case, now, "routed", f"→ {team.name}", {
            "team": team.key, "team_id": team.id,
            "rule": rules[index].name, "rule_id": rules[index].id,
        })  # fmt: skip
    else:
        _event(session, case, now, "routed", None, {
            "team": None, "team_id": None, "rule": None, "rule_id": None,
        })  # fmt: skip
    if case.team_id is not None and case.owner_id is None:
        assign_within_team(session, case, now=now)


def assign_within_team(session: Session, case: Case, *, now: datetime) -> int | None:
    """Give the case to an agent of its team by the team's method; the chosen id."""
    team = session.get_one(Team, case.team_id)
    rows = session.execute(
        select(TeamMember, User)
        .join(User, User.id == TeamMember.user_id)
        .where(TeamMember.team_id == team.id, User.is_active.is_(True))
    ).all()
    loads = open_case_counts(session, [user.id for _, user in rows])
    members = [
        Member(user.id, member.away, member.last_assigned_at, loads.get(user.id, 0))
        for member, user in rows
    ]
    chosen = choose_member(team.assignment, members)
    if chosen is None:
        return None
    member, user = next((m, u) for m, u in rows if u.id == chosen)
    case.owner_id = user.id
    member.last_assigned_at = now
    _event(session, case, now, "assigned", f"→ {user.name or user.email}", {
        "owner_id": user.id, "owner": user.email,
        "team": team.key, "method": team.assignment,
    })  # fmt: skip
    return user.id


def open_case_counts(session: Session, user_ids: Sequence[int]) -> dict[int, int]:
    """How many open cases (new, in progress, waiting) each user owns, in all teams."""
    if not user_ids:
        return {}
    query = (
        select(Case.owner_id, func.count())
        .where(Case.owner_id.in_(user_ids), Case.status.in_(OPEN_STATUSES))
        .group_by(Case.owner_id)
    )
    return {owner: count for owner, count in session.execute(query) if owner}


def _segments_of(session: Session, customer_id: int | None) -> frozenset[str]:
    if customer_id is None:
        return frozenset()
    saved = session.scalars(
        select(Segment.key)
        .join(SegmentMember, SegmentMember.segment_id == Segment.id)
        .where(SegmentMember.customer_id == customer_id)
    )
    plain = session.scalar(select(Customer.segment).where(Customer.id == customer_id))
    return frozenset([*saved, *([plain] if plain else [])])


def _event(
    session: Session,
    case: Case,
    now: datetime,
    kind: str,
    body: str | None,
    data: dict[str, object],
) -> None:
    session.add(
        CaseEvent(case_id=case.id, at=now, actor=ACTOR, kind=kind, body=body, data=data)
    )
