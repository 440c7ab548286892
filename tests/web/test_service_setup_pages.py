"""/setup/teams in process: teams, routing rules, SLA policies, the routing YAML, away."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from web_client import PASSWORD, csrf_from, sign_in

from cxloop.accounts import service as accounts
from cxloop.config import Settings
from cxloop.loop import cases, teams
from cxloop.loop.team_edits import list_routing_rules, routing_yaml
from cxloop.loop.teams import save_routing_rules
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import User
from cxloop.web.app import create_app

HOSTILE = '<script>alert("x")</script>{{ 7*7 }}\u202e帳務'
ROUTING = {
    "teams": [
        {"key": "billing", "name": HOSTILE, "lead": "mei@heguang.example",
         "assignment": "round_robin",
         "members": ["mei@heguang.example", "ming@heguang.example"]},
        {"key": "desk", "name": "客服中心", "members": ["ming@heguang.example"]},
    ],
    "rules": [
        {"name": "退款", "team": "billing", "when": {"topic": ["refund", "退款"]}},
        {"name": "其他", "team": "desk"},
    ],
    "sla": {"urgent": {"first_response": "30m", "resolution": "4h"}},
}  # fmt: skip


@pytest.fixture
def web(settings: Settings) -> Iterator[TestClient]:
    """Two agents (no password: they do not sign in here) in two teams."""
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        session.add_all([
            User(email="mei@heguang.example", name="美華", password_hash="x", role="agent"),
            User(email="ming@heguang.example", name="志明", password_hash="x", role="agent"),
        ])  # fmt: skip
    save_routing_rules(settings=settings, document=ROUTING)
    with TestClient(create_app(settings)) as client:
        yield client


def _as(client: TestClient, settings: Settings, role: str) -> tuple[str, int]:
    """Create a user with ``role``, sign in; the CSRF token and the user's id."""
    email = f"{role}@heguang.example"
    user = accounts.create_user(settings=settings, email=email, password=PASSWORD,
                                role=role, name=role)  # fmt: skip
    assert sign_in(client, email, PASSWORD).status_code == 303
    return csrf_from(client.get("/setup/teams").text), user.id


def _member_ids(settings: Settings) -> dict[str, int]:
    return {m.email: m.user_id for t in teams.list_teams(settings=settings)
            for m in t.members}  # fmt: skip


def test_setup_page_shows_teams_rules_and_policies_to_a_viewer(
    web: TestClient, settings: Settings
) -> None:
    _as(web, settings, "viewer")
    page = web.get("/setup/teams?lang=en")
    assert page.status_code == 200
    assert page.template.name == "setup/teams.html"  # type: ignore[attr-defined]
    setup = page.context["page"]  # type: ignore[attr-defined]
    assert [t.key for t in setup.teams] == ["billing", "desk"]
    assert [(r.name, r.team_key) for r in setup.rules] == [("退款", "billing"),
                                                          ("其他", "desk")]  # fmt: skip
    urgent = next(p for p in setup.policies if p.priority == "urgent")
    assert (urgent.first_response_minutes, urgent.configured) == (30, True)
    assert "refund, 退款" in page.text
    assert "Round robin" in page.text
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;" in page.text
    assert 'data-testid="routing-form"' not in page.text  # a viewer reads the YAML
    assert 'data-testid="routing-yaml"' in page.text
    assert 'data-testid="toggle-away"' not in page.text


def test_routing_yaml_edit_round_trip_changes_the_store(
    web: TestClient, settings: Settings
) -> None:
    token, _ = _as(web, settings, "analyst")
    shown = web.get("/setup/teams").context["page"].text  # type: ignore[attr-defined]
    assert shown == routing_yaml(settings=settings)
    same = web.post("/setup/teams/routing", data={"csrf_token": token,
                    "routing": shown}, follow_redirects=False)  # fmt: skip
    assert same.status_code == 303
    # saving what is shown changes nothing
    assert routing_yaml(settings=settings) == shown
    changed = shown.replace("assignment: round_robin", "assignment: least_loaded", 1)
    changed = changed.replace("first_response: 30m", "first_response: 1h")
    saved = web.post("/setup/teams/routing", data={"csrf_token": token,
                     "routing": changed}, follow_redirects=False)  # fmt: skip
    assert saved.status_code == 303
    assert saved.headers["location"] == "/setup/teams?saved=1#routing"
    billing = teams.list_teams(settings=settings)[0]
    assert billing.assignment == "least_loaded"
    after = web.get(saved.headers["location"])
    assert 'data-testid="routing-saved"' in after.text
    urgent = next(p for p in after.context["page"].policies if p.priority == "urgent")  # type: ignore[attr-defined]
    assert urgent.first_response_minutes == 60


def test_bad_routing_yaml_shows_its_line_and_changes_nothing(
    web: TestClient, settings: Settings
) -> None:
    token, _ = _as(web, settings, "admin")
    before = routing_yaml(settings=settings)
    unknown = before.replace("- ming@heguang.example", "- nobody@heguang.example", 1)
    response = web.post("/setup/teams/routing",
                        data={"csrf_token": token, "routing": unknown})  # fmt: skip
    assert response.status_code == 400
    line = unknown.splitlines().index("  - nobody@heguang.example") + 1
    assert response.context["page"].line == line  # type: ignore[attr-defined]
    assert f"line {line}: teams[1].members[2]: no user nobody@heguang.example" in (
        response.text
    )
    assert "nobody@heguang.example" in response.context["page"].text  # type: ignore[attr-defined]
    bad_sla = before.replace("resolution: 4h", "resolution: soon")
    refused = web.post("/setup/teams/routing",
                       data={"csrf_token": token, "routing": bad_sla})  # fmt: skip
    assert refused.status_code == 400
    assert "sla.urgent.resolution" in refused.text
    assert 'data-testid="routing-line"' in refused.text
    assert routing_yaml(settings=settings) == before
    assert len(list_routing_rules(settings=settings)) == 2


def test_viewer_and_agent_cannot_post_routing_yaml(
    web: TestClient, settings: Settings
) -> None:
    token, _ = _as(web, settings, "agent")
    before = routing_yaml(settings=settings)
    response = web.post("/setup/teams/routing",
                        data={"csrf_token": token, "routing": "teams: []\nrules: []\n"})  # fmt: skip
    assert response.status_code == 403
    assert routing_yaml(settings=settings) == before


def test_agent_marks_self_away_and_routing_skips_them(
    web: TestClient, settings: Settings
) -> None:
    token, agent_id = _as(web, settings, "agent")
    teams.add_member(
        settings=settings, team_key="billing", email="agent@heguang.example"
    )
    members = _member_ids(settings)
    own = f"/setup/teams/billing/members/{agent_id}/away"
    away = web.post(
        own, data={"csrf_token": token, "to": "away"}, follow_redirects=False
    )
    assert away.status_code == 303
    assert away.headers["location"] == "/setup/teams#team-billing"
    other = f"/setup/teams/billing/members/{members['mei@heguang.example']}/away"
    assert web.post(other, data={"csrf_token": token, "to": "away"}).status_code == 403
    billing = teams.list_teams(settings=settings)[0]
    assert {m.email: m.away for m in billing.members} == {
        "agent@heguang.example": True, "mei@heguang.example": False,
        "ming@heguang.example": False}  # fmt: skip
    owners = {cases.open_case(settings=settings, customer_id=None, title=f"退款 {i}",
                              topics=["refund"]).owner_id for i in range(4)}  # fmt: skip
    assert agent_id not in owners
    back = web.post(
        own, data={"csrf_token": token, "to": "back"}, follow_redirects=False
    )
    assert back.status_code == 303
    assert not any(m.away for m in teams.list_teams(settings=settings)[0].members)


def test_admin_marks_another_agent_away_and_viewer_cannot(
    web: TestClient, settings: Settings
) -> None:
    token, _ = _as(web, settings, "admin")
    mei = _member_ids(settings)["mei@heguang.example"]
    url = f"/setup/teams/desk/members/{mei}/away"
    assert web.post(url, data={"csrf_token": token}).status_code == 404  # not in desk
    url = f"/setup/teams/billing/members/{mei}/away"
    done = web.post(
        url, data={"csrf_token": token, "to": "away"}, follow_redirects=False
    )
    assert done.status_code == 303
    page = web.get("/setup/teams")
    assert 'data-testid="away"' in page.text
    web.post("/logout", data={"csrf_token": token})
    viewer_token, _ = _as(web, settings, "viewer")
    refused = web.post(url, data={"csrf_token": viewer_token, "to": "back"})
    assert refused.status_code == 403
    assert any(m.away for m in teams.list_teams(settings=settings)[0].members)
