"""Personal survey invitations: queue them, honour unsubscribes and the contact cap.

An invitation is a personal link (``{public_url}/r/{token}``) bound to one customer
and one survey. :func:`invite_customers` queues invitations for a list of customers or
a saved segment; the dispatcher (:mod:`cxloop.surveys.dispatch`) sends them when their
``send_after`` comes. A customer is skipped, with the reason, when they have no e-mail
address, unsubscribed (``contact_suppression``), were invited to any survey within
``contact_cap_days`` (the contact cap), or already hold an unanswered invitation to
this survey.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.customers.lookup import find_customer, survivor_of
from cxloop.customers.segments import segment_members
from cxloop.domain.errors import InvalidInput, NotFound
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import ContactSuppression, Customer, Invitation, Survey
from cxloop.store.types import utcnow

#: Channels an invitation can go out on: e-mail (sent by the dispatcher) or a bare
#: personal link the user hands out another way (status ``created``).
CHANNELS = ("email", "link")
#: Statuses that count as contacting the customer (the contact cap).
CONTACTED = ("created", "queued", "sending", "sent", "partial", "responded")
#: Statuses of an invitation still waiting for its answer.
UNANSWERED = ("created", "queued", "sending", "sent", "partial")
#: Reasons a customer is skipped (stored in ``invitation.error`` when recorded).
NO_EMAIL = "no e-mail address"
UNSUBSCRIBED = "unsubscribed"
CONTACT_CAP = "contact cap"
ALREADY_INVITED = "already invited to this survey"
_CHUNK = 500


@dataclass(frozen=True)
class Skip:
    """A customer who was not invited, and why."""

    customer_id: int
    reason: str


@dataclass(frozen=True)
class InviteSummary:
    """What :func:`invite_customers` did."""

    survey_key: str
    queued: int
    send_after: datetime
    skipped: tuple[Skip, ...] = ()

    def skipped_by_reason(self) -> dict[str, int]:
        """How many customers were skipped for each reason."""
        return dict(Counter(skip.reason for skip in self.skipped))


@dataclass(frozen=True)
class UnsubscribeResult:
    """The customer an unsubscribe is for, and whether it is new."""

    customer_id: int
    already: bool


@dataclass(frozen=True)
class UnsubscribeState:
    """What the unsubscribe page shows for a token."""

    survey_name: str
    email_hint: str
    language: str | None
    unsubscribed: bool


@dataclass
class _Candidate:
    customer_id: int
    email: str | None
    language: str
    extra: dict[str, Any] = field(default_factory=dict)


def _uow(settings: Settings) -> UnitOfWork:
    return UnitOfWork(engine_for(settings.database_url))


def personal_link(settings: Settings, token: str) -> str:
    """The personal survey link of an invitation token."""
    return f"{settings.public_url.rstrip('/')}/r/{token}"


def unsubscribe_link(settings: Settings, token: str) -> str:
    """The page where the holder of an invitation token unsubscribes."""
    return f"{settings.public_url.rstrip('/')}/unsubscribe/{token}"


def new_token() -> str:
    """A random, URL-safe invitation token (192 bits)."""
    return secrets.token_urlsafe(24)


def language_of(value: str | None, default: str) -> str:
    """The UI language (zh-TW or en) for a customer's language tag."""
    tag = (value or "").strip().lower()
    if tag.startswith("en"):
        return "en"
    if tag.startswith("zh"):
        return "zh-TW"
    return default


def insert_ignore(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows``, leaving out any that would break a unique constraint."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    session.execute(module.insert(table).on_conflict_do_nothing(), rows)


def invite_customers(
    *,
    settings: Settings,
    survey_key: str,
    customer_ids: Sequence[int] | None = None,
    segment_key: str | None = None,
    send_after: datetime | None = None,
    channel: str = "email",
) -> InviteSummary:
    """Queue one personal invitation per customer, or say why a customer is skipped.

    Parameters
    ----------
    customer_ids, segment_key
        Whom to invite: customer ids, or the members of a saved segment (one of the
        two). Merged customers stand for the customer they were merged into.
    send_after
        When the dispatcher may send (aware datetime); now when None.
    channel
        ``email`` (the dispatcher sends it) or ``link`` (status ``created``: the
        personal links are handed out another way).

    Raises
    ------
    InvalidInput
        Neither or both of ``customer_ids`` and ``segment_key``, an unknown channel,
        a naive ``send_after``, or a survey that is not active.
    NotFound
        No such survey, segment or customer.
    """
    ids = _whom(settings, customer_ids, segment_key)
    if channel not in CHANNELS:
        raise InvalidInput(f"channel {channel!r}: choose one of {', '.join(CHANNELS)}")
    if send_after is not None and send_after.tzinfo is None:
        raise InvalidInput("send_after needs a time zone")
    when = send_after or utcnow()
    with _uow(settings).session() as session:
        survey_id = _active_survey_id(session, survey_key)
        candidates = _candidates(session, ids, settings.default_language)
        skips = _checks(session, settings, survey_id, candidates, when, channel)
        chosen = [c for c in candidates if c.customer_id not in skips]
        if chosen:
            rows = [_row(survey_id, c, when, channel) for c in chosen]
            session.execute(insert(Invitation), rows)
    skipped = tuple(Skip(cid, reason) for cid, reason in sorted(skips.items()))
    return InviteSummary(survey_key, len(chosen), when, skipped)


def _whom(
    settings: Settings, customer_ids: Sequence[int] | None, segment_key: str | None
) -> list[int]:
    if (customer_ids is None) == (segment_key is None):
        raise InvalidInput("name the customers or a segment (one of the two)")
    if segment_key is not None:
        return segment_members(settings=settings, key=segment_key)
    return list(customer_ids or [])


def _active_survey_id(session: Session, survey_key: str) -> int:
    survey = session.scalar(select(Survey).where(Survey.key == survey_key))
    if survey is None or survey.definition is None:
        raise NotFound(f"no survey {survey_key!r}")
    if survey.status != "active":
        msg = f"survey {survey_key!r} is {survey.status}: open it (status active) first"
        raise InvalidInput(msg)
    return survey.id


def _candidates(session: Session, ids: list[int], default: str) -> list[_Candidate]:
    """Live customers for ``ids`` (merged ones replaced), each once, in order."""
    rows: dict[int, Customer] = {}
    for chunk in _chunks(sorted(set(ids))):
        query = select(Customer).where(Customer.id.in_(chunk))
        rows.update({c.id: c for c in session.scalars(query)})
    missing = sorted(set(ids) - rows.keys())
    if missing:
        shown = ", ".join(str(i) for i in missing[:10])
        raise NotFound(
            f"no customer with id {shown}" + (" ..." if missing[10:] else "")
        )
    seen: dict[int, _Candidate] = {}
    for cid in ids:
        live = live_customer(session, rows[cid])
        if live.id not in seen:
            seen[live.id] = _Candidate(
                live.id, (live.email or "").strip() or None,
                language_of(live.language, default),
            )  # fmt: skip
    return list(seen.values())


def live_customer(session: Session, customer: Customer) -> Customer:
    """The customer ``customer`` was merged into (itself when not merged)."""
    if customer.merged_into_id is None:
        return customer
    survivor = survivor_of(session.connection(), customer.id)
    found = session.get(Customer, survivor)
    return found if found is not None else customer


def _chunks(values: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _checks(
    session: Session,
    settings: Settings,
    survey_id: int,
    candidates: list[_Candidate],
    when: datetime,
    channel: str,
) -> dict[int, str]:
    """The reason each blocked candidate is skipped, by customer id."""
    ids = [c.customer_id for c in candidates]
    skips = {
        c.customer_id: NO_EMAIL
        for c in candidates
        if channel == "email" and not c.email
    }
    for cid in suppressed(session, ids):
        skips.setdefault(cid, UNSUBSCRIBED)
    for cid in _pending_here(session, survey_id, ids):
        skips.setdefault(cid, ALREADY_INVITED)
    for cid in capped(session, ids, when, settings.contact_cap_days):
        skips.setdefault(cid, CONTACT_CAP)
    return skips


def suppressed(session: Session, ids: Sequence[int]) -> set[int]:
    """Which of ``ids`` unsubscribed from e-mail."""
    found: set[int] = set()
    for chunk in _chunks(ids):
        query = select(ContactSuppression.customer_id).where(
            ContactSuppression.customer_id.in_(chunk),
            ContactSuppression.channel == "email",
        )
        found.update(session.scalars(query))
    return found


def _pending_here(session: Session, survey_id: int, ids: Sequence[int]) -> set[int]:
    found: set[int] = set()
    for chunk in _chunks(ids):
        query = select(Invitation.customer_id).where(
            Invitation.survey_id == survey_id,
            Invitation.customer_id.in_(chunk),
            Invitation.status.in_(UNANSWERED),
        )
        found.update(cid for cid in session.scalars(query) if cid is not None)
    return found


def capped(
    session: Session, ids: Sequence[int], when: datetime, cap_days: int
) -> set[int]:
    """Which of ``ids`` hold an invitation (any survey) within the cap around ``when``.

    An invitation's time is when it was sent, else when it is due, else when it was
    made; queued ones count too, so two queued invitations never land together.
    """
    if cap_days <= 0:
        return set()
    cap = timedelta(days=cap_days)
    at = func.coalesce(Invitation.sent_at, Invitation.send_after, Invitation.created_at)
    found: set[int] = set()
    for chunk in _chunks(ids):
        query = select(Invitation.customer_id).where(
            Invitation.customer_id.in_(chunk),
            Invitation.status.in_(CONTACTED),
            at > when - cap,
            at < when + cap,
        )
        found.update(cid for cid in session.scalars(query) if cid is not None)
    return found


def _row(
    survey_id: int, candidate: _Candidate, when: datetime, channel: str
) -> dict[str, Any]:
    return {
        "survey_id": survey_id,
        "customer_id": candidate.customer_id,
        "token": new_token(),
        "channel": channel,
        "status": "queued" if channel == "email" else "created",
        "email": candidate.email,
        "language": candidate.language,
        "send_after": when,
        "created_at": utcnow(),
    }


def _invitation(session: Session, token: str) -> Invitation:
    invitation = session.scalar(select(Invitation).where(Invitation.token == token))
    if invitation is None or invitation.customer_id is None:
        raise NotFound("no such link")
    return invitation


def unsubscribe_state(*, settings: Settings, token: str) -> UnsubscribeState:
    """What the unsubscribe page of ``token`` shows (changes nothing).

    Raises
    ------
    NotFound
        No invitation has this token.
    """
    with _uow(settings).session() as session:
        invitation = _invitation(session, token)
        survey = session.get(Survey, invitation.survey_id)
        customer_id = invitation.customer_id or 0
        return UnsubscribeState(
            survey_name=survey.name if survey is not None else "",
            email_hint=email_hint(invitation.email),
            language=invitation.language,
            unsubscribed=bool(suppressed(session, [customer_id])),
        )


def email_hint(address: str | None) -> str:
    """An address with most of its local part hidden: ``c***@example.com``."""
    user, at, domain = (address or "").rpartition("@")
    if not at:
        return ""
    return f"{user[:1]}***@{domain}"


def unsubscribe(*, settings: Settings, token: str) -> UnsubscribeResult:
    """Stop survey e-mails to the customer of an invitation token (idempotent).

    Queued invitations and reminders of this customer are skipped when their time
    comes (the dispatcher checks again before sending).

    Raises
    ------
    NotFound
        No invitation has this token.
    """
    with _uow(settings).session() as session:
        invitation = _invitation(session, token)
        customer_id = invitation.customer_id or 0
        return _suppress(session, customer_id, invitation.id)


def unsubscribe_customer(*, settings: Settings, customer: str) -> UnsubscribeResult:
    """Stop survey e-mails to a customer named by id, member id, e-mail or phone.

    For requests that arrive another way (a phone call, a letter); idempotent.
    """
    with _uow(settings).session() as session:
        customer_id = find_customer(session.connection(), customer)
        customer_id = survivor_of(session.connection(), customer_id)
        return _suppress(session, customer_id, None)


def _suppress(
    session: Session, customer_id: int, invitation_id: int | None
) -> UnsubscribeResult:
    already = bool(suppressed(session, [customer_id]))
    row = {
        "customer_id": customer_id,
        "channel": "email",
        "reason": "unsubscribed",
        "invitation_id": invitation_id,
        "created_at": utcnow(),
    }
    insert_ignore(session, ContactSuppression.__table__, [row])  # type: ignore[arg-type]
    return UnsubscribeResult(customer_id, already)


def invitation_counts(*, settings: Settings, survey_key: str) -> dict[str, int]:
    """Invitations of a survey by status, plus ``reminders`` (reminders sent).

    Raises
    ------
    NotFound
        No such survey.
    """
    with _uow(settings).session() as session:
        survey = session.scalar(select(Survey).where(Survey.key == survey_key))
        if survey is None:
            raise NotFound(f"no survey {survey_key!r}")
        query = (
            select(Invitation.status, func.count())
            .where(Invitation.survey_id == survey.id)
            .group_by(Invitation.status)
        )
        counts = {str(status): int(n) for status, n in session.execute(query)}
        reminders = select(func.count()).where(
            Invitation.survey_id == survey.id, Invitation.reminder_sent_at.is_not(None)
        )
        counts["reminders"] = int(session.scalar(reminders) or 0)
        return counts
