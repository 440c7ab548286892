"""The alert rule pages in process: list, form and YAML editing, on/off, delete, roles."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from web_client import PASSWORD, csrf_from, sign_in

from cxloop.accounts import service as accounts
from cxloop.config import Settings
from cxloop.loop import cases
from cxloop.loop.alert_rule_edits import get_rule, rule_views, save_rule_yaml
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import AlertEvent, AlertRule, Case
from cxloop.web.app import create_app

HOSTILE = '<script>alert("x")</script>{{ 7*7 }}\u202e退款.exe'
DETRACTOR_YAML = """key: store-detractor
name: 門市貶損者
kind: detractor
max_score: 6
channels: [store]
actions:
  - {type: case, priority: high, kind: detractor}
"""


@pytest.fixture
def web(settings: Settings) -> Iterator[TestClient]:
    """The app on a fresh store; the client starts signed out."""
    with TestClient(create_app(settings)) as client:
        yield client


def _as(client: TestClient, settings: Settings, role: str) -> str:
    """Create a user with ``role`` and sign in; the CSRF token of the session."""
    email = f"{role}@heguang.example"
    accounts.create_user(settings=settings, email=email, password=PASSWORD,
                         role=role, name=role)  # fmt: skip
    assert sign_in(client, email, PASSWORD).status_code == 303
    return csrf_from(client.get("/alerts").text)


def _rule_form(token: str, **change: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "csrf_token": token, "mode": "form", "key": "refund-words", "name": "退款關鍵字",
        "kind": "keyword", "active": "1", "words": "退款, refund", "channels": "",
        "touchpoints": "", "case": "1", "case_priority": "high",
        "case_kind": "complaint", "email": "1", "email_to": "lead@heguang.example",
        "max_score": "6", "metric": "nps", "min_drop": "0", "min_answers": "10",
    }  # fmt: skip
    return form | change


def test_rule_form_creates_rule_listed_with_conditions(
    web: TestClient, settings: Settings
) -> None:
    token = _as(web, settings, "analyst")
    response = web.post("/alerts/new", data=_rule_form(token), follow_redirects=False)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/alerts"
    rule = get_rule(settings=settings, key="refund-words")
    assert (rule.kind, rule.active) == ("keyword", True)
    assert rule.conditions["words"] == ["退款", "refund"]
    assert rule.actions == [
        {"type": "case", "priority": "high", "kind": "complaint"},
        {"type": "email", "to": ["lead@heguang.example"]},
    ]
    page = web.get("/alerts?lang=en")
    assert page.template.name == "alerts/list.html"  # type: ignore[attr-defined]
    assert [r.view.key for r in page.context["rows"]] == ["refund-words"]  # type: ignore[attr-defined]
    assert "退款, refund" in page.text
    assert "E-mail lead@heguang.example" in page.text
    assert 'data-testid="new-rule"' in page.text


def test_rule_form_error_shows_next_to_field_and_saves_nothing(
    web: TestClient, settings: Settings
) -> None:
    token = _as(web, settings, "analyst")
    bad_score = _rule_form(token, kind="detractor", max_score="9")
    response = web.post("/alerts/new", data=bad_score)
    assert response.status_code == 400
    page = response.context["page"]  # type: ignore[attr-defined]
    assert page.where == "max_score"
    assert 'data-testid="error-max_score"' in response.text
    assert "9 is outside 0-6" in response.text
    assert 'value="9"' in response.text  # what was typed stays
    bad_mail = web.post("/alerts/new", data=_rule_form(token, email_to="nobody"))
    assert bad_mail.status_code == 400
    assert bad_mail.context["page"].where == "email_to"  # type: ignore[attr-defined]
    assert rule_views(settings=settings) == []


def test_rule_yaml_edit_round_trip_changes_the_rule(
    web: TestClient, settings: Settings
) -> None:
    token = _as(web, settings, "analyst")
    created = web.post("/alerts/new", data={"csrf_token": token, "mode": "yaml",
                                            "yaml": DETRACTOR_YAML},
                       follow_redirects=False)  # fmt: skip
    assert created.status_code == 303, created.text
    edit = web.get("/alerts/store-detractor/edit")
    assert edit.status_code == 200
    shown = edit.context["page"].text  # type: ignore[attr-defined]
    assert "max_score: 6" in shown
    assert edit.context["page"].form.channels == "store"  # type: ignore[attr-defined]
    changed = shown.replace("max_score: 6", "max_score: 4")
    saved = web.post("/alerts/store-detractor/edit",
                     data={"csrf_token": token, "mode": "yaml", "yaml": changed},
                     follow_redirects=False)  # fmt: skip
    assert saved.status_code == 303, saved.text
    rule = get_rule(settings=settings, key="store-detractor")
    assert rule.conditions["max_score"] == 4
    assert rule.conditions["channels"] == ["store"]
    assert rule.actions == [{"type": "case", "priority": "high", "kind": "detractor"}]


def test_bad_rule_yaml_shows_its_line_and_changes_nothing(
    web: TestClient, settings: Settings
) -> None:
    save_rule_yaml(settings=settings, text=DETRACTOR_YAML)
    token = _as(web, settings, "analyst")
    bad = DETRACTOR_YAML.replace("max_score: 6", "max_score: 9")
    response = web.post("/alerts/store-detractor/edit",
                        data={"csrf_token": token, "mode": "yaml", "yaml": bad})  # fmt: skip
    assert response.status_code == 400
    assert response.context["page"].line == 4  # type: ignore[attr-defined]
    assert "line 4: rule.max_score: 9 is outside 0-6" in response.text
    assert 'data-testid="yaml-line"' in response.text
    broken = web.post("/alerts/store-detractor/edit", data={
        "csrf_token": token, "mode": "yaml", "yaml": "key: [unclosed\nkind: x\n"})  # fmt: skip
    assert broken.status_code == 400
    assert "not valid YAML" in broken.text
    renamed = web.post("/alerts/store-detractor/edit", data={
        "csrf_token": token, "mode": "yaml",
        "yaml": DETRACTOR_YAML.replace("store-detractor", "other")})  # fmt: skip
    assert renamed.status_code == 400
    assert "its key cannot change" in renamed.text
    rule = get_rule(settings=settings, key="store-detractor")
    assert rule.conditions["max_score"] == 6
    assert [v.key for v in rule_views(settings=settings)] == ["store-detractor"]


def test_rule_is_toggled_and_deleted_and_its_case_stays(
    web: TestClient, settings: Settings
) -> None:
    save_rule_yaml(settings=settings, text=DETRACTOR_YAML)
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        rule_id = session.scalar(select(AlertRule.id))
    case = cases.open_case(settings=settings, customer_id=None, title="貶損者",
                           alert_rule_id=rule_id)  # fmt: skip
    token = _as(web, settings, "analyst")
    off = web.post("/alerts/store-detractor/active",
                   data={"csrf_token": token, "to": "off"}, follow_redirects=False)  # fmt: skip
    assert off.status_code == 303
    assert get_rule(settings=settings, key="store-detractor").active is False
    assert "Turn on" in web.get("/alerts?lang=en").text
    gone = web.post("/alerts/store-detractor/delete", data={"csrf_token": token},
                    follow_redirects=False)  # fmt: skip
    assert gone.status_code == 303
    assert rule_views(settings=settings) == []
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        kept = session.get(Case, case.id)
        assert kept is not None
        assert kept.alert_rule_id is None
    missing = web.post("/alerts/store-detractor/delete", data={"csrf_token": token})
    assert missing.status_code == 404


@pytest.mark.parametrize("role", ["agent", "viewer"])
def test_agent_and_viewer_read_rules_but_cannot_edit(
    web: TestClient, settings: Settings, role: str
) -> None:
    save_rule_yaml(settings=settings, text=DETRACTOR_YAML)
    token = _as(web, settings, role)
    listing = web.get("/alerts")
    assert listing.status_code == 200
    assert "store-detractor" in listing.text
    assert 'data-testid="new-rule"' not in listing.text
    assert 'data-testid="toggle-rule"' not in listing.text
    assert web.get("/alerts/new").status_code == 403
    assert web.get("/alerts/store-detractor/edit").status_code == 403
    assert web.post("/alerts/new", data=_rule_form(token)).status_code == 403
    toggled = web.post("/alerts/store-detractor/active",
                       data={"csrf_token": token, "to": "off"})  # fmt: skip
    assert toggled.status_code == 403
    assert web.post("/alerts/store-detractor/delete",
                    data={"csrf_token": token}).status_code == 403  # fmt: skip
    assert get_rule(settings=settings, key="store-detractor").active is True


def test_rule_list_counts_the_week_and_escapes_alert_summaries(
    web: TestClient, settings: Settings
) -> None:
    save_rule_yaml(settings=settings, text=DETRACTOR_YAML)
    case = cases.open_case(settings=settings, customer_id=None, title="x")
    now = datetime.now(UTC)
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        rule_id = session.scalar(select(AlertRule.id))
        session.add_all([
            AlertEvent(rule_id=rule_id, ref="i:1", at=now - timedelta(days=1),
                       summary=HOSTILE, case_id=case.id, results=[]),
            AlertEvent(rule_id=rule_id, ref="i:2", at=now - timedelta(days=10),
                       summary="NPS 3", results=[]),
        ])  # fmt: skip
    _as(web, settings, "viewer")
    page = web.get("/alerts")
    (row,) = page.context["rows"]  # type: ignore[attr-defined]
    assert (row.view.fired, row.view.fired_recently) == (2, 1)
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;{{ 7*7 }}" in page.text
    assert f'href="/cases/{case.id}"' in page.text


def test_rule_form_without_csrf_token_is_refused(
    web: TestClient, settings: Settings
) -> None:
    _as(web, settings, "analyst")
    response = web.post("/alerts/new", data=_rule_form(""))
    assert response.status_code == 403
    assert rule_views(settings=settings) == []


HOOK_YAML = """key: hook-rule
name: 通知
kind: detractor
max_score: 6
actions:
  - {type: webhook, url: "https://hooks.example/cx", secret: s3cret-value-1}
"""


def test_webhook_secret_is_never_shown_and_kept_when_masked(
    web: TestClient, settings: Settings
) -> None:
    save_rule_yaml(settings=settings, text=HOOK_YAML)
    token = _as(web, settings, "admin")
    page = web.get("/alerts/hook-rule/edit")
    assert page.status_code == 200
    assert "s3cret-value-1" not in page.text
    assert "********" in page.text
    form = page.context["page"].form  # type: ignore[attr-defined]
    data = {k: str(v) for k, v in vars(form).items() if not isinstance(v, bool)}
    data |= {k: "1" for k, v in vars(form).items() if v is True}
    data |= {"csrf_token": token, "mode": "form", "name": "通知（改名）"}
    saved = web.post("/alerts/hook-rule/edit", data=data, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    rule = get_rule(settings=settings, key="hook-rule")
    assert rule.name == "通知（改名）"
    assert rule.actions[0]["secret"] == "s3cret-value-1"
    masked = rule.as_yaml(hide_secrets=True).replace("max_score: 6", "max_score: 5")
    yaml_saved = web.post("/alerts/hook-rule/edit", follow_redirects=False,
                          data={"csrf_token": token, "mode": "yaml", "yaml": masked})  # fmt: skip
    assert yaml_saved.status_code == 303, yaml_saved.text
    rule = get_rule(settings=settings, key="hook-rule")
    assert rule.conditions["max_score"] == 5
    assert rule.actions[0]["secret"] == "s3cret-value-1"


def test_a_mask_without_a_stored_secret_is_refused(
    web: TestClient, settings: Settings
) -> None:
    token = _as(web, settings, "analyst")
    text = HOOK_YAML.replace("s3cret-value-1", '"********"')
    response = web.post("/alerts/new", follow_redirects=False,
                        data={"csrf_token": token, "mode": "yaml", "yaml": text})  # fmt: skip
    assert response.status_code == 400
    assert "stands for a stored secret" in response.text
    assert rule_views(settings=settings) == []
