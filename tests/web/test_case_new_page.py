"""/cases/new in process: a case opened by hand is routed, assigned and gets SLA due times."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from web_client import PASSWORD, csrf_from, sign_in

from cxloop.accounts import service as accounts
from cxloop.config import Settings
from cxloop.loop import cases
from cxloop.loop.teams import save_routing_rules
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import Case, Customer, User
from cxloop.web.app import create_app

HOSTILE = '<script>alert("x")</script>{{ 7*7 }}\u202e退款.exe'
ROUTING = {
    "teams": [
        {"key": "billing", "name": "帳務組", "members": ["mei@heguang.example"]},
        {"key": "desk", "name": "客服中心", "members": ["ming@heguang.example"]},
    ],
    "rules": [
        {"name": "來信", "team": "billing", "when": {"channel": "email"}},
        {"name": "其他", "team": "desk"},
    ],
    "sla": {"urgent": {"first_response": "30m", "resolution": "4h"}},
}


@pytest.fixture
def web(settings: Settings) -> Iterator[TestClient]:
    """Two teams with one agent each, routed by channel; one customer."""
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        session.add_all([
            User(email="mei@heguang.example", name="美華", password_hash="x", role="agent"),
            User(email="ming@heguang.example", name="志明", password_hash="x", role="agent"),
            Customer(name="陳怡君", email="chen@example.test", external_id="M0012",
                     phone="+886912345678", language="zh-TW", attributes={}),
        ])  # fmt: skip
    save_routing_rules(settings=settings, document=ROUTING)
    with TestClient(create_app(settings)) as client:
        yield client


def _as(client: TestClient, settings: Settings, role: str) -> str:
    email = f"{role}@heguang.example"
    accounts.create_user(settings=settings, email=email, password=PASSWORD,
                         role=role, name=role)  # fmt: skip
    assert sign_in(client, email, PASSWORD).status_code == 303
    return csrf_from(client.get("/cases").text)


def _form(token: str, **change: str) -> dict[str, Any]:
    form = {"csrf_token": token, "customer": "chen@example.test",
            "title": "退款還沒收到", "description": "上週退貨，還沒退款。",
            "priority": "urgent", "kind": "complaint", "channel": "email",
            "touchpoint": "線上客服"}  # fmt: skip
    return form | change


def _case_count(settings: Settings) -> int:
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        return int(session.scalar(select(func.count()).select_from(Case)) or 0)


def test_agent_opens_case_routed_to_team_with_sla_due_times(
    web: TestClient, settings: Settings
) -> None:
    token = _as(web, settings, "agent")
    assert 'href="/cases/new"' in web.get("/cases").text
    form = web.get("/cases/new")
    assert form.status_code == 200
    assert form.template.name == "cases/new.html"  # type: ignore[attr-defined]
    response = web.post("/cases/new", data=_form(token), follow_redirects=False)
    assert response.status_code == 303, response.text
    case_id = int(response.headers["location"].removeprefix("/cases/"))
    detail = cases.get_case(settings=settings, case_id=case_id)
    info = detail.info
    assert (info.team_key, info.owner_name) == ("billing", "美華")
    assert (info.priority, info.channel, info.touchpoint) == (
        "urgent",
        "email",
        "線上客服",
    )
    assert detail.customer is not None
    assert detail.customer.name == "陳怡君"
    assert info.first_response_due_at is not None
    assert info.resolution_due_at is not None
    assert info.opened_at < info.first_response_due_at < info.resolution_due_at
    kinds = [e.kind for e in detail.events]
    assert {"created", "routed", "assigned"} <= set(kinds)
    created = next(e for e in detail.events if e.kind == "created")
    assert created.actor == "agent@heguang.example"


def test_case_without_channel_goes_to_the_catch_all_team(
    web: TestClient, settings: Settings
) -> None:
    token = _as(web, settings, "analyst")
    data = _form(token, customer="M0012", channel="", priority="normal")
    response = web.post("/cases/new", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text
    case_id = int(response.headers["location"].removeprefix("/cases/"))
    info = cases.get_case(settings=settings, case_id=case_id).info
    assert (info.team_key, info.owner_name, info.channel) == ("desk", "志明", None)


def test_unknown_customer_is_shown_next_to_its_field_and_nothing_opens(
    web: TestClient, settings: Settings
) -> None:
    token = _as(web, settings, "agent")
    data = _form(token, customer="nobody@example.test", title=HOSTILE)
    response = web.post("/cases/new", data=data)
    assert response.status_code == 400
    assert response.context["page"].where == "customer"  # type: ignore[attr-defined]
    assert 'data-testid="error-customer"' in response.text
    assert "no customer matches" in response.text
    assert "<script>alert" not in response.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;{{ 7*7 }}" in response.text
    empty = web.post("/cases/new", data=_form(token, title="  "))
    assert empty.status_code == 400
    assert empty.context["page"].where == "title"  # type: ignore[attr-defined]
    assert _case_count(settings) == 0


def test_viewer_cannot_open_a_case(web: TestClient, settings: Settings) -> None:
    token = _as(web, settings, "viewer")
    assert 'href="/cases/new"' not in web.get("/cases").text
    assert web.get("/cases/new").status_code == 403
    assert web.post("/cases/new", data=_form(token)).status_code == 403
    assert _case_count(settings) == 0
