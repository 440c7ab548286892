"""The dispatcher: fire triggers, send due invitations and their one reminder.

:func:`dispatch_due` is one pass. Run it from cron (``cxloop survey dispatch``), in a
loop (``--watch``), or let a running web server do it
(:func:`start_background_dispatcher`). Several may run at once, in threads or
processes on one or more machines: each invitation is *claimed* first (an update
from ``queued`` to ``sending`` that only one of them can win), so nothing is sent
twice. Reminders are claimed the same way (``reminder_sent_at`` set from empty), so a
customer gets at most one.

Before each message the rules are checked again, because time passed since it was
queued: a customer who unsubscribed is skipped, and so is one who received another
invitation within ``contact_cap_days`` (at most one per period, across all surveys).
A refused or failed message marks its invitation ``failed`` with the server's answer
and the batch goes on. A dispatcher that dies between claiming and sending leaves an
invitation in ``sending``; after :data:`STALE_CLAIM` the next pass marks it
``failed`` ("delivery unknown") rather than risk sending it twice.

Invitations of a survey that is not active wait (a draft) or are left (closed).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, exists, or_, select, update
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput
from cxloop.domain.survey_parse import parse_survey
from cxloop.store.engine import engine_for
from cxloop.store.tables import (
    ContactSuppression,
    Customer,
    Invitation,
    Survey,
    SurveyResponse,
)
from cxloop.store.types import utcnow
from cxloop.surveys import invitations as inv
from cxloop.surveys.mailer import Invite, Mailer, MailError, invitation_mail
from cxloop.surveys.triggers import FireSummary, fire_triggers

logger = logging.getLogger(__name__)

#: Claims older than this are taken to belong to a dispatcher that stopped.
STALE_CLAIM = timedelta(minutes=15)
#: Messages one pass sends at most (invitations, then reminders, each).
DEFAULT_LIMIT = 500
#: Errors kept in a summary (the rest are counted).
KEPT_ERRORS = 20
#: Statuses of an invitation that went out (what the contact cap counts at send time).
WENT_OUT = ("sending", "sent", "partial", "responded")

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class DispatchSummary:
    """What one pass of :func:`dispatch_due` did."""

    fired: FireSummary = field(default_factory=FireSummary)
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    reminders: int = 0
    reminders_failed: int = 0
    recovered: int = 0
    errors: tuple[str, ...] = ()


@dataclass
class _Tally:
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def add(self, outcome: str, error: str | None = None) -> None:
        self.counts[outcome] = self.counts.get(outcome, 0) + 1
        if error is not None and len(self.errors) < KEPT_ERRORS:
            self.errors.append(error)


def dispatch_due(
    *,
    settings: Settings,
    now: datetime | None = None,
    limit: int = DEFAULT_LIMIT,
    progress: Progress | None = None,
) -> DispatchSummary:
    """Fire triggers, send the invitations that are due, then the due reminders.

    Parameters
    ----------
    now
        The time of this pass (aware); the clock when None. Tests pass later times.
    limit
        At most this many invitations and this many reminders in the pass.
    progress
        Called with (done, total) after each message.
    """
    if limit < 1:
        raise InvalidInput(f"limit {limit} must be at least 1")
    now = now or utcnow()
    engine = engine_for(settings.database_url)
    fired = fire_triggers(settings=settings, now=now)
    recovered = _recover_stale(engine, now)
    due = _due(engine, now, limit)
    reminders = due_reminders(
        engine,
        channel="email",
        reminder_days=settings.reminder_days,
        now=now,
        limit=limit,
    )
    tally, total = _Tally(), len(due) + len(reminders)
    with Mailer(settings) as mailer:
        for done, invitation_id in enumerate(due, start=1):
            _send_one(engine, settings, mailer, invitation_id, now, tally)
            _report(progress, done, total)
        for done, invitation_id in enumerate(reminders, start=len(due) + 1):
            _remind_one(engine, settings, mailer, invitation_id, now, tally)
            _report(progress, done, total)
    c = tally.counts
    return DispatchSummary(
        fired, c.get("sent", 0), c.get("failed", 0), c.get("skipped", 0),
        c.get("reminded", 0), c.get("reminder_failed", 0), recovered,
        tuple(tally.errors),
    )  # fmt: skip


def _report(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)


def _recover_stale(engine: Engine, now: datetime) -> int:
    with engine.begin() as conn:
        result = conn.execute(
            update(Invitation)
            .where(
                Invitation.status == "sending", Invitation.sent_at < now - STALE_CLAIM
            )
            .values(
                status="failed",
                sent_at=None,
                error="the dispatcher stopped while sending: delivery unknown",
            )
        )
        return int(result.rowcount)


def _due(engine: Engine, now: datetime, limit: int) -> list[int]:
    query = (
        select(Invitation.id)
        .join(Survey, Survey.id == Invitation.survey_id)
        .where(
            Invitation.status == "queued",
            Invitation.channel == "email",
            or_(Invitation.send_after.is_(None), Invitation.send_after <= now),
            Survey.status == "active",
        )
        .order_by(Invitation.send_after, Invitation.id)
        .limit(limit)
    )
    with engine.connect() as conn:
        return list(conn.scalars(query))


def due_reminders(
    engine: Engine, *, channel: str, reminder_days: int, now: datetime, limit: int
) -> list[int]:
    """Invitations of ``channel`` sent ``reminder_days`` ago, unanswered, not reminded.

    Never to an unsubscribed customer, nor for an expired invitation or a survey that
    no longer takes answers. Survey e-mail (``email``) and case follow-ups
    (``followup``) both remind through this.
    """
    if reminder_days <= 0:
        return []
    unsubscribed = exists().where(
        ContactSuppression.customer_id == Invitation.customer_id,
        ContactSuppression.channel == "email",
    )
    answered = exists().where(
        SurveyResponse.invitation_id == Invitation.id,
        SurveyResponse.status == "complete",
    )
    query = (
        select(Invitation.id)
        .join(Survey, Survey.id == Invitation.survey_id)
        .where(
            Invitation.channel == channel,
            Invitation.status.in_(("sent", "partial")),
            Invitation.reminder_sent_at.is_(None),
            Invitation.sent_at <= now - timedelta(days=reminder_days),
            or_(Invitation.expires_at.is_(None), Invitation.expires_at > now),
            Survey.status == "active",
            ~unsubscribed,
            ~answered,
        )
        .order_by(Invitation.sent_at, Invitation.id)
        .limit(limit)
    )
    with engine.connect() as conn:
        return list(conn.scalars(query))


def _claim(engine: Engine, invitation_id: int, now: datetime) -> bool:
    """Move a queued invitation to ``sending``; True when this caller won it."""
    with engine.begin() as conn:
        result = conn.execute(
            update(Invitation)
            .where(Invitation.id == invitation_id, Invitation.status == "queued")
            .values(status="sending", sent_at=now)
        )
        return bool(result.rowcount == 1)


def _finish(engine: Engine, invitation_id: int, **values: Any) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(Invitation)
            .where(Invitation.id == invitation_id, Invitation.status == "sending")
            .values(**values)
        )


def _send_one(
    engine: Engine,
    settings: Settings,
    mailer: Mailer,
    invitation_id: int,
    now: datetime,
    tally: _Tally,
) -> None:
    if not _claim(engine, invitation_id, now):
        return  # another dispatcher has it
    invite, reason = _prepare(engine, settings, invitation_id, now)
    if invite is None:
        _finish(engine, invitation_id, status="skipped", sent_at=None, error=reason)
        tally.add("skipped")
        return
    try:
        mailer.send(invitation_mail(invite))
    except (MailError, InvalidInput) as exc:
        _finish(engine, invitation_id, status="failed", sent_at=None, error=str(exc))
        tally.add("failed", f"invitation {invitation_id} to {invite.to_address}: {exc}")
        return
    _finish(engine, invitation_id, status="sent", sent_at=now, error=None)
    tally.add("sent")


def _prepare(
    engine: Engine, settings: Settings, invitation_id: int, now: datetime
) -> tuple[Invite | None, str | None]:
    """The e-mail of a claimed invitation, or None and why it must not go."""
    with Session(engine) as session:
        invitation, definition, name = _load(session, invitation_id)
        reason = _blocked_at_send(session, settings, invitation, now)
    if reason is not None:
        return None, reason
    return _invite(settings, invitation, definition, name), None


def _load(
    session: Session, invitation_id: int
) -> tuple[Invitation, dict[str, Any] | None, str | None]:
    query = (
        select(Invitation, Survey.definition, Customer.name)
        .join(Survey, Survey.id == Invitation.survey_id)
        .outerjoin(Customer, Customer.id == Invitation.customer_id)
        .where(Invitation.id == invitation_id)
    )
    invitation, definition, name = session.execute(query).one()
    return invitation, definition, name


def _blocked_at_send(
    session: Session, settings: Settings, invitation: Invitation, now: datetime
) -> str | None:
    if not invitation.email:
        return inv.NO_EMAIL
    customer_id = invitation.customer_id
    suppressed = select(ContactSuppression.id).where(
        ContactSuppression.customer_id == customer_id,
        ContactSuppression.channel == "email",
    )
    if session.execute(suppressed.limit(1)).first() is not None:
        return inv.UNSUBSCRIBED
    if settings.contact_cap_days <= 0:
        return None
    recent = select(Invitation.id).where(
        Invitation.customer_id == customer_id,
        Invitation.id != invitation.id,
        Invitation.status.in_(WENT_OUT),
        Invitation.sent_at > now - timedelta(days=settings.contact_cap_days),
    )
    return inv.CONTACT_CAP if session.execute(recent.limit(1)).first() else None


def _invite(
    settings: Settings,
    invitation: Invitation,
    definition: dict[str, Any] | None,
    name: str | None,
) -> Invite:
    language = invitation.language or settings.default_language
    spec = parse_survey(definition or {})
    description = spec.description.get(language) if spec.description else None
    return Invite(
        to_address=invitation.email or "",
        to_name=name,
        language=language,
        survey_name=spec.name.get(language),
        description=description or None,
        link=inv.personal_link(settings, invitation.token),
        unsubscribe_url=inv.unsubscribe_link(settings, invitation.token),
    )


def _remind_one(
    engine: Engine,
    settings: Settings,
    mailer: Mailer,
    invitation_id: int,
    now: datetime,
    tally: _Tally,
) -> None:
    with engine.begin() as conn:
        claimed = conn.execute(
            update(Invitation)
            .where(
                Invitation.id == invitation_id, Invitation.reminder_sent_at.is_(None)
            )
            .values(reminder_sent_at=now)
        )
    if claimed.rowcount != 1:
        return
    with Session(engine) as session:
        invite = _invite(settings, *_load(session, invitation_id))
    try:
        mailer.send(invitation_mail(invite, reminder=True))
    except (MailError, InvalidInput) as exc:
        with engine.begin() as conn:
            conn.execute(
                update(Invitation)
                .where(Invitation.id == invitation_id)
                .values(error=f"reminder: {exc}")
            )
        tally.add("reminder_failed", f"reminder {invitation_id}: {exc}")
        return
    tally.add("reminded")


def run_forever(
    *,
    settings: Settings,
    interval_seconds: float,
    stop: threading.Event,
    on_pass: Callable[[DispatchSummary], None] | None = None,
) -> None:
    """Run :func:`dispatch_due` every ``interval_seconds`` until ``stop`` is set.

    A pass that fails (the database is away, say) is logged and the next one runs
    on time: the loop never dies of one error.
    """
    if interval_seconds <= 0:
        raise InvalidInput(f"interval {interval_seconds} s must be positive")
    while not stop.is_set():
        try:
            summary = dispatch_due(settings=settings)
        except Exception:
            logger.exception("survey dispatch pass failed")
        else:
            if on_pass is not None:
                on_pass(summary)
        stop.wait(interval_seconds)


class BackgroundDispatcher:
    """A daemon thread that runs :func:`dispatch_due` on a timer; :meth:`stop` ends it."""

    def __init__(self, settings: Settings, interval_seconds: float) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=run_forever,
            kwargs={"settings": settings, "interval_seconds": interval_seconds,
                    "stop": self._stop, "on_pass": _log_pass},
            name="cxloop-survey-dispatch",
            daemon=True,
        )  # fmt: skip

    def start(self) -> BackgroundDispatcher:
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the thread to stop and wait for the pass in progress to end."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)


def _log_pass(summary: DispatchSummary) -> None:
    if summary.sent or summary.failed or summary.reminders or summary.fired.queued:
        logger.info(
            "survey dispatch: %d sent, %d failed, %d skipped, %d reminders, "
            "%d queued by triggers",
            summary.sent, summary.failed, summary.skipped, summary.reminders,
            summary.fired.queued,
        )  # fmt: skip


def start_background_dispatcher(
    settings: Settings, interval_seconds: float = 60.0
) -> BackgroundDispatcher:
    """Send queued invitations from inside a long-running process (the web server).

    Starts a daemon thread that runs one :func:`dispatch_due` pass at once and then
    every ``interval_seconds``. Call ``.stop()`` on the result at shutdown (the web
    app's lifespan). Safe beside cron jobs and other workers: rows are claimed.
    """
    return BackgroundDispatcher(settings, interval_seconds).start()
