"""Automatic replies to new inbound questions: one periodic pass of the worker.

:func:`run_auto_replies` runs when ``CXLOOP_AUTO_REPLY`` is on (off by default). It
looks at the inbound questions of the last :data:`MAX_AGE` (by the time the message
was written, so a backfill of old chats is never answered) and hands each new one to
:func:`cxloop.loop.replies.auto_reply`: the best knowledge-base article is sent when
its confidence is above the calibrated threshold, and a person takes over (a routed
``request`` case) otherwise.

An inbound question is an interaction of kind chat, ticket, social_post or other,
on the chat or e-mail channel (any channel for chat), with text, and

- not a survey response, and not a message of our own: an item whose attributes say
  ``direction: outbound`` (an agent's or a bot's message a chat system pushed) is
  left alone;
- not already the interaction of a case (an alert rule opened one for it, say: a
  person answers it there);
- not decided before: the decision is kept on the interaction
  (``attributes["auto_reply"]``).

Each question is claimed first (``attributes["auto_reply_claim"]``, written with the
row locked), so several workers may run the pass at once and still answer once. A
claim that did not end in a decision is taken again after :data:`CLAIM_TTL`: when the
answer failed with an error, the question is tried again; when the worker stopped
without a word, the reply may already have gone out, so the question is handed over to
a person instead (a case, nothing sent): a customer never gets the same automatic reply
twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, exists, or_, select, update

from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput
from cxloop.loop import replies
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import Case, Interaction
from cxloop.store.types import utcnow

logger = logging.getLogger(__name__)

#: Kinds of interaction that may hold an inbound question.
INBOUND_KINDS = ("chat", "ticket", "social_post", "other")
#: Questions older than this (by ``occurred_at``) are not answered automatically.
MAX_AGE = timedelta(hours=24)
#: A claim without a decision is taken again after this long.
CLAIM_TTL = timedelta(minutes=15)
#: Questions one pass decides at most.
DEFAULT_LIMIT = 200
#: Attribute keys: the decision (written by ``replies.auto_reply``) and the claim.
DECISION_KEY = "auto_reply"
CLAIM_KEY = "auto_reply_claim"
#: ``attributes["direction"]`` values of messages sent by the business itself.
OUTBOUND = ("outbound", "outgoing")
KEPT_ERRORS = 20
#: How a claim was won: a new question, or one whose last claim ended silently.
FRESH, SILENT = "fresh", "silent"
#: The hand-over reason after a silent stop.
SILENT_STOP = (
    "an earlier automatic reply attempt stopped without a result; it may have been sent"
)


@dataclass(frozen=True)
class AutoReplyPass:
    """What one :func:`run_auto_replies` pass did (``enabled`` False: switched off)."""

    enabled: bool = True
    looked_at: int = 0
    answered: int = 0
    handed_over: int = 0
    failed: int = 0
    errors: tuple[str, ...] = field(default=())


def run_auto_replies(
    *, settings: Settings, now: datetime | None = None, limit: int = DEFAULT_LIMIT
) -> AutoReplyPass:
    """Answer or hand over every new inbound question once; see the module docstring.

    Parameters
    ----------
    settings
        ``settings.auto_reply`` off: nothing is done.
    now
        The time of the pass (aware; default: now): the window of :data:`MAX_AGE`
        ends here and decisions are stamped with it.
    limit
        At most this many questions are decided in one pass (the rest wait).
    """
    if limit < 1:
        raise InvalidInput(f"limit {limit} must be at least 1")
    if not settings.auto_reply:
        return AutoReplyPass(enabled=False)
    moment = now or utcnow()
    engine = engine_for(settings.database_url)
    candidates = _candidates(engine, moment, limit)
    tally = {"answered": 0, "handed_over": 0, "failed": 0}
    errors: list[str] = []
    for interaction_id in candidates:
        claim = _claim(engine, interaction_id, moment)
        if claim is None:
            continue
        outcome, error = _decide(settings, engine, interaction_id, moment,
                                 after_silent_stop=claim == SILENT)  # fmt: skip
        tally[outcome] += 1
        if error is not None and len(errors) < KEPT_ERRORS:
            errors.append(error)
    return AutoReplyPass(True, len(candidates), tally["answered"],
                         tally["handed_over"], tally["failed"], tuple(errors))  # fmt: skip


def _candidates(engine: Engine, now: datetime, limit: int) -> list[int]:
    """Inbound questions of the window that may still need a decision."""
    is_case = exists().where(Case.interaction_id == Interaction.id)
    query = (
        select(Interaction.id, Interaction.attributes)
        .where(
            Interaction.occurred_at >= now - MAX_AGE,
            Interaction.kind.in_(INBOUND_KINDS),
            or_(
                Interaction.channel.in_(replies.QUESTION_CHANNELS),
                Interaction.kind == "chat",
            ),
            Interaction.text.is_not(None),
            Interaction.text != "",
            ~is_case,
        )
        .order_by(Interaction.occurred_at, Interaction.id)
    )
    found: list[int] = []
    with engine.connect() as conn:
        for interaction_id, attributes in conn.execute(query):
            if _open(attributes, now):
                found.append(interaction_id)
                if len(found) == limit:
                    break
    return found


def _open(attributes: dict[str, Any] | None, now: datetime) -> bool:
    """True when no decision, no live claim, and not a message of our own."""
    values = attributes or {}
    if DECISION_KEY in values or values.get("direction") in OUTBOUND:
        return False
    claim = values.get(CLAIM_KEY)
    if not isinstance(claim, dict):
        return True
    try:
        claimed_at = datetime.fromisoformat(str(claim.get("at")))
    except ValueError:
        return True
    return claimed_at.tzinfo is None or now - claimed_at >= CLAIM_TTL


def _claim(engine: Engine, interaction_id: int, now: datetime) -> str | None:
    """Mark the question as being answered: :data:`FRESH` or :data:`SILENT` (an
    earlier claim ended with no decision and no error) when this pass won it, None
    when another pass holds it or it was decided.

    The row is locked first (a no-op update: a row lock on PostgreSQL, the write
    lock on SQLite), so the check and the mark cannot interleave with another pass.
    """
    with UnitOfWork(engine).session() as session:
        session.execute(
            update(Interaction)
            .where(Interaction.id == interaction_id)
            .values(attributes=Interaction.attributes)
        )
        row = session.get(Interaction, interaction_id, populate_existing=True)
        if row is None or not _open(row.attributes, now):
            return None
        earlier = (row.attributes or {}).get(CLAIM_KEY)
        silent = isinstance(earlier, dict) and "error" not in earlier
        row.attributes = {**(row.attributes or {}), CLAIM_KEY: {"at": now.isoformat()}}
        return SILENT if silent else FRESH


def _decide(
    settings: Settings, engine: Engine, interaction_id: int, now: datetime,
    *, after_silent_stop: bool = False,
) -> tuple[str, str | None]:  # fmt: skip
    """Answer or hand over one claimed question: (outcome, error or None)."""
    try:
        decision = replies.auto_reply(
            settings=settings, interaction_id=interaction_id, now=now,
            hand_over=SILENT_STOP if after_silent_stop else None,
        )  # fmt: skip
    except Exception as exc:  # recorded; the claim is taken again later
        logger.exception("automatic reply to interaction %s failed", interaction_id)
        error = f"interaction {interaction_id}: {type(exc).__name__}: {exc}"
        _note_failure(engine, interaction_id, now, error)
        return "failed", error
    if decision.action == "answered":
        return "answered", None
    return "handed_over", None


def _note_failure(
    engine: Engine, interaction_id: int, now: datetime, error: str
) -> None:
    with UnitOfWork(engine).session() as session:
        row = session.get(Interaction, interaction_id)
        if row is not None:
            claim = {"at": now.isoformat(), "error": error[:500]}
            row.attributes = {**(row.attributes or {}), CLAIM_KEY: claim}
