"""Tell customers an improvement shipped: the right people, by e-mail, recorded."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from service_seeding import (
    Sink,
    add_customer,
    add_nps,
    mail_settings,
    nps_survey,
)

from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput, NotFound
from cxloop.improve.initiatives import create_initiative, get_initiative
from cxloop.loop.announcements import announce_improvement
from cxloop.surveys.invitations import unsubscribe_customer

AT = datetime(2025, 5, 6, 3, 0, tzinfo=UTC)
BODY = "您之前反映宅配太慢。\n\n從六月起，北部宅配改為隔日到貨。謝謝您的意見！"


@pytest.fixture
def mail(settings: Settings, sink: Sink) -> Settings:
    return mail_settings(settings, sink)


def _seed(settings: Settings) -> tuple[int, dict[str, int]]:
    question = nps_survey(settings)
    people = {
        "asked": add_customer(settings, "林美華", "meihua@example.com"),
        "other": add_customer(settings, "王小明", "ming@example.com"),
        "gone": add_customer(settings, "陳大同", "datong@example.com"),
        "mute": add_customer(settings, "無信箱", None),
    }
    add_nps(settings, question, people["asked"], AT, 3, touchpoint="宅配")
    add_nps(settings, question, people["other"], AT, 9, touchpoint="門市")
    add_nps(settings, question, people["gone"], AT, 5, touchpoint="宅配")
    add_nps(settings, question, people["mute"], AT, 4, touchpoint="宅配")
    unsubscribe_customer(settings=settings, customer=str(people["gone"]))
    view = create_initiative(settings=settings, title="宅配隔日到", metric="nps",
                             scope={"touchpoint": "宅配"})  # fmt: skip
    return view.id, people


def test_announcement_reaches_customers_of_the_scope_and_is_recorded(
    mail: Settings, sink: Sink
) -> None:
    initiative, _ = _seed(mail)

    summary = announce_improvement(
        settings=mail, initiative_id=initiative, subject="宅配變快了", body=BODY
    )

    assert (summary.customers, summary.sent, summary.failed) == (3, 1, 0)
    assert summary.skipped == {"unsubscribed": 1, "no e-mail address": 1}
    [message] = sink.wait_for(1)
    assert message["To"].addresses[0].addr_spec == "meihua@example.com"
    assert str(message["Subject"]) == "宅配變快了"
    text = message.get_body(preferencelist=("plain",))
    assert text is not None
    assert "隔日到貨" in text.get_content()
    [action] = get_initiative(settings=mail, initiative_id=initiative).actions
    assert action.title == "Announced to 1 customers: 宅配變快了"
    assert action.done_at is not None


def test_announcement_to_named_customers_escapes_the_body(
    mail: Settings, sink: Sink
) -> None:
    initiative, people = _seed(mail)

    summary = announce_improvement(
        settings=mail, initiative_id=initiative, customer_ids=[people["other"]],
        subject="New", body="<script>alert(1)</script>",
    )  # fmt: skip

    assert summary.sent == 1
    [message] = sink.wait_for(1)
    html = message.get_body(preferencelist=("html",))
    assert html is not None
    assert "&lt;script&gt;" in html.get_content()
    assert "<script>" not in html.get_content()


def test_announcement_refuses_bad_requests(mail: Settings) -> None:
    initiative, people = _seed(mail)

    with pytest.raises(InvalidInput, match="subject and a body"):
        announce_improvement(settings=mail, initiative_id=initiative, subject=" ",
                             body=BODY)  # fmt: skip
    with pytest.raises(InvalidInput, match="not both"):
        announce_improvement(settings=mail, initiative_id=initiative, subject="x",
                             body=BODY, segment_key="vip", customer_ids=[1])  # fmt: skip
    with pytest.raises(NotFound):
        announce_improvement(settings=mail, initiative_id=initiative + 99,
                             subject="x", body=BODY)  # fmt: skip
    with pytest.raises(NotFound, match="no customer"):
        announce_improvement(settings=mail, initiative_id=initiative, subject="x",
                             body=BODY, customer_ids=[max(people.values()) + 1])  # fmt: skip
