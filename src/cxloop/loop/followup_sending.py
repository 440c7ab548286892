"""E-mail the follow-up surveys of resolved cases: one periodic pass.

:func:`run_followups` sends the follow-ups that :func:`cxloop.loop.followup.on_case_resolved`
queued, sends one reminder for each follow-up still unanswered after
``CXLOOP_REMINDER_DAYS`` (as survey reminders: never to an unsubscribed customer,
never twice; the case history shows ``followup_reminded``), then copies new answers
onto their cases (:func:`cxloop.loop.followup.collect_followup_answers`). Each
invitation is claimed first (``queued`` to ``sending``, and ``reminder_sent_at`` set
from empty for a reminder, which only one pass can win), so passes may run side by
side. The contact cap of other surveys does not apply; unsubscribes are checked again
just before sending. See :mod:`cxloop.loop.followup` for the rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput
from cxloop.domain.survey_parse import parse_survey
from cxloop.loop.followup import CHANNEL, add_event, collect_followup_answers
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import (
    Case,
    Customer,
    Invitation,
    Survey,
)
from cxloop.store.types import utcnow
from cxloop.surveys import invitations as inv
from cxloop.surveys.dispatch import due_reminders
from cxloop.surveys.mailer import (
    Invite,
    Mailer,
    MailError,
    OutgoingMail,
    invitation_mail,
)

#: Follow-ups one pass sends at most; errors a pass summary keeps.
DEFAULT_LIMIT = 500
KEPT_ERRORS = 20


@dataclass(frozen=True)
class FollowupPass:
    """What one :func:`run_followups` pass did."""

    sent: int = 0
    skipped: int = 0
    failed: int = 0
    answered: int = 0
    errors: tuple[str, ...] = ()
    reminded: int = 0
    reminders_failed: int = 0


def run_followups(
    *, settings: Settings, now: datetime | None = None, limit: int = DEFAULT_LIMIT
) -> FollowupPass:
    """One periodic pass: e-mail the due follow-ups and reminders, collect answers.

    Safe beside other passes (each invitation is claimed before it is sent). Run it
    with the survey dispatcher: from ``cxloop serve``'s background loop, or from cron
    through ``cxloop service followups``.
    """
    if limit < 1:
        raise InvalidInput(f"limit {limit} must be at least 1")
    now = now or utcnow()
    engine = engine_for(settings.database_url)
    tally: dict[str, int] = {}
    errors: list[str] = []
    due = _due(engine, now, limit)
    reminders = due_reminders(engine, channel=CHANNEL, now=now, limit=limit,
                              reminder_days=settings.reminder_days)  # fmt: skip
    if due or reminders:
        with Mailer(settings) as mailer:
            outcomes = [_send_one(engine, settings, mailer, i, now) for i in due]
            outcomes += [
                _remind_one(engine, settings, mailer, i, now) for i in reminders
            ]
        for outcome in outcomes:
            if outcome is not None:
                tally[outcome[0]] = tally.get(outcome[0], 0) + 1
                if outcome[1] and len(errors) < KEPT_ERRORS:
                    errors.append(outcome[1])
    answered = collect_followup_answers(settings=settings)
    return FollowupPass(
        tally.get("sent", 0), tally.get("skipped", 0), tally.get("failed", 0),
        answered, tuple(errors), tally.get("reminded", 0),
        tally.get("reminder_failed", 0),
    )  # fmt: skip


def _due(engine: Engine, now: datetime, limit: int) -> list[int]:
    query = (
        select(Invitation.id)
        .join(Survey, Survey.id == Invitation.survey_id)
        .where(
            Invitation.channel == CHANNEL,
            Invitation.status == "queued",
            Invitation.send_after <= now,
            Survey.status == "active",
        )
        .order_by(Invitation.send_after, Invitation.id)
        .limit(limit)
    )
    with engine.connect() as conn:
        return list(conn.scalars(query))


def _remind_one(
    engine: Engine,
    settings: Settings,
    mailer: Mailer,
    invitation_id: int,
    now: datetime,
) -> tuple[str, str | None] | None:
    """Claim and send one reminder; (outcome, error) or None if not claimed."""
    with engine.begin() as conn:
        claimed = conn.execute(
            update(Invitation)
            .where(
                Invitation.id == invitation_id, Invitation.reminder_sent_at.is_(None)
            )
            .values(reminder_sent_at=now)
        )
    if claimed.rowcount != 1:
        return None
    with Session(engine) as session:
        invitation = session.get_one(Invitation, invitation_id)
        blocked = _blocked(session, invitation)
        mail = None if blocked else _mail(session, settings, invitation, reminder=True)
    if mail is None:
        _note(engine, invitation_id, now, "followup_reminder_skipped",
              f"follow-up reminder not sent: {blocked}")  # fmt: skip
        return "reminder_skipped", None
    try:
        mailer.send(mail)
    except (MailError, InvalidInput) as exc:
        _note(engine, invitation_id, now, "followup_reminder_failed",
              f"follow-up reminder e-mail failed: {exc}", error=f"reminder: {exc}")  # fmt: skip
        return (
            "reminder_failed",
            f"reminder {invitation_id} to {mail.to_address}: {exc}",
        )
    _note(engine, invitation_id, now, "followup_reminded",
          "follow-up reminder e-mailed to the customer")  # fmt: skip
    return "reminded", None


def _note(
    engine: Engine,
    invitation_id: int,
    now: datetime,
    kind: str,
    body: str,
    error: str | None = None,
) -> None:
    """Record a reminder's outcome in its case's history (and a failure's error)."""
    with UnitOfWork(engine).session() as session:
        if error is not None:
            session.execute(
                update(Invitation)
                .where(Invitation.id == invitation_id)
                .values(error=error)
            )
        case_id = session.scalar(
            select(Case.id).where(Case.followup_invitation_id == invitation_id)
        )
        if case_id is not None:
            add_event(session, case_id, now, kind, body, invitation_id)


def _send_one(
    engine: Engine,
    settings: Settings,
    mailer: Mailer,
    invitation_id: int,
    now: datetime,
) -> tuple[str, str | None] | None:
    """Claim, check and send one follow-up; (outcome, error) or None if not claimed."""
    with UnitOfWork(engine).session() as session:
        claimed = session.execute(
            update(Invitation)
            .where(Invitation.id == invitation_id, Invitation.status == "queued")
            .values(status="sending", sent_at=now)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None
    with Session(engine) as session:
        invitation = session.get_one(Invitation, invitation_id)
        blocked = _blocked(session, invitation)
        mail = None if blocked else _mail(session, settings, invitation)
    if mail is None:
        _finish(engine, invitation_id, now, "skipped", blocked, "followup_skipped")
        return "skipped", None
    try:
        mailer.send(mail)
    except (MailError, InvalidInput) as exc:
        _finish(engine, invitation_id, now, "failed", str(exc), "followup_failed")
        return "failed", f"follow-up {invitation_id} to {mail.to_address}: {exc}"
    _finish(engine, invitation_id, now, "sent", None, "followup_sent")
    return "sent", None


def _blocked(session: Session, invitation: Invitation) -> str | None:
    if not invitation.email:
        return inv.NO_EMAIL
    if inv.suppressed(session, [invitation.customer_id or 0]):
        return inv.UNSUBSCRIBED
    return None


def _mail(
    session: Session,
    settings: Settings,
    invitation: Invitation,
    *,
    reminder: bool = False,
) -> OutgoingMail:
    survey = session.get_one(Survey, invitation.survey_id)
    customer = session.get(Customer, invitation.customer_id or 0)
    language = invitation.language or settings.default_language
    spec = parse_survey(survey.definition or {})
    description = spec.description.get(language) if spec.description else None
    invite = Invite(
        to_address=invitation.email or "",
        to_name=customer.name if customer is not None else None,
        language=language,
        survey_name=spec.name.get(language),
        description=description or None,
        link=inv.personal_link(settings, invitation.token),
        unsubscribe_url=inv.unsubscribe_link(settings, invitation.token),
    )
    return invitation_mail(invite, reminder=reminder)


def _finish(
    engine: Engine,
    invitation_id: int,
    now: datetime,
    status: str,
    error: str | None,
    event: str,
) -> None:
    """Record the outcome on the invitation and in the history of its case."""
    with UnitOfWork(engine).session() as session:
        session.execute(
            update(Invitation)
            .where(Invitation.id == invitation_id)
            .values(
                status=status,
                sent_at=now if status == "sent" else None,
                error=error,
            )
        )
        case_id = session.scalar(
            select(Case.id).where(Case.followup_invitation_id == invitation_id)
        )
        if case_id is not None:
            body = {
                "sent": "follow-up survey e-mailed to the customer",
                "skipped": f"follow-up not sent: {error}",
                "failed": f"follow-up e-mail failed: {error}",
            }[status]
            add_event(session, case_id, now, event, body, invitation_id)
