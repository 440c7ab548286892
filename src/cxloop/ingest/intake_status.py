"""What became of one pushed interaction: its text scores, its automatic reply, its case.

A chat system that pushed a message with ``POST /api/v1/interactions`` asks
``GET /api/v1/interactions/{source}/{external_id}`` to learn whether cxloop answered it
(``auto_reply``: the article's answer for the chat to post, or the case it was handed
over to) and how the text was read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from cxloop.config import Settings
from cxloop.domain.errors import NotFound
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import Case, Interaction


@dataclass(frozen=True)
class InteractionStatus:
    """One stored interaction as the intake API reports it back."""

    id: int
    source: str
    external_id: str
    kind: str
    channel: str | None
    occurred_at: datetime
    customer_id: int | None
    language: str | None
    sentiment: str | None
    sentiment_score: float | None
    emotion: str | None
    intent: str | None
    topics: list[Any]
    text_scored_at: datetime | None
    auto_reply: dict[str, Any] | None
    case_id: int | None


def interaction_status(
    *, settings: Settings, source: str, external_id: str
) -> InteractionStatus:
    """The interaction pushed as ``(source, external_id)``.

    Raises
    ------
    NotFound
        Nothing was stored under that source and id.
    """
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        row = session.scalar(
            select(Interaction).where(
                Interaction.source == source, Interaction.external_id == external_id
            )
        )
        if row is None:
            raise NotFound(f"no interaction {external_id!r} from source {source!r}")
        case_id = session.scalar(
            select(Case.id).where(Case.interaction_id == row.id).order_by(Case.id)
        )
        reply = (row.attributes or {}).get("auto_reply")
        return InteractionStatus(
            id=row.id, source=row.source, external_id=row.external_id, kind=row.kind,
            channel=row.channel, occurred_at=row.occurred_at,
            customer_id=row.customer_id, language=row.language,
            sentiment=row.sentiment, sentiment_score=row.sentiment_score,
            emotion=row.emotion, intent=row.intent, topics=list(row.topics or []),
            text_scored_at=row.text_scored_at,
            auto_reply=dict(reply) if isinstance(reply, dict) else None,
            case_id=case_id,
        )  # fmt: skip
