"""The machinery every case change shares: the acting user, the first-owner rule,
status moves and history events (see :mod:`cxloop.loop.cases`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.domain.case_workflow import CaseAction, decide_owner, status_after_action
from cxloop.domain.errors import Conflict, InvalidInput, NotFound
from cxloop.domain.vocab import CaseStatus
from cxloop.loop import sla
from cxloop.loop.case_views import ACTING_ROLES, uow
from cxloop.store.tables import Case, CaseEvent, User
from cxloop.store.types import utcnow


def add_event(
    session: Session,
    case: Case,
    at: datetime,
    actor: str,
    kind: str,
    *,
    body: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    session.add(
        CaseEvent(case_id=case.id, at=at, actor=actor, kind=kind, body=body, data=data)
    )


def checked_text(
    value: str | None, name: str, *, required: bool, limit: int
) -> str | None:
    cleaned = (value or "").strip()
    if required and not cleaned:
        raise InvalidInput(f"{name} is empty: write something")
    if len(cleaned) > limit:
        raise InvalidInput(
            f"{name} is {len(cleaned)} characters long; the limit is {limit}"
        )
    return cleaned or None


def acting_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise NotFound(f"user {user_id} does not exist or is disabled")
    if user.role not in ACTING_ROLES:
        msg = f"{user.email} is a {user.role}: a {user.role} reads cases but cannot act"
        raise InvalidInput(msg)
    return user


def _owner_label(session: Session, case: Case) -> str | None:
    owner = session.get(User, case.owner_id) if case.owner_id else None
    return (owner.name or owner.email) if owner else None


@dataclass(frozen=True)
class Work:
    session: Session
    case: Case
    actor: User
    now: datetime


def _load(session: Session, case_id: int) -> Case:
    case = session.scalar(select(Case).where(Case.id == case_id).with_for_update())
    if case is None:
        raise NotFound(f"case {case_id} does not exist")
    return case


def _claim(work: Work, action: CaseAction) -> None:
    """Make the actor the owner of an unowned case (atomic: one winner)."""
    claimed = work.session.execute(
        update(Case)
        .where(Case.id == work.case.id, Case.owner_id.is_(None))
        .values(owner_id=work.actor.id)
    )
    if getattr(claimed, "rowcount", 1) != 1:
        raise Conflict("another agent took this case a moment ago")
    work.case.owner_id = work.actor.id
    add_event(work.session, work.case, work.now, work.actor.email, "taken",
           data={"owner_id": work.actor.id, "by": action.value})  # fmt: skip


def move_status(work: Work, target: str, *, body: str | None = None) -> None:
    """Move the case to ``target`` (already checked) and record it; leaving a wait
    on the customer moves the SLA due times by the pause."""
    case, before = work.case, work.case.status
    case.status = target
    if target == CaseStatus.RESOLVED:
        case.resolved_at = work.now
    elif target == CaseStatus.CLOSED:
        case.closed_at = work.now
    elif before == CaseStatus.RESOLVED:
        case.resolved_at = None
    add_event(work.session, case, work.now, work.actor.email, "status", body=body,
              data={"from": before, "to": target})  # fmt: skip
    if before == CaseStatus.WAITING_ON_CUSTOMER:
        work.session.flush()
        sla.apply_policy(work.session, case, now=work.now)


@contextmanager
def acting(
    settings: Settings,
    case_id: int,
    user_id: int,
    action: CaseAction,
    now: datetime | None,
) -> Iterator[Work]:
    """A transaction in which ``user_id`` does ``action`` to the case, after the
    first-owner rule and the automatic start of work on a new case."""
    with uow(settings).session() as session:
        case = _load(session, case_id)
        actor = acting_user(session, user_id)
        work = Work(session, case, actor, now or utcnow())
        decision = decide_owner(
            owner_id=case.owner_id, actor_id=actor.id, action=action,
            is_admin=actor.role == "admin", owner_label=_owner_label(session, case),
        )  # fmt: skip
        if decision.claims:
            _claim(work, action)
        started = status_after_action(case.status, action)
        if started is not None:
            move_status(work, started.value)
        yield work
        session.flush()
