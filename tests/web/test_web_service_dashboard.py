"""The service dashboard page and the service metrics API."""

from __future__ import annotations

from fastapi.testclient import TestClient
from web_client import PASSWORD, sign_in
from web_service_seeding import HOSTILE_AGENT, seed_cases

from cxloop.accounts import service as accounts
from cxloop.config import Settings


def test_service_page_shows_metrics_charts_and_leaderboard(
    signed_in: TestClient, web_settings: Settings
) -> None:
    seed_cases(web_settings)

    response = signed_in.get("/service", params={"by": "agent", "period": "month"})

    assert response.status_code == 200, response.text
    assert response.template.name == "pages/service.html"  # type: ignore[attr-defined]
    context = response.context  # type: ignore[attr-defined]
    assert {"page", "overall", "groups", "leaders", "recovery"} <= set(context)
    assert context["overall"].fcr.value == 50.0
    assert [row.group for row in context["groups"]] == [HOSTILE_AGENT, "美華"]
    assert [row.agent for row in context["leaders"]] == ["美華", HOSTILE_AGENT]
    html = response.text
    assert 'data-testid="service-card-fcr-value">50.0%<' in html
    assert 'id="service-trend-data"' in html
    assert "js/service.js" in html
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert 'aria-current="page">' in html


def test_any_signed_in_role_reads_the_page_and_bad_filters_fall_back(
    client: TestClient, web_settings: Settings
) -> None:
    viewer = accounts.create_user(settings=web_settings, email="v@example.com",
                                  password=PASSWORD, role="viewer")  # fmt: skip
    sign_in(client, viewer.email, PASSWORD)

    empty = client.get("/service")
    seed_cases(web_settings)
    odd = client.get(
        "/service", params={"by": "region", "period": "year", "from": "x", "lang": "en"}
    )

    assert 'data-testid="service-empty"' in empty.text
    assert odd.status_code == 200
    page = odd.context["page"]  # type: ignore[attr-defined]
    assert (page.by, page.period) == ("team", "week")
    assert "The start date is not a valid date." in odd.text


def test_service_metrics_api_by_team_and_leaderboard(
    client: TestClient, web_settings: Settings
) -> None:
    seed_cases(web_settings)
    key = accounts.create_api_key(settings=web_settings, name="bi", role="viewer")
    client.headers["Authorization"] = f"Bearer {key}"

    rows = client.get("/api/v1/service/metrics", params={"by": "team"}).json()
    board = client.get("/api/v1/service/leaderboard", params={"min_cases": 3}).json()
    bad = client.get("/api/v1/service/metrics", params={"by": "region"})

    assert [(r["group"], r["cases"], r["fcr"], r["fcr_n"]) for r in rows] == [
        ("support", 10, 50.0, 10)
    ]
    assert rows[0]["sla_first_response"] == 90.0
    assert rows[0]["followup_csat"] == 50.0
    assert [(r["rank"], r["agent"]) for r in board] == [(1, "美華"), (2, HOSTILE_AGENT)]
    assert bad.status_code == 422
    assert "by 'region'" in bad.json()["detail"]


def test_service_api_needs_a_signed_in_caller(client: TestClient) -> None:
    assert client.get("/api/v1/service/metrics").status_code == 401


def test_overview_shows_the_service_strip_once_cases_are_opened(
    signed_in: TestClient, web_settings: Settings
) -> None:
    before = signed_in.get("/")
    seed_cases(web_settings)

    after = signed_in.get("/", params={"lang": "en"})

    assert before.context["service"] is None  # type: ignore[attr-defined]
    assert 'data-testid="overview-service"' not in before.text
    service = after.context["service"]  # type: ignore[attr-defined]
    assert (service.cases, service.fcr.value) == (10, 50.0)
    assert 'data-testid="overview-service-fcr"' in after.text
    assert "50.0%" in after.text
    assert "10.0 min" in after.text  # AHT: 600 s per case
    assert '<a href="/service?from=' in after.text
