"""Cases on both engines: open and route, the first-owner rule, replies by e-mail,
the workflow and its refusals, and a complete history."""

from __future__ import annotations

import email
import socket
import threading
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from case_seeding import MONDAY, add_article, add_customer, seed_team

from cxloop.config import Settings
from cxloop.domain.errors import Conflict, InvalidInput, NotFound
from cxloop.loop import cases
from cxloop.surveys.mailer import outbox_dir


@pytest.fixture
def team(settings: Settings) -> dict[str, int]:
    return seed_team(settings)


def _open(settings: Settings, customer_id: int | None, **more: Any) -> cases.CaseInfo:
    values: dict[str, Any] = {"title": "退款還沒收到", "now": MONDAY, **more}
    return cases.open_case(settings=settings, customer_id=customer_id, **values)


def _kinds(settings: Settings, case_id: int) -> list[str]:
    return [e.kind for e in cases.get_case(settings=settings, case_id=case_id).events]


def test_open_case_routes_by_topic_and_sets_due_times(
    settings: Settings, team: dict[str, int]
) -> None:
    customer = add_customer(settings, "陳小姐")
    refund = _open(settings, customer, topics=["refund"], channel="email")
    other = _open(settings, customer, topics=["delivery"])
    assert (refund.team_key, other.team_key) == ("billing", "desk")
    assert refund.owner_id in (team["amy"], team["ben"])
    assert other.owner_id is None
    assert refund.status == "new"
    assert refund.language == "zh-TW"
    assert refund.first_response_due_at is not None
    assert refund.first_response_due_at > MONDAY
    assert refund.resolution_due_at is not None
    assert refund.resolution_due_at > refund.first_response_due_at
    assert _kinds(settings, refund.id) == ["created", "routed", "assigned"]


def test_open_case_refuses_bad_input_naming_the_field(
    settings: Settings, team: dict[str, int]
) -> None:
    with pytest.raises(InvalidInput, match="title is empty"):
        _open(settings, None, title="  ")
    with pytest.raises(InvalidInput, match="priority 'asap'"):
        _open(settings, None, priority="asap")
    with pytest.raises(InvalidInput, match="channel 'fax'"):
        _open(settings, None, channel="fax")
    with pytest.raises(NotFound, match="customer 999"):
        _open(settings, 999)


def test_take_case_makes_the_first_agent_owner_until_handed_over(
    settings: Settings, team: dict[str, int]
) -> None:
    case = _open(settings, add_customer(settings, "陳小姐"))
    taken = cases.take_case(settings=settings, case_id=case.id, user_id=team["amy"])
    assert (taken.owner_id, taken.owner_name, taken.status) == (
        team["amy"], "林美華", "in_progress")  # fmt: skip
    with pytest.raises(Conflict, match="owned by 林美華 until they hand it over"):
        cases.take_case(settings=settings, case_id=case.id, user_id=team["ben"])
    with pytest.raises(Conflict, match="owned by 林美華"):
        cases.set_priority(settings=settings, case_id=case.id, user_id=team["ben"],
                           priority="high")  # fmt: skip
    handed = cases.hand_over(settings=settings, case_id=case.id, user_id=team["amy"],
                             to_user_id=team["ben"], note="帳務問題請志明接手")  # fmt: skip
    assert handed.owner_id == team["ben"]
    with pytest.raises(Conflict, match="owned by 王志明"):
        cases.set_status(settings=settings, case_id=case.id, user_id=team["amy"],
                         status="waiting_on_customer")  # fmt: skip


def test_first_action_on_an_unowned_case_claims_it(
    settings: Settings, team: dict[str, int]
) -> None:
    case = _open(settings, None)
    cases.add_comment(settings=settings, case_id=case.id, user_id=team["ann"],
                      body="看起來是金流問題")  # fmt: skip
    assert cases.get_case(settings=settings, case_id=case.id).info.owner_id is None
    acted = cases.set_root_cause(settings=settings, case_id=case.id,
                                 user_id=team["ben"], root_cause="system",
                                 topic="金流")  # fmt: skip
    assert acted.owner_id == team["ben"]
    assert _kinds(settings, case.id)[-2:] == ["taken", "root_cause"]


def test_viewers_and_strangers_cannot_act(
    settings: Settings, team: dict[str, int]
) -> None:
    case = _open(settings, None)
    with pytest.raises(InvalidInput, match="viewer reads cases but cannot act"):
        cases.take_case(settings=settings, case_id=case.id, user_id=team["vic"])
    with pytest.raises(NotFound, match="case 4242"):
        cases.take_case(settings=settings, case_id=4242, user_id=team["amy"])
    with pytest.raises(Conflict, match="nobody owns this case"):
        cases.hand_over(settings=settings, case_id=case.id, user_id=team["amy"],
                        to_user_id=team["ben"])  # fmt: skip


def test_admin_acts_on_an_owned_case_without_taking_it(
    settings: Settings, team: dict[str, int]
) -> None:
    case = _open(settings, None)
    cases.take_case(settings=settings, case_id=case.id, user_id=team["amy"])
    changed = cases.set_priority(settings=settings, case_id=case.id,
                                 user_id=team["root"], priority="urgent")  # fmt: skip
    assert (changed.priority, changed.owner_id) == ("urgent", team["amy"])
    moved = cases.hand_over(settings=settings, case_id=case.id, user_id=team["root"],
                            to_user_id=team["ben"])  # fmt: skip
    assert moved.owner_id == team["ben"]


def test_reply_writes_the_email_to_the_outbox_and_sets_first_response(
    settings: Settings, team: dict[str, int], tmp_path: Path
) -> None:
    local = settings.model_copy(update={"outbox_dir": str(tmp_path / "out"),
                                        "smtp_host": ""})  # fmt: skip
    case = _open(local, add_customer(local, "陳小姐 <b>"), topics=["refund"])
    owner = case.owner_id or team["amy"]
    ref = add_article(local, "refund-7", "退款會在 7 個工作天內退回原信用卡。")
    later = MONDAY + timedelta(minutes=30)
    replied = cases.reply_to_customer(settings=local, case_id=case.id, user_id=owner,
                                      body="您好，已為您查詢。", articles=[ref],
                                      now=later)  # fmt: skip
    assert replied.first_response_at == later
    assert replied.status == "in_progress"
    files = list(outbox_dir(local).glob("*.eml"))
    assert len(files) == 1
    message = email.message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    assert message["To"].addresses[0].addr_spec == "chen@example.test"
    assert f"案件編號 {case.id}" in str(message["Subject"])
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    assert "7 個工作天" in text.get_content()
    assert "陳小姐 &lt;b&gt;" in html.get_content()
    event = cases.get_case(settings=local, case_id=case.id).events[-1]
    assert (event.kind, event.data["articles"], event.data["sent"]) == (
        "reply", [ref], True)  # fmt: skip


class _Sink:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.messages.append(message)
        return "250 OK"


def test_reply_goes_over_smtp_to_a_real_server(
    settings: Settings, team: dict[str, int]
) -> None:
    sink = _Sink()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        mail = settings.model_copy(update={
            "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "none",
            "smtp_from": "禾光客服 <care@heguang.example>"})  # fmt: skip
        case = _open(mail, add_customer(mail, "Mr Chen", language="en"))
        cases.reply_to_customer(settings=mail, case_id=case.id, user_id=team["amy"],
                                body="We have refunded you.")  # fmt: skip
    finally:
        controller.stop()
    assert len(sink.messages) == 1
    message = sink.messages[0]
    assert str(message["Subject"]) == f"Re: 退款還沒收到 (case {case.id})"
    assert "禾光客服" in str(message["From"])


def test_reply_without_customer_email_records_nothing(
    settings: Settings, team: dict[str, int]
) -> None:
    case = _open(settings, add_customer(settings, "匿名", email=None))
    with pytest.raises(InvalidInput, match="no customer e-mail address"):
        cases.reply_to_customer(settings=settings, case_id=case.id,
                                user_id=team["amy"], body="您好")  # fmt: skip
    detail = cases.get_case(settings=settings, case_id=case.id)
    assert (detail.info.owner_id, detail.info.status) == (None, "new")
    phoned = cases.reply_to_customer(settings=settings, case_id=case.id,
                                     user_id=team["amy"], body="已電話聯繫",
                                     send_email=False)  # fmt: skip
    assert phoned.first_response_at is not None


def test_status_workflow_refuses_skips_and_needs_resolution_notes(
    settings: Settings, team: dict[str, int]
) -> None:
    case = _open(settings, None)
    amy = team["amy"]

    def move(status: str, resolution: str | None = None) -> cases.CaseInfo:
        return cases.set_status(settings=settings, case_id=case.id, user_id=amy,
                                status=status, resolution=resolution)  # fmt: skip

    with pytest.raises(Conflict, match="can move to in_progress, not resolved"):
        move("resolved", "done")
    assert move("in_progress").owner_id == amy
    assert move("waiting_on_customer").status == "waiting_on_customer"
    with pytest.raises(InvalidInput, match="resolution notes"):
        move("resolved")
    resolved = move("resolved", "已退款")
    assert resolved.resolved_at is not None
    assert move("in_progress").resolved_at is None
    move("resolved", "再次確認已退款")
    assert move("closed").status == "closed"
    with pytest.raises(Conflict, match="closed case is final"):
        move("in_progress")


def test_history_records_every_change_in_order(
    settings: Settings, team: dict[str, int]
) -> None:
    case = _open(settings, add_customer(settings, "陳小姐", email=None))
    amy, ben = team["amy"], team["ben"]
    kw: dict[str, Any] = {"settings": settings, "case_id": case.id}
    cases.add_comment(**kw, user_id=ben, body="先看一下")
    cases.take_case(**kw, user_id=amy)
    cases.reply_to_customer(**kw, user_id=amy, body="已電話聯繫", send_email=False)
    cases.set_priority(**kw, user_id=amy, priority="high")
    cases.set_root_cause(**kw, user_id=amy, root_cause="people", topic="態度")
    cases.hand_over(**kw, user_id=amy, to_user_id=ben)
    cases.set_status(**kw, user_id=ben, status="resolved", resolution="已道歉並補償")
    detail = cases.get_case(**kw)
    assert [e.kind for e in detail.events] == [
        "created", "routed", "comment", "taken", "status", "reply", "priority",
        "root_cause", "handed_over", "status", "followup_skipped"]  # fmt: skip
    assert detail.events[4].data == {"from": "new", "to": "in_progress"}
    assert detail.events[-2].body == "已道歉並補償"
    assert detail.events[2].actor_name == "王志明"
    assert (detail.root_cause, detail.root_cause_topic) == ("people", "態度")
    assert detail.resolution == "已道歉並補償"
    assert detail.next_statuses == ("closed", "in_progress")


def test_list_cases_views_split_the_inbox(
    settings: Settings, team: dict[str, int]
) -> None:
    amy = team["amy"]
    mine = _open(settings, None, topics=["refund"], priority="low")
    if mine.owner_id != amy:
        mine = _open(settings, None, topics=["refund"], priority="low")
    unowned = _open(settings, None, priority="urgent")
    late = _open(settings, None, now=MONDAY - timedelta(days=10))
    after = MONDAY + timedelta(hours=1)

    def ids(view: str, **more: Any) -> list[int]:
        page = cases.list_cases(settings=settings, view=view, user_id=amy,
                                now=after, **more)  # fmt: skip
        return [c.id for c in page.items]

    assert mine.id in ids("mine")
    assert unowned.id not in ids("mine")
    assert set(ids("team")) >= {mine.id}
    assert unowned.id not in ids("team")
    assert ids("unassigned")[0] == unowned.id  # urgent first
    assert ids("overdue") == [late.id]
    assert ids("all", priority="urgent") == [unowned.id]
    page = cases.list_cases(settings=settings, view="all", per_page=2, page=2)
    assert (page.total, page.pages, len(page.items)) == (page.total, 2, page.total - 2)
    with pytest.raises(InvalidInput, match="view 'nobody'"):
        cases.list_cases(settings=settings, view="nobody")
    with pytest.raises(InvalidInput, match="mine view needs a user"):
        cases.list_cases(settings=settings, view="mine")
