"""The channel intake service on real SQLite and PostgreSQL stores."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput
from cxloop.ingest.intake import MAX_ITEMS, intake_interactions, items_of
from cxloop.ingest.intake_items import MAX_TEXT
from cxloop.store.engine import engine_for
from cxloop.store.tables import (
    Answer,
    Customer,
    IdentityMerge,
    ImportReject,
    ImportRun,
    Interaction,
    Question,
    Survey,
)


def _chat(external_id: str = "c-1", **extra: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "source": "livechat",
        "external_id": external_id,
        "kind": "chat",
        "occurred_at": "2024-03-01T09:30:00+08:00",
        "customer": {"email": "Chen@Example.com"},
        "messages": [
            {"speaker": "customer", "at": "2024-03-01T09:30:00+08:00", "text": "包裹還沒到"},
            {"speaker": "agent", "at": "2024-03-01T09:31:10+08:00", "text": "幫您查詢"},
        ],
    }  # fmt: skip
    item.update(extra)
    return item


def _rows(settings: Settings, model: type[Any]) -> list[Any]:
    with engine_for(settings.database_url).connect() as connection:
        return list(connection.execute(select(model)).all())


def _count(settings: Settings, model: type[Any]) -> int:
    with engine_for(settings.database_url).connect() as connection:
        return int(
            connection.execute(select(func.count()).select_from(model)).scalar_one()
        )


def test_chat_is_stored_with_transcript_and_customer(settings: Settings) -> None:
    result = intake_interactions(settings=settings, items=[_chat()])
    assert [item.status for item in result.items] == ["created"]
    (row,) = _rows(settings, Interaction)
    assert row.kind == "chat"
    assert row.channel == "chat"
    assert row.source == "livechat"
    assert row.text == "客戶: 包裹還沒到\n客服: 幫您查詢"
    assert row.attributes["messages"][1] == {
        "speaker": "agent", "at": "2024-03-01T01:31:10Z", "text": "幫您查詢",
    }  # fmt: skip
    assert row.occurred_at == datetime(2024, 3, 1, 1, 30, tzinfo=UTC)
    (customer,) = _rows(settings, Customer)
    assert row.customer_id == customer.id
    assert customer.email == "chen@example.com"


def test_repeat_is_duplicate_and_changes_nothing(settings: Settings) -> None:
    first = intake_interactions(settings=settings, items=[_chat()])
    again = intake_interactions(settings=settings, items=[_chat(text="changed")])
    assert again.items[0].status == "duplicate"
    assert again.items[0].interaction_id == first.items[0].interaction_id
    (row,) = _rows(settings, Interaction)
    assert row.text.startswith("客戶: 包裹還沒到")
    assert _count(settings, Customer) == 1


def test_batch_keeps_good_items_when_one_is_bad(settings: Settings) -> None:
    items = [
        _chat("a"),
        _chat("b", occurred_at="yesterday"),
        _chat("a"),
        {"source": "shop", "external_id": "r1", "kind": "review", "rating": 7,
         "occurred_at": "2024-03-02 10:00"},
        "not an object",
    ]  # fmt: skip
    result = intake_interactions(settings=settings, items=items)
    statuses = [item.status for item in result.items]
    assert statuses == ["created", "rejected", "duplicate", "rejected", "rejected"]
    assert result.items[1].field == "occurred_at"
    assert "ISO 8601" in (result.items[1].reason or "")
    assert result.items[3].field == "rating"
    assert result.items[2].interaction_id == result.items[0].interaction_id
    assert _count(settings, Interaction) == 1
    (run,) = _rows(settings, ImportRun)
    assert (run.kind, run.rows_read, run.rows_inserted, run.rows_rejected) == (
        "intake", 5, 1, 3,
    )  # fmt: skip
    rejects = sorted(_rows(settings, ImportReject), key=lambda r: r.line)
    assert [r.line for r in rejects] == [2, 4, 5]
    assert rejects[0].raw["external_id"] == "b"


def test_review_rating_is_an_answer_on_the_intake_survey(settings: Settings) -> None:
    review = {
        "source": "google", "external_id": "g-1", "kind": "review", "rating": 2,
        "title": "慢", "text": "<script>alert(1)</script> 等太久",
        "occurred_at": "2024-03-02 10:00", "customer": {"social_handle": "@Lin"},
    }  # fmt: skip
    intake_interactions(settings=settings, items=[review])
    (row,) = _rows(settings, Interaction)
    assert row.text == "<script>alert(1)</script> 等太久"
    assert row.attributes == {"title": "慢", "rating": 2}
    assert row.channel == "review_site"
    assert row.occurred_at == datetime(2024, 3, 2, 2, 0, tzinfo=UTC)  # Asia/Taipei
    (answer,) = _rows(settings, Answer)
    assert (answer.interaction_id, answer.metric, answer.value) == (row.id, "rating", 2)
    (survey,) = _rows(settings, Survey)
    assert survey.key == "intake:google"
    (question,) = _rows(settings, Question)
    assert (question.id, question.key, question.metric) == (
        answer.question_id, "rating", "rating",
    )  # fmt: skip


def test_kiosk_answers_are_stored_per_metric(settings: Settings) -> None:
    kiosk = {
        "source": "store-kiosk", "external_id": "k-1", "kind": "kiosk",
        "occurred_at": "2024-03-02T10:00:00Z", "touchpoint": "信義店",
        "answers": {"nps": 9, "csat": 4, "ces": 2},
    }  # fmt: skip
    empty = {**kiosk, "external_id": "k-2", "answers": {}}
    result = intake_interactions(settings=settings, items=[kiosk, empty])
    assert [item.status for item in result.items] == ["created", "rejected"]
    assert result.items[1].reason == "a kiosk item needs answers or text"
    answers = {a.metric: a.value for a in _rows(settings, Answer)}
    assert answers == {"nps": 9, "csat": 4, "ces": 2}
    (row,) = _rows(settings, Interaction)
    assert (row.channel, row.customer_id, row.touchpoint) == ("store", None, "信義店")


def test_item_linking_two_customers_merges_them(settings: Settings) -> None:
    intake_interactions(
        settings=settings,
        items=[
            _chat("1", customer={"member_id": "M1"}),
            _chat("2", customer={"email": "a@x.tw"}),
        ],
    )
    result = intake_interactions(
        settings=settings,
        items=[_chat("3", customer={"member_id": "M1", "email": "a@x.tw"})],
    )
    assert result.items[0].status == "created"
    (merge,) = _rows(settings, IdentityMerge)
    assert "member id M1 and email a@x.tw" in merge.reason
    owners = {row.external_id: row.customer_id for row in _rows(settings, Interaction)}
    assert owners["3"] == merge.kept_customer_id


def test_long_text_is_cut_and_reported(settings: Settings) -> None:
    long = "好" * (MAX_TEXT + 5)
    result = intake_interactions(
        settings=settings,
        items=[_chat(text=long + "\x00"), _chat("nul", text="a\x00b")],
    )
    assert result.items[0].status == "created"
    assert any("cut to 50,000" in w for w in result.items[0].warnings)
    assert "replaced by U+FFFD" in result.items[1].warnings[0]
    texts = sorted(len(row.text) for row in _rows(settings, Interaction))
    assert texts == [3, MAX_TEXT]


def test_call_turns_keep_duration(settings: Settings) -> None:
    call = {
        "source": "pbx", "external_id": "call-9", "kind": "call",
        "occurred_at": "2024-03-03T08:00:00+08:00", "duration_seconds": 185,
        "customer": {"phone": "0912-345-678"},
        "turns": [
            {"speaker": "bot", "at": "2024-03-03T08:00:00+08:00", "text": "您好"},
            {"speaker": "customer", "at": "2024-03-03T08:00:05+08:00", "text": "我要退貨"},
        ],
    }  # fmt: skip
    intake_interactions(settings=settings, items=[call])
    (row,) = _rows(settings, Interaction)
    assert row.text == "機器人: 您好\n客戶: 我要退貨"
    assert row.attributes["duration_seconds"] == 185
    assert row.channel == "phone"
    (customer,) = _rows(settings, Customer)
    assert customer.phone == "+886912345678"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "survey_response"}, "kind"),
        ({"kind": "review"}, "messages"),
        ({"customer": {"email": "not-an-email"}}, "customer.email"),
        ({"occured_at": "2024-03-01"}, "occured_at"),
        ({"channel": "pigeon"}, "channel"),
        ({"source": ""}, "source"),
        ({"messages": [{"speaker": "boss", "text": "x"}]}, "messages[0].speaker"),
    ],
)
def test_bad_field_is_named_in_the_reject(
    sqlite_settings: Settings, change: dict[str, Any], field: str
) -> None:
    result = intake_interactions(settings=sqlite_settings, items=[_chat(**change)])
    assert result.items[0].status == "rejected"
    assert result.items[0].field == field


def test_items_of_refuses_too_many_and_reads_batches() -> None:
    items, source = items_of({"source": "s", "items": [{}, {}]})
    assert (len(items), source) == (2, "s")
    assert items_of({"kind": "chat"}) == ([{"kind": "chat"}], None)
    with pytest.raises(InvalidInput, match="at most 1,000 items"):
        items_of({"items": [{}] * (MAX_ITEMS + 1)})
    with pytest.raises(InvalidInput, match="items is empty"):
        items_of({"items": []})


def test_concurrent_requests_store_each_item_once(settings: Settings) -> None:
    items = [_chat(f"c-{i}", customer={"email": f"p{i % 5}@x.tw"}) for i in range(40)]

    def push(_: int) -> list[str]:
        result = intake_interactions(settings=settings, items=items)
        return [item.status for item in result.items]

    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = list(pool.map(push, range(4)))
    for position in range(len(items)):
        statuses = sorted(run[position] for run in runs)
        assert statuses == ["created", "duplicate", "duplicate", "duplicate"]
    assert _count(settings, Interaction) == 40
    assert _count(settings, Customer) == 5
