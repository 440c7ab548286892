"""Plain inserts for routing and SLA tests: agents, customers, cases and their events.

``open_routed_case`` does what opening a case does for routing and SLAs: it inserts
the case, routes it and sets its due times in one transaction.
"""

from __future__ import annotations

import importlib.util
import sys
import uuid
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from sqlalchemy import select

from cxloop.config import Settings
from cxloop.loop.routing import route_case
from cxloop.loop.sla import apply_policy
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import Case, CaseEvent, Customer, Segment, SegmentMember, User


def uow(settings: Settings) -> UnitOfWork:
    return UnitOfWork(engine_for(settings.database_url))


def add_agents(
    settings: Settings, *emails: str, language: str | None = None
) -> list[int]:
    """Active agents who can sign in (the password hash is a placeholder)."""
    with uow(settings).session() as session:
        users = [
            User(
                email=email,
                name=email.split("@")[0],
                password_hash="-",
                role="agent",
                language=language,
                is_active=True,
            )
            for email in emails
        ]
        session.add_all(users)
        session.flush()
        return [user.id for user in users]


def add_customer(
    settings: Settings, *, segment: str | None = None, saved: Sequence[str] = ()
) -> int:
    """A customer with a plain ``segment`` and membership of saved segments."""
    with uow(settings).session() as session:
        customer = Customer(name="陳小姐", segment=segment, attributes={})
        session.add(customer)
        session.flush()
        for key in saved:
            found = session.scalar(select(Segment).where(Segment.key == key))
            if found is None:
                found = Segment(key=key, name=key, definition={})
                session.add(found)
                session.flush()
            session.add(SegmentMember(segment_id=found.id, customer_id=customer.id))
        return customer.id


def case_row(**fields: Any) -> Case:
    values: dict[str, Any] = {"title": "退款還沒收到", "kind": "complaint",
                              "status": "new", "priority": "normal", "source": "test",
                              "external_id": uuid.uuid4().hex}  # fmt: skip
    values.update(fields)
    return Case(**values)


def open_routed_case(
    settings: Settings,
    *,
    now: datetime,
    topics: Sequence[str] = (),
    intent: str | None = None,
    **fields: Any,
) -> int:
    """Insert a case opened at ``now``, route it and set its due times."""
    with uow(settings).session() as session:
        case = case_row(opened_at=now, **fields)
        session.add(case)
        session.flush()
        route_case(session, case, topics=topics, intent=intent, now=now)
        apply_policy(session, case, now=now)
        return case.id


def add_case(settings: Settings, **fields: Any) -> int:
    """Insert a case as given (no routing, no due times unless given)."""
    with uow(settings).session() as session:
        case = case_row(**fields)
        session.add(case)
        session.flush()
        return case.id


def change_status(
    settings: Settings, case_id: int, at: datetime, to: str, **case_fields: Any
) -> None:
    """A ``status`` event as the case workflow writes it, and the new status."""
    with uow(settings).session() as session:
        case = session.get_one(Case, case_id)
        session.add(
            CaseEvent(
                case_id=case_id,
                at=at,
                actor="agent@heguang.example",
                kind="status",
                data={"from": case.status, "to": to},
            )
        )
        case.status = to
        for name, value in case_fields.items():
            setattr(case, name, value)


def get_case(settings: Settings, case_id: int) -> Case:
    with uow(settings).session() as session:
        return session.get_one(Case, case_id)


def events(settings: Settings, case_id: int, kind: str) -> list[dict[str, Any]]:
    """The ``data`` of the case's events of one kind, oldest first."""
    with uow(settings).session() as session:
        query = select(CaseEvent).where(
            CaseEvent.case_id == case_id, CaseEvent.kind == kind
        )
        return [e.data or {} for e in session.scalars(query.order_by(CaseEvent.id))]


def smtp_sink() -> ModuleType:
    """tests/surveys/smtp_sink.py (a real aiosmtpd server), loaded once."""
    if "smtp_sink" in sys.modules:
        return sys.modules["smtp_sink"]
    path = Path(__file__).resolve().parents[1] / "surveys" / "smtp_sink.py"
    spec = importlib.util.spec_from_file_location("smtp_sink", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["smtp_sink"] = module
    spec.loader.exec_module(module)
    return module
