"""The case pages and API in process: inbox tabs, the case page, escaping, roles, CSRF."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from web_client import PASSWORD, csrf_from, sign_in

from cxloop.accounts import service as accounts
from cxloop.config import Settings
from cxloop.loop import cases
from cxloop.loop.teams import save_routing_rules
from cxloop.web.app import create_app

HOSTILE = '<script>alert("x")</script>{{ 7*7 }}\u202e退款.exe'


@dataclass(frozen=True)
class Desk:
    settings: Settings
    agent: int
    other: int
    open_id: int
    hostile_id: int


@pytest.fixture
def desk(sqlite_settings: Settings) -> Desk:
    """An agent, a second agent, a viewer; one routed case and one hostile one."""
    s = sqlite_settings
    people = [("amy@heguang.example", "agent", "林美華"),
              ("ben@heguang.example", "agent", "王志明"),
              ("vic@heguang.example", "viewer", "Vic")]  # fmt: skip
    ids = [accounts.create_user(settings=s, email=e, password=PASSWORD, role=r,
                                name=n).id for e, r, n in people]  # fmt: skip
    save_routing_rules(settings=s, document={
        "teams": [{"key": "billing", "name": "帳務組", "assignment": "manual",
                   "members": ["amy@heguang.example"]}],
        "rules": [{"name": "all", "team": "billing", "when": {}}]})  # fmt: skip
    first = cases.open_case(settings=s, customer_id=None, title="退款還沒收到")
    hostile = cases.open_case(settings=s, customer_id=None, title=HOSTILE,
                              description=HOSTILE, priority="urgent")  # fmt: skip
    cases.add_comment(settings=s, case_id=hostile.id, user_id=ids[1], body=HOSTILE)
    return Desk(s, ids[0], ids[1], first.id, hostile.id)


@pytest.fixture
def web(desk: Desk) -> Iterator[TestClient]:
    with TestClient(create_app(desk.settings)) as client:
        yield client


def _as(client: TestClient, email: str) -> TestClient:
    assert sign_in(client, email, PASSWORD).status_code == 303
    return client


def test_inbox_tabs_split_mine_and_unassigned(web: TestClient, desk: Desk) -> None:
    client = _as(web, "amy@heguang.example")
    cases.take_case(settings=desk.settings, case_id=desk.open_id, user_id=desk.agent)
    mine = client.get("/cases")
    assert mine.status_code == 200
    assert mine.template.name == "pages/cases.html"  # type: ignore[attr-defined]
    assert mine.context["inbox"].view == "mine"  # type: ignore[attr-defined]
    assert [r.info.id for r in mine.context["inbox"].rows] == [desk.open_id]  # type: ignore[attr-defined]
    unassigned = client.get("/cases?view=unassigned&lang=en")
    rows = unassigned.context["inbox"].rows  # type: ignore[attr-defined]
    assert [r.info.id for r in rows] == [desk.hostile_id]
    assert "Unassigned" in unassigned.text
    assert 'aria-current="page"' in unassigned.text
    assert "due-" in unassigned.text  # the SLA state is shown (colour class + words)
    bad = client.get("/cases?view=nobody")
    assert bad.status_code == 400
    assert "view &#39;nobody&#39;" in bad.text


def test_case_page_escapes_hostile_customer_text(web: TestClient, desk: Desk) -> None:
    client = _as(web, "amy@heguang.example")
    for url in (f"/cases/{desk.hostile_id}", "/cases?view=all"):
        page = client.get(url)
        assert page.status_code == 200
        assert "<script>alert" not in page.text
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text
        assert "{{ 7*7 }}" in page.text  # shown as typed, never evaluated
    detail = client.get(f"/cases/{desk.hostile_id}")
    assert detail.template.name == "pages/case.html"  # type: ignore[attr-defined]
    assert detail.context["page"].detail.info.id == desk.hostile_id  # type: ignore[attr-defined]
    assert 'data-testid="take"' in detail.text


def test_agent_takes_replies_and_resolves_through_the_forms(
    web: TestClient, desk: Desk
) -> None:
    client = _as(web, "amy@heguang.example")
    url = f"/cases/{desk.open_id}"
    token = csrf_from(client.get(url).text)
    taken = client.post(
        f"{url}/take", data={"csrf_token": token}, follow_redirects=False
    )
    assert taken.status_code == 303
    assert taken.headers["location"] == f"{url}#top"
    client.post(f"{url}/reply", data={"csrf_token": token, "body": "已為您退款",
                                      "send": "record"})  # fmt: skip
    refused = client.post(f"{url}/status", data={"csrf_token": token, "to": "resolved"})
    assert refused.status_code == 400
    assert "resolution notes" in refused.text
    client.post(f"{url}/status", data={"csrf_token": token, "to": "resolved",
                                       "resolution": "退款完成"})  # fmt: skip
    detail = cases.get_case(settings=desk.settings, case_id=desk.open_id)
    assert (detail.info.status, detail.info.owner_id) == ("resolved", desk.agent)
    assert [e.kind for e in detail.events][2:5] == ["taken", "status", "reply"]


def test_other_agent_is_refused_on_an_owned_case(web: TestClient, desk: Desk) -> None:
    cases.take_case(settings=desk.settings, case_id=desk.open_id, user_id=desk.agent)
    client = _as(web, "ben@heguang.example")
    url = f"/cases/{desk.open_id}"
    token = csrf_from(client.get(url).text)
    refused = client.post(f"{url}/priority", data={"csrf_token": token, "to": "high"})
    assert refused.status_code == 409
    assert "林美華" in refused.text


def test_viewer_reads_but_cannot_act(web: TestClient, desk: Desk) -> None:
    client = _as(web, "vic@heguang.example")
    url = f"/cases/{desk.open_id}"
    page = client.get(url)
    assert page.status_code == 200
    assert 'data-testid="reply-form"' not in page.text
    assert 'data-testid="take"' not in page.text
    token = csrf_from(page.text)
    refused = client.post(f"{url}/take", data={"csrf_token": token})
    assert refused.status_code == 403
    assert client.get("/cases").context["inbox"].view == "all"  # type: ignore[attr-defined]
    api = client.post(f"/api/v1/cases/{desk.open_id}/events", json={"kind": "take"})
    assert api.status_code == 403
    info = cases.get_case(settings=desk.settings, case_id=desk.open_id).info
    assert info.owner_id is None


def test_forms_without_the_csrf_token_are_refused(web: TestClient, desk: Desk) -> None:
    client = _as(web, "amy@heguang.example")
    for action in ("take", "comment", "reply", "status"):
        response = client.post(f"/cases/{desk.open_id}/{action}",
                               data={"body": "x", "csrf_token": "forged"})  # fmt: skip
        assert response.status_code == 403, action
    info = cases.get_case(settings=desk.settings, case_id=desk.open_id).info
    assert info.owner_id is None


def test_api_lists_opens_and_works_cases(web: TestClient, desk: Desk) -> None:
    client = _as(web, "amy@heguang.example")
    listed = client.get("/api/v1/cases?view=unassigned").json()
    assert listed["count"] == 2
    assert listed["data"][0]["id"] == desk.hostile_id
    opened = client.post("/api/v1/cases", json={"title": "帳單金額錯誤",
                                                "priority": "high"})  # fmt: skip
    assert opened.status_code == 201, opened.text
    new = opened.json()
    assert (new["team_key"], new["events"][0]["actor"]) == (
        "billing", "amy@heguang.example")  # fmt: skip
    path = f"/api/v1/cases/{new['id']}/events"
    assert client.post(path, json={"kind": "take"}).json()["owner_id"] == desk.agent
    again = client.post(path, json={"kind": "take"})
    assert again.status_code == 409
    assert "already own" in again.json()["detail"]
    bad = client.post(path, json={"kind": "status", "status": "done"})
    assert bad.status_code == 422
    assert "status 'done'" in bad.json()["detail"]
    shown = client.get(f"/api/v1/cases/{new['id']}").json()
    assert [e["kind"] for e in shown["events"]][-2:] == ["taken", "status"]
    assert client.get("/api/v1/cases/9999").status_code == 404
