"""Teams, their agents, routing rules and SLA policies, kept in the store.

:func:`apply_routing_file` makes the store match a routing file (see
:mod:`cxloop.domain.routing_config`): the teams in it are created or updated and get
exactly the members listed, the routing rules are replaced by the file's in its
order, and the SLA policies by those it gives (other priorities use the defaults).
Teams left out of the file are kept, with their cases. Everything is checked before
anything is written, and all is written in one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cxloop.accounts.service import normalise_email
from cxloop.config import Settings
from cxloop.domain.errors import Conflict, InvalidInput, NotFound
from cxloop.domain.routing_config import (
    TEAM_KEY,
    RoutingConfig,
    TeamSpec,
    parse_routing,
)
from cxloop.domain.routing_rules import check_assignment
from cxloop.loop.routing import open_case_counts
from cxloop.loop.sla_clocks import calendar_at
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import RoutingRule, SlaPolicy, Team, TeamMember, User


@dataclass(frozen=True)
class MemberInfo:
    """An agent of a team, with how many open cases they own."""

    user_id: int
    email: str
    name: str | None
    away: bool
    open_cases: int


@dataclass(frozen=True)
class TeamInfo:
    """A team and its members."""

    id: int
    key: str
    name: str
    lead_email: str | None
    assignment: str
    calendar: str | None
    members: tuple[MemberInfo, ...]


@dataclass(frozen=True)
class RoutingSummary:
    """What applying a routing file changed."""

    teams_created: tuple[str, ...]
    teams_updated: tuple[str, ...]
    members: int
    rules: int
    policies: int


def _uow(settings: Settings) -> UnitOfWork:
    return UnitOfWork(engine_for(settings.database_url))


def _team(session: Session, key: str) -> Team:
    team = session.scalar(select(Team).where(Team.key == key))
    if team is None:
        msg = f"no team {key!r}; see `cxloop team list`"
        raise NotFound(msg)
    return team


def _user(session: Session, email: str, where: str = "") -> User:
    address = normalise_email(email)
    user = session.scalar(select(User).where(User.email == address))
    if user is None:
        prefix = f"{where}: " if where else ""
        msg = f"{prefix}no user {address}; create one with `cxloop user create`"
        raise NotFound(msg)
    return user


def create_team(
    *,
    settings: Settings,
    key: str,
    name: str,
    lead_email: str | None = None,
    assignment: str = "round_robin",
    calendar: str | None = None,
) -> TeamInfo:
    """Create a team; Conflict when the key is taken."""
    if not TEAM_KEY.match(key):
        msg = f"team key {key!r} must be lower-case letters, digits, - or _"
        raise InvalidInput(msg)
    check_assignment(assignment)
    if calendar is not None:
        calendar_at(calendar)
    lead = None if lead_email is None else normalise_email(lead_email)
    with _uow(settings).session() as session:
        if session.scalar(select(Team.id).where(Team.key == key)) is not None:
            msg = f"team {key!r} already exists"
            raise Conflict(msg)
        session.add(
            Team(
                key=key,
                name=name,
                lead_email=lead,
                assignment=assignment,
                calendar=calendar,
            )
        )
        session.flush()
        return _info(session, _team(session, key))


def add_member(*, settings: Settings, team_key: str, email: str) -> TeamInfo:
    """Put the user with ``email`` in the team (nothing changes if already there)."""
    with _uow(settings).session() as session:
        team, user = _team(session, team_key), _user(session, email)
        found = session.scalar(
            select(TeamMember).where(
                TeamMember.team_id == team.id, TeamMember.user_id == user.id
            )
        )
        if found is None:
            session.add(TeamMember(team_id=team.id, user_id=user.id, away=False))
            session.flush()
        return _info(session, team)


def set_away(
    *, settings: Settings, email: str, away: bool = True, team_key: str | None = None
) -> int:
    """Mark an agent away (no new cases) or back, in all their teams or in one.

    Returns how many memberships were changed; NotFound when the agent is in none.
    """
    with _uow(settings).session() as session:
        user = _user(session, email)
        query = select(TeamMember).where(TeamMember.user_id == user.id)
        if team_key is not None:
            query = query.where(TeamMember.team_id == _team(session, team_key).id)
        memberships = list(session.scalars(query))
        if not memberships:
            where = f"team {team_key!r}" if team_key else "any team"
            msg = f"{user.email} is not a member of {where}"
            raise NotFound(msg)
        for member in memberships:
            member.away = away
        return len(memberships)


def list_teams(*, settings: Settings) -> list[TeamInfo]:
    """Every team with its members, by key."""
    with _uow(settings).session() as session:
        teams = session.scalars(select(Team).order_by(Team.key))
        return [_info(session, team) for team in teams]


def _info(session: Session, team: Team) -> TeamInfo:
    rows = session.execute(
        select(TeamMember, User)
        .join(User, User.id == TeamMember.user_id)
        .where(TeamMember.team_id == team.id)
        .order_by(User.email)
    ).all()
    loads = open_case_counts(session, [user.id for _, user in rows])
    members = tuple(
        MemberInfo(user.id, user.email, user.name, member.away, loads.get(user.id, 0))
        for member, user in rows
    )
    return TeamInfo(
        team.id, team.key, team.name, team.lead_email, team.assignment, team.calendar,
        members,
    )  # fmt: skip


def apply_routing_file(*, settings: Settings, path: str | Path) -> RoutingSummary:
    """Read a routing YAML file and make the store match it (see the module doc)."""
    file = Path(path)
    if not file.is_file():
        msg = f"{file}: no such file"
        raise InvalidInput(msg)
    try:
        document = yaml.safe_load(file.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        msg = f"{file}: not UTF-8 text"
        raise InvalidInput(msg) from None
    except yaml.YAMLError as exc:
        msg = f"{file}: not valid YAML: {' '.join(str(exc).split())}"
        raise InvalidInput(msg) from None
    try:
        return save_routing_rules(
            settings=settings, document=document, base_dir=file.parent
        )
    except (InvalidInput, NotFound) as exc:
        raise type(exc)(f"{file}: {exc}") from None


def save_routing_rules(
    *,
    settings: Settings,
    document: Mapping[str, Any] | None,
    base_dir: Path | None = None,
) -> RoutingSummary:
    """Make the store match a routing document (the parsed YAML mapping).

    A team's ``calendar`` is read relative to ``base_dir`` (the file's folder) and
    stored as an absolute path; it must load as a calendar.
    """
    config = parse_routing(document)
    calendars = _calendars(config, base_dir or Path.cwd())
    with _uow(settings).session() as session:
        users = _users_of(session, config)
        existing = {t.key: t for t in session.scalars(select(Team))}
        known = set(existing) | {t.key for t in config.teams}
        for i, rule in enumerate(config.rules):
            if rule.team not in known:
                msg = f"rules[{i + 1}].team: no team {rule.team!r} in the file or store"
                raise InvalidInput(msg)
        created, members = [], 0
        for spec in config.teams:
            if spec.key not in existing:
                created.append(spec.key)
                existing[spec.key] = Team(key=spec.key, name=spec.name)
                session.add(existing[spec.key])
            team = existing[spec.key]
            team.name, team.lead_email = spec.name, spec.lead_email
            team.assignment, team.calendar = spec.assignment, calendars[spec.key]
            session.flush()
            members += _set_members(session, team, spec, users)
        _replace_rules(session, config, existing)
        _replace_policies(session, config)
    return RoutingSummary(
        teams_created=tuple(created),
        teams_updated=tuple(t.key for t in config.teams if t.key not in created),
        members=members,
        rules=len(config.rules),
        policies=len(config.policies),
    )


def _calendars(config: RoutingConfig, base_dir: Path) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for i, team in enumerate(config.teams):
        if team.calendar is None:
            found[team.key] = None
            continue
        path = (base_dir / team.calendar).resolve()
        try:
            calendar_at(str(path))
        except InvalidInput as exc:
            msg = f"teams[{i + 1}].calendar: {exc}"
            raise InvalidInput(msg) from None
        found[team.key] = str(path)
    return found


def _users_of(session: Session, config: RoutingConfig) -> dict[str, User]:
    users: dict[str, User] = {}
    for i, team in enumerate(config.teams):
        for j, member in enumerate(team.members):
            if member.email not in users:
                where = f"teams[{i + 1}].members[{j + 1}]"
                users[member.email] = _user(session, member.email, where)
    return users


def _set_members(
    session: Session, team: Team, spec: TeamSpec, users: dict[str, User]
) -> int:
    current = {
        m.user_id: m
        for m in session.scalars(
            select(TeamMember).where(TeamMember.team_id == team.id)
        )
    }
    wanted = {users[m.email].id: m for m in spec.members}
    for user_id, member in current.items():
        if user_id not in wanted:
            session.delete(member)
    for user_id, given in wanted.items():
        row = current.get(user_id)
        if row is None:
            row = TeamMember(team_id=team.id, user_id=user_id, away=False)
            session.add(row)
        if given.away is not None:
            row.away = given.away
    return len(wanted)


def _replace_rules(
    session: Session, config: RoutingConfig, teams: dict[str, Team]
) -> None:
    session.execute(delete(RoutingRule))
    for position, rule in enumerate(config.rules, start=1):
        session.add(
            RoutingRule(
                position=position,
                name=rule.name,
                conditions={k: list(v) for k, v in rule.conditions.items()},
                team_id=teams[rule.team].id,
                active=rule.active,
            )
        )


def _replace_policies(session: Session, config: RoutingConfig) -> None:
    session.execute(delete(SlaPolicy))
    for policy in config.policies:
        session.add(
            SlaPolicy(
                priority=policy.priority,
                first_response_minutes=policy.first_response_minutes,
                resolution_minutes=policy.resolution_minutes,
            )
        )
