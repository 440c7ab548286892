"""``POST /api/v1/webhooks/{key}``: HMAC-SHA256 signatures, replays, mappings, CLI."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from cxloop.cli import app as cli_app
from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput, NotFound
from cxloop.ingest import webhooks
from cxloop.store.engine import engine_for
from cxloop.store.tables import Answer, Interaction, WebhookDelivery
from cxloop.web.app import create_app

#: The helpdesk export mapping of docs/en/intake-api.md.
TICKETS_MAPPING: dict[str, Any] = {
    "items": "/tickets",
    "fields": {
        "external_id": "/id",
        "occurred_at": "/created_at",
        "channel": "/via/channel",
        "customer.email": "/requester/email",
        "customer.phone": "/requester/phone",
        "attributes.subject": "/subject",
        "attributes.status": "/status",
        "messages": {
            "path": "/comments",
            "each": {
                "speaker": {
                    "path": "/author_role",
                    "map": {"end-user": "customer", "agent": "agent", "system": "bot"},
                },
                "at": "/created_at",
                "text": "/body",
            },
        },
    },
    "defaults": {"kind": "ticket"},
}
TICKETS = {
    "tickets": [
        {
            "id": 35436, "created_at": "2024-03-04T10:15:00+08:00",
            "subject": "訂單 #A1029 還沒出貨", "status": "solved",
            "via": {"channel": "email"},
            "requester": {"email": "Chen@Example.com", "phone": "0912-345-678"},
            "comments": [
                {"author_role": "end-user", "created_at": "2024-03-04T10:15:00+08:00",
                 "body": "我三天前下單，還沒出貨"},
                {"author_role": "agent", "created_at": "2024-03-04T11:02:00+08:00",
                 "body": "已為您催促倉庫，今天會寄出"},
            ],
        },
        {"id": 35437, "created_at": "2024-03-04T12:00:00+08:00", "comments": "oops"},
    ]
}  # fmt: skip
#: The review-site mapping of docs/en/intake-api.md.
REVIEWS_MAPPING: dict[str, Any] = {
    "items": "/reviews",
    "fields": {
        "external_id": "/reviewId",
        "occurred_at": "/createTime",
        "rating": {
            "path": "/starRating",
            "map": {"ONE": 1, "TWO": 2, "THREE": 3, "FOUR": 4, "FIVE": 5},
        },
        "text": "/comment",
        "customer.social_handle": "/reviewer/profile",
        "attributes.reviewer": "/reviewer/displayName",
        "attributes.reply": "/reviewReply/comment",
    },
    "defaults": {"kind": "review", "touchpoint": "Google 地圖"},
}
REVIEWS = {
    "reviews": [
        {"reviewId": "AbFvOq1", "createTime": "2024-03-05T02:11:00Z",
         "starRating": "TWO", "comment": "排隊太久", "reviewer":
         {"displayName": "林先生", "profile": "google:@lin"}},
    ]
}  # fmt: skip


@pytest.fixture
def client(sqlite_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(sqlite_settings)) as test_client:
        yield test_client


@pytest.fixture
def endpoint(sqlite_settings: Settings) -> webhooks.NewEndpoint:
    return webhooks.create_endpoint(
        settings=sqlite_settings, name="Helpdesk", source="helpdesk", kind="chat"
    )


def _post(
    client: TestClient,
    endpoint: webhooks.NewEndpoint,
    payload: Any,
    *,
    stamp: int | None = None,
    secret: str | None = None,
    delivery: str | None = None,
) -> Any:
    body = json.dumps(payload, ensure_ascii=False).encode()
    stamp = int(time.time()) if stamp is None else stamp
    signature = webhooks.sign(
        secret=secret or endpoint.secret, timestamp=stamp, body=body
    )
    headers = {"X-Cxloop-Timestamp": str(stamp), "X-Cxloop-Signature": signature}
    if delivery:
        headers["X-Cxloop-Delivery"] = delivery
    return client.post(endpoint.path, content=body, headers=headers)


def _count(settings: Settings, model: type[Any]) -> int:
    with engine_for(settings.database_url).connect() as connection:
        return int(
            connection.execute(select(func.count()).select_from(model)).scalar_one()
        )


CHAT = {
    "external_id": "c-1", "occurred_at": "2024-03-01T09:30:00+08:00",
    "customer": {"email": "chen@example.com"},
    "messages": [{"speaker": "customer", "text": "你好"}],
}  # fmt: skip


def test_signed_webhook_is_accepted(
    client: TestClient, endpoint: webhooks.NewEndpoint, sqlite_settings: Settings
) -> None:
    response = _post(client, endpoint, CHAT)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["created"]) == ("accepted", 1)
    with engine_for(sqlite_settings.database_url).connect() as connection:
        row = connection.execute(select(Interaction)).one()
        delivery = connection.execute(select(WebhookDelivery)).one()
    assert (row.source, row.kind, row.text) == ("helpdesk", "chat", "客戶: 你好")
    assert delivery.interactions == 1
    assert delivery.delivery_id.startswith("sha256:")


def test_item_source_is_always_the_endpoints(
    client: TestClient, endpoint: webhooks.NewEndpoint
) -> None:
    response = _post(client, endpoint, {**CHAT, "source": "somebody-else"})
    assert response.json()["items"][0]["source"] == "helpdesk"


@pytest.mark.parametrize(
    "change",
    [
        {"secret": "whsec_wrong"},
        {"stamp_offset": -301},
        {"stamp_offset": 400},
    ],
)
def test_bad_or_stale_signature_is_refused(
    client: TestClient,
    endpoint: webhooks.NewEndpoint,
    sqlite_settings: Settings,
    change: dict[str, Any],
) -> None:
    if "stamp_offset" in change:  # relative to now: the suite may run for minutes
        change = {"stamp": int(time.time()) + change["stamp_offset"]}
    response = _post(client, endpoint, CHAT, **change)
    assert response.status_code == 401
    assert response.json()["detail"].startswith("signature refused")
    assert _count(sqlite_settings, Interaction) == 0
    assert _count(sqlite_settings, WebhookDelivery) == 0


def test_missing_signature_is_refused(
    client: TestClient, endpoint: webhooks.NewEndpoint
) -> None:
    response = client.post(endpoint.path, json=CHAT)
    assert response.status_code == 401
    assert "missing X-Cxloop-Signature" in response.json()["detail"]


def test_body_changed_after_signing_is_refused(
    client: TestClient, endpoint: webhooks.NewEndpoint
) -> None:
    stamp = int(time.time())
    signature = webhooks.sign(secret=endpoint.secret, timestamp=stamp, body=b"{}")
    response = client.post(
        endpoint.path,
        content=json.dumps(CHAT).encode(),
        headers={"X-Cxloop-Timestamp": str(stamp), "X-Cxloop-Signature": signature},
    )
    assert response.status_code == 401


@pytest.mark.parametrize("delivery", ["evt-1", None])
def test_replayed_delivery_adds_nothing(
    client: TestClient,
    endpoint: webhooks.NewEndpoint,
    sqlite_settings: Settings,
    delivery: str | None,
) -> None:
    assert _post(client, endpoint, CHAT, delivery=delivery).json()["created"] == 1
    # the same delivery again, signed anew, as a retrying sender or an attacker would
    changed = {**CHAT, "external_id": "c-2"} if delivery else CHAT
    again = _post(client, endpoint, changed, delivery=delivery)
    assert again.status_code == 200
    assert (again.json()["status"], again.json()["created"]) == ("duplicate", 0)
    assert _count(sqlite_settings, Interaction) == 1
    assert _count(sqlite_settings, WebhookDelivery) == 1


def test_unknown_or_disabled_endpoint_is_404(
    client: TestClient, endpoint: webhooks.NewEndpoint, sqlite_settings: Settings
) -> None:
    webhooks.disable_endpoint(settings=sqlite_settings, key=endpoint.key)
    assert _post(client, endpoint, CHAT).status_code == 404
    assert client.post("/api/v1/webhooks/wh_nobody", json={}).status_code == 404


def test_oversized_body_is_refused(
    client: TestClient, endpoint: webhooks.NewEndpoint
) -> None:
    body = b" " * (webhooks.MAX_BODY_BYTES + 1)
    assert client.post(endpoint.path, content=body).status_code == 413


def test_helpdesk_export_is_mapped_to_tickets(
    client: TestClient, sqlite_settings: Settings
) -> None:
    endpoint = webhooks.create_endpoint(
        settings=sqlite_settings, name="Zendesk", source="zendesk",
        mapping=TICKETS_MAPPING,
    )  # fmt: skip
    body = _post(client, endpoint, TICKETS).json()
    assert [item["status"] for item in body["items"]] == ["created", "rejected"]
    assert body["items"][1]["field"] == "messages"
    with engine_for(sqlite_settings.database_url).connect() as connection:
        row = connection.execute(select(Interaction)).one()
    assert (row.kind, row.channel, row.external_id) == ("ticket", "email", "35436")
    assert row.text == "客戶: 我三天前下單，還沒出貨\n客服: 已為您催促倉庫，今天會寄出"
    assert row.attributes["subject"] == "訂單 #A1029 還沒出貨"
    assert row.attributes["messages"][1]["at"] == "2024-03-04T03:02:00Z"


def test_review_export_is_mapped_with_star_ratings(
    client: TestClient, sqlite_settings: Settings
) -> None:
    endpoint = webhooks.create_endpoint(
        settings=sqlite_settings, name="Google reviews", source="google-reviews",
        mapping=REVIEWS_MAPPING,
    )  # fmt: skip
    assert _post(client, endpoint, REVIEWS).json()["created"] == 1
    with engine_for(sqlite_settings.database_url).connect() as connection:
        row = connection.execute(select(Interaction)).one()
        answer = connection.execute(select(Answer)).one()
    assert (row.kind, row.touchpoint, row.text) == ("review", "Google 地圖", "排隊太久")
    assert row.attributes == {"reviewer": "林先生", "rating": 2}
    assert (answer.metric, answer.value) == ("rating", 2)


def test_cli_creates_signs_lists_and_disables(
    cli_settings: Settings, tmp_path: Any
) -> None:
    runner = CliRunner()
    mapping = tmp_path / "tickets.json"
    mapping.write_text(json.dumps(TICKETS_MAPPING), encoding="utf-8")
    created = runner.invoke(
        cli_app,
        ["webhook", "create", "--name", "Zendesk", "--source", "zendesk",
         "--mapping", str(mapping), "--json"],
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    record = json.loads(created.stdout)
    assert record["url"].endswith(f"/api/v1/webhooks/{record['key']}")
    body = tmp_path / "tickets-body.json"
    body.write_bytes(json.dumps(TICKETS).encode())
    signed = runner.invoke(
        cli_app,
        ["webhook", "sign", "--key", record["key"], "--body", str(body), "--json"],
    )
    assert signed.exit_code == 0, signed.output
    headers = json.loads(signed.stdout)
    with TestClient(create_app(cli_settings)) as client:
        response = client.post(
            f"/api/v1/webhooks/{record['key']}",
            content=body.read_bytes(),
            headers=headers,
        )
    assert response.json()["created"] == 1
    listed = runner.invoke(cli_app, ["webhook", "list", "--json"])
    (info,) = json.loads(listed.stdout)
    assert (info["deliveries"], info["active"], info["has_mapping"]) == (1, True, True)
    assert "secret" not in info
    assert runner.invoke(cli_app, ["webhook", "disable", record["key"]]).exit_code == 0
    missing = runner.invoke(cli_app, ["webhook", "disable", "wh_nobody"])
    assert isinstance(missing.exception, NotFound)


def test_bad_mapping_is_refused_at_creation(sqlite_settings: Settings) -> None:
    with pytest.raises(InvalidInput, match="'ticket_id' is not an intake field"):
        webhooks.create_endpoint(
            settings=sqlite_settings, name="x", source="x",
            mapping={"fields": {"ticket_id": "/id"}},
        )  # fmt: skip
