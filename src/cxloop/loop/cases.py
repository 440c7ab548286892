"""Cases: open, route, take, answer, resolve and hand over customer cases.

Every change writes a ``case_event`` row (the history is never rewritten). Event
kinds and their ``data``: ``created`` {kind, priority, channel, topics, intent,
alert_rule_id}; ``taken`` {owner_id, by}; ``handed_over`` {from, to, to_email};
``status`` {from, to}; ``priority`` {from, to}; ``root_cause`` {root_cause, topic};
``comment``; ``reply`` {to, sent, message_id, articles, first_response}.
Routing (``routed`` / ``assigned``), SLA and follow-up modules add their own.

The first-owner rule (:func:`cxloop.domain.case_workflow.decide_owner`): the first
person who acts on an unowned case becomes its owner until they hand it over.
Inbox and case reads are in :mod:`cxloop.loop.case_views`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.customers.lookup import survivor_of
from cxloop.domain.case_workflow import (
    CaseAction,
    check_priority,
    check_root_cause,
    check_transition,
)
from cxloop.domain.errors import Conflict, InvalidInput, NotFound
from cxloop.domain.vocab import CaseKind, CaseStatus, Channel
from cxloop.loop import followup, routing, sla
from cxloop.loop.case_mail import reply_mail
from cxloop.loop.case_views import (
    ACTING_ROLES,
    CaseDetail,
    CaseEventInfo,
    CaseInfo,
    CasePage,
    Colleague,
    article_answers,
    case_info,
    colleagues,
    get_case,
    list_cases,
    uow,
)
from cxloop.loop.case_work import (
    Work,
    acting,
    acting_user,
    add_event,
    checked_text,
    move_status,
)
from cxloop.store.tables import (
    Case,
    Customer,
    Interaction,
    KbArticle,
    User,
)
from cxloop.store.types import utcnow
from cxloop.surveys.mailer import Mailer, MailError

__all__ = [
    "ACTING_ROLES",
    "CaseDetail",
    "CaseEventInfo",
    "CaseInfo",
    "CasePage",
    "Colleague",
    "add_comment",
    "article_answers",
    "colleagues",
    "find_user_id",
    "get_case",
    "hand_over",
    "list_cases",
    "open_case",
    "reply_to_customer",
    "set_priority",
    "set_root_cause",
    "set_status",
    "take_case",
]

MAX_TITLE = 300
MAX_TEXT = 20_000


def _vocab(value: str | None, enum: Any, name: str) -> str | None:
    if value is None or value == "":
        return None
    if value not in {item.value for item in enum}:
        choices = ", ".join(item.value for item in enum)
        raise InvalidInput(f"{name} {value!r} is unknown: choose one of {choices}")
    return str(value)


def _customer(session: Session, customer_id: int | None) -> Customer | None:
    if customer_id is None:
        return None
    if session.get(Customer, customer_id) is None:
        raise NotFound(f"customer {customer_id} does not exist")
    return session.get_one(Customer, survivor_of(session.connection(), customer_id))


def open_case(
    *,
    settings: Settings,
    customer_id: int | None,
    title: str,
    description: str | None = None,
    kind: str = "complaint",
    priority: str = "normal",
    channel: str | None = None,
    touchpoint: str | None = None,
    interaction_id: int | None = None,
    language: str | None = None,
    topics: Sequence[str] = (),
    intent: str | None = None,
    alert_rule_id: int | None = None,
    actor: str = "system",
    now: datetime | None = None,
) -> CaseInfo:
    """Open a case, route it to a team and agent, and set its SLA due times.

    All in one transaction: the case, its ``created`` event, routing
    (:func:`cxloop.loop.routing.route_case`) and the SLA policy
    (:func:`cxloop.loop.sla.apply_policy`). A merged customer's case goes to the
    customer it was merged into. NotFound names a missing customer or interaction.
    """
    moment = now or utcnow()
    checked_title = checked_text(title, "the title", required=True, limit=MAX_TITLE)
    about = checked_text(description, "the description", required=False, limit=MAX_TEXT)
    checked = {"kind": _vocab(kind, CaseKind, "kind"),
               "priority": check_priority(priority).value,
               "channel": _vocab(channel, Channel, "channel")}  # fmt: skip
    with uow(settings).session() as session:
        customer = _customer(session, customer_id)
        if (
            interaction_id is not None
            and session.get(Interaction, interaction_id) is None
        ):
            raise NotFound(f"interaction {interaction_id} does not exist")
        case = Case(
            customer_id=customer.id if customer else None, interaction_id=interaction_id,
            title=checked_title, description=about, status=CaseStatus.NEW.value,
            touchpoint=touchpoint or None, opened_at=moment, contacts=1,
            language=language or (customer.language if customer else None),
            source="alert" if alert_rule_id else "cxloop",
            external_id=uuid.uuid4().hex, alert_rule_id=alert_rule_id, **checked,
        )  # fmt: skip
        session.add(case)
        session.flush()
        add_event(session, case, moment, actor, "created", data={
            **checked, "topics": list(topics), "intent": intent,
            "alert_rule_id": alert_rule_id})  # fmt: skip
        routing.route_case(
            session, case, topics=topics, intent=intent, now=moment,
        )  # fmt: skip
        sla.apply_policy(session, case, now=moment)
        session.flush()
        return case_info(session, case.id)


def find_user_id(*, settings: Settings, email: str) -> int:
    """The id of the person signed up with ``email`` (NotFound otherwise)."""
    with uow(settings).session() as session:
        found = session.scalar(
            select(User.id).where(func.lower(User.email) == email.strip().lower())
        )
    if found is None:
        raise NotFound(f"no user has the e-mail {email.strip()!r}")
    return found


def take_case(
    *, settings: Settings, case_id: int, user_id: int, now: datetime | None = None
) -> CaseInfo:
    """``user_id`` takes an unowned case (Conflict when someone owns it)."""
    with acting(settings, case_id, user_id, CaseAction.TAKE, now) as work:
        return case_info(work.session, case_id)


def add_comment(
    *,
    settings: Settings,
    case_id: int,
    user_id: int,
    body: str,
    now: datetime | None = None,
) -> CaseInfo:
    """Add a note for colleagues (it neither needs nor claims ownership)."""
    text = checked_text(body, "the comment", required=True, limit=MAX_TEXT)
    with acting(settings, case_id, user_id, CaseAction.COMMENT, now) as work:
        add_event(
            work.session, work.case, work.now, work.actor.email, "comment", body=text
        )
        return case_info(work.session, case_id)


def _articles(session: Session, refs: Sequence[str]) -> list[KbArticle]:
    found = []
    for ref in refs:
        source, _, external_id = ref.partition(":")
        article = session.scalar(
            select(KbArticle).where(
                KbArticle.source == source, KbArticle.external_id == external_id
            )
        )
        if article is None:
            raise NotFound(f"knowledge-base article {ref!r} does not exist")
        found.append(article)
    return found


def reply_to_customer(
    *,
    settings: Settings,
    case_id: int,
    user_id: int,
    body: str,
    articles: Sequence[str] = (),
    send_email: bool = True,
    now: datetime | None = None,
) -> CaseInfo:
    """Answer the customer by e-mail (or record an answer given another way).

    ``articles`` (``source:external_id``) appends those knowledge-base answers to
    ``body``. The first reply sets the case's first response time. Nothing is
    recorded when the e-mail cannot be sent (InvalidInput says why).
    """
    with acting(settings, case_id, user_id, CaseAction.REPLY, now) as work:
        used = _articles(work.session, articles)
        text = "\n\n".join([body.strip(), *(a.answer.strip() for a in used)]).strip()
        text = checked_text(text, "the reply", required=True, limit=MAX_TEXT) or ""
        data: dict[str, Any] = {
            "articles": [f"{a.source}:{a.external_id}" for a in used],
            "sent": send_email, "first_response": work.case.first_response_at is None,
        }  # fmt: skip
        if send_email:
            data |= _send_reply(settings, work, text)
        if work.case.first_response_at is None:
            work.case.first_response_at = work.now
        add_event(work.session, work.case, work.now, work.actor.email, "reply",
               body=text, data=data)  # fmt: skip
        return case_info(work.session, case_id)


def _send_reply(settings: Settings, work: Work, text: str) -> dict[str, Any]:
    customer = work.session.get(Customer, work.case.customer_id or -1)
    if customer is None or not customer.email:
        msg = (f"case {work.case.id} has no customer e-mail address: answer another "
               "way and record it without sending")  # fmt: skip
        raise InvalidInput(msg)
    mail = reply_mail(
        case_id=work.case.id, title=work.case.title, to_address=customer.email,
        to_name=customer.name, language=work.case.language or customer.language,
        body=text, agent=work.actor.name or work.actor.email,
    )  # fmt: skip
    try:
        with Mailer(settings) as mailer:
            message_id = mailer.send(mail)
    except MailError as exc:
        raise InvalidInput(f"the reply was not sent: {exc}") from None
    return {"to": customer.email, "message_id": message_id}


def set_status(
    *,
    settings: Settings,
    case_id: int,
    user_id: int,
    status: str,
    resolution: str | None = None,
    now: datetime | None = None,
) -> CaseInfo:
    """Move the case along the workflow (resolving needs resolution notes and
    queues the follow-up survey through :func:`cxloop.loop.followup.on_case_resolved`)."""
    notes = checked_text(resolution, "the resolution", required=False, limit=MAX_TEXT)
    with acting(settings, case_id, user_id, CaseAction.STATUS, now) as work:
        target = check_transition(
            work.case.status, status, resolution=notes or work.case.resolution
        )
        if notes:
            work.case.resolution = notes
        move_status(work, target.value, body=notes)
        if target == CaseStatus.RESOLVED:
            work.session.flush()
            followup.on_case_resolved(work.session, work.case, now=work.now)
        return case_info(work.session, case_id)


def set_priority(
    *,
    settings: Settings,
    case_id: int,
    user_id: int,
    priority: str,
    now: datetime | None = None,
) -> CaseInfo:
    """Change the priority; the SLA due times follow the new priority's policy."""
    target = check_priority(priority).value
    with acting(settings, case_id, user_id, CaseAction.PRIORITY, now) as work:
        before = work.case.priority
        if before == target:
            raise Conflict(f"the case is already {target} priority")
        work.case.priority = target
        sla.apply_policy(work.session, work.case, now=work.now)
        add_event(work.session, work.case, work.now, work.actor.email, "priority",
               data={"from": before, "to": target})  # fmt: skip
        return case_info(work.session, case_id)


def set_root_cause(
    *,
    settings: Settings,
    case_id: int,
    user_id: int,
    root_cause: str,
    topic: str | None = None,
    now: datetime | None = None,
) -> CaseInfo:
    """Record why it happened: value, system or people, and a taxonomy topic."""
    cause = check_root_cause(root_cause).value
    checked_topic = checked_text(topic, "the topic", required=False, limit=100)
    with acting(settings, case_id, user_id, CaseAction.ROOT_CAUSE, now) as work:
        work.case.root_cause, work.case.root_cause_topic = cause, checked_topic
        add_event(work.session, work.case, work.now, work.actor.email, "root_cause",
               data={"root_cause": cause, "topic": checked_topic})  # fmt: skip
        return case_info(work.session, case_id)


def hand_over(
    *,
    settings: Settings,
    case_id: int,
    user_id: int,
    to_user_id: int,
    note: str | None = None,
    now: datetime | None = None,
) -> CaseInfo:
    """The owner (or an admin) hands the case over to another agent."""
    text = checked_text(note, "the note", required=False, limit=MAX_TEXT)
    with acting(settings, case_id, user_id, CaseAction.HAND_OVER, now) as work:
        target = acting_user(work.session, to_user_id)
        before = work.case.owner_id
        if before == target.id:
            raise Conflict(f"{target.email} already owns this case")
        work.case.owner_id = target.id
        add_event(work.session, work.case, work.now, work.actor.email, "handed_over",
               body=text, data={"from": before, "to": target.id,
                                "to_email": target.email})  # fmt: skip
        return case_info(work.session, case_id)
