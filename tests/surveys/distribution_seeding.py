"""Surveys and customers for the distribution tests (invitations, triggers, dispatch)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from cxloop.config import Settings
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import Case, Customer, Interaction, Invitation, Transaction
from cxloop.surveys.definitions import SurveyRecord, save_survey


def survey_definition(key: str, zh: str, en: str) -> dict[str, Any]:
    return {
        "key": key,
        "name": {"zh-TW": zh, "en": en},
        "questions": [
            {"key": "nps", "type": "nps", "required": True,
             "text": {"zh-TW": "您有多大可能推薦我們？",
                      "en": "How likely are you to recommend us?"}},
            {"key": "why", "type": "text",
             "text": {"zh-TW": "原因是什麼？", "en": "Why?"}},
        ],
    }  # fmt: skip


def make_surveys(settings: Settings) -> tuple[SurveyRecord, SurveyRecord]:
    """Two active surveys: relational NPS and post-purchase CSAT-like NPS."""
    first = save_survey(
        settings=settings,
        definition=survey_definition("relational", "年度顧客滿意調查", "Yearly survey"),
    )
    second = save_survey(
        settings=settings,
        definition=survey_definition(
            "after-purchase", "購物後回饋", "After your order"
        ),
    )
    return first, second


def add_customer(
    settings: Settings,
    name: str | None,
    email: str | None,
    *,
    language: str | None = "zh-TW",
    external_id: str | None = None,
) -> int:
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        customer = Customer(name=name, email=email, language=language,
                            external_id=external_id)  # fmt: skip
        session.add(customer)
        session.flush()
        return customer.id


def add_purchase(
    settings: Settings, customer_id: int | None, at: datetime, *, ref: str,
    channel: str = "web", touchpoint: str | None = None,
) -> int:  # fmt: skip
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        row = Transaction(customer_id=customer_id, occurred_at=at, kind="purchase",
                          amount=Decimal("1280.00"), currency="TWD", channel=channel,
                          touchpoint=touchpoint, source="pos", external_id=ref)  # fmt: skip
        session.add(row)
        session.flush()
        return row.id


def add_interaction(
    settings: Settings, customer_id: int, at: datetime, *, ref: str, kind: str,
    touchpoint: str, channel: str = "store",
) -> int:  # fmt: skip
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        row = Interaction(customer_id=customer_id, occurred_at=at, kind=kind,
                          touchpoint=touchpoint, channel=channel, source="crm",
                          external_id=ref)  # fmt: skip
        session.add(row)
        session.flush()
        return row.id


def add_case(
    settings: Settings, customer_id: int, opened: datetime, resolved: datetime | None
) -> int:
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        row = Case(customer_id=customer_id, title="退貨延遲", opened_at=opened,
                   resolved_at=resolved, source="helpdesk",
                   external_id=f"T{opened.timestamp():.0f}")  # fmt: skip
        session.add(row)
        session.flush()
        return row.id


def resolve_case(settings: Settings, case_id: int, at: datetime) -> None:
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        case = session.get(Case, case_id)
        assert case is not None
        case.resolved_at = at


def invitations(settings: Settings, customer_id: int | None = None) -> list[Invitation]:
    """Invitations (of one customer, or all), oldest first."""
    query = select(Invitation).order_by(Invitation.id)
    if customer_id is not None:
        query = query.where(Invitation.customer_id == customer_id)
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        return list(session.scalars(query))
