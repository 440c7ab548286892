"""The survey API: list, definition, results, and creating a survey from JSON."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from cxloop.accounts import service as accounts
from cxloop.config import Settings
from cxloop.surveys.responses import new_submission_key, submit_response
from cxloop.web.api.surveys import EXAMPLE


@pytest.fixture
def web_settings(sqlite_settings: Settings) -> Settings:
    """A fresh store without the dashboard's seeded answers."""
    return sqlite_settings


def _key_client(client: TestClient, settings: Settings, role: str,
                scopes: list[str] | None = None) -> TestClient:  # fmt: skip
    key = accounts.create_api_key(settings=settings, name=role, role=role,
                                  scopes=scopes)  # fmt: skip
    client.headers["Authorization"] = f"Bearer {key}"
    return client


def test_analyst_key_creates_then_reads_a_survey(
    client: TestClient, web_settings: Settings
) -> None:
    api = _key_client(client, web_settings, "analyst")
    created = api.post("/api/v1/surveys", json=EXAMPLE)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "active"
    assert body["form_url"].endswith("/s/" + body["form_url"].rsplit("/", 1)[1])
    assert body["definition"]["questions"][1]["show_if"] == {
        "question": "nps",
        "max": 6.0,
    }
    listed = api.get("/api/v1/surveys").json()
    assert listed["count"] == 1
    assert listed["data"][0]["name_zh"] == "門市 NPS"
    again = api.get("/api/v1/surveys/store-nps").json()
    assert again["definition"] == body["definition"]
    assert api.post("/api/v1/surveys", json=EXAMPLE).status_code == 409
    replaced = api.post("/api/v1/surveys?replace=true&status=draft", json=EXAMPLE)
    assert replaced.json()["status"] == "draft"


def test_results_endpoint_gives_rates_margins_and_verbatims(
    client: TestClient, web_settings: Settings
) -> None:
    api = _key_client(client, web_settings, "admin")
    token = (
        api.post("/api/v1/surveys", json=EXAMPLE).json()["form_url"].rsplit("/", 1)[1]
    )
    for score, text in (("2", "<b>客服</b>太慢"), ("10", ""), ("9", ""), ("6", "價格")):
        submit_response(settings=web_settings, answers={"nps": score, "improve": text},
                        submission_key=new_submission_key(), public_token=token)  # fmt: skip
    results = api.get("/api/v1/surveys/store-nps/results?page_size=1").json()
    assert (results["responses"], results["completion_rate"]) == (4, 1.0)
    nps = results["questions"][0]
    assert (nps["score"]["value"], nps["score"]["n"]) == (0.0, 4)
    assert nps["score"]["moe"] > 0
    assert [b["count"] for b in nps["distribution"]][9:] == [1, 1]
    assert results["verbatims"]["total"] == 2
    assert results["verbatims"]["pages"] == 2
    assert results["verbatims"]["items"][0]["score"] in (2.0, 6.0)
    bad = api.get("/api/v1/surveys/store-nps/results?from=2025-02-02&to=2025-01-01")
    assert bad.status_code == 422
    assert api.get("/api/v1/surveys/missing/results").status_code == 404


def test_viewer_and_scoped_keys_may_read_but_not_create(
    client: TestClient, web_settings: Settings
) -> None:
    api = _key_client(client, web_settings, "viewer")
    refused = api.post("/api/v1/surveys", json=EXAMPLE)
    assert refused.status_code == 403
    assert api.get("/api/v1/surveys").json() == {"data": [], "count": 0}
    scoped = _key_client(client, web_settings, "admin", ["interactions:write"])
    assert scoped.post("/api/v1/surveys", json=EXAMPLE).status_code == 403


def test_invalid_definition_is_refused_naming_the_path(
    client: TestClient, web_settings: Settings
) -> None:
    api = _key_client(client, web_settings, "analyst")
    broken = {**EXAMPLE, "questions": [{"key": "q", "type": "stars", "text": "?"}]}
    response = api.post("/api/v1/surveys", json=broken)
    assert response.status_code == 422
    assert "questions[0].type" in response.json()["detail"]
