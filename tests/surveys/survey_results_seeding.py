"""Responses and invitations written with plain ORM inserts, for the results tests.

A response is stored as the response form stores it: an ``interaction`` (kind
``survey_response``), a ``survey_response`` row and one ``answer`` per answered question.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.domain.survey_spec import AnswerValue, encode_answer
from cxloop.store import tables
from cxloop.store.engine import UnitOfWork, make_engine
from cxloop.surveys.definitions import get_survey

_IDS = itertools.count(1)


@dataclass(frozen=True)
class Seeded:
    """One response: its answers by question key, when, and who (optional)."""

    answers: dict[str, AnswerValue]
    at: datetime
    status: str = "complete"
    customer_ref: str | None = None
    invited: bool = False
    extra: dict[str, str] = field(default_factory=dict)


def _customer(session: Session, ref: str) -> int:
    found = session.scalar(
        select(tables.Customer).where(tables.Customer.external_id == ref)
    )
    if found is None:
        found = tables.Customer(external_id=ref, name=ref, attributes={})
        session.add(found)
        session.flush()
    return int(found.id)


def seed_responses(settings: Settings, key: str, responses: Iterable[Seeded]) -> None:
    """Store each response of survey ``key`` (invited ones get a responded invitation)."""
    record = get_survey(settings=settings, key=key)
    engine = make_engine(settings.database_url)
    try:
        with UnitOfWork(engine).session() as session:
            for seeded in responses:
                n = next(_IDS)
                customer_id = (
                    _customer(session, seeded.customer_ref)
                    if seeded.customer_ref
                    else None
                )
                texts = [v for k, v in seeded.answers.items()
                         if record.spec.question(k).kind.value == "text"]  # fmt: skip
                interaction = tables.Interaction(
                    occurred_at=seeded.at, customer_id=customer_id, channel="web",
                    kind="survey_response", source=f"survey:{key}",
                    external_id=f"response:s{n}", text="\n\n".join(map(str, texts)),
                )  # fmt: skip
                session.add(interaction)
                session.flush()
                invitation_id = None
                if seeded.invited:
                    invitation = tables.Invitation(
                        survey_id=record.id, customer_id=customer_id, token=f"t{n}",
                        channel="email", status="responded", sent_at=seeded.at,
                    )  # fmt: skip
                    session.add(invitation)
                    session.flush()
                    invitation_id = invitation.id
                session.add(tables.SurveyResponse(
                    survey_id=record.id, invitation_id=invitation_id,
                    interaction_id=interaction.id, customer_id=customer_id,
                    submission_key=f"s{n}", status=seeded.status, language="zh-TW",
                    channel="web", started_at=seeded.at,
                    completed_at=seeded.at if seeded.status == "complete" else None,
                ))  # fmt: skip
                for question_key, answer in seeded.answers.items():
                    value, text = encode_answer(answer)
                    session.add(tables.Answer(
                        interaction_id=interaction.id,
                        question_id=record.question_ids[question_key],
                        metric=record.spec.question(question_key).metric,
                        value=value, text=text,
                    ))  # fmt: skip
    finally:
        engine.dispose()


def seed_invitations(
    settings: Settings, key: str, rows: Iterable[tuple[str, str | None]]
) -> None:
    """Invitations of survey ``key`` as ``(status, error)`` pairs, none answered."""
    record = get_survey(settings=settings, key=key)
    engine = make_engine(settings.database_url)
    try:
        with UnitOfWork(engine).session() as session:
            for status, error in rows:
                session.add(tables.Invitation(
                    survey_id=record.id, token=f"i{next(_IDS)}", channel="email",
                    status=status, error=error,
                ))  # fmt: skip
    finally:
        engine.dispose()
