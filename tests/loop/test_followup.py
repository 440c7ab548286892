"""Close the loop: a resolved case's follow-up reaches the customer and comes back."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from service_seeding import (
    Sink,
    add_case,
    add_customer,
    case_row,
    events,
    mail_settings,
    uow,
)
from sqlalchemy import select

from cxloop.config import Settings
from cxloop.loop.followup import (
    CHANNEL,
    SURVEY_KEY,
    on_case_resolved,
    record_followup_answer,
)
from cxloop.loop.followup_sending import run_followups
from cxloop.store.tables import Case, Interaction, Invitation, Survey
from cxloop.surveys.definitions import save_survey, set_status
from cxloop.surveys.dispatch import dispatch_due
from cxloop.surveys.invitations import unsubscribe_customer
from cxloop.surveys.responses import Outcome, new_submission_key, submit_response

RESOLVED = datetime(2025, 3, 10, 6, 0, tzinfo=UTC)
LATER = RESOLVED + timedelta(minutes=5)
LINK = re.compile(r"https://cx\.example\.test/r/([A-Za-z0-9_-]+)")


@pytest.fixture
def mail(settings: Settings, sink: Sink) -> Settings:
    return mail_settings(settings, sink)


def _resolve(settings: Settings, case_id: int, at: datetime = RESOLVED) -> None:
    """What cases.set_status does on resolving: in its own transaction."""
    with uow(settings).session() as session:
        case = session.get_one(Case, case_id)
        case.status, case.resolved_at = "resolved", at
        on_case_resolved(session, case, now=at)


def _recently_surveyed(settings: Settings, customer_id: int) -> None:
    """Another survey reached the customer five days ago (inside the contact cap)."""
    definition = {"key": "yearly", "name": {"zh-TW": "年度調查", "en": "Yearly"},
                  "questions": [{"key": "nps", "type": "nps", "required": True,
                                 "text": {"zh-TW": "推薦?", "en": "Recommend?"}}]}  # fmt: skip
    survey = save_survey(settings=settings, definition=definition)
    with uow(settings).session() as session:
        session.add(
            Invitation(
                survey_id=survey.id,
                customer_id=customer_id,
                token="t" * 20,
                channel="email",
                status="sent",
                email="x@example.com",
                sent_at=RESOLVED - timedelta(days=5),
            )
        )


def _kinds(settings: Settings, case_id: int) -> list[str]:
    return [event.kind for event in events(settings, case_id)]


def test_followup_reaches_customer_and_answer_lands_on_case(
    mail: Settings, sink: Sink
) -> None:
    customer = add_customer(mail, "林美華", "meihua@example.com")
    case_id = add_case(mail, RESOLVED - timedelta(days=1), customer_id=customer,
                       touchpoint="宅配")  # fmt: skip
    _recently_surveyed(mail, customer)
    _resolve(mail, case_id)

    first = run_followups(settings=mail, now=LATER)

    assert (first.sent, first.skipped, first.failed) == (1, 0, 0)
    [message] = sink.wait_for(1)
    assert message["To"].addresses[0].addr_spec == "meihua@example.com"
    assert "客服案件滿意度調查" in str(message["Subject"])
    text = message.get_body(preferencelist=("plain",))
    assert text is not None
    token = LINK.findall(text.get_content())[0]
    result = submit_response(
        settings=mail, token=token, submission_key=new_submission_key(),
        answers={"csat": "4", "solved": "no", "unsolved": "退款還沒入帳"},
    )  # fmt: skip
    assert result.outcome is Outcome.STORED
    second = run_followups(settings=mail, now=LATER + timedelta(hours=1))

    assert second.answered == 1
    case = case_row(mail, case_id)
    assert (case.followup_score, case.followup_solved) == (4.0, False)
    assert _kinds(mail, case_id) == [
        "followup_queued", "followup_sent", "followup_answered"
    ]  # fmt: skip
    with uow(mail).session() as session:
        stored = session.get_one(Interaction, result.interaction_id)
        assert (stored.channel, stored.touchpoint) == ("email", "宅配")


def test_followup_solved_answer_is_recorded_once(mail: Settings, sink: Sink) -> None:
    customer = add_customer(mail, "Amy Chen", "amy@example.com", language="en")
    case_id = add_case(mail, RESOLVED - timedelta(hours=3), customer_id=customer)
    _resolve(mail, case_id)
    run_followups(settings=mail, now=LATER)
    [message] = sink.wait_for(1)
    assert "Support case satisfaction survey" in str(message["Subject"])
    token = LINK.findall(message.get_body(("plain",)).get_content())[0]  # type: ignore[union-attr]
    result = submit_response(settings=mail, token=token,
                             submission_key=new_submission_key(),
                             answers={"csat": "5", "solved": "yes"})  # fmt: skip
    assert result.response_id is not None

    assert record_followup_answer(settings=mail, response_id=result.response_id)
    assert not record_followup_answer(settings=mail, response_id=result.response_id)
    assert run_followups(settings=mail, now=LATER).answered == 0
    case = case_row(mail, case_id)
    assert (case.followup_score, case.followup_solved) == (5.0, True)


def test_unsubscribed_customer_is_never_mailed_a_followup(
    mail: Settings, sink: Sink
) -> None:
    customer = add_customer(mail, "王小明", "ming@example.com")
    case_id = add_case(mail, RESOLVED - timedelta(days=2), customer_id=customer)
    unsubscribe_customer(settings=mail, customer=str(customer))

    _resolve(mail, case_id)
    summary = run_followups(settings=mail, now=LATER)

    assert summary.sent == 0
    assert sink.messages == []
    assert case_row(mail, case_id).followup_invitation_id is None
    [event] = events(mail, case_id)
    assert (event.kind, event.body) == ("followup_skipped", "unsubscribed")


def test_unsubscribe_between_resolving_and_sending_stops_the_followup(
    mail: Settings, sink: Sink
) -> None:
    customer = add_customer(mail, "陳大同", "datong@example.com")
    case_id = add_case(mail, RESOLVED - timedelta(days=2), customer_id=customer)
    _resolve(mail, case_id)
    unsubscribe_customer(settings=mail, customer=str(customer))

    summary = run_followups(settings=mail, now=LATER)

    assert (summary.sent, summary.skipped) == (0, 1)
    assert sink.messages == []
    assert _kinds(mail, case_id) == ["followup_queued", "followup_skipped"]


def test_customer_without_email_gets_a_skipped_event(mail: Settings) -> None:
    customer = add_customer(mail, "無信箱", None)
    case_id = add_case(mail, RESOLVED - timedelta(days=2), customer_id=customer)
    no_customer = add_case(mail, RESOLVED - timedelta(days=2))

    _resolve(mail, case_id)
    _resolve(mail, no_customer)

    assert [e.body for e in events(mail, case_id)] == ["no e-mail address"]
    assert [e.body for e in events(mail, no_customer)] == ["the case has no customer"]


def test_case_resolved_twice_is_asked_once(mail: Settings) -> None:
    customer = add_customer(mail, "林美華", "meihua@example.com")
    case_id = add_case(mail, RESOLVED - timedelta(days=1), customer_id=customer)
    _resolve(mail, case_id)
    _resolve(mail, case_id, RESOLVED + timedelta(days=1))

    with uow(mail).session() as session:
        found = session.scalars(select(Invitation).where(Invitation.channel == CHANNEL))
        assert len(list(found)) == 1
    assert _kinds(mail, case_id) == ["followup_queued"]


def test_second_case_of_a_customer_waits_for_the_first_answer(mail: Settings) -> None:
    customer = add_customer(mail, "林美華", "meihua@example.com")
    first = add_case(mail, RESOLVED - timedelta(days=1), customer_id=customer)
    second = add_case(mail, RESOLVED - timedelta(days=1), customer_id=customer)

    _resolve(mail, first)
    _resolve(mail, second)

    assert _kinds(mail, first) == ["followup_queued"]
    [event] = events(mail, second)
    assert event.kind == "followup_skipped"
    assert "waiting" in (event.body or "")


def test_survey_dispatcher_leaves_followups_to_their_own_pass(
    mail: Settings, sink: Sink
) -> None:
    customer = add_customer(mail, "林美華", "meihua@example.com")
    case_id = add_case(mail, RESOLVED - timedelta(days=1), customer_id=customer)
    _resolve(mail, case_id)

    summary = dispatch_due(settings=mail, now=LATER)

    assert (summary.sent, summary.skipped) == (0, 0)
    assert sink.messages == []
    assert run_followups(settings=mail, now=LATER).sent == 1


def test_closed_followup_survey_switches_followups_off(mail: Settings) -> None:
    customer = add_customer(mail, "林美華", "meihua@example.com")
    first = add_case(mail, RESOLVED - timedelta(days=1), customer_id=customer)
    _resolve(mail, first)  # creates the survey on first use
    with uow(mail).session() as session:
        assert session.scalar(select(Survey.status).where(Survey.key == SURVEY_KEY))
    set_status(settings=mail, key=SURVEY_KEY, status="closed")
    other = add_customer(mail, "王小明", "ming@example.com")
    second = add_case(mail, RESOLVED - timedelta(days=1), customer_id=other)

    _resolve(mail, second)

    [event] = events(mail, second)
    assert event.body == f"the survey {SURVEY_KEY} is closed"
