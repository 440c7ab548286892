"""Tell customers that an improvement they asked for has shipped.

:func:`announce_improvement` e-mails one message to the customers behind an
improvement initiative and records it on the initiative as a completed action
("Announced to N customers: <subject>"). By default the customers are those who gave
feedback in the initiative's scope: anyone with an answer on the initiative's metric
(NPS, CSAT or CES) that matches its scope filters (``{"touchpoint": "宅配"}``), at any
time. A saved segment or a list of customer ids may be named instead.

Unsubscribed customers and customers without an e-mail address are never mailed
(counted as skipped with the reason). When a customer holds a survey invitation, the
message carries its unsubscribe link.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.analytics import changes
from cxloop.analytics.engines import connect
from cxloop.config import Settings
from cxloop.customers.segments import segment_members
from cxloop.domain.errors import InvalidInput, NotFound
from cxloop.improve.initiatives import add_action, complete_action, get_initiative
from cxloop.store.engine import engine_for
from cxloop.store.tables import Customer, Invitation
from cxloop.surveys import invitations as inv
from cxloop.surveys.mailer import Mailer, MailError, OutgoingMail, escape

#: Longest subject accepted (it is also the title of the recorded action).
MAX_SUBJECT = 200
UNSUBSCRIBE = "取消訂閱 / Unsubscribe"


@dataclass(frozen=True)
class AnnouncementSummary:
    """Whom an announcement reached, and the action that records it."""

    initiative_id: int
    customers: int
    sent: int
    failed: int
    skipped: dict[str, int] = field(default_factory=dict)
    errors: tuple[str, ...] = ()
    action_id: int | None = None


@dataclass(frozen=True)
class _Recipient:
    customer_id: int
    email: str | None
    name: str | None
    unsubscribe_token: str | None


def announce_improvement(
    *,
    settings: Settings,
    initiative_id: int,
    segment_key: str | None = None,
    customer_ids: Sequence[int] | None = None,
    subject: str,
    body: str,
) -> AnnouncementSummary:
    """E-mail ``subject``/``body`` to the initiative's customers; record it on it.

    Parameters
    ----------
    segment_key, customer_ids
        Whom to tell instead of the customers who gave feedback in the scope (at
        most one of the two).
    subject, body
        The message: plain text, the same for everyone (``body`` paragraphs are
        separated by blank lines).

    Raises
    ------
    InvalidInput
        Both a segment and customer ids, or an empty or too long subject or body.
    NotFound
        No such initiative, segment or customer.
    """
    subject, body = _check_message(subject, body)
    if segment_key is not None and customer_ids is not None:
        raise InvalidInput("name a segment or customers, not both")
    initiative = get_initiative(settings=settings, initiative_id=initiative_id)
    if customer_ids is not None:
        ids = list(customer_ids)
    elif segment_key is not None:
        ids = segment_members(settings=settings, key=segment_key)
    else:
        ids = feedback_customers(settings=settings, metric=initiative.metric,
                                 scope=initiative.scope)  # fmt: skip
    recipients, skipped = _recipients(settings, ids)
    sent, failed, errors = _send(settings, recipients, subject, body)
    action = add_action(
        settings=settings, initiative_id=initiative_id,
        title=f"Announced to {sent} customers: {subject}",
    )  # fmt: skip
    complete_action(settings=settings, action_id=action.id)
    return AnnouncementSummary(
        initiative_id, len(recipients) + sum(skipped.values()), sent, failed,
        skipped, tuple(errors), action.id,
    )  # fmt: skip


def _check_message(subject: str, body: str) -> tuple[str, str]:
    subject, body = subject.strip(), body.strip()
    if not subject or not body:
        raise InvalidInput("an announcement needs a subject and a body")
    if len(subject) > MAX_SUBJECT:
        raise InvalidInput(f"the subject is longer than {MAX_SUBJECT} characters")
    return subject, body


def feedback_customers(
    *, settings: Settings, metric: str, scope: dict[str, str]
) -> list[int]:
    """The customers with an answer on ``metric`` that matches the scope filters."""
    with connect(settings) as source:
        table = changes.prepared(source, (), scope)
        chosen = table.filter(
            table.metric == metric, table.customer_id.notnull()
        ).select("customer_id")
        frame = chosen.distinct().execute()
    return sorted(int(value) for value in frame["customer_id"])


def _recipients(
    settings: Settings, ids: Sequence[int]
) -> tuple[list[_Recipient], dict[str, int]]:
    """The live customers to mail, and how many were skipped for each reason."""
    with Session(engine_for(settings.database_url)) as session:
        rows = {
            customer.id: customer
            for customer in session.scalars(
                select(Customer).where(Customer.id.in_(ids))
            )
        }
        missing = sorted(set(ids) - rows.keys())
        if missing:
            raise NotFound(f"no customer with id {missing[0]}")
        live: dict[int, Customer] = {}
        for customer in rows.values():
            found = inv.live_customer(session, customer)
            live.setdefault(found.id, found)
        blocked = inv.suppressed(session, list(live))
        reasons: Counter[str] = Counter()
        chosen = []
        for customer in live.values():
            email = (customer.email or "").strip() or None
            if customer.id in blocked:
                reasons[inv.UNSUBSCRIBED] += 1
            elif email is None:
                reasons[inv.NO_EMAIL] += 1
            else:
                token = _latest_token(session, customer.id)
                chosen.append(_Recipient(customer.id, email, customer.name, token))
    return chosen, dict(reasons)


def _latest_token(session: Session, customer_id: int) -> str | None:
    query = (
        select(Invitation.token)
        .where(Invitation.customer_id == customer_id)
        .order_by(Invitation.id.desc())
        .limit(1)
    )
    return session.scalar(query)


def _send(
    settings: Settings, recipients: list[_Recipient], subject: str, body: str
) -> tuple[int, int, list[str]]:
    sent, failed, errors = 0, 0, []
    with Mailer(settings) as mailer:
        for person in recipients:
            try:
                mailer.send(_mail(settings, person, subject, body))
            except (MailError, InvalidInput) as exc:
                failed += 1
                errors.append(f"customer {person.customer_id}: {exc}")
            else:
                sent += 1
    return sent, failed, errors


def _mail(
    settings: Settings, person: _Recipient, subject: str, body: str
) -> OutgoingMail:
    token = person.unsubscribe_token
    unsubscribe = inv.unsubscribe_link(settings, token) if token else None
    paragraphs = "".join(
        f"<p>{escape(part).replace(chr(10), '<br>')}</p>" for part in body.split("\n\n")
    )
    footer, text = "", body + "\n"
    if unsubscribe:
        text += f"\n-- \n{UNSUBSCRIBE}: {unsubscribe}\n"
        footer = (
            f'<p style="font-size:12px"><a href="{escape(unsubscribe)}">'
            f"{escape(UNSUBSCRIBE)}</a></p>"
        )
    html = (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f"<title>{escape(subject)}</title></head>"
        f'<body style="font-family:sans-serif;line-height:1.6">{paragraphs}{footer}'
        "</body></html>"
    )
    return OutgoingMail(
        person.email or "", person.name, subject, text, html, unsubscribe
    )
