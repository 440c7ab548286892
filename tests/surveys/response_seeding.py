"""A small NPS survey with conditional follow-ups, customers and personal invitations."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from cxloop.config import Settings
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import (
    Answer,
    Customer,
    Interaction,
    Invitation,
    SurveyResponse,
)
from cxloop.surveys.definitions import SurveyRecord, save_survey

NPS_SURVEY: dict[str, Any] = {
    "key": "shop-nps",
    "name": {"zh-TW": "購物體驗調查", "en": "Shopping survey"},
    "questions": [
        {"key": "nps", "type": "nps", "required": True,
         "text": {"zh-TW": "您有多大可能推薦我們？", "en": "How likely are you to recommend us?"}},
        {"key": "improve", "type": "text", "show_if": {"question": "nps", "max": 6},
         "text": {"zh-TW": "我們該改進什麼？", "en": "What should we improve?"}},
        {"key": "liked", "type": "text", "show_if": {"question": "nps", "min": 9},
         "text": {"zh-TW": "您喜歡什麼？", "en": "What did you like?"}},
        {"key": "channel", "type": "single",
         "text": {"zh-TW": "您在哪裡購物？", "en": "Where did you shop?"},
         "choices": [{"value": "app", "text": {"zh-TW": "App", "en": "App"}},
                     {"value": "store", "text": {"zh-TW": "門市", "en": "Store"}}]},
        {"key": "topics", "type": "multiple",
         "text": {"zh-TW": "哪些方面？", "en": "Which parts?"},
         "choices": [{"value": "price", "text": {"zh-TW": "價格", "en": "Price"}},
                     {"value": "delivery", "text": {"zh-TW": "配送", "en": "Delivery"}}]},
    ],
}  # fmt: skip


def make_survey(settings: Settings, status: str = "active") -> SurveyRecord:
    return save_survey(settings=settings, definition=NPS_SURVEY, status=status)


def make_invitation(
    settings: Settings,
    survey: SurveyRecord,
    *,
    expires_at: datetime | None = None,
    attributes: dict[str, Any] | None = None,
    language: str | None = "zh-TW",
) -> tuple[str, int]:
    """A customer and an e-mail invitation to ``survey``: (token, customer id)."""
    token = secrets.token_urlsafe(16)
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        customer = Customer(name="陳美玲", email=f"{token[:6]}@example.com")
        session.add(customer)
        session.flush()
        session.add(
            Invitation(survey_id=survey.id, customer_id=customer.id, token=token,
                       channel="email", status="sent", language=language,
                       expires_at=expires_at, attributes=attributes)
        )  # fmt: skip
        return token, customer.id


def counts(settings: Settings) -> tuple[int, int, int]:
    """(responses, survey_response interactions, answers) in the store."""
    with engine_for(settings.database_url).connect() as conn:
        responses = conn.scalar(select(func.count()).select_from(SurveyResponse))
        interactions = conn.scalar(
            select(func.count())
            .select_from(Interaction)
            .where(Interaction.kind == "survey_response")
        )
        answers = conn.scalar(select(func.count()).select_from(Answer))
    return int(responses or 0), int(interactions or 0), int(answers or 0)


def invitation_row(settings: Settings, token: str) -> Invitation:
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        row = session.scalar(select(Invitation).where(Invitation.token == token))
        assert row is not None
        return row
