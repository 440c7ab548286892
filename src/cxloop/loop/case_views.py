"""Reading cases: the inbox views and one case with its history and customer.

The inbox views: ``mine`` (owned by the user), ``team`` (cases of the user's teams),
``unassigned`` (nobody owns them), ``overdue`` (an SLA due time has passed) and
``all``. Each lists open cases by default (``status="open"``), most urgent first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, tuple_
from sqlalchemy import case as when
from sqlalchemy.orm import Session, aliased

from cxloop.config import Settings
from cxloop.customers.view import Customer360, customer_360
from cxloop.domain.case_workflow import (
    OPEN_STATUSES,
    PRIORITY_ORDER,
    DueSignal,
    check_priority,
    check_status,
    due_signal,
    next_statuses,
)
from cxloop.domain.errors import InvalidInput, NotFound
from cxloop.domain.vocab import CaseStatus
from cxloop.loop import sla
from cxloop.loop.sla import CaseSla
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import (
    Case,
    CaseEvent,
    Customer,
    KbArticle,
    Team,
    TeamMember,
    User,
)
from cxloop.store.types import utcnow

#: Roles that work cases; viewers read them.
ACTING_ROLES = frozenset({"agent", "analyst", "admin"})
VIEWS = ("mine", "team", "unassigned", "overdue", "all")
#: Most cases one inbox page shows.
MAX_PER_PAGE = 200
#: Timeline entries of the customer shown on a case.
CUSTOMER_TIMELINE = 30


@dataclass(frozen=True)
class CaseInfo:
    """One case as the inbox shows it."""

    id: int
    title: str
    status: str
    priority: str
    kind: str
    customer_id: int | None
    team_key: str | None
    owner_id: int | None
    owner_name: str | None
    opened_at: datetime
    first_response_due_at: datetime | None
    resolution_due_at: datetime | None
    channel: str | None
    touchpoint: str | None
    language: str | None
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    customer_name: str | None = None
    team_name: str | None = None

    def due(self, now: datetime | None = None) -> DueSignal:
        """The next SLA due time and whether it is missed at ``now``."""
        return due_signal(
            status=self.status,
            first_response_at=self.first_response_at,
            first_response_due_at=self.first_response_due_at,
            resolution_due_at=self.resolution_due_at,
            now=now or utcnow(),
        )


@dataclass(frozen=True)
class CaseEventInfo:
    """One line of a case's history."""

    id: int
    at: datetime
    actor: str
    actor_name: str | None
    kind: str
    body: str | None
    data: dict[str, Any]


@dataclass(frozen=True)
class CaseDetail:
    """A case with everything its page shows."""

    info: CaseInfo
    description: str | None
    resolution: str | None
    root_cause: str | None
    root_cause_topic: str | None
    interaction_id: int | None
    source: str
    external_id: str
    closed_at: datetime | None
    escalated_at: datetime | None
    followup_invitation_id: int | None
    followup_score: float | None
    followup_solved: bool | None
    events: list[CaseEventInfo]
    customer: Customer360 | None
    sla: CaseSla
    next_statuses: tuple[str, ...]


@dataclass(frozen=True)
class CasePage:
    """One page of an inbox view."""

    items: list[CaseInfo]
    total: int
    page: int
    per_page: int
    view: str

    @property
    def pages(self) -> int:
        """How many pages the view has (at least 1)."""
        return max(1, -(-self.total // self.per_page))


def uow(settings: Settings) -> UnitOfWork:
    """The unit of work of the settings' store."""
    return UnitOfWork(engine_for(settings.database_url))


_Owner = aliased(User)


def _info_query() -> Select[*tuple[Any, ...]]:
    return (
        select(Case, Team.key, Team.name, _Owner.name, _Owner.email, Customer.name)
        .outerjoin(Team, Team.id == Case.team_id)
        .outerjoin(_Owner, _Owner.id == Case.owner_id)
        .outerjoin(Customer, Customer.id == Case.customer_id)
    )


def _to_info(row: Any) -> CaseInfo:
    c, team_key, team_name, owner_name, owner_email, customer_name = row
    return CaseInfo(
        id=c.id, title=c.title, status=c.status, priority=c.priority, kind=c.kind,
        customer_id=c.customer_id, team_key=team_key, owner_id=c.owner_id,
        owner_name=owner_name or owner_email, opened_at=c.opened_at,
        first_response_due_at=c.first_response_due_at,
        resolution_due_at=c.resolution_due_at, channel=c.channel,
        touchpoint=c.touchpoint, language=c.language,
        first_response_at=c.first_response_at, resolved_at=c.resolved_at,
        customer_name=customer_name, team_name=team_name,
    )  # fmt: skip


def case_info(session: Session, case_id: int) -> CaseInfo:
    """The inbox line of case ``case_id`` (NotFound when there is none)."""
    row = session.execute(_info_query().where(Case.id == case_id)).first()
    if row is None:
        raise NotFound(f"case {case_id} does not exist")
    return _to_info(row)


def _overdue(now: datetime) -> ColumnElement[bool]:
    waiting = CaseStatus.WAITING_ON_CUSTOMER.value
    return or_(
        and_(Case.first_response_at.is_(None), Case.first_response_due_at < now),
        and_(Case.status != waiting, Case.resolution_due_at < now),
    )


def _view_filter(
    view: str, user_id: int | None, now: datetime
) -> ColumnElement[bool] | None:
    if view not in VIEWS:
        raise InvalidInput(
            f"view {view!r} is unknown: choose one of {', '.join(VIEWS)}"
        )
    if view in ("mine", "team") and user_id is None:
        raise InvalidInput(f"the {view} view needs a user: say who you are")
    if view == "mine":
        return Case.owner_id == user_id
    if view == "team":
        teams = select(TeamMember.team_id).where(TeamMember.user_id == user_id)
        return Case.team_id.in_(teams)
    if view == "unassigned":
        return Case.owner_id.is_(None)
    if view == "overdue":
        return _overdue(now)
    return None


def _status_filter(status: str) -> ColumnElement[bool] | None:
    if status == "open":
        return Case.status.in_([s.value for s in OPEN_STATUSES])
    if status == "any":
        return None
    return Case.status == check_status(status).value


def _rank() -> ColumnElement[int]:
    ranks = {p.value: len(PRIORITY_ORDER) - i for i, p in enumerate(PRIORITY_ORDER)}
    return when(ranks, value=Case.priority, else_=len(PRIORITY_ORDER))


def list_cases(
    *,
    settings: Settings,
    view: str = "all",
    user_id: int | None = None,
    status: str = "open",
    priority: str | None = None,
    team_key: str | None = None,
    query: str | None = None,
    page: int = 1,
    per_page: int = 25,
    now: datetime | None = None,
) -> CasePage:
    """One page of an inbox view, most urgent first, then the earliest due.

    Parameters
    ----------
    view
        mine, team, unassigned, overdue or all (``mine`` and ``team`` need ``user_id``).
    status
        ``open`` (new, in progress, waiting), ``any``, or one status.
    priority, team_key, query
        Optional filters: one priority, one team, words in the title.
    """
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        msg = f"page must be 1 or more and per page 1 to {MAX_PER_PAGE}"
        raise InvalidInput(msg)
    moment = now or utcnow()
    with uow(settings).session() as session:
        conditions = [
            _view_filter(view, user_id, moment),
            _status_filter(status),
            Case.priority == check_priority(priority).value if priority else None,
            Team.key == team_key if team_key else None,
            Case.title.contains(query.strip(), autoescape=True) if query else None,
        ]
        where = [c for c in conditions if c is not None]
        base = _info_query().where(*where)
        total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
        due = func.coalesce(Case.first_response_due_at, Case.resolution_due_at)
        rows = session.execute(
            base.order_by(_rank(), due.is_(None), due, Case.opened_at, Case.id)
            .limit(per_page)
            .offset((page - 1) * per_page)
        ).all()
        return CasePage([_to_info(r) for r in rows], total, page, per_page, view)


def _events(session: Session, case_id: int) -> list[CaseEventInfo]:
    rows = session.execute(
        select(CaseEvent, User.name)
        .outerjoin(User, User.email == CaseEvent.actor)
        .where(CaseEvent.case_id == case_id)
        .order_by(CaseEvent.at, CaseEvent.id)
    ).all()
    return [
        CaseEventInfo(e.id, e.at, e.actor, name, e.kind, e.body, dict(e.data or {}))
        for e, name in rows
    ]


def get_case(
    *, settings: Settings, case_id: int, now: datetime | None = None
) -> CaseDetail:
    """Case ``case_id`` with its history, SLA clocks and customer summary."""
    moment = now or utcnow()
    with uow(settings).session() as session:
        info = case_info(session, case_id)
        c = session.get_one(Case, case_id)
        clocks = sla.case_sla(session, c, now=moment)
        events = _events(session, case_id)
    customer = None
    if c.customer_id is not None:
        customer = customer_360(
            settings=settings, ref=c.customer_id, limit=CUSTOMER_TIMELINE
        )
    return CaseDetail(
        info=info, description=c.description, resolution=c.resolution,
        root_cause=c.root_cause, root_cause_topic=c.root_cause_topic,
        interaction_id=c.interaction_id, source=c.source, external_id=c.external_id,
        closed_at=c.closed_at, escalated_at=c.escalated_at,
        followup_invitation_id=c.followup_invitation_id,
        followup_score=c.followup_score, followup_solved=c.followup_solved,
        events=events, customer=customer, sla=clocks,
        next_statuses=tuple(s.value for s in next_statuses(c.status)),
    )  # fmt: skip


@dataclass(frozen=True)
class Colleague:
    """A person who can work cases (for hand-over choices)."""

    id: int
    email: str
    name: str | None


def colleagues(*, settings: Settings) -> list[Colleague]:
    """The active agents, analysts and admins, by name."""
    with uow(settings).session() as session:
        rows = session.scalars(
            select(User)
            .where(User.is_active.is_(True), User.role.in_(ACTING_ROLES))
            .order_by(func.coalesce(User.name, User.email), User.id)
        )
        return [Colleague(u.id, u.email, u.name) for u in rows]


def article_answers(
    *, settings: Settings, refs: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """The answer text of knowledge-base articles named by (source, external id)."""
    if not refs:
        return {}
    with uow(settings).session() as session:
        rows = session.execute(
            select(KbArticle.source, KbArticle.external_id, KbArticle.answer).where(
                tuple_(KbArticle.source, KbArticle.external_id).in_(list(refs))
            )
        )
        return {(source, ext): answer for source, ext, answer in rows}
