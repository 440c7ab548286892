"""Automatic replies in the worker: questions pushed by API are answered or handed over."""

from __future__ import annotations

import csv
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from service_seeding import Sink, mail_settings, uow
from sqlalchemy import func, select

from cxloop.accounts import service as accounts
from cxloop.config import Settings
from cxloop.loop import auto_replies, worker
from cxloop.loop.auto_replies import AutoReplyPass, run_auto_replies
from cxloop.loop.kb_service import import_faq
from cxloop.store.tables import Case, Interaction
from cxloop.web.app import create_app

NOW = datetime(2025, 6, 2, 3, 0, tzinfo=UTC)
FAQ = [
    ("password", "忘記密碼如何重設？", "請在登入頁按「忘記密碼」，依簡訊指示重設。"),
    ("password", "密碼忘了怎麼辦？", "請在登入頁按「忘記密碼」，依簡訊指示重設。"),
    ("refund", "如何申請退款？", "請在訂單頁按「申請退款」，七個工作天內退回。"),
    ("store-hours", "門市營業時間是幾點到幾點？", "門市營業時間為每日上午十一點到晚上九點半。"),
    ("ship-late", "包裹配送延遲怎麼辦？", "配送延遲時，請提供訂單編號，我們會聯絡物流。"),
]  # fmt: skip
PASSWORD_ANSWER = "依簡訊指示重設"


@pytest.fixture
def replying(settings: Settings, sink: Sink, tmp_path: Path) -> Settings:
    """Mail to the sink, BM25 ranking, automatic replies on, the FAQ loaded."""
    configured = mail_settings(settings, sink).model_copy(
        update={"embeddings": "none", "auto_reply": True}
    )
    path = tmp_path / "faq.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([("id", "question", "answer"), *FAQ])
    done = import_faq(settings=configured, path=path, id_column="id",
                      question_column="question", answer_column="answer")  # fmt: skip
    assert done.committed
    return configured


def _item(external_id: str, text: str, **extra: Any) -> dict[str, Any]:
    return {
        "external_id": external_id, "kind": "ticket", "channel": "email",
        "text": text, "occurred_at": (NOW - timedelta(minutes=5)).isoformat(),
        "customer": {"email": f"{external_id}@example.com", "name": "林美華"},
        **extra,
    }  # fmt: skip


def _post(settings: Settings, items: list[dict[str, Any]]) -> dict[str, int]:
    """Push items through ``POST /api/v1/interactions``; their ids by external id."""
    key = accounts.create_api_key(
        settings=settings, name="helpdesk", role="viewer",
        scopes=["interactions:write"],
    )  # fmt: skip
    with TestClient(create_app(settings)) as client:
        response = client.post(
            "/api/v1/interactions",
            json={"source": "helpdesk", "items": items},
            headers={"Authorization": f"Bearer {key}"},
        )
    assert response.status_code == 200, response.text
    body = response.json()["items"]
    assert [item["status"] for item in body] == ["created"] * len(items)
    return {item["external_id"]: item["interaction_id"] for item in body}


def _cases_of(settings: Settings, interaction_id: int) -> list[Case]:
    query = select(Case).where(Case.interaction_id == interaction_id)
    with uow(settings).session() as session:
        return list(session.scalars(query))


def _attributes(settings: Settings, interaction_id: int) -> dict[str, Any]:
    with uow(settings).session() as session:
        return dict(session.get_one(Interaction, interaction_id).attributes or {})


def test_worker_answers_faq_question_and_hands_over_off_topic_once(
    replying: Settings, sink: Sink
) -> None:
    ids = _post(replying, [
        _item("q1", "忘記密碼如何重設？"),
        _item("q2", "你們公司的股東會什麼時候開", kind="chat", channel="chat"),
    ])  # fmt: skip

    first = worker.run_pass(settings=replying, now=NOW)

    assert "replies" not in first.errors
    done = first.results["replies"]
    assert (done.answered, done.handed_over, done.failed) == (1, 1, 0)
    [message] = sink.wait_for(1)
    assert message["To"].addresses[0].addr_spec == "q1@example.com"
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    assert PASSWORD_ANSWER in body.get_content()
    assert _attributes(replying, ids["q1"])["auto_reply"]["article"] == "faq:password"
    [case] = _cases_of(replying, ids["q2"])
    assert (case.kind, case.title) == (
        "request",
        "Question: 你們公司的股東會什麼時候開",
    )
    assert _attributes(replying, ids["q2"])["auto_reply"]["case_id"] == case.id

    second = worker.run_pass(settings=replying, now=NOW + timedelta(minutes=1))

    assert second.results["replies"] == AutoReplyPass(looked_at=0)
    assert len(sink.messages) == 1
    assert len(_cases_of(replying, ids["q2"])) == 1
    assert _cases_of(replying, ids["q1"]) == []


def test_auto_replies_do_nothing_when_switched_off(
    replying: Settings, sink: Sink
) -> None:
    switched_off = replying.model_copy(update={"auto_reply": False})
    ids = _post(switched_off, [_item("q1", "忘記密碼如何重設？")])

    done = run_auto_replies(settings=switched_off, now=NOW)

    assert done == AutoReplyPass(enabled=False)
    assert sink.messages == []
    assert "auto_reply" not in _attributes(switched_off, ids["q1"])


def test_auto_replies_leave_old_outbound_review_and_case_messages_alone(
    replying: Settings, sink: Sink
) -> None:
    two_days_ago = (NOW - timedelta(days=2)).isoformat()
    ids = _post(replying, [
        _item("old", "忘記密碼如何重設？", occurred_at=two_days_ago),
        _item("ours", "忘記密碼如何重設？", attributes={"direction": "outbound"}),
        _item("review", "忘記密碼如何重設？", kind="review", channel="web"),
        _item("cased", "忘記密碼如何重設？"),
    ])  # fmt: skip
    with uow(replying).session() as session:
        session.add(Case(title="已有案件", interaction_id=ids["cased"], opened_at=NOW,
                         source="test", external_id="C1"))  # fmt: skip

    done = run_auto_replies(settings=replying, now=NOW)

    assert done == AutoReplyPass(looked_at=0)
    assert sink.messages == []
    for interaction_id in ids.values():
        assert "auto_reply" not in _attributes(replying, interaction_id)


def test_auto_replies_answer_once_when_two_passes_run_at_once(
    replying: Settings, sink: Sink
) -> None:
    ids = _post(replying, [_item(f"q{i}", "忘記密碼如何重設？") for i in range(4)])
    start = threading.Barrier(2)
    results: list[AutoReplyPass] = []

    def one_pass() -> None:
        start.wait()
        results.append(run_auto_replies(settings=replying, now=NOW))

    threads = [threading.Thread(target=one_pass) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert len(results) == 2
    assert sum(r.answered for r in results) == 4
    assert sum(r.failed + r.handed_over for r in results) == 0
    sink.wait_for(4)
    assert sorted(m["To"].addresses[0].addr_spec for m in sink.messages) == sorted(
        f"{key}@example.com" for key in ids
    )
    with uow(replying).session() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 0


def test_auto_replies_take_a_stale_claim_again(replying: Settings, sink: Sink) -> None:
    ids = _post(replying, [_item("q1", "忘記密碼如何重設？")])
    failed = {"at": (NOW - timedelta(minutes=1)).isoformat(), "error": "SMTP refused"}
    with uow(replying).session() as session:
        row = session.get_one(Interaction, ids["q1"])
        row.attributes = {auto_replies.CLAIM_KEY: failed}

    assert run_auto_replies(settings=replying, now=NOW).answered == 0
    later = NOW + auto_replies.CLAIM_TTL
    assert run_auto_replies(settings=replying, now=later).answered == 1
    sink.wait_for(1)


def test_a_claim_that_ended_silently_goes_to_a_person_not_a_second_reply(
    replying: Settings, sink: Sink
) -> None:
    ids = _post(replying, [_item("q1", "忘記密碼如何重設？")])
    silent = {"at": (NOW - auto_replies.CLAIM_TTL).isoformat()}  # the worker died
    with uow(replying).session() as session:
        row = session.get_one(Interaction, ids["q1"])
        row.attributes = {auto_replies.CLAIM_KEY: silent}

    done = run_auto_replies(settings=replying, now=NOW)

    assert (done.answered, done.handed_over) == (0, 1)
    [case] = _cases_of(replying, ids["q1"])
    assert case.kind == "request"
    decision = _attributes(replying, ids["q1"])["auto_reply"]
    assert decision["case_id"] == case.id
    assert "may have been sent" in decision["reason"]
    assert decision["article"] == "faq:password"  # it would have been answered
    assert sink.messages == []


def test_chat_system_reads_back_the_answer_and_the_case(
    replying: Settings, sink: Sink
) -> None:
    _post(replying, [
        _item("c1", "密碼忘了怎麼辦？", kind="chat", channel="chat"),
        _item("c2", "你們公司的股東會什麼時候開", kind="chat", channel="chat"),
    ])  # fmt: skip
    writer = accounts.create_api_key(settings=replying, name="chat", role="viewer",
                                     scopes=["interactions:write"])  # fmt: skip
    reader = accounts.create_api_key(settings=replying, name="bi", role="viewer",
                                     scopes=["read"])  # fmt: skip
    auth = {"Authorization": f"Bearer {writer}"}
    with TestClient(create_app(replying)) as client:
        before = client.get("/api/v1/interactions/helpdesk/c1", headers=auth).json()
        worker.run_pass(settings=replying, now=NOW)
        answered = client.get("/api/v1/interactions/helpdesk/c1", headers=auth)
        handed = client.get("/api/v1/interactions/helpdesk/c2", headers=auth).json()
        missing = client.get("/api/v1/interactions/helpdesk/nope", headers=auth)
        refused = client.get(
            "/api/v1/interactions/helpdesk/c1",
            headers={"Authorization": f"Bearer {reader}"},
        )

    assert before["auto_reply"] is None
    assert answered.status_code == 200, answered.text
    reply = answered.json()["auto_reply"]
    assert (reply["action"], reply["reason"]) == ("answered", "chat")
    assert PASSWORD_ANSWER in reply["answer"]
    assert sink.messages == []  # a chat answer is for the chat to post, not e-mail
    assert handed["auto_reply"]["action"] == "handed_over"
    assert handed["case_id"] == handed["auto_reply"]["case_id"] is not None
    assert missing.status_code == 404
    assert refused.status_code == 403
