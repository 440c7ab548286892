"""Replies: suggested articles and templates for a case, and automatic answers.

:func:`suggest_replies` ranks knowledge-base articles
(:func:`cxloop.loop.kb_service.search`) and reply templates
(:mod:`cxloop.loop.reply_templates`) by the case's title, description and the text of
the interaction that started it, and fills the templates for the case's customer.

:func:`auto_reply` answers an inbound question (a chat or e-mail interaction) with
the best article only when it is clearly ahead of the runner-up: the
:func:`confidence` of the answer is the relative lead ``(s1 - s2) / s1`` of the best
score over the second, and it must be above a threshold. Otherwise a person takes over:
a ``request`` case is opened with :func:`cxloop.loop.cases.open_case`. The default
thresholds were calibrated on the E.SUN bank FAQ (``bench/bench_auto_reply.py``:
chosen on half the held-out questions for a top-1 precision of at least 0.92, then
measured on the other half), separately for BM25 alone and for the hybrid ranking
(scores on another scale). What was decided and sent is kept on the interaction
(``attributes["auto_reply"]``), so asking again sends nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput, NotFound
from cxloop.loop import cases, kb_service
from cxloop.loop.embeddings import local_embedder
from cxloop.loop.kb_service import KbMatch
from cxloop.loop.reply_templates import (
    FilledTemplate,
    fill,
    first_name,
    rank_templates,
    stored_templates,
)
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import (
    Case,
    Customer,
    CustomerProfile,
    Identity,
    Interaction,
    KbArticle,
    Transaction,
    User,
)
from cxloop.store.types import utcnow
from cxloop.surveys.mailer import Mailer, MailError, OutgoingMail, escape

#: Default confidence thresholds (see the module docstring and bench/README.md).
BM25_THRESHOLD = 0.40
HYBRID_THRESHOLD = 0.07
#: Channels whose interactions are inbound questions that may be answered.
QUESTION_CHANNELS = ("chat", "email")


@dataclass(frozen=True)
class ReplySuggestions:
    """Articles and filled templates for a case, best first."""

    articles: list[KbMatch]
    templates: list[FilledTemplate]


@dataclass(frozen=True)
class AutoReplyDecision:
    """What :func:`auto_reply` decided for one interaction.

    ``action``: ``answered`` (the article's answer was sent, or is ``answer`` for the
    chat system to post when ``sent_to`` is None) or ``handed_over`` (``case_id``).
    ``repeated`` is True when the decision was taken by an earlier call.
    """

    interaction_id: int
    action: str
    confidence: float
    threshold: float
    article: str | None = None
    answer: str | None = None
    case_id: int | None = None
    sent_to: str | None = None
    message_id: str | None = None
    reason: str = ""
    repeated: bool = False
    matches: list[dict[str, Any]] = field(default_factory=list)


def confidence(best: float, second: float) -> float:
    """The relative lead of the best score over the runner-up, 0..1.

    >>> confidence(10.0, 6.0), confidence(0.0, 0.0)
    (0.4, 0.0)
    """
    if best <= 0:
        return 0.0
    return max(0.0, min(1.0, (best - second) / best))


def default_threshold(settings: Settings) -> float:
    """The calibrated threshold of the ranking in use (hybrid when a model is local)."""
    return HYBRID_THRESHOLD if local_embedder(settings) is not None else BM25_THRESHOLD


def _uow(settings: Settings) -> UnitOfWork:
    return UnitOfWork(engine_for(settings.database_url))


def _last_order(session: Session, customer_id: int, zone: str) -> str | None:
    profile = session.get(CustomerProfile, customer_id)
    last = profile.last_purchase_at if profile else None
    if last is None:
        last = session.scalar(
            select(func.max(Transaction.occurred_at)).where(
                Transaction.customer_id == customer_id, Transaction.kind == "purchase"
            )
        )
    return last.astimezone(ZoneInfo(zone)).date().isoformat() if last else None


def placeholder_values(
    session: Session, *, customer_id: int | None, agent: str | None,
    case_id: int | None, zone: str,
) -> dict[str, str | None]:  # fmt: skip
    """The values of every placeholder for a customer (None where unknown)."""
    values: dict[str, str | None] = {"agent_name": agent}
    values["case_id"] = str(case_id) if case_id is not None else None
    customer = session.get(Customer, customer_id) if customer_id else None
    if customer is None:
        return values
    member = session.scalar(
        select(Identity.value)
        .where(Identity.customer_id == customer.id, Identity.kind == "member_id")
        .order_by(Identity.id)
        .limit(1)
    )
    values |= {"name": customer.name, "first_name": first_name(customer.name),
               "member_id": member or customer.external_id,
               "last_order_date": _last_order(session, customer.id, zone)}  # fmt: skip
    return values


@dataclass(frozen=True)
class _CaseText:
    text: str
    language: str | None
    values: dict[str, str | None]


def _case_text(settings: Settings, case_id: int) -> _CaseText:
    with _uow(settings).session() as session:
        case = session.get(Case, case_id)
        if case is None:
            raise NotFound(f"case {case_id} does not exist")
        parts = [case.title, case.description or ""]
        if case.interaction_id is not None:
            interaction = session.get(Interaction, case.interaction_id)
            parts.append(interaction.text or "" if interaction else "")
        owner = session.get(User, case.owner_id) if case.owner_id else None
        agent = (owner.name or owner.email) if owner else case.owner
        values = placeholder_values(session, customer_id=case.customer_id, agent=agent,
                                    case_id=case.id, zone=settings.timezone)  # fmt: skip
        customer = session.get(Customer, case.customer_id) if case.customer_id else None
        language = case.language or (customer.language if customer else None)
    return _CaseText("\n".join(p for p in parts if p), language, values)


def _articles(settings: Settings, text: str, top: int) -> list[KbMatch]:
    """The best articles for ``text``; none when the knowledge base is empty."""
    with _uow(settings).session() as session:
        if session.scalar(select(KbArticle.id).limit(1)) is None:
            return []
    return kb_service.search(settings=settings, queries=[text], top=top)[0]


def suggest_replies(
    *, settings: Settings, case_id: int, top: int = 3
) -> ReplySuggestions:
    """The ``top`` best articles and templates for a case, templates filled.

    Templates in the case's language come first; a template that matches no word of
    the case still appears after those that do (up to ``top``).
    """
    if top < 1:
        raise InvalidInput(f"--top must be at least 1, got {top}")
    case = _case_text(settings, case_id)
    ranked = rank_templates(stored_templates(settings), case.text, case.language)
    return ReplySuggestions(
        articles=_articles(settings, case.text, top),
        templates=[fill(t, case.values, score) for t, score in ranked[:top]],
    )


@dataclass(frozen=True)
class _Question:
    id: int
    text: str
    channel: str | None
    touchpoint: str | None
    language: str | None
    intent: str | None
    topics: tuple[str, ...]
    customer_id: int | None
    email: str | None
    name: str | None
    earlier: dict[str, Any] | None


def _question(settings: Settings, interaction_id: int) -> _Question:
    with _uow(settings).session() as session:
        row = session.get(Interaction, interaction_id)
        if row is None:
            raise NotFound(f"interaction {interaction_id} does not exist")
        if row.channel not in QUESTION_CHANNELS and row.kind != "chat":
            raise InvalidInput(
                f"interaction {interaction_id} is a {row.kind} on {row.channel or 'no channel'}: "
                "automatic replies answer inbound chat and e-mail questions only"
            )
        customer = session.get(Customer, row.customer_id) if row.customer_id else None
        earlier = (row.attributes or {}).get("auto_reply")
        return _Question(
            row.id, (row.text or "").strip(), row.channel, row.touchpoint,
            row.language or (customer.language if customer else None), row.intent,
            tuple(t for t in row.topics or () if isinstance(t, str)), row.customer_id,
            customer.email if customer else None, customer.name if customer else None,
            earlier if isinstance(earlier, dict) else None,
        )  # fmt: skip


def _record(settings: Settings, decision: AutoReplyDecision, now: datetime) -> None:
    kept = {name: getattr(decision, name) for name in (
        "action", "confidence", "threshold", "article", "answer", "case_id", "sent_to",
        "message_id", "reason", "matches")} | {"at": now.isoformat()}  # fmt: skip
    with _uow(settings).session() as session:
        row = session.get(Interaction, decision.interaction_id)
        if row is not None:
            row.attributes = {**(row.attributes or {}), "auto_reply": kept}


def _hand_over(
    settings: Settings, question: _Question, base: dict[str, Any], reason: str,
    now: datetime,
) -> AutoReplyDecision:  # fmt: skip
    title = question.text.splitlines()[0][:120] if question.text else "(no text)"
    info = cases.open_case(
        settings=settings, customer_id=question.customer_id,
        title=f"Question: {title}", description=question.text or None, kind="request",
        channel=question.channel, touchpoint=question.touchpoint,
        interaction_id=question.id, language=question.language,
        topics=question.topics, intent=question.intent, actor="auto-reply", now=now,
    )  # fmt: skip
    return AutoReplyDecision(
        **base, action="handed_over", case_id=info.id, reason=reason
    )


def answer_mail(
    question: _Question, answer: str, article_title: str | None
) -> OutgoingMail:
    """The automatic answer by e-mail, in the question's language."""
    english = (question.language or "").startswith("en")
    hello = (f"Hello {question.name}," if question.name else "Hello,") if english else (
        f"{question.name} 您好：" if question.name else "您好：")  # fmt: skip
    note = ("This answer was chosen automatically; reply to this message to reach a "
            "person.") if english else "這是系統自動回覆；如需專人協助，請直接回信。"  # fmt: skip
    text = f"{hello}\n\n{answer}\n\n-- \n{note}\n"
    html = "".join(f"<p>{escape(p)}</p>" for p in (hello, answer, note))
    subject = (article_title or ("Your question" if english else "您的問題"))[:200]
    return OutgoingMail(question.email or "", question.name, subject, text,
                        f'<!DOCTYPE html><html><body>{html.replace(chr(10), "<br>")}</body></html>')  # fmt: skip


def _answer(
    settings: Settings, question: _Question, match: KbMatch, base: dict[str, Any],
    now: datetime,
) -> AutoReplyDecision:  # fmt: skip
    with _uow(settings).session() as session:
        answer = (
            session.scalar(
                select(KbArticle.answer).where(
                    KbArticle.source == match.source,
                    KbArticle.external_id == match.external_id,
                )
            )
            or ""
        )
    if question.channel == "email":
        if not question.email:
            return _hand_over(
                settings, question, base, "no e-mail address to answer", now
            )
        try:
            with Mailer(settings) as mailer:
                sent = mailer.send(answer_mail(question, answer, match.title))
        except (MailError, InvalidInput) as exc:
            return _hand_over(
                settings, question, base, f"the answer was not sent: {exc}", now
            )
        return AutoReplyDecision(**base, action="answered", answer=answer,
                                 sent_to=question.email, message_id=sent)  # fmt: skip
    return AutoReplyDecision(**base, action="answered", answer=answer, reason="chat")


def auto_reply(
    *, settings: Settings, interaction_id: int, threshold: float | None = None,
    now: datetime | None = None, hand_over: str | None = None,
) -> AutoReplyDecision:  # fmt: skip
    """Answer an inbound question automatically when confident, else hand it over.

    ``threshold`` defaults to :func:`default_threshold`. A second call for the same
    interaction returns the first decision (``repeated``) and sends nothing. With
    ``hand_over`` (a reason) the question goes to a person whatever the confidence.
    """
    moment = now or utcnow()
    question = _question(settings, interaction_id)
    if question.earlier is not None:
        kept = {k: v for k, v in question.earlier.items() if k != "at"}
        return AutoReplyDecision(interaction_id=interaction_id, repeated=True, **kept)
    limit = default_threshold(settings) if threshold is None else threshold
    if not 0.0 <= limit <= 1.0:
        raise InvalidInput(f"the threshold must be between 0 and 1, got {limit}")
    found = _articles(settings, question.text, 2) if question.text else []
    scores = [m.score for m in found] + [0.0, 0.0]
    base: dict[str, Any] = {
        "interaction_id": interaction_id, "threshold": limit,
        "confidence": round(confidence(scores[0], scores[1]), 4),
        "article": f"{found[0].source}:{found[0].external_id}" if found else None,
        "matches": [{"article": f"{m.source}:{m.external_id}", "score": m.score} for m in found],
    }  # fmt: skip
    if hand_over is not None:
        decision = _hand_over(settings, question, base, hand_over, moment)
    elif found and base["confidence"] > limit:
        decision = _answer(settings, question, found[0], base, moment)
    else:
        why = f"confidence {base['confidence']:.2f} is not above {limit:.2f}"
        decision = _hand_over(
            settings, question, base, why if found else "no article matches", moment
        )
    _record(settings, decision, moment)
    return decision
