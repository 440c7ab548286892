"""The journey page, its exports, the blueprint form and the journeys API."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from web_client import PASSWORD, csrf_from, sign_in
from web_seeding import HOSTILE_TOUCHPOINT

from cxloop.accounts import service as accounts
from cxloop.config import Settings
from cxloop.ingest.service import import_file
from cxloop.journeys import catalog
from cxloop.journeys.service import JourneyView

#: A journey placing every store answer on one split touchpoint (one cell per
#: touchpoint name), so that the seeded hostile touchpoint name is shown.
STORES = """
name: stores
title: {zh-TW: 門市旅程, en: Store journey}
stages:
  - key: visit
    label: {zh-TW: 來店, en: Visit}
    touchpoints:
      - {key: store, label: Store, split: true, match: [{channel: store}]}
      - {key: web, label: Web, match: [{channel: web}]}
"""


def _import(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "stores.yaml"
    path.write_text(STORES, encoding="utf-8")
    catalog.import_journey(settings=settings, path=path)


def test_journey_page_renders_map_paths_and_blueprint(signed_in: TestClient) -> None:
    response = signed_in.get("/journeys")
    assert response.status_code == 200
    assert response.template.name == "pages/journey.html"  # type: ignore[attr-defined]
    context = response.context  # type: ignore[attr-defined]
    assert {"page", "charts", "cells", "lanes"} <= set(context)
    assert isinstance(context["page"].view, JourneyView)
    assert context["page"].journey.name == "retail"
    text = response.text
    assert "零售顧客旅程" in text
    assert "服務藍圖" in text
    assert 'id="journey-data"' in text
    assert "js/journey.js" in text
    assert "<script>" not in text  # no inline scripts (strict CSP)


def test_hostile_touchpoint_names_are_escaped(
    signed_in: TestClient, web_settings: Settings, tmp_path: Path
) -> None:
    _import(web_settings, tmp_path)
    response = signed_in.get("/journeys/stores?lang=en")
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert "Store journey" in response.text
    svg = signed_in.get("/journeys/stores/map.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert "<script>" not in svg.text
    assert "&lt;script&gt;" in svg.text
    csv_text = signed_in.get("/journeys/stores/map.csv").text
    assert HOSTILE_TOUCHPOINT.splitlines()[0][:20] in csv_text


def test_filters_are_kept_and_bad_ones_named(signed_in: TestClient) -> None:
    response = signed_in.get("/journeys?channel=web&from=2025-01-01&persona=nobody")
    page = response.context["page"]  # type: ignore[attr-defined]
    assert page.filters.channel == "web"
    assert page.filters.persona is None
    assert "找不到這個人物誌。" in response.text
    assert "channel=web" in page.query
    bad = signed_in.get("/journeys?from=not-a-date&to=2025-01-01")
    errors = bad.context["page"].errors  # type: ignore[attr-defined]
    assert errors == ("The start date is not a valid date.",)


def test_map_csv_follows_the_filters(signed_in: TestClient) -> None:
    response = signed_in.get("/journeys/retail/map.csv?channel=web")
    assert response.status_code == 200
    assert response.headers["content-disposition"].endswith('journey-retail.csv"')
    assert response.text.startswith("stage,touchpoint,cell")
    assert signed_in.get("/journeys/retail/map.csv?from=x").status_code == 422


def test_blueprint_form_saves_with_csrf_only(signed_in: TestClient) -> None:
    page = signed_in.get("/journeys/retail")
    token = csrf_from(page.text)
    refused = signed_in.post(
        "/journeys/retail/blueprint", data={"frontstage.use": "x"},
        follow_redirects=False,
    )  # fmt: skip
    assert refused.status_code == 403
    saved = signed_in.post(
        "/journeys/retail/blueprint",
        data={"csrf_token": token, "frontstage.use": "App 使用教學 <b>",
              "backstage.support": ""},
        follow_redirects=False,
    )  # fmt: skip
    assert saved.status_code == 303
    assert saved.headers["location"] == "/journeys/retail?saved=1#blueprint"
    again = signed_in.get("/journeys/retail?saved=1")
    assert "服務藍圖已儲存。" in again.text
    assert "App 使用教學 &lt;b&gt;" in again.text
    exported = signed_in.get("/journeys/retail/blueprint.csv")
    assert "App 使用教學 <b>" in exported.text


def test_viewer_cannot_edit_the_blueprint(
    client: TestClient, web_settings: Settings
) -> None:
    accounts.create_user(settings=web_settings, email="viewer@example.com",
                         password=PASSWORD, role="viewer")  # fmt: skip
    assert sign_in(client, "viewer@example.com", PASSWORD).status_code == 303
    page = client.get("/journeys/retail")
    assert "<textarea" not in page.text
    response = client.post(
        "/journeys/retail/blueprint",
        data={"csrf_token": csrf_from(page.text), "frontstage.use": "x"},
    )
    assert response.status_code == 403


def test_journeys_api_lists_maps_and_paths(signed_in: TestClient) -> None:
    listed = signed_in.get("/api/v1/journeys").json()
    assert listed["count"] == 1
    assert listed["data"][0]["name"] == "retail"
    mapped = signed_in.get("/api/v1/journeys/retail/map?language=en").json()
    assert mapped["title"] == "Retail customer journey"
    assert [s["stage"] for s in mapped["stages"]][-1] == "renew_leave"
    paths = signed_in.get("/api/v1/journeys/retail/paths?k=2&level=stage").json()
    assert paths["options"]["level"] == "stage"
    assert signed_in.get("/api/v1/journeys/nope/map").status_code == 404
    assert signed_in.get("/api/v1/journeys/retail/paths?k=9").status_code == 422
    bad = signed_in.get("/api/v1/journeys/retail/map?persona=nobody")
    assert bad.status_code == 422
    assert "unknown persona" in bad.json()["detail"]


def test_journey_pages_need_a_session(client: TestClient) -> None:
    assert client.get("/journeys", follow_redirects=False).status_code == 303
    assert client.get("/api/v1/journeys").status_code == 401


def _feedback(settings: Settings, tmp_path: Path) -> None:
    """Survey responses at two stores: the hostile-named one scores low."""
    rows = ["response_id,email,submitted_at,channel,touchpoint,nps"]
    for i in range(120):
        bad = i % 2 == 0
        store = HOSTILE_TOUCHPOINT.replace(",", " ") if bad else "台北信義店"
        score = (i % 5) + (0 if bad else 6)
        day = f"2025-03-{1 + i % 28:02d} 10:00"
        rows.append(f'R{i},c{i % 40}@example.tw,{day},store,"{store}",{score}')
    path = tmp_path / "feedback.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    import_file(settings=settings, kind="feedback", path=path)


def test_drivers_panel_ranks_the_touchpoints_escaped(
    signed_in: TestClient, web_settings: Settings, tmp_path: Path
) -> None:
    _import(web_settings, tmp_path)
    _feedback(web_settings, tmp_path)
    page = signed_in.get("/journeys/stores?lang=en")
    assert 'hx-get="/journeys/stores/drivers"' in page.text
    response = signed_in.get("/journeys/stores/drivers?lang=en")
    assert response.status_code == 200
    assert 'data-testid="driver-row"' in response.text
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert "Fix first" in response.text


def test_drivers_panel_says_why_it_cannot_rank(signed_in: TestClient) -> None:
    response = signed_in.get("/journeys/retail/drivers?lang=en")
    assert response.status_code == 200
    assert 'data-testid="drivers-problem"' in response.text
    assert "could not be ranked" in response.text


def test_drivers_panel_needs_a_session(client: TestClient) -> None:
    response = client.get("/journeys/retail/drivers", follow_redirects=False)
    assert response.status_code in (303, 401)


def test_definition_is_edited_in_the_dashboard(
    signed_in: TestClient, web_settings: Settings, tmp_path: Path
) -> None:
    _import(web_settings, tmp_path)
    page = signed_in.get("/journeys/stores?lang=en")
    assert 'href="/journeys/stores/edit"' in page.text
    form = signed_in.get("/journeys/stores/edit?lang=en")
    assert form.status_code == 200
    assert "Store journey" in form.text
    token = csrf_from(form.text)
    text = catalog.journey_text(settings=web_settings, name="stores")
    edited = text.replace("Store journey", "Shop journey")
    saved = signed_in.post(
        "/journeys/stores/edit",
        data={"definition": edited, "csrf_token": token},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert "Shop journey" in signed_in.get("/journeys/stores?lang=en").text


def test_bad_definition_is_refused_with_the_text_kept(
    signed_in: TestClient, web_settings: Settings, tmp_path: Path
) -> None:
    _import(web_settings, tmp_path)
    token = csrf_from(signed_in.get("/journeys/stores/edit").text)
    before = catalog.journey_text(settings=web_settings, name="stores")
    for bad, problem in (
        ("name: stores\nstages: [", "not valid YAML"),
        (before.replace("name: stores", "name: other"), "keep the name"),
        (before.replace("key: visit", "key: Visit Now"), "stages.0.key"),
    ):
        response = signed_in.post(
            "/journeys/stores/edit", data={"definition": bad, "csrf_token": token}
        )
        assert response.status_code == 400
        assert problem in response.text
        assert catalog.journey_text(settings=web_settings, name="stores") == before


def test_viewer_cannot_edit_the_definition(
    client: TestClient, web_settings: Settings
) -> None:
    accounts.create_user(
        settings=web_settings, email="v2@example.com", password=PASSWORD, role="viewer"
    )
    assert sign_in(client, "v2@example.com", PASSWORD).status_code == 303
    assert client.get("/journeys/retail/edit").status_code == 403
    page = client.get("/journeys/retail")
    assert "/journeys/retail/edit" not in page.text
