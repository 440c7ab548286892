"""One reminder for a follow-up survey still unanswered after the reminder days."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from service_seeding import (
    Sink,
    add_case,
    add_customer,
    events,
    mail_settings,
    uow,
)
from sqlalchemy import select

from cxloop.config import Settings
from cxloop.loop.followup import CHANNEL, on_case_resolved
from cxloop.loop.followup_sending import run_followups
from cxloop.store.tables import Case, Invitation
from cxloop.surveys.dispatch import dispatch_due
from cxloop.surveys.invitations import unsubscribe_customer
from cxloop.surveys.responses import new_submission_key, submit_response

RESOLVED = datetime(2025, 3, 10, 6, 0, tzinfo=UTC)
SENT = RESOLVED + timedelta(minutes=5)
LINK = re.compile(r"https://cx\.example\.test/r/([A-Za-z0-9_-]+)")


@pytest.fixture
def mail(settings: Settings, sink: Sink) -> Settings:
    return mail_settings(settings, sink).model_copy(update={"reminder_days": 3})


def _sent_followup(settings: Settings, sink: Sink, name: str, email: str) -> int:
    """A case resolved and its follow-up e-mailed at SENT; the case id."""
    customer = add_customer(settings, name, email)
    case_id = add_case(settings, RESOLVED - timedelta(days=1), customer_id=customer)
    with uow(settings).session() as session:
        case = session.get_one(Case, case_id)
        case.status, case.resolved_at = "resolved", RESOLVED
        on_case_resolved(session, case, now=RESOLVED)
    before = len(sink.messages)
    assert run_followups(settings=settings, now=SENT).sent == 1
    sink.wait_for(before + 1)
    return case_id


def _kinds(settings: Settings, case_id: int) -> list[str]:
    return [event.kind for event in events(settings, case_id)]


def test_unanswered_followup_gets_one_reminder_after_the_reminder_days(
    mail: Settings, sink: Sink
) -> None:
    case_id = _sent_followup(mail, sink, "林美華", "meihua@example.com")

    early = run_followups(settings=mail, now=SENT + timedelta(days=2, hours=23))
    due = run_followups(settings=mail, now=SENT + timedelta(days=3))
    again = run_followups(settings=mail, now=SENT + timedelta(days=9))

    assert (early.reminded, due.reminded, again.reminded) == (0, 1, 0)
    first, reminder = sink.wait_for(2)
    assert reminder["To"].addresses[0].addr_spec == "meihua@example.com"
    assert "提醒" in str(reminder["Subject"])
    link = LINK.findall(reminder.get_body(("plain",)).get_content())  # type: ignore[union-attr]
    assert link == LINK.findall(first.get_body(("plain",)).get_content())  # type: ignore[union-attr]
    assert _kinds(mail, case_id) == [
        "followup_queued", "followup_sent", "followup_reminded"
    ]  # fmt: skip
    assert dispatch_due(settings=mail, now=SENT + timedelta(days=9)).reminders == 0
    assert len(sink.messages) == 2


def test_answered_or_unsubscribed_followups_get_no_reminder(
    mail: Settings, sink: Sink
) -> None:
    answered = _sent_followup(mail, sink, "林美華", "meihua@example.com")
    [message] = sink.messages
    token = LINK.findall(message.get_body(("plain",)).get_content())[0]  # type: ignore[union-attr]
    submit_response(settings=mail, token=token, submission_key=new_submission_key(),
                    answers={"csat": "5", "solved": "yes"})  # fmt: skip
    unsubscribed = _sent_followup(mail, sink, "王小明", "ming@example.com")
    with uow(mail).session() as session:
        customer_id = session.get_one(Case, unsubscribed).customer_id
    unsubscribe_customer(settings=mail, customer=str(customer_id))

    done = run_followups(settings=mail, now=SENT + timedelta(days=4))

    assert (done.reminded, done.reminders_failed) == (0, 0)
    assert len(sink.messages) == 2
    assert "followup_reminded" not in _kinds(mail, answered)
    assert "followup_reminded" not in _kinds(mail, unsubscribed)


def test_no_followup_reminder_when_reminder_days_is_zero(
    mail: Settings, sink: Sink
) -> None:
    case_id = _sent_followup(mail, sink, "林美華", "meihua@example.com")
    never = mail.model_copy(update={"reminder_days": 0})

    assert run_followups(settings=never, now=SENT + timedelta(days=30)).reminded == 0
    assert len(sink.messages) == 1
    with uow(never).session() as session:
        invitation = session.scalar(
            select(Invitation).where(Invitation.channel == CHANNEL)
        )
        assert invitation is not None
        assert invitation.reminder_sent_at is None
    assert "followup_reminded" not in _kinds(never, case_id)
