"""The initiative board, page, forms and API, on the web tests' seeded SQLite store.

The store holds the answers of ``web_seeding.BATCHES``: NPS through the web channel in
January and from February on, and through stores in January and March, so an
initiative on ``channel=web`` with ``channel=store`` as its comparison can be checked.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from web_client import PASSWORD, csrf_from, sign_in
from web_seeding import HOSTILE_TOUCHPOINT

from cxloop.accounts import service as accounts
from cxloop.config import Settings
from cxloop.improve import initiatives as ini

HOSTILE_TITLE = "<script>alert(1)</script>{{7*7}}\u202e改善"
JANUARY = {"baseline_from": date(2025, 1, 1), "baseline_to": date(2025, 1, 31)}


def _initiative(settings: Settings, **extra: object) -> ini.InitiativeView:
    fields: dict[str, object] = {"scope": {"channel": "web"}, **JANUARY, **extra}
    return ini.create_initiative(
        settings=settings,
        title="結帳流程",
        metric="nps",
        **fields,  # type: ignore[arg-type]
    )


def _checked(settings: Settings) -> ini.InitiativeView:
    view = _initiative(settings, comparison={"channel": "store"}, target_value=40.0)
    ini.advance(settings=settings, initiative_id=view.id, to_stage="do",
                change_date=date(2025, 2, 1))  # fmt: skip
    return ini.advance(settings=settings, initiative_id=view.id, to_stage="check")


def _post(client: TestClient, url: str, page: str, **data: str) -> Any:
    return client.post(url, data={"csrf_token": csrf_from(client.get(page).text),
                                  **data}, follow_redirects=False)  # fmt: skip


def test_board_shows_four_columns_with_cards(
    signed_in: TestClient, web_settings: Settings
) -> None:
    planned = _initiative(web_settings)
    checked = _checked(web_settings)
    response = signed_in.get("/initiatives?lang=en")
    assert response.status_code == 200
    assert response.template.name == "pages/initiatives.html"  # type: ignore[attr-defined]
    board = response.context["board"]  # type: ignore[attr-defined]
    assert [v.id for v in board.columns["plan"]] == [planned.id]
    for stage in ("plan", "do", "check", "act"):
        assert f'data-testid="column-{stage}"' in response.text
    card = response.text.split(f'data-testid="initiative-{checked.id}"')[1]
    card = card.split("</article>")[0]
    assert "verdict-" in card
    assert "→" in card  # baseline → latest check
    assert 'href="/initiatives/new"' in response.text


def test_new_form_creates_initiative_and_redirects(
    signed_in: TestClient, web_settings: Settings
) -> None:
    response = _post(signed_in, "/initiatives", "/initiatives/new", title="結帳流程",
                     metric="nps", scope_field="channel", scope_value="web",
                     baseline_from="2025-01-01", baseline_to="2025-01-31",
                     target_value="40", evidence_kind="touchpoint",
                     evidence_value="checkout", owner="數位組")  # fmt: skip
    assert response.status_code == 303
    [view] = ini.list_initiatives(settings=web_settings)
    assert response.headers["location"] == f"/initiatives/{view.id}"
    assert (view.scope, view.target_value, view.owner) == (
        {"channel": "web"},
        40.0,
        "數位組",
    )
    assert view.evidence == {"kind": "touchpoint", "value": "checkout"}
    assert view.baseline is not None
    assert view.baseline["n"] == 7


def test_new_form_error_is_shown_with_values_kept(signed_in: TestClient) -> None:
    response = _post(signed_in, "/initiatives", "/initiatives/new", title="結帳流程",
                     metric="nps", scope_field="no_such_key", scope_value="x")  # fmt: skip
    assert response.status_code == 400
    text = response.text
    assert 'data-testid="form-error"' in text
    assert "no customer has such an attribute" in text
    assert 'value="結帳流程"' in text


def test_post_without_csrf_token_is_refused(
    signed_in: TestClient, web_settings: Settings
) -> None:
    view = _initiative(web_settings)
    response = signed_in.post(f"/initiatives/{view.id}/actions", data={"title": "x"})
    assert response.status_code == 403
    assert (
        ini.get_initiative(settings=web_settings, initiative_id=view.id).actions == []
    )


def test_page_walks_actions_stages_check_and_standard(
    signed_in: TestClient, web_settings: Settings
) -> None:
    view = _initiative(web_settings, comparison={"channel": "store"})
    page = f"/initiatives/{view.id}"
    assert _post(signed_in, f"{page}/actions", page, title="簡化結帳",
                 owner="小王", due_date="2025-01-20").status_code == 303  # fmt: skip
    action = ini.get_initiative(settings=web_settings, initiative_id=view.id).actions[0]
    _post(signed_in, f"{page}/actions/{action.id}/done", page)
    _post(signed_in, f"{page}/advance", page, to_stage="do", change_date="2025-02-01")
    _post(signed_in, f"{page}/advance", page, to_stage="check")
    response = signed_in.get(page + "?lang=en")
    assert response.template.name == "pages/initiative.html"  # type: ignore[attr-defined]
    shown = response.context["page"]  # type: ignore[attr-defined]
    assert shown.view.stage == "check"
    assert shown.view.actions[0].done_at is not None
    assert [e["key"] for e in shown.effects] == ["change", "did"]
    assert 'data-testid="check-groups"' in response.text
    assert "Difference-in-differences" in response.text
    assert "95% confidence interval" in response.text
    data = re.search(r'<script type="application/json" id="check-data">(.*?)</script>',
                     response.text, re.S)  # fmt: skip
    assert data is not None
    chart = json.loads(data.group(1))
    assert chart["labels"][0] == "Before (baseline)"
    assert chart["low"][0] < chart["values"][0] < chart["high"][0]
    assert "js/initiative.js" in response.text
    _post(signed_in, f"{page}/act", page, decision="standardise", standard="一頁結帳")
    closed = signed_in.get(page)
    assert 'data-testid="standard"' in closed.text
    assert "一頁結帳" in closed.text


def test_adjust_redirects_to_the_new_plan(
    signed_in: TestClient, web_settings: Settings
) -> None:
    view = _checked(web_settings)
    page = f"/initiatives/{view.id}"
    response = _post(signed_in, f"{page}/act", page, decision="adjust", title="第二輪")
    new = ini.list_initiatives(settings=web_settings, stage="plan")[0]
    assert new.parent_id == view.id
    assert response.headers["location"] == f"/initiatives/{new.id}#act"
    assert (
        f'href="/initiatives/{view.id}"' in signed_in.get(f"/initiatives/{new.id}").text
    )


def test_wrong_stage_move_shows_conflict(
    signed_in: TestClient, web_settings: Settings
) -> None:
    view = _initiative(web_settings)
    page = f"/initiatives/{view.id}"
    response = _post(signed_in, f"{page}/advance", page, to_stage="act")
    assert response.status_code == 409
    assert "the next stage is do, not act" in response.text
    response = _post(signed_in, f"{page}/advance", page, to_stage="do",
                     change_date="1 Feb")  # fmt: skip
    assert response.status_code == 400
    assert "is not a date" in response.text


def test_missing_initiative_is_404(signed_in: TestClient) -> None:
    response = signed_in.get("/initiatives/999")
    assert response.status_code == 404
    assert 'data-testid="initiative-problem"' in response.text


def test_viewer_reads_but_cannot_change(
    client: TestClient, web_settings: Settings
) -> None:
    view = _checked(web_settings)
    accounts.create_user(settings=web_settings, email="v@example.com",
                         password=PASSWORD, role="viewer")  # fmt: skip
    sign_in(client, "v@example.com", PASSWORD)
    page = client.get(f"/initiatives/{view.id}")
    assert page.status_code == 200
    for form in ("add-action", "advance", "run-check", "standardise", "adjust"):
        assert f'data-testid="{form}"' not in page.text
    assert 'href="/initiatives/new"' not in client.get("/initiatives").text
    assert client.get("/initiatives/new").status_code == 403
    response = client.post(f"/initiatives/{view.id}/act", data={
        "csrf_token": csrf_from(page.text), "decision": "standardise",
        "standard": "x"})  # fmt: skip
    assert response.status_code == 403
    assert (
        ini.get_initiative(settings=web_settings, initiative_id=view.id).stage
        == "check"
    )


def test_hostile_text_is_escaped_on_board_and_page(
    signed_in: TestClient, web_settings: Settings
) -> None:
    view = ini.create_initiative(
        settings=web_settings, title=HOSTILE_TITLE, metric="nps",
        scope={"touchpoint": HOSTILE_TOUCHPOINT}, problem=HOSTILE_TITLE,
    )  # fmt: skip
    for url in ("/initiatives", f"/initiatives/{view.id}"):
        text = signed_in.get(url).text
        assert "<script>alert(1)</script>" not in text
        assert str(escape(HOSTILE_TITLE)) in text


def test_pages_speak_traditional_chinese(
    signed_in: TestClient, web_settings: Settings
) -> None:
    view = _checked(web_settings)
    board = signed_in.get("/initiatives?lang=zh-TW").text
    assert "改善專案" in board
    assert "計畫" in board
    page = signed_in.get(f"/initiatives/{view.id}").text
    assert "差異中之差異" in page
    assert "結論：" in page


# --- the API ----------------------------------------------------------------


@pytest.fixture
def analyst_key(web_settings: Settings) -> str:
    return accounts.create_api_key(settings=web_settings, name="a", role="analyst")


def test_api_lists_and_shows_initiatives(
    client: TestClient, web_settings: Settings, analyst_key: str
) -> None:
    view = _checked(web_settings)
    headers = {"Authorization": f"Bearer {analyst_key}"}
    listed = client.get("/api/v1/initiatives", headers=headers).json()
    assert listed["count"] == 1
    assert listed["data"][0]["stage"] == "check"
    one = client.get(f"/api/v1/initiatives/{view.id}", headers=headers).json()
    assert one["checks"][0]["result"]["did"]["estimate"] is not None
    assert client.get("/api/v1/initiatives/999", headers=headers).status_code == 404
    assert client.get("/api/v1/initiatives").status_code == 401
    bad = client.get("/api/v1/initiatives?stage=done", headers=headers)
    assert bad.status_code == 422


def test_api_check_runs_for_analyst_and_not_viewer(
    client: TestClient, web_settings: Settings, analyst_key: str
) -> None:
    view = _checked(web_settings)
    url = f"/api/v1/initiatives/{view.id}/check?as_of=2025-03-31"
    ran = client.post(url, headers={"Authorization": f"Bearer {analyst_key}"})
    assert ran.status_code == 200, ran.text
    body = ran.json()
    assert body["outcome"] in ("improved", "worse", "no_detectable_change")
    assert body["result"]["after"]["last"] == "2025-03-31"
    viewer = accounts.create_api_key(settings=web_settings, name="v", role="viewer")
    refused = client.post(url, headers={"Authorization": f"Bearer {viewer}"})
    assert refused.status_code == 403
    assert (
        len(ini.get_initiative(settings=web_settings, initiative_id=view.id).checks)
        == 2
    )


def test_overview_touchpoint_links_to_a_prefilled_initiative(
    signed_in: TestClient,
) -> None:
    overview = signed_in.get("/?lang=en&from=2020-01-01")
    links = re.findall(r'href="(/initiatives/new\?[^"]+)"', overview.text)
    assert links, "the touchpoint breakdown links to a new initiative"
    hostile = [link for link in links if "touchpoint=" in link and "script" in link]
    assert hostile, links
    form = signed_in.get(hostile[0].replace("&amp;", "&"))
    assert form.status_code == 200
    assert 'value="Improve NPS at' in form.text
    assert str(escape(HOSTILE_TOUCHPOINT)) in form.text
    assert HOSTILE_TOUCHPOINT not in form.text
