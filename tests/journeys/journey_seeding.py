"""Interactions, answers and customers written through the store ORM, for journeys."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cxloop.config import Settings
from cxloop.store import tables
from cxloop.store.engine import UnitOfWork, make_engine


@dataclass(frozen=True)
class Event:
    """One interaction of a customer, with its scored answers and enrichment."""

    customer: int | None
    at: str  # ISO time in UTC
    channel: str
    touchpoint: str
    stage: str | None = None
    kind: str = "survey_response"
    answers: dict[str, float] = field(default_factory=dict)
    sentiment: float | None = None
    topics: list[Any] | None = None


def seed(
    settings: Settings,
    events: list[Event],
    segments: dict[int, str] | None = None,
    *,
    start: int = 1,
) -> None:
    """Write the customers not there yet (with ``segments``), then every event in
    order; ``start`` numbers the events' external ids (a second call passes another)."""
    engine = make_engine(settings.database_url)
    ids = itertools.count(start)
    try:
        with UnitOfWork(engine).session() as session:
            wanted = {e.customer for e in events if e.customer is not None}
            wanted -= {c.id for c in session.query(tables.Customer)}
            for number in sorted(wanted):
                segment = (segments or {}).get(number)
                session.add(
                    tables.Customer(id=number, name=f"c{number}", segment=segment)
                )
            session.flush()
            questions = _questions(session)
            for event in events:
                interaction = tables.Interaction(
                    customer_id=event.customer,
                    occurred_at=datetime.fromisoformat(event.at).replace(tzinfo=UTC),
                    channel=event.channel, touchpoint=event.touchpoint,
                    journey_stage=event.stage, kind=event.kind, source="test",
                    external_id=f"j{next(ids)}", sentiment_score=event.sentiment,
                    topics=event.topics,
                )  # fmt: skip
                session.add(interaction)
                session.flush()
                for metric, value in event.answers.items():
                    session.add(tables.Answer(interaction_id=interaction.id,
                                              question_id=questions[metric],
                                              metric=metric, value=value))  # fmt: skip
    finally:
        engine.dispose()


def _questions(session: Any) -> dict[str, int]:
    known = (
        session.query(tables.Question)
        .filter(tables.Question.key.in_(["nps", "csat", "ces"]))
        .all()
    )
    if known:
        return {q.metric: q.id for q in known}
    survey = tables.Survey(key="journey-test", name="journey test")
    session.add(survey)
    session.flush()
    found = {}
    for metric in ("nps", "csat", "ces"):
        question = tables.Question(survey_id=survey.id, key=metric, metric=metric)
        session.add(question)
        session.flush()
        found[metric] = question.id
    return found
