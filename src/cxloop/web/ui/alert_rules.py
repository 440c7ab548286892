"""The alert rule pages: ``/alerts`` lists rules and what they fired on; editors
create, edit, turn on or off and delete rules.

A rule is edited with a form (the kind and its fields) or as YAML in a textarea (the
format of ``cxloop alert apply``); both are checked by the rule parser before
anything is saved, and an error is shown next to its field or with its line.
Admins and analysts edit; agents and viewers read. Every form posts with the
session's CSRF token and works without JavaScript.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from cxloop.accounts.service import UserInfo
from cxloop.config import Settings
from cxloop.domain.errors import Conflict, CxloopError, InvalidInput, NotFound
from cxloop.loop import alert_rule_edits, alerts
from cxloop.loop.alert_rule_edits import RuleView
from cxloop.loop.yaml_places import PlacedInput
from cxloop.web.deps import CSRFChecked, CurrentUser, SettingsDep, current_user
from cxloop.web.i18n import N_
from cxloop.web.templating import render
from cxloop.web.ui.alert_rule_form import (
    KIND_FIELDS,
    KINDS,
    RuleForm,
    field_of,
    form_from_post,
    form_from_rule,
    to_definition,
)
from cxloop.web.ui.case_names import NAMES

router = APIRouter(include_in_schema=False)
EDIT_ROLES = frozenset({"admin", "analyst"})
_POST = [Depends(current_user), CSRFChecked]
EVENTS_SHOWN = 30
KIND_NAMES = {"detractor": N_("NPS detractor"),
              "negative_sentiment": N_("Negative sentiment"),
              "churn_threat": N_("Churn threat"), "keyword": N_("Keywords"),
              "metric_drop": N_("Metric drop")}  # fmt: skip
CONDITION_NAMES = {"touchpoints": N_("Touchpoints"), "channels": N_("Channels"),
                   "since": N_("Also feedback since"), "max_score": N_("NPS at most"),
                   "value_tiers": N_("Value tiers"),
                   "min_churn_risk": N_("Churn risk at least"),
                   "keywords": N_("Words"), "words": N_("Words"),
                   "metric": N_("Metric"), "min_drop": N_("Drop of at least"),
                   "min_answers": N_("Answers each week at least")}  # fmt: skip
SAMPLE = """key: store-detractor
name: 門市貶損者
kind: detractor
max_score: 6
channels: [store]
actions:
  - {type: case, priority: high, kind: detractor}
"""


@dataclass(frozen=True)
class RuleRow:
    """A rule on the list: the view and its conditions and actions in words."""

    view: RuleView
    conditions: list[tuple[str, str]]
    actions: list[dict[str, Any]]


def _words(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def rule_row(view: RuleView) -> RuleRow:
    """``view`` with its conditions as (label msgid, value) and plain actions."""
    conditions = [(CONDITION_NAMES[k], _words(v)) for k, v in view.conditions.items()
                  if k in CONDITION_NAMES and v not in (None, [], "")]  # fmt: skip
    actions = []
    for action in view.actions:
        shown = {k: v for k, v in action.items() if k != "secret"}
        if action.get("type") == "webhook":
            shown["host"] = urlsplit(str(action.get("url", ""))).hostname or ""
        actions.append(shown)
    return RuleRow(view, conditions, actions)


def _problem(request: Request, user: UserInfo, problem: str, status: int) -> Response:
    return render(request, "setup/problem.html", {"problem": problem,
                  "back": "/alerts"}, user=user, status_code=status)  # fmt: skip


def _names() -> dict[str, Any]:
    return {"names": NAMES, "kind_names": KIND_NAMES, "kinds": KINDS,
            "kind_fields": KIND_FIELDS}  # fmt: skip


@router.get("/alerts", name="alerts")
def list_page(request: Request, user: CurrentUser, settings: SettingsDep) -> Response:
    """The rules (conditions, actions, last run, fired this week) and recent alerts."""
    rows = [rule_row(v) for v in alert_rule_edits.rule_views(settings=settings)]
    events = alerts.list_events(settings=settings, limit=EVENTS_SHOWN)
    return render(request, "alerts/list.html",
                  {"rows": rows, "events": events, "can_edit": user.role in EDIT_ROLES,
                   "at": clock(settings), **_names()},
                  user=user)  # fmt: skip


@dataclass(frozen=True)
class EditPage:
    """The rule editor: the form, the YAML, and what went wrong where."""

    editing: str | None
    form: RuleForm
    text: str
    mode: str = "form"
    error: str | None = None
    where: str | None = None
    line: int | None = None

    def problem(self, name: str) -> str | None:
        """The error to show next to form field ``name``, if it is about it."""
        return self.error if self.where == name else None


def _editor(
    request: Request, user: UserInfo, page: EditPage, status: int = 200
) -> Response:
    return render(request, "alerts/edit.html", {"page": page, **_names()},
                  user=user, status_code=status)  # fmt: skip


@router.get("/alerts/new", name="new_alert_rule")
def new_page(request: Request, user: CurrentUser) -> Response:
    """An empty rule form and a sample rule in YAML."""
    if user.role not in EDIT_ROLES:
        return _problem(request, user, "forbidden", 403)
    return _editor(request, user, EditPage(None, RuleForm(), SAMPLE))


@router.get("/alerts/{key}/edit", name="edit_alert_rule")
def edit_page(
    request: Request, user: CurrentUser, settings: SettingsDep, key: str
) -> Response:
    """The stored rule in the form and as YAML."""
    if user.role not in EDIT_ROLES:
        return _problem(request, user, "forbidden", 403)
    try:
        view = alert_rule_edits.get_rule(settings=settings, key=key)
    except NotFound:
        return _problem(request, user, "missing", 404)
    page = EditPage(key, form_from_rule(view.definition(hide_secrets=True)),
                    view.as_yaml(hide_secrets=True))  # fmt: skip
    return _editor(request, user, page)


def _save(settings: Settings, page: EditPage) -> None:
    if page.mode == "yaml":
        alert_rule_edits.save_rule_yaml(settings=settings, text=page.text,
                                        key=page.editing)  # fmt: skip
    else:
        definition, _ = to_definition(page.form)
        alert_rule_edits.save_rule(settings=settings, definition=definition,
                                   key=page.editing)  # fmt: skip


def _failed(page: EditPage, exc: CxloopError, names: list[str]) -> EditPage:
    message = str(exc)
    if page.mode == "yaml":
        line = exc.line if isinstance(exc, PlacedInput) else None
        return EditPage(page.editing, page.form, page.text, "yaml", message, line=line)
    return EditPage(page.editing, page.form, page.text, "form", message,
                    field_of(message, names))  # fmt: skip


async def _post(
    request: Request, user: UserInfo, settings: Settings, editing: str | None
) -> Response:
    if user.role not in EDIT_ROLES:
        return _problem(request, user, "forbidden", 403)
    data = await request.form()
    form = form_from_post(data)
    mode = "yaml" if data.get("mode") == "yaml" else "form"
    text = str(data.get("yaml") or "")
    page = EditPage(editing, form, text or SAMPLE, mode)
    _, names = to_definition(form)
    try:
        _save(settings, page)
    except NotFound:
        return _problem(request, user, "missing", 404)
    except CxloopError as exc:
        status = 409 if isinstance(exc, Conflict) else 400
        return _editor(request, user, _failed(page, exc, names), status)
    return RedirectResponse("/alerts", status_code=303)


@router.post("/alerts/new", dependencies=_POST)
async def new_post(
    request: Request, user: CurrentUser, settings: SettingsDep
) -> Response:
    """Save a new rule from the form or from YAML."""
    return await _post(request, user, settings, None)


@router.post("/alerts/{key}/edit", dependencies=_POST)
async def edit_post(
    request: Request, user: CurrentUser, settings: SettingsDep, key: str
) -> Response:
    """Save the changed rule (its key stays)."""
    return await _post(request, user, settings, key)


def _change(request: Request, user: UserInfo, work: Any) -> Response:
    if user.role not in EDIT_ROLES:
        return _problem(request, user, "forbidden", 403)
    try:
        work()
    except NotFound:
        return _problem(request, user, "missing", 404)
    except InvalidInput:
        return _problem(request, user, "invalid", 400)
    return RedirectResponse("/alerts", status_code=303)


@router.post("/alerts/{key}/active", dependencies=_POST)
async def toggle(
    request: Request, user: CurrentUser, settings: SettingsDep, key: str
) -> Response:
    """Turn the rule on (``to=on``) or off (``to=off``)."""
    to = str((await request.form()).get("to") or "")

    def work() -> None:
        if to not in ("on", "off"):
            raise InvalidInput("to: choose on or off")
        alert_rule_edits.set_rule_active(settings=settings, key=key, active=to == "on")

    return _change(request, user, work)


@router.post("/alerts/{key}/delete", dependencies=_POST)
def delete(
    request: Request, user: CurrentUser, settings: SettingsDep, key: str
) -> Response:
    """Delete the rule and its alert history; cases it opened stay."""
    return _change(request, user, lambda: alert_rule_edits.delete_rule(
        settings=settings, key=key))  # fmt: skip


def clock(settings: Settings) -> Callable[[datetime | None], str]:
    """A function showing a moment in the configured time zone (a dash for None)."""
    zone = ZoneInfo(settings.timezone)

    def at(moment: datetime | None) -> str:
        if moment is None:
            return "—"
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    return at
