"""Scored answers for the initiative tests, written through the store ORM in bulk."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.store import tables
from cxloop.store.engine import UnitOfWork, make_engine

_IDS = itertools.count(1)


@dataclass(frozen=True)
class Batch:
    """Answers of one metric on one day at one touchpoint (noon UTC)."""

    metric: str
    scores: tuple[float, ...]
    day: str
    touchpoint: str = "宅配"
    channel: str = "web"


def repeat(counts: dict[float, int]) -> tuple[float, ...]:
    """``{10: 2, 3: 1}`` as ``(10, 10, 3)``: answers written as counts per score."""
    return tuple(score for score, n in counts.items() for _ in range(n))


def seed(settings: Settings, batches: Iterable[Batch]) -> None:
    """One interaction and one answer per score of each batch."""
    engine = make_engine(settings.database_url)
    try:
        with UnitOfWork(engine).session() as session:
            questions: dict[str, int] = {}
            for batch in batches:
                if batch.metric not in questions:
                    questions[batch.metric] = _question(session, batch.metric)
                at = datetime.fromisoformat(batch.day).replace(hour=12, tzinfo=UTC)
                interactions = [
                    tables.Interaction(
                        occurred_at=at, channel=batch.channel,
                        touchpoint=batch.touchpoint, kind="survey_response",
                        source="test", external_id=f"i{next(_IDS)}",
                    )
                    for _ in batch.scores
                ]  # fmt: skip
                session.add_all(interactions)
                session.flush()
                session.add_all(
                    tables.Answer(
                        interaction_id=row.id, question_id=questions[batch.metric],
                        metric=batch.metric, value=score,
                    )
                    for row, score in zip(interactions, batch.scores, strict=True)
                )  # fmt: skip
    finally:
        engine.dispose()


def _question(session: Session, metric: str) -> int:
    survey = tables.Survey(key=f"survey-{metric}", name=metric)
    session.add(survey)
    session.flush()
    question = tables.Question(survey_id=survey.id, key=metric, metric=metric)
    session.add(question)
    session.flush()
    return question.id
