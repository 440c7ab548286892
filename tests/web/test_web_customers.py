"""The customer pages and API: search, value pyramid, RFM, outreach and the 360."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from markupsafe import escape
from web_client import PASSWORD, csrf_from, sign_in
from web_customer_seeding import (
    HOSTILE_NAME,
    WILDCARD_NAME,
    seed_customers,
    seed_population,
)

from cxloop.accounts import service as accounts
from cxloop.config import Settings
from cxloop.customers import outreach, summaries
from cxloop.customers.merging import merge_customers
from cxloop.customers.profiles import score_customers
from cxloop.customers.search import search_customers
from cxloop.domain.errors import InvalidInput
from cxloop.web.app import create_app

PAGE_KEYS = {"page", "form", "hits", "names", "user", "lang", "fmt", "csrf_token"}
API_ROUTES = ("/api/v1/customers", "/api/v1/customers/M1",
              "/api/v1/customers/outreach", "/api/v1/segments/value-pyramid",
              "/api/v1/segments/rfm")  # fmt: skip


@pytest.fixture
def ids(web_settings: Settings, tmp_path: Path) -> dict[str, int]:
    """The seeded customers' ids by member id (in the web tests' store)."""
    return seed_customers(web_settings, tmp_path)


@pytest.fixture
def staff(signed_in: TestClient, ids: dict[str, int]) -> TestClient:
    return signed_in


@pytest.fixture
def api(client: TestClient, web_settings: Settings, ids: dict[str, int]) -> TestClient:
    key = accounts.create_api_key(settings=web_settings, name="tests", role="viewer")
    client.headers["Authorization"] = f"Bearer {key}"
    return client


# --- search service, on SQLite and PostgreSQL ------------------------------------


@pytest.mark.parametrize(
    ("query", "member", "how"),
    [("M1", "M1", "member_id"), ("CHEN@example.com", "M1", "email"),
     ("0912 345 678", "M1", "phone"), ("+886922000111", "M4", "phone"),
     ("  lin mei ", "M4", "name")],
)  # fmt: skip
def test_search_finds_customer_by_identifier_or_name(
    settings: Settings, tmp_path: Path, query: str, member: str, how: str
) -> None:
    ids = seed_customers(settings, tmp_path)
    hits = search_customers(settings=settings, query=query)
    assert [(hit.id, hit.matched) for hit in hits] == [(ids[member], how)]


def test_search_name_part_is_case_insensitive_with_literal_wildcards(
    settings: Settings, tmp_path: Path
) -> None:
    ids = seed_customers(settings, tmp_path)
    names = {q: [h.name for h in search_customers(settings=settings, query=q)]
             for q in ("JUICE", "%", "_", "0% j", "陳")}  # fmt: skip
    assert names["JUICE"] == names["%"] == names["_"] == [WILDCARD_NAME]
    assert names["0% j"] == [WILDCARD_NAME]
    assert names["陳"] == ["陳小明", "陳大文"]  # by CLV: 5000 before 3000
    digits = search_customers(settings=settings, query="1")
    assert [(h.id, h.matched) for h in digits[:2]] == [
        (ids["M1"], "id"), (ids["1"], "member_id")
    ]  # fmt: skip


def test_search_without_query_lists_most_valuable_first(
    settings: Settings, tmp_path: Path
) -> None:
    ids = seed_customers(settings, tmp_path)
    hits = search_customers(settings=settings, query="", limit=3)
    assert [hit.id for hit in hits] == [ids["M1"], ids["M5"], ids["M2"]]
    assert hits[0].value_tier == "top"
    assert hits[0].clv == pytest.approx(5000.0)
    assert hits[0].churn_risk == pytest.approx(0.72)
    assert {hit.matched for hit in hits} == {"value"}


def test_search_returns_survivor_of_a_merged_customer(
    settings: Settings, tmp_path: Path
) -> None:
    ids = seed_customers(settings, tmp_path)
    merge_customers(settings=settings, keep="M1", merge="M5", reason="same person")
    hits = search_customers(settings=settings, query="tai.chen@example.com")
    assert [hit.id for hit in hits] == [ids["M1"]]
    assert "陳大文" not in [h.name for h in search_customers(settings=settings)]


@pytest.mark.parametrize(("query", "limit"), [("x" * 201, 10), ("chen", 0), ("", 501)])
def test_search_refuses_long_query_or_bad_limit(
    sqlite_settings: Settings, query: str, limit: int
) -> None:
    with pytest.raises(InvalidInput):
        search_customers(settings=sqlite_settings, query=query, limit=limit)


# --- /customers -------------------------------------------------------------------


def test_customers_page_renders_every_section(
    staff: TestClient, ids: dict[str, int]
) -> None:
    response = staff.get("/customers")
    assert response.status_code == 200
    assert response.template.name == "pages/customers.html"  # type: ignore[attr-defined]
    context = response.context  # type: ignore[attr-defined]
    assert set(context) >= PAGE_KEYS
    page = context["page"]
    assert page.scored is True
    tiers = {row["tier"]: row["customers"] for row in page.pyramid}
    assert tiers == {"top": 1, "high": 1, "medium": 0, "low": 1}
    assert [row["segment"] for row in page.rfm] == ["champions", "at_risk", "lost"]
    assert [row["customer_id"] for row in page.outreach] == [ids["M1"], ids["M5"]]
    for testid in ("value-pyramid", "rfm-segments", "clusters", "saved-segments",
                   "outreach-list", "open-outreach"):  # fmt: skip
        assert f'data-testid="{testid}"' in response.text
    assert "頂級顧客" in response.text
    assert "not-scored" not in response.text


def test_customers_page_in_english_names_tiers_and_actions(staff: TestClient) -> None:
    response = staff.get("/customers", params={"lang": "en"})
    assert "Value pyramid" in response.text
    assert "Champions" in response.text
    assert "Reward them with early access" in response.text


def test_customers_page_before_scoring_says_not_scored(
    signed_in: TestClient, web_settings: Settings, tmp_path: Path
) -> None:
    from web_customer_seeding import CUSTOMERS, load, write_csv

    header = ["customer_id", "email", "phone", "name"]
    load(web_settings, "customers", write_csv(tmp_path / "c.csv", header, CUSTOMERS))
    response = signed_in.get("/customers")
    assert response.context["page"].scored is False  # type: ignore[attr-defined]
    assert response.text.count('data-testid="not-scored"') == 4
    assert "cxloop customers score" in response.text
    assert "陳小明" in response.text  # search still lists customers


def test_customer_search_lists_hits_linking_to_360(
    staff: TestClient, ids: dict[str, int]
) -> None:
    response = staff.get("/customers", params={"q": "陳"})
    assert [hit.id for hit in response.context["hits"]] == [ids["M1"], ids["M5"]]  # type: ignore[attr-defined]
    assert f'href="/customers/id:{ids["M1"]}"' in response.text
    empty = staff.get("/customers", params={"q": "nobody-here"})
    assert 'data-testid="no-hits"' in empty.text


def test_hostile_name_is_escaped_in_hits_and_360(
    staff: TestClient, ids: dict[str, int]
) -> None:
    hits = staff.get("/customers", params={"q": "script"})
    page = staff.get(f"/customers/id:{ids['M2']}")
    for response in (hits, page):
        assert response.status_code == 200
        assert "<script>alert(1)" not in response.text
        assert str(escape(HOSTILE_NAME)) in response.text
        assert "{{7*7}}" in response.text  # not evaluated as a template
    timeline = staff.get(f"/customers/id:{ids['M1']}").text
    assert "<b>送貨</b>" not in timeline
    assert "&lt;b&gt;送貨&lt;/b&gt;" in timeline
    assert "&lt;i&gt;Kettle&lt;/i&gt;" in timeline


# --- /customers/{ref} -------------------------------------------------------------


def test_customer_360_shows_value_risk_reasons_and_timeline(
    staff: TestClient, ids: dict[str, int]
) -> None:
    response = staff.get("/customers/chen@example.com")
    assert response.status_code == 200
    assert response.template.name == "pages/customer.html"  # type: ignore[attr-defined]
    page = response.context["page"]  # type: ignore[attr-defined]
    assert page.customer.id == ids["M1"]
    assert (page.tier_name, page.rfm_name) == ("頂級顧客", "流失風險顧客")
    assert page.last_scores == {"nps": 3.0, "csat": 2.0}
    assert page.sentiment == "down"
    kinds = [item.event.kind for item in page.events]
    assert kinds == ["case", "survey_response", "purchase", "survey_response",
                     "purchase"]  # fmt: skip
    text = response.text
    assert 'data-testid="churn-risk">72%' in text
    assert "距上次購買天數: 120" in text
    assert "風險提高 21 個百分點" in text
    assert "風險降低 3 個百分點" in text
    assert "新案件" in text
    assert "退款太慢" in text
    assert "2025-03-02 10:00" in text  # imported as Asia/Taipei time, shown so


def test_customer_360_in_english(staff: TestClient) -> None:
    response = staff.get("/customers/M1", params={"lang": "en"})
    text = response.text
    assert "days since last purchase: 120" in text
    assert "raises risk by 21 points" in text
    assert "Survey response" in text
    assert "At risk" in text


def test_customer_360_without_profile_says_not_scored(
    staff: TestClient, ids: dict[str, int]
) -> None:
    response = staff.get(f"/customers/id:{ids['M4']}")
    assert response.status_code == 200
    assert response.context["page"].profile is None  # type: ignore[attr-defined]
    assert 'data-testid="not-scored"' in response.text
    assert "尚無流失風險" in response.text
    assert "尚無情緒資料" in response.text


def test_customer_360_unknown_ref_is_404_page_in_ui_language(
    staff: TestClient,
) -> None:
    response = staff.get("/customers/nobody@example.com")
    assert response.status_code == 404
    assert "查無此顧客" in response.text
    english = staff.get("/customers/nobody@example.com", params={"lang": "en"})
    assert english.status_code == 404
    assert "No such customer" in english.text


def test_customer_360_ambiguous_ref_is_400_with_message(staff: TestClient) -> None:
    response = staff.get("/customers/1")  # customer 1 and member id "1"
    assert response.status_code == 400
    assert "無法對應到單一顧客" in response.text
    assert "prefix it with id:" in response.text


def test_customer_360_shows_merges_of_a_merged_customer(
    staff: TestClient, web_settings: Settings, ids: dict[str, int]
) -> None:
    merge_customers(settings=web_settings, keep="M1", merge="M5", reason="同一人")
    response = staff.get("/customers/tai.chen@example.com")
    assert response.context["customer"].id == ids["M1"]  # type: ignore[attr-defined]
    assert "同一人" in response.text
    assert "tai.chen@example.com" in response.text  # identity moved to M1


# --- outreach ---------------------------------------------------------------------


def _open_cases(client: TestClient) -> str:
    token = csrf_from(client.get("/customers").text)
    response = client.post(
        "/customers/outreach",
        data={"csrf_token": token, "min_risk": "0.5", "limit": "25"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return response.headers["location"]


def test_outreach_button_opens_cases_once(staff: TestClient) -> None:
    first = _open_cases(staff)
    assert "listed=2&opened=2&already_open=0" in first
    shown = staff.get(first)
    assert 'data-testid="outreach-result"' in shown.text
    assert "已開立 2 件關懷案件" in shown.text
    again = _open_cases(staff)
    assert "listed=2&opened=0&already_open=2" in again


def test_outreach_post_without_csrf_token_is_refused(staff: TestClient) -> None:
    response = staff.post("/customers/outreach", data={"min_risk": "0.5"})
    assert response.status_code == 403


def test_outreach_post_by_viewer_is_forbidden(
    client: TestClient,
    web_settings: Settings,
    ids: dict[str, int],
) -> None:
    accounts.create_user(settings=web_settings, email="v@example.com",
                         password=PASSWORD, role="viewer")  # fmt: skip
    sign_in(client, "v@example.com", PASSWORD)
    page = client.get("/customers")
    assert 'data-testid="open-outreach"' not in page.text
    response = client.post(
        "/customers/outreach", data={"csrf_token": csrf_from(page.text)}
    )
    assert response.status_code == 403
    assert outreach.create_outreach_cases(settings=web_settings).already_open == 0


def test_outreach_filter_bad_values_fall_back_with_message(
    staff: TestClient,
) -> None:
    response = staff.get("/customers", params={"min_risk": "lots", "limit": "0"})
    form = response.context["form"]  # type: ignore[attr-defined]
    assert (form.min_risk, form.limit, len(form.errors)) == (0.5, 25, 2)
    assert "最低風險必須是 0 到 1 之間的數字" in response.text
    high = staff.get("/customers", params={"min_risk": "0.7"})
    assert len(high.context["page"].outreach) == 1  # type: ignore[attr-defined]


def test_customer_pages_need_a_session(client: TestClient) -> None:
    for path in ("/customers", "/customers/M1"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")
    response = client.post("/customers/outreach", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


# --- API --------------------------------------------------------------------------


@pytest.mark.parametrize("path", API_ROUTES)
def test_customer_api_needs_session_or_key(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 401


def test_api_search_and_360(api: TestClient, ids: dict[str, int]) -> None:
    found = api.get("/api/v1/customers", params={"q": "陳"}).json()
    assert found["count"] == 2
    assert found["data"][0] == {
        "id": ids["M1"], "external_id": "M1", "name": "陳小明",
        "email": "chen@example.com", "value_tier": "top", "churn_risk": 0.72,
        "clv": 5000.0, "revenue": 200.0, "matched": "name",
    }  # fmt: skip
    view = api.get("/api/v1/customers/M1").json()
    assert view["id"] == ids["M1"]
    assert [i["kind"] for i in view["identities"]] == ["email", "member_id", "phone"]
    assert view["profile"]["churn_reasons"][0]["feature"] == "recency_days"
    assert [e["kind"] for e in view["timeline"]][:2] == ["case", "survey_response"]
    assert view["timeline"][1]["scores"] == {"nps": 3.0, "csat": 2.0}
    assert api.get("/api/v1/customers/M4").json()["profile"] is None


def test_api_360_unknown_is_404_and_ambiguous_is_422(api: TestClient) -> None:
    assert api.get("/api/v1/customers/nobody@example.com").status_code == 404
    ambiguous = api.get("/api/v1/customers/1")
    assert ambiguous.status_code == 422
    assert "ambiguous" in ambiguous.json()["detail"]


def test_api_value_pyramid_and_rfm_match_services(
    api: TestClient, web_settings: Settings
) -> None:
    pyramid = api.get("/api/v1/segments/value-pyramid", params={"lang": "zh-TW"})
    frame = summaries.value_pyramid(settings=web_settings, language="zh-TW")
    assert [(r["tier"], r["name"], r["customers"]) for r in pyramid.json()["data"]] == [
        (t, n, c) for t, n, c in zip(frame.tier, frame.name, frame.customers, strict=True)
    ]  # fmt: skip
    rfm = api.get("/api/v1/segments/rfm").json()
    assert [r["segment"] for r in rfm["data"]] == ["champions", "at_risk", "lost"]
    assert rfm["data"][1]["name"] == "At risk"
    assert api.get("/api/v1/segments/rfm", params={"lang": "fr"}).status_code == 422


def test_api_outreach_filters_by_risk_and_limit(
    api: TestClient, ids: dict[str, int]
) -> None:
    listed = api.get("/api/v1/customers/outreach", params={"min_risk": 0.5}).json()
    assert [row["customer_id"] for row in listed["data"]] == [ids["M1"], ids["M5"]]
    assert "days since last purchase" in listed["data"][0]["reasons"]
    one = api.get("/api/v1/customers/outreach", params={"limit": 1}).json()
    assert one["count"] == 1
    bad = api.get("/api/v1/customers/outreach", params={"min_risk": 2})
    assert bad.status_code == 422


def test_openapi_documents_customer_models(api: TestClient) -> None:
    schema = api.get("/openapi.json").json()
    assert {"/api/v1/customers/{ref}", "/api/v1/segments/rfm"} <= set(schema["paths"])
    assert {"Customer360Public", "ProfilePublic", "TimelineEventPublic"} <= set(
        schema["components"]["schemas"]
    )


# --- real scoring, on SQLite and PostgreSQL ---------------------------------------


@pytest.fixture
def scored_client(settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    seed_population(settings, tmp_path)
    summary = score_customers(settings=settings)
    assert summary.churn_auc is not None, summary.notes
    assert summary.clv_fitted, summary.notes
    accounts.create_user(settings=settings, email="a@example.com",
                         password=PASSWORD, role="analyst")  # fmt: skip
    app: FastAPI = create_app(settings)
    with TestClient(app) as client:
        assert sign_in(client, "a@example.com", PASSWORD).status_code == 303
        yield client


def test_scored_store_shows_profiles_on_pages(scored_client: TestClient) -> None:
    page = scored_client.get("/customers").context["page"]  # type: ignore[attr-defined]
    assert page.scored is True
    assert sum(row["customers"] for row in page.pyramid) == 150
    assert page.rfm
    assert page.clusters
    riskiest = scored_client.get("/api/v1/customers/outreach?min_risk=0").json()
    top = riskiest["data"][0]
    view = scored_client.get(f"/customers/id:{top['customer_id']}")
    assert view.status_code == 200
    shown = re.search(r'data-testid="churn-risk">(\d+)%', view.text)
    assert shown is not None
    assert int(shown.group(1)) == round(top["churn_risk"] * 100)
    assert 'data-testid="churn-reasons"' in view.text
