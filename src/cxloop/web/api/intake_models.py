"""The intake API's request and response models (they document the OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cxloop.ingest.intake import IntakeResult

Kind = Literal[
    "chat", "call", "review", "social_post", "kiosk", "ticket", "visit", "other"
]  # fmt: skip


class CustomerRefIn(BaseModel):
    """Who the customer is: any of these; they are matched like imported rows."""

    model_config = ConfigDict(extra="forbid")
    member_id: str | None = Field(None, max_length=200, examples=["M0012"])
    email: str | None = Field(None, max_length=320, examples=["chen@example.com"])
    phone: str | None = Field(
        None,
        description="Local numbers are read as Taiwanese.",
        examples=["0912-345-678"],
    )
    social_handle: str | None = Field(
        None, description="@name or platform:@name", examples=["instagram:@lin.mei"]
    )
    name: str | None = Field(
        None, description="Accepted and not stored: names come from customer imports."
    )


class TurnIn(BaseModel):
    """One message of a chat or ticket, or one turn of a call."""

    model_config = ConfigDict(extra="forbid")
    speaker: Literal["customer", "agent", "bot"]
    at: datetime | None = Field(None, description="ISO 8601; no offset: business zone.")
    text: str = Field(max_length=10_000)


class InteractionIn(BaseModel):
    """One interaction. ``text`` defaults to the transcript of ``messages``/``turns``
    (``客戶: ...`` / ``客服: ...`` a line each); longer text is cut at 50,000
    characters and the item says so in its warnings."""

    model_config = ConfigDict(extra="forbid")
    source: str | None = Field(
        None, max_length=90, description="The system it came from (or the batch's)."
    )
    external_id: str = Field(max_length=200, description="Its id in that system.")
    kind: Kind
    occurred_at: datetime = Field(
        description="ISO 8601 with offset (without one: the business time zone), "
        "or Unix seconds."
    )
    customer: CustomerRefIn | None = None
    channel: str | None = Field(
        None, description="web, app, email, phone, chat, store, social, review_site, "
        "other; default by kind (chat: chat, call: phone, review: review_site, "
        "social_post: social, kiosk: store).",
    )  # fmt: skip
    touchpoint: str | None = Field(None, max_length=100)
    journey_stage: str | None = None
    language: str | None = Field(None, max_length=16, examples=["zh-TW"])
    text: str | None = None
    messages: list[TurnIn] | None = Field(None, description="chat, ticket (≤ 2,000)")
    turns: list[TurnIn] | None = Field(None, description="call (≤ 2,000)")
    duration_seconds: float | None = Field(None, ge=0, description="call")
    rating: int | None = Field(
        None, ge=1, le=5, description="review: stored as an answer (metric rating)"
    )
    title: str | None = Field(None, max_length=300, description="review")
    url: str | None = Field(None, max_length=2000, description="social_post")
    platform: str | None = Field(None, max_length=40, description="social_post")
    answers: dict[Literal["nps", "csat", "ces", "rating"], int] | None = Field(
        None, description="kiosk (or any kind): nps 0-10, csat 1-5, ces 1-7, rating 1-5"
    )
    attributes: dict[str, Any] | None = Field(None, description="≤ 50 keys")


class InteractionBatchIn(BaseModel):
    """Up to 1,000 interactions; ``source`` applies to items that name none."""

    model_config = ConfigDict(extra="forbid")
    source: str | None = None
    items: list[InteractionIn] = Field(min_length=1, max_length=1_000)


class ItemResultPublic(BaseModel):
    """What happened to one item (``index`` counts from 0)."""

    index: int
    status: Literal["created", "duplicate", "rejected"]
    source: str | None
    external_id: str | None
    interaction_id: int | None
    field: str | None
    reason: str | None
    warnings: list[str]


class IntakeResultPublic(BaseModel):
    """Counts and the status of each item; ``status`` is ``duplicate`` when a
    webhook delivery was taken in before (then ``items`` is empty)."""

    status: Literal["accepted", "duplicate"]
    created: int
    duplicates: int
    rejected: int
    items: list[ItemResultPublic]
    import_run_id: int | None = Field(
        description="The import run that records this request's rejected items."
    )

    @classmethod
    def from_result(cls, result: IntakeResult) -> IntakeResultPublic:
        return cls(
            status="duplicate" if result.duplicate_request else "accepted",
            created=result.count("created"),
            duplicates=result.count("duplicate"),
            rejected=result.count("rejected"),
            items=[
                ItemResultPublic(
                    index=i.index, status=i.status,
                    source=i.source, external_id=i.external_id,
                    interaction_id=i.interaction_id, field=i.field, reason=i.reason,
                    warnings=list(i.warnings),
                )
                for i in result.items
            ],
            import_run_id=result.import_run_id,
        )  # fmt: skip


EXAMPLES: dict[str, dict[str, Any]] = {
    "chat": {
        "summary": "A chat transcript",
        "value": {
            "source": "livechat", "external_id": "chat-1042", "kind": "chat",
            "occurred_at": "2024-03-01T09:30:00+08:00",
            "customer": {"email": "chen@example.com"}, "touchpoint": "訂單查詢",
            "messages": [
                {"speaker": "customer", "at": "2024-03-01T09:30:00+08:00",
                 "text": "我的包裹還沒到"},
                {"speaker": "agent", "at": "2024-03-01T09:31:10+08:00",
                 "text": "幫您查詢物流狀態"},
            ],
        },
    },
    "batch": {
        "summary": "A batch: a review and a kiosk answer",
        "value": {
            "source": "store-feedback",
            "items": [
                {"external_id": "g-88", "kind": "review", "rating": 2,
                 "title": "等太久", "text": "排隊半小時",
                 "occurred_at": "2024-03-02T12:00:00+08:00",
                 "customer": {"social_handle": "google:@lin"}},
                {"external_id": "kiosk-5531", "kind": "kiosk",
                 "occurred_at": "2024-03-02T12:05:00+08:00", "touchpoint": "信義店",
                 "answers": {"nps": 9, "csat": 4, "ces": 2}},
            ],
        },
    },
}  # fmt: skip
