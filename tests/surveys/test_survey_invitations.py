"""Personal invitations over real SMTP: links, unsubscribe, the contact cap, skips."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

import pytest
from distribution_seeding import add_customer, invitations, make_surveys
from smtp_sink import PUBLIC_URL, Sink, body, mail_settings
from sqlalchemy import select

from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput, NotFound
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import ContactSuppression, Customer, Segment, SegmentMember
from cxloop.surveys.definitions import set_status
from cxloop.surveys.dispatch import dispatch_due
from cxloop.surveys.invitations import (
    ALREADY_INVITED,
    CONTACT_CAP,
    NO_EMAIL,
    UNSUBSCRIBED,
    invitation_counts,
    invite_customers,
    personal_link,
    unsubscribe,
    unsubscribe_customer,
    unsubscribe_state,
)

#: Dispatch passes run "now" (a little after the invitations are queued).
NOW = datetime.now(UTC) + timedelta(minutes=10)


@pytest.fixture(autouse=True)
def _now_of_this_test(monkeypatch: pytest.MonkeyPatch) -> None:
    """NOW is taken when each test starts: a long suite must not age it."""
    monkeypatch.setattr(
        sys.modules[__name__], "NOW", datetime.now(UTC) + timedelta(minutes=10)
    )


def test_invitation_arrives_with_personal_link_and_unsubscribe_link(
    mail: Settings, sink: Sink
) -> None:
    make_surveys(mail)
    customer = add_customer(mail, "陳美玲", "mei@example.com")
    summary = invite_customers(settings=mail, survey_key="relational",
                               customer_ids=[customer])  # fmt: skip
    assert (summary.queued, summary.skipped) == (1, ())
    result = dispatch_due(settings=mail, now=NOW)
    assert (result.sent, result.failed) == (1, 0)
    [message] = sink.wait_for(1)
    [invitation] = invitations(mail, customer)
    link = f"{PUBLIC_URL}/r/{invitation.token}"
    unsubscribe_url = f"{PUBLIC_URL}/unsubscribe/{invitation.token}"
    assert personal_link(mail, invitation.token) == link
    assert message["Subject"] == "「年度顧客滿意調查」邀請您分享寶貴意見"
    assert "=?utf-8?" in message.as_string().split("Subject:", 1)[1].split("\n")[0]
    assert message["To"].addresses[0].addr_spec == "mei@example.com"
    assert message["To"].addresses[0].display_name == "陳美玲"
    assert message["From"].addresses[0].display_name == "禾光生活"
    assert message["List-Unsubscribe"].strip() == f"<{unsubscribe_url}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_content_type() == "multipart/alternative"
    for subtype in ("plain", "html"):
        assert link in body(message, subtype)
        assert unsubscribe_url in body(message, subtype)
    assert "陳美玲 您好" in body(message, "plain")
    assert (invitation.status, invitation.sent_at, invitation.email) == (
        "sent", NOW, "mei@example.com",
    )  # fmt: skip


def test_english_customer_gets_english_invitation(mail: Settings, sink: Sink) -> None:
    make_surveys(mail)
    customer = add_customer(mail, "Alice Lin", "alice@example.com", language="en-US")
    invite_customers(settings=mail, survey_key="relational", customer_ids=[customer])
    dispatch_due(settings=mail, now=NOW)
    [message] = sink.wait_for(1)
    assert message["Subject"] == "Yearly survey: tell us how we did"
    assert body(message, "plain").startswith("Hello Alice Lin,")
    assert invitations(mail, customer)[0].language == "en"


def test_customer_name_is_escaped_in_the_html_part(mail: Settings, sink: Sink) -> None:
    make_surveys(mail)
    hostile = '<script>alert("x")</script>{{ 7*7 }}'
    customer = add_customer(mail, hostile, "hostile@example.com")
    invite_customers(settings=mail, survey_key="relational", customer_ids=[customer])
    dispatch_due(settings=mail, now=NOW)
    [message] = sink.wait_for(1)
    html = body(message, "html")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert hostile in body(message, "plain")


def test_invite_skips_customers_without_email_or_unsubscribed(mail: Settings) -> None:
    make_surveys(mail)
    ok = add_customer(mail, "王小明", "ming@example.com")
    no_email = add_customer(mail, "李大華", None)
    gone = add_customer(mail, "張雅婷", "ting@example.com")
    unsubscribe_customer(settings=mail, customer=str(gone))
    summary = invite_customers(settings=mail, survey_key="relational",
                               customer_ids=[ok, no_email, gone])  # fmt: skip
    assert summary.queued == 1
    assert summary.skipped_by_reason() == {NO_EMAIL: 1, UNSUBSCRIBED: 1}
    assert {s.customer_id: s.reason for s in summary.skipped} == {
        no_email: NO_EMAIL, gone: UNSUBSCRIBED,
    }  # fmt: skip
    assert [i.customer_id for i in invitations(mail)] == [ok]


def test_contact_cap_skips_second_survey_within_cap_days(
    mail: Settings, sink: Sink
) -> None:
    make_surveys(mail)
    customer = add_customer(mail, "林志豪", "hao@example.com")
    invite_customers(settings=mail, survey_key="relational", customer_ids=[customer])
    assert dispatch_due(settings=mail, now=NOW).sent == 1
    second = invite_customers(settings=mail, survey_key="after-purchase",
                              customer_ids=[customer])  # fmt: skip
    assert second.queued == 0
    assert second.skipped_by_reason() == {CONTACT_CAP: 1}
    later = invite_customers(settings=mail, survey_key="after-purchase",
                             customer_ids=[customer],
                             send_after=NOW + timedelta(days=31))  # fmt: skip
    assert later.queued == 1
    day_20 = dispatch_due(settings=mail, now=NOW + timedelta(days=20))
    assert (day_20.sent, day_20.reminders) == (0, 1)  # the first one's reminder
    assert dispatch_due(settings=mail, now=NOW + timedelta(days=31)).sent == 1
    subjects = [m["Subject"] for m in sink.wait_for(3)]
    assert subjects == ["「年度顧客滿意調查」邀請您分享寶貴意見",
                        "提醒：「年度顧客滿意調查」問卷還在等您",
                        "「購物後回饋」邀請您分享寶貴意見"]  # fmt: skip


def test_contact_cap_of_zero_days_allows_every_invitation(settings: Settings) -> None:
    uncapped = mail_settings(settings, None, contact_cap_days=0)
    make_surveys(uncapped)
    customer = add_customer(uncapped, "林志豪", "hao@example.com")
    for key in ("relational", "after-purchase"):
        summary = invite_customers(settings=uncapped, survey_key=key,
                                   customer_ids=[customer])  # fmt: skip
        assert summary.queued == 1


def test_invite_twice_to_same_survey_skips_the_unanswered_one(mail: Settings) -> None:
    make_surveys(mail)
    customer = add_customer(mail, "黃怡君", "yi@example.com")
    invite_customers(settings=mail, survey_key="relational", customer_ids=[customer])
    again = invite_customers(settings=mail, survey_key="relational",
                             customer_ids=[customer, customer])  # fmt: skip
    assert again.skipped_by_reason() == {ALREADY_INVITED: 1}
    assert len(invitations(mail, customer)) == 1


def test_invite_segment_members_queues_one_each(mail: Settings) -> None:
    make_surveys(mail)
    members = [add_customer(mail, f"會員{i}", f"m{i}@example.com") for i in range(3)]
    add_customer(mail, "非會員", "outside@example.com")
    with UnitOfWork(engine_for(mail.database_url)).session() as session:
        segment = Segment(key="vip", name="VIP", definition={})
        session.add(segment)
        session.flush()
        session.add_all(SegmentMember(segment_id=segment.id, customer_id=c)
                        for c in members)  # fmt: skip
    summary = invite_customers(settings=mail, survey_key="relational",
                               segment_key="vip")  # fmt: skip
    assert summary.queued == 3
    assert sorted(i.customer_id or 0 for i in invitations(mail)) == members
    tokens = {i.token for i in invitations(mail)}
    assert len(tokens) == 3
    assert all(len(token) >= 32 for token in tokens)


def test_invite_merged_customer_invites_the_customer_it_was_merged_into(
    mail: Settings,
) -> None:
    make_surveys(mail)
    kept = add_customer(mail, "吳佩珊", "pei@example.com")
    merged = add_customer(mail, "吳佩珊", None)
    with UnitOfWork(engine_for(mail.database_url)).session() as session:
        row = session.get(Customer, merged)
        assert row is not None
        row.merged_into_id = kept
    summary = invite_customers(settings=mail, survey_key="relational",
                               customer_ids=[merged, kept])  # fmt: skip
    assert summary.queued == 1
    assert [(i.customer_id, i.email) for i in invitations(mail)] == [
        (kept, "pei@example.com")
    ]


def test_invite_refuses_closed_survey_unknown_customer_and_naive_time(
    mail: Settings,
) -> None:
    make_surveys(mail)
    customer = add_customer(mail, "周杰", "jay@example.com")
    with pytest.raises(NotFound, match="no customer with id 999999"):
        invite_customers(settings=mail, survey_key="relational",
                         customer_ids=[customer, 999999])  # fmt: skip
    with pytest.raises(InvalidInput, match="time zone"):
        invite_customers(settings=mail, survey_key="relational",
                         customer_ids=[customer],
                         send_after=datetime(2026, 1, 1))  # noqa: DTZ001  # fmt: skip
    with pytest.raises(InvalidInput, match="one of the two"):
        invite_customers(settings=mail, survey_key="relational")
    set_status(settings=mail, key="relational", status="closed")
    with pytest.raises(InvalidInput, match="is closed"):
        invite_customers(settings=mail, survey_key="relational",
                         customer_ids=[customer])  # fmt: skip
    assert invitations(mail) == []


def test_unsubscribe_records_suppression_once_and_shows_state(mail: Settings) -> None:
    make_surveys(mail)
    customer = add_customer(mail, "蔡依林", "jolin@example.com")
    invite_customers(settings=mail, survey_key="relational", customer_ids=[customer])
    token = invitations(mail, customer)[0].token
    state = unsubscribe_state(settings=mail, token=token)
    assert (state.unsubscribed, state.email_hint) == (False, "j***@example.com")
    first = unsubscribe(settings=mail, token=token)
    second = unsubscribe(settings=mail, token=token)
    assert (first.customer_id, first.already, second.already) == (customer, False, True)
    assert unsubscribe_state(settings=mail, token=token).unsubscribed
    with UnitOfWork(engine_for(mail.database_url)).session() as session:
        rows = session.scalars(select(ContactSuppression)).all()
        assert [(r.customer_id, r.channel) for r in rows] == [(customer, "email")]
    with pytest.raises(NotFound):
        unsubscribe(settings=mail, token="no-such-token")


def test_invitation_counts_by_status(mail: Settings) -> None:
    make_surveys(mail)
    customers = [add_customer(mail, f"顧客{i}", f"c{i}@example.com") for i in range(2)]
    invite_customers(settings=mail, survey_key="relational", customer_ids=customers,
                     send_after=NOW + timedelta(days=1))  # fmt: skip
    assert invitation_counts(settings=mail, survey_key="relational") == {
        "queued": 2, "reminders": 0,
    }  # fmt: skip
    with pytest.raises(NotFound):
        invitation_counts(settings=mail, survey_key="nope")
