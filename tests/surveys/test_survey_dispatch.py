"""The dispatcher over real SMTP: unsubscribes, one reminder, failures, outbox, races."""

from __future__ import annotations

import email
import sys
import threading
from datetime import UTC, datetime, timedelta
from email import policy
from pathlib import Path

import pytest
from distribution_seeding import add_customer, add_purchase, invitations, make_surveys
from smtp_sink import Sink, free_port, mail_settings, running_sink
from sqlalchemy import update

from cxloop.config import Settings
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import Invitation
from cxloop.surveys.dispatch import dispatch_due, start_background_dispatcher
from cxloop.surveys.invitations import (
    UNSUBSCRIBED,
    invitation_counts,
    invite_customers,
    unsubscribe,
)
from cxloop.surveys.mailer import outbox_dir
from cxloop.surveys.triggers import add_trigger

#: Dispatch passes run "now" (a little after the invitations are queued).
NOW = datetime.now(UTC) + timedelta(minutes=10)


@pytest.fixture(autouse=True)
def _now_of_this_test(monkeypatch: pytest.MonkeyPatch) -> None:
    """NOW is taken when each test starts: a long suite must not age it."""
    monkeypatch.setattr(
        sys.modules[__name__], "NOW", datetime.now(UTC) + timedelta(minutes=10)
    )


def _invite(settings: Settings, *customers: int, key: str = "relational") -> None:
    invite_customers(settings=settings, survey_key=key, customer_ids=list(customers))


def _set_status(settings: Settings, invitation_id: int, status: str) -> None:
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        session.execute(
            update(Invitation)
            .where(Invitation.id == invitation_id)
            .values(status=status)
        )


def test_unsubscribed_customer_receives_neither_invitation_nor_reminder(
    mail: Settings, sink: Sink
) -> None:
    make_surveys(mail)
    early = add_customer(mail, "陳美玲", "mei@example.com")
    late = add_customer(mail, "王小明", "ming@example.com")
    _invite(mail, early)
    dispatch_due(settings=mail, now=NOW)
    unsubscribe(settings=mail, token=invitations(mail, early)[0].token)
    _invite(mail, late)
    unsubscribe(settings=mail, token=invitations(mail, late)[0].token)  # before sending
    result = dispatch_due(settings=mail, now=NOW + timedelta(days=4))
    assert (result.sent, result.skipped, result.reminders) == (0, 1, 0)
    assert [m["To"].addresses[0].addr_spec for m in sink.messages] == [
        "mei@example.com"
    ]
    assert (invitations(mail, late)[0].status, invitations(mail, late)[0].error) == (
        "skipped", UNSUBSCRIBED,
    )  # fmt: skip


def test_one_reminder_only_and_none_after_a_complete_answer(
    mail: Settings, sink: Sink
) -> None:
    make_surveys(mail)
    silent = add_customer(mail, "李大華", "hua@example.com")
    answered = add_customer(mail, "張雅婷", "ting@example.com")
    _invite(mail, silent, answered)
    assert dispatch_due(settings=mail, now=NOW).sent == 2
    _set_status(mail, invitations(mail, answered)[0].id, "responded")
    assert dispatch_due(settings=mail, now=NOW + timedelta(days=2)).reminders == 0
    assert dispatch_due(settings=mail, now=NOW + timedelta(days=3)).reminders == 1
    assert dispatch_due(settings=mail, now=NOW + timedelta(days=9)).reminders == 0
    reminders = [m for m in sink.messages if m["Subject"].startswith("提醒")]
    assert [m["To"].addresses[0].addr_spec for m in reminders] == ["hua@example.com"]
    token = invitations(mail, silent)[0].token
    assert token in reminders[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    counts = invitation_counts(settings=mail, survey_key="relational")
    assert counts == {"sent": 1, "responded": 1, "reminders": 1}


def test_refused_recipient_fails_with_the_error_and_others_are_sent(
    mail: Settings, sink: Sink
) -> None:
    make_surveys(mail)
    sink.refuse.add("bounce@example.com")
    first = add_customer(mail, "甲", "a@example.com")
    refused = add_customer(mail, "乙", "bounce@example.com")
    last = add_customer(mail, "丙", "c@example.com")
    _invite(mail, first, refused, last)
    result = dispatch_due(settings=mail, now=NOW)
    assert (result.sent, result.failed) == (2, 1)
    assert "550" in result.errors[0]
    failed = invitations(mail, refused)[0]
    assert failed.status == "failed"
    assert failed.error is not None
    assert "550 5.1.1 mailbox unavailable" in failed.error
    assert sorted(m["To"].addresses[0].addr_spec for m in sink.messages) == [
        "a@example.com", "c@example.com",
    ]  # fmt: skip


def test_smtp_server_down_marks_each_invitation_failed(settings: Settings) -> None:
    down = mail_settings(settings, None, smtp_host="127.0.0.1", smtp_port=free_port())
    make_surveys(down)
    customers = [add_customer(down, f"顧客{i}", f"c{i}@example.com") for i in range(3)]
    _invite(down, *customers)
    result = dispatch_due(settings=down, now=NOW)
    assert (result.sent, result.failed) == (0, 3)
    errors = [i.error or "" for i in invitations(down)]
    assert all("ConnectionRefusedError" in error for error in errors), errors
    assert all(i.status == "failed" for i in invitations(down))


def test_outbox_mode_writes_eml_files(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # PostgreSQL's outbox is ./cxloop.outbox
    no_smtp = mail_settings(settings, None)
    make_surveys(no_smtp)
    customer = add_customer(no_smtp, "黃怡君", "yi@example.com")
    _invite(no_smtp, customer)
    assert dispatch_due(settings=no_smtp, now=NOW).sent == 1
    folder = outbox_dir(no_smtp)
    if no_smtp.database_url.startswith("sqlite"):
        database = Path(no_smtp.database_url.removeprefix("sqlite:///"))
        assert folder == database.with_name("cxloop.outbox")
    else:
        assert folder == Path("cxloop.outbox")
    files = sorted(folder.glob("*.eml"))
    assert len(files) == 1
    message = email.message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert message["Subject"] == "「年度顧客滿意調查」邀請您分享寶貴意見"
    assert invitations(no_smtp)[0].token in files[0].read_text()


def test_queued_invitation_waits_until_send_after(mail: Settings, sink: Sink) -> None:
    make_surveys(mail)
    customer = add_customer(mail, "吳佩珊", "pei@example.com")
    invite_customers(settings=mail, survey_key="relational", customer_ids=[customer],
                     send_after=NOW + timedelta(hours=3))  # fmt: skip
    assert dispatch_due(settings=mail, now=NOW).sent == 0
    assert dispatch_due(settings=mail, now=NOW + timedelta(hours=3)).sent == 1
    assert len(sink.wait_for(1)) == 1


def test_concurrent_dispatchers_send_each_invitation_once(
    mail: Settings, sink: Sink
) -> None:
    make_surveys(mail)
    customers = [add_customer(mail, f"顧客{i}", f"c{i}@example.com") for i in range(12)]
    _invite(mail, *customers)
    barrier, totals = threading.Barrier(3), list[int]()

    def run() -> None:
        barrier.wait()
        totals.append(dispatch_due(settings=mail, now=NOW).sent)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(totals) == 12
    addresses = [m["To"].addresses[0].addr_spec for m in sink.wait_for(12)]
    assert sorted(addresses) == sorted(f"c{i}@example.com" for i in range(12))


def test_stale_claim_is_marked_failed_not_sent_twice(
    mail: Settings, sink: Sink
) -> None:
    make_surveys(mail)
    customer = add_customer(mail, "周杰", "jay@example.com")
    _invite(mail, customer)
    invitation = invitations(mail, customer)[0]
    with UnitOfWork(engine_for(mail.database_url)).session() as session:
        session.execute(
            update(Invitation).where(Invitation.id == invitation.id)
            .values(status="sending", sent_at=NOW - timedelta(hours=1))
        )  # fmt: skip
    result = dispatch_due(settings=mail, now=NOW)
    assert (result.recovered, result.sent) == (1, 0)
    assert invitations(mail, customer)[0].status == "failed"
    assert sink.messages == []


def test_trigger_invitation_goes_out_after_its_delay(
    mail: Settings, sink: Sink
) -> None:
    make_surveys(mail)
    customer = add_customer(mail, "蔡依林", "jolin@example.com", language="en")
    add_trigger(settings=mail, survey_key="after-purchase", event="purchase",
                delay_minutes=60)  # fmt: skip
    add_purchase(mail, customer, NOW, ref="P9")
    first = dispatch_due(settings=mail, now=NOW + timedelta(minutes=5))
    assert (first.fired.queued, first.sent) == (1, 0)
    second = dispatch_due(settings=mail, now=NOW + timedelta(minutes=61))
    assert (second.fired.queued, second.sent) == (0, 1)
    [message] = sink.wait_for(1)
    assert message["Subject"] == "After your order: tell us how we did"


def test_background_dispatcher_sends_queued_invitations(
    mail: Settings, sink: Sink
) -> None:
    make_surveys(mail)
    customer = add_customer(mail, "林志豪", "hao@example.com")
    invite_customers(settings=mail, survey_key="relational", customer_ids=[customer],
                     send_after=datetime.now(UTC) - timedelta(seconds=1))  # fmt: skip
    dispatcher = start_background_dispatcher(mail, interval_seconds=0.2)
    try:
        [message] = sink.wait_for(1)
    finally:
        dispatcher.stop()
    assert not dispatcher.running
    assert message["To"].addresses[0].addr_spec == "hao@example.com"
    assert invitations(mail, customer)[0].status == "sent"


def test_smtp_login_when_a_username_is_set_and_refused_password_fails(
    settings: Settings,
) -> None:
    with running_sink(account=("cx-mailer", "s3cret")) as server:
        good = mail_settings(settings, server, smtp_username="cx-mailer",
                             smtp_password="s3cret")  # fmt: skip
        make_surveys(good)
        first = add_customer(good, "甲", "a@example.com")
        _invite(good, first)
        assert dispatch_due(settings=good, now=NOW).sent == 1
        assert server.logins == ["cx-mailer"]
        wrong = good.model_copy(update={"smtp_password": "guess"})
        second = add_customer(good, "乙", "b@example.com")
        _invite(wrong, second)
        result = dispatch_due(settings=wrong, now=NOW)
    assert (result.sent, result.failed) == (0, 1)
    assert "535" in (invitations(good, second)[0].error or "")
