"""Scored answers written through the store ORM, for the web tests."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from cxloop.config import Settings
from cxloop.store import tables
from cxloop.store.engine import UnitOfWork, make_engine

HOSTILE_TOUCHPOINT = "<script>alert(1)</script>{{7*7}}\u202e門市結帳"
HOSTILE_CHANNEL = "<img src=x onerror=alert(2)>{{ 7*7 }}\u202e客服"


@dataclass(frozen=True)
class Batch:
    """Answers of one metric given on one day through one channel and touchpoint."""

    metric: str
    scores: tuple[float, ...]
    day: str
    channel: str
    touchpoint: str


def seed(settings: Settings, batches: Iterable[Batch]) -> None:
    """Write each batch as one interaction and one answer per score (noon UTC)."""
    engine = make_engine(settings.database_url)
    ids = itertools.count(1)
    try:
        with UnitOfWork(engine).session() as session:
            questions: dict[str, int] = {}
            for batch in batches:
                if batch.metric not in questions:
                    survey = tables.Survey(key=f"s-{batch.metric}", name=batch.metric)
                    session.add(survey)
                    session.flush()
                    question = tables.Question(
                        survey_id=survey.id, key=batch.metric, metric=batch.metric
                    )
                    session.add(question)
                    session.flush()
                    questions[batch.metric] = question.id
                at = datetime.fromisoformat(batch.day).replace(hour=12, tzinfo=UTC)
                for score in batch.scores:
                    interaction = tables.Interaction(
                        occurred_at=at,
                        channel=batch.channel,
                        touchpoint=batch.touchpoint,
                        kind="survey_response",
                        source="test",
                        external_id=f"t{next(ids)}",
                    )
                    session.add(interaction)
                    session.flush()
                    session.add(
                        tables.Answer(
                            interaction_id=interaction.id,
                            question_id=questions[batch.metric],
                            metric=batch.metric,
                            value=score,
                        )
                    )
    finally:
        engine.dispose()


#: A small company: two channels (one hostile), two touchpoints (one hostile), three
#: months; each month has NPS, CSAT and CES answers.
BATCHES: tuple[Batch, ...] = (
    Batch("nps", (10, 9, 9, 8, 7, 3, 10), "2025-01-10", "web", "checkout"),
    Batch("nps", (6, 5, 10, 9), "2025-01-20", "store", HOSTILE_TOUCHPOINT),
    Batch("nps", (10, 10, 2, 8, 9), "2025-02-11", "web", "checkout"),
    Batch("nps", (0, 4, 9, 9, 10, 6), "2025-02-15", HOSTILE_CHANNEL, "delivery"),
    Batch(
        "nps", (9, 9, 10, 7, 6, 10, 10, 8), "2025-03-05", "store", HOSTILE_TOUCHPOINT
    ),
    Batch("nps", (3, 9, 10), "2025-03-28", "web", "delivery"),
    Batch("csat", (5, 4, 4, 2, 3), "2025-01-12", "web", "checkout"),
    Batch("csat", (5, 5, 1, 4), "2025-02-12", "store", HOSTILE_TOUCHPOINT),
    Batch("csat", (3, 4, 5, 5, 4, 2), "2025-03-12", HOSTILE_CHANNEL, "delivery"),
    Batch("ces", (2, 3, 6, 7, 5), "2025-01-13", "web", "checkout"),
    Batch("ces", (1, 2, 2, 4), "2025-02-13", "store", HOSTILE_TOUCHPOINT),
    Batch("ces", (6, 7, 3), "2025-03-13", "web", "delivery"),
)


def scores(
    metric: str, channel: str | None = None, month: str | None = None
) -> list[float]:
    """Every seeded score of ``metric`` (in one channel or month, YYYY-MM, when given)."""
    return [
        score
        for batch in BATCHES
        if batch.metric == metric
        and (channel is None or batch.channel == channel)
        and (month is None or batch.day.startswith(month))
        for score in batch.scores
    ]
