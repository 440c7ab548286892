"""``POST /api/v1/interactions``: scoped keys, batches, idempotency, channel kinds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner
from web_client import PASSWORD, sign_in

from cxloop.accounts import service as accounts
from cxloop.cli import app as cli_app
from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput
from cxloop.web.app import create_app

URL = "/api/v1/interactions"


@pytest.fixture
def intake_client(sqlite_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(sqlite_settings)) as client:
        yield client


def _key(settings: Settings, *, role: str = "viewer", scopes: list[str] | None) -> str:
    return accounts.create_api_key(
        settings=settings, name="helpdesk", role=role, scopes=scopes
    )


@pytest.fixture
def writer(intake_client: TestClient, sqlite_settings: Settings) -> TestClient:
    """A client holding a viewer key with the scope interactions:write."""
    key = _key(sqlite_settings, scopes=["interactions:write"])
    intake_client.headers["Authorization"] = f"Bearer {key}"
    return intake_client


def _review(external_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "external_id": external_id, "kind": "review", "rating": 4,
        "text": "店員很親切", "occurred_at": "2024-03-02T12:00:00+08:00", **extra,
    }  # fmt: skip


def test_batch_of_mixed_items_reports_each(writer: TestClient) -> None:
    items = [
        _review("r1"),
        _review("r2", rating=9),
        _review("r3", customer={"email": "nobody"}),
        _review("r1"),
        _review("r4", occurred_at="2024-13-40"),
    ]
    response = writer.post(URL, json={"source": "google", "items": items})
    assert response.status_code == 200, response.text
    body = response.json()
    statuses = [item["status"] for item in body["items"]]
    assert statuses == ["created", "rejected", "rejected", "duplicate", "rejected"]
    assert (body["created"], body["duplicates"], body["rejected"]) == (1, 1, 3)
    assert body["items"][1]["field"] == "rating"
    assert body["items"][2]["field"] == "customer.email"
    assert body["items"][4]["field"] == "occurred_at"
    assert body["import_run_id"] is not None


def test_single_item_is_created_then_duplicate(writer: TestClient) -> None:
    item = _review("r1", source="google")
    first = writer.post(URL, json=item)
    assert first.status_code == 201, first.text
    again = writer.post(URL, json={**item, "text": "改過的文字"})
    assert again.status_code == 200
    assert again.json()["items"][0]["status"] == "duplicate"
    assert (
        again.json()["items"][0]["interaction_id"]
        == first.json()["items"][0]["interaction_id"]
    )


def test_single_rejected_item_answers_422_with_the_field(writer: TestClient) -> None:
    response = writer.post(URL, json=_review("r1"))  # no source
    assert response.status_code == 422
    item = response.json()["items"][0]
    assert (item["status"], item["field"]) == ("rejected", "source")


def test_batch_of_1001_items_is_refused(writer: TestClient) -> None:
    items = [_review(f"r{i}") for i in range(1001)]
    response = writer.post(URL, json={"source": "google", "items": items})
    assert response.status_code == 413
    assert "at most 1,000 items" in response.json()["detail"]


def test_body_that_is_not_json_is_refused(writer: TestClient) -> None:
    response = writer.post(
        URL, content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["detail"].startswith("the body is not JSON")


@pytest.mark.parametrize(
    ("role", "scopes"),
    [("viewer", None), ("admin", []), ("analyst", ["interactions:write"])],
)
def test_scope_decides_who_may_write(
    intake_client: TestClient,
    sqlite_settings: Settings,
    role: str,
    scopes: list[str] | None,
) -> None:
    key = _key(sqlite_settings, role=role, scopes=scopes)
    response = intake_client.post(
        URL, json=_review("r1", source="google"), headers={"X-API-Key": key}
    )
    if scopes:
        assert response.status_code == 201, response.text
    else:
        assert response.status_code == 403
        assert "interactions:write" in response.json()["detail"]


def test_admin_key_without_scopes_writes_by_role(
    intake_client: TestClient, sqlite_settings: Settings
) -> None:
    key = _key(sqlite_settings, role="admin", scopes=None)
    response = intake_client.post(
        URL, json=_review("r1", source="google"), headers={"X-API-Key": key}
    )
    assert response.status_code == 201


def test_signed_in_analyst_may_write(
    intake_client: TestClient, sqlite_settings: Settings
) -> None:
    accounts.create_user(
        settings=sqlite_settings,
        email="a@example.com",
        password=PASSWORD,
        role="analyst",
    )
    assert sign_in(intake_client, "a@example.com", PASSWORD).status_code == 303
    response = intake_client.post(URL, json=_review("r1", source="google"))
    assert response.status_code == 201


def test_call_transcript_with_turns(
    writer: TestClient, sqlite_settings: Settings
) -> None:
    call = {
        "source": "pbx", "external_id": "call-1", "kind": "call",
        "occurred_at": "2024-03-03T08:00:00+08:00", "duration_seconds": 95,
        "customer": {"member_id": "M0012"},
        "turns": [
            {"speaker": "customer", "at": "2024-03-03T08:00:02+08:00", "text": "<b>退貨</b>"},
            {"speaker": "agent", "at": "2024-03-03T08:00:09+08:00", "text": "好的"},
        ],
    }  # fmt: skip
    response = writer.post(URL, json=call)
    assert response.status_code == 201, response.text
    from cxloop.customers.view import customer_360

    view = customer_360(settings=sqlite_settings, ref="member:M0012")
    texts = [event.text for event in view.timeline if event.kind == "call"]
    assert texts == ["客戶: <b>退貨</b>\n客服: 好的"]


def _reading(settings: Settings) -> dict[str, str]:
    """Headers of a viewer key without scopes (it reads by its role)."""
    return {"Authorization": f"Bearer {_key(settings, scopes=None)}"}


def test_kiosk_answers_count_in_the_nps_metric(
    writer: TestClient, sqlite_settings: Settings
) -> None:
    scores = [10, 9, 9, 3, 7]
    items = [
        {"external_id": f"k{i}", "kind": "kiosk", "touchpoint": "信義店",
         "occurred_at": "2024-03-02T12:05:00+08:00", "answers": {"nps": s, "csat": 5}}
        for i, s in enumerate(scores)
    ]  # fmt: skip
    assert writer.post(URL, json={"source": "kiosk", "items": items}).status_code == 200
    reader = _reading(sqlite_settings)
    rows = writer.get(
        "/api/v1/metrics/nps", params={"by": "touchpoint"}, headers=reader
    ).json()
    (row,) = [r for r in rows if r["touchpoint"] == "信義店"]
    assert row["n"] == 5
    assert row["value"] == pytest.approx((3 - 1) / 5 * 100)
    csat = writer.get("/api/v1/metrics/csat", headers=reader).json()
    assert csat[0]["n"] == 5


def test_openapi_documents_the_request_body(
    writer: TestClient, sqlite_settings: Settings
) -> None:
    schema = writer.get("/openapi.json", headers=_reading(sqlite_settings)).json()
    body = schema["paths"][URL]["post"]["requestBody"]["content"]["application/json"]
    assert set(body["examples"]) == {"chat", "batch"}
    text = json.dumps(body["schema"])
    assert "occurred_at" in text
    assert "$defs" not in text


def test_cli_key_with_scope_may_write(cli_settings: Settings) -> None:
    runner = CliRunner()
    created = runner.invoke(
        cli_app,
        ["apikey", "create", "--name", "chat", "--scope", "interactions:write"],
    )
    assert created.exit_code == 0, created.output
    key = created.stdout.strip().splitlines()[-1]
    with TestClient(create_app(cli_settings)) as client:
        response = client.post(
            URL, json=_review("r1", source="google"), headers={"X-API-Key": key}
        )
    assert response.status_code == 201, response.text
    bad = runner.invoke(cli_app, ["apikey", "create", "--name", "x", "--scope", "all"])
    assert isinstance(bad.exception, InvalidInput)
    assert "scope 'all' is unknown" in str(bad.exception)


def test_key_with_only_the_write_scope_cannot_read(writer: TestClient) -> None:
    response = writer.get("/api/v1/metrics/nps")
    assert response.status_code == 403
    assert "may not read" in response.json()["detail"]
    assert writer.get("/api/v1/me").status_code == 403


def test_key_with_read_and_write_scopes_reads_and_writes(
    intake_client: TestClient, sqlite_settings: Settings
) -> None:
    key = _key(sqlite_settings, scopes=["interactions:write", "read"])
    intake_client.headers["Authorization"] = f"Bearer {key}"
    assert intake_client.get("/api/v1/me").status_code == 200
    response = intake_client.post(URL, json={"source": "google", **_review("r9")})
    assert response.status_code == 201, response.text


def test_key_without_scopes_reads_by_role(
    intake_client: TestClient, sqlite_settings: Settings
) -> None:
    key = _key(sqlite_settings, role="viewer", scopes=None)
    intake_client.headers["Authorization"] = f"Bearer {key}"
    assert intake_client.get("/api/v1/me").status_code == 200
    assert intake_client.post(URL, json=_review("r8")).status_code == 403
