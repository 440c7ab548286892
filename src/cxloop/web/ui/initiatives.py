"""The initiative pages: the PDCA board, one initiative, and the form to start one.

``/initiatives`` is the board (a column per stage, a card per initiative);
``/initiatives/{id}`` shows the problem, goal, baseline, actions, stage history and the
Checks with their confidence intervals, with forms (POST + CSRF) to add an action,
move the stage, run the Check and decide in Act. Viewers read only. Everything comes
from :mod:`cxloop.improve`; user text is escaped by the templates, never marked safe.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from cxloop.accounts.service import UserInfo
from cxloop.config import Settings
from cxloop.domain.errors import Conflict, CxloopError, InvalidInput, NotFound
from cxloop.improve import initiatives as service
from cxloop.improve.checks import check_initiative
from cxloop.improve.initiatives import InitiativeView
from cxloop.web.deps import CSRFChecked, CurrentUser, SettingsDep, current_user
from cxloop.web.i18n import N_
from cxloop.web.templating import page_language, render

router = APIRouter(include_in_schema=False)

#: Roles that may change initiatives (a viewer and an agent only read).
EDIT_ROLES = frozenset({"admin", "analyst"})
#: Fields offered for the scope and comparison of a new initiative.
SCOPE_FIELDS = ("touchpoint", "channel", "journey_stage", "region", "segment",
                "value_tier", "rfm_segment", "in_segment")  # fmt: skip
SCOPE_ROWS, COMPARISON_ROWS = 3, 2
FormText = Annotated[str, Form()]

NAMES: dict[str, dict[str, str]] = {
    "stage": {"plan": N_("Plan"), "do": N_("Do"), "check": N_("Check"),
              "act": N_("Act"), "closed": N_("Closed")},
    "verdict": {"improved": N_("Improved"), "worse": N_("Worse"),
                "no_detectable_change": N_("No detectable change")},
    "evidence": {"topic": N_("Topic"), "touchpoint": N_("Touchpoint"),
                 "driver": N_("Driver"), "segment": N_("Segment"),
                 "check": N_("Earlier check")},
    "field": {"touchpoint": N_("Touchpoint"), "channel": N_("Channel"),
              "journey_stage": N_("Journey stage"), "region": N_("Region"),
              "segment": N_("Segment"), "value_tier": N_("Value tier"),
              "rfm_segment": N_("RFM segment"), "in_segment": N_("Saved segment")},
    "metric": {"nps": N_("NPS"), "csat": N_("CSAT"), "ces": N_("CES")},
    "decision": {"standardise": N_("Standardised"), "adjust": N_("Adjusted")},
}  # fmt: skip


@dataclass(frozen=True)
class InitiativePage:
    """One initiative and what its page derives from it."""

    view: InitiativeView
    can_edit: bool
    next_stage: str | None
    digits: int
    groups: list[dict[str, Any]]
    effects: list[dict[str, Any]]
    chart: dict[str, Any] | None
    history: list[tuple[str, datetime]]
    error: str | None = None


@dataclass(frozen=True)
class NewForm:
    """The values of the form that starts an initiative, and what was wrong."""

    values: dict[str, str] = field(default_factory=dict)
    scope: list[tuple[str, str]] = field(default_factory=list)
    comparison: list[tuple[str, str]] = field(default_factory=list)
    error: str | None = None


_GROUPS = (("before", N_("Before (baseline)")), ("after", N_("After the change")),
           ("comparison_before", N_("Comparison group, before")),
           ("comparison_after", N_("Comparison group, after")))  # fmt: skip
_EFFECTS = (("change", N_("After − before")),
            ("did", N_("Difference-in-differences")))  # fmt: skip


def build_initiative_page(
    view: InitiativeView,
    user: UserInfo,
    *,
    zone: str,
    translate: Callable[[str], str],
    error: str | None = None,
) -> InitiativePage:
    """The page of ``view``: check tables and chart from its newest Check.

    ``translate`` turns the row labels into the page's language; ``zone`` is the
    time zone the stage history is shown in.
    """
    result = view.latest_check.result if view.latest_check else {}
    groups = [{**result[key], "label": translate(label)} for key, label in _GROUPS
              if result.get(key)]  # fmt: skip
    effects = [{**result[key], "label": translate(label), "key": key}
               for key, label in _EFFECTS if result.get(key)]  # fmt: skip
    return InitiativePage(
        view=view,
        can_edit=user.role in EDIT_ROLES,
        next_stage=service.NEXT_STAGE.get(view.stage),
        digits=2 if view.metric == "ces" else 1,
        groups=groups,
        effects=effects,
        chart=_chart(groups) if groups else None,
        history=[
            (stage, datetime.fromisoformat(at).astimezone(ZoneInfo(zone)))
            for stage, at in view.stage_dates.items()
        ],
        error=error,
    )


def _chart(groups: list[dict[str, Any]]) -> dict[str, Any]:
    """Values and 95 % bounds of each group, for the bar chart with error bars."""
    moe = [g.get("moe") or 0.0 for g in groups]
    return {
        "labels": [g["label"] for g in groups],
        "values": [g["value"] for g in groups],
        "low": [g["value"] - m for g, m in zip(groups, moe, strict=True)],
        "high": [g["value"] + m for g, m in zip(groups, moe, strict=True)],
    }


def _forbidden(request: Request, user: UserInfo) -> Response:
    return render(request, "pages/initiative.html",
                  {"page": None, "problem": "forbidden", "names": NAMES},
                  user=user, status_code=403)  # fmt: skip


def _show(
    request: Request,
    user: UserInfo,
    settings: Settings,
    initiative_id: int,
    error: CxloopError | None = None,
) -> Response:
    try:
        view = service.get_initiative(settings=settings, initiative_id=initiative_id)
    except NotFound:
        return render(request, "pages/initiative.html",
                      {"page": None, "problem": "missing", "names": NAMES},
                      user=user, status_code=404)  # fmt: skip
    translations = request.app.state.translations[page_language(request, user)]
    page = build_initiative_page(
        view, user, zone=settings.timezone, translate=translations.gettext,
        error=str(error) if error else None,
    )  # fmt: skip
    status = 200 if error is None else 409 if isinstance(error, Conflict) else 400
    return render(request, "pages/initiative.html",
                  {"page": page, "problem": None, "names": NAMES},
                  user=user, status_code=status)  # fmt: skip


@router.get("/initiatives", name="initiatives")
def board_page(request: Request, user: CurrentUser, settings: SettingsDep) -> Response:
    """The PDCA board: a column per stage, a card per initiative."""
    board = service.board(settings=settings)
    return render(request, "pages/initiatives.html",
                  {"board": board, "names": NAMES, "mode": "board",
                   "can_edit": user.role in EDIT_ROLES}, user=user)  # fmt: skip


@router.get("/initiatives/new", name="new_initiative")
def new_page(request: Request, user: CurrentUser) -> Response:
    """The form that starts an initiative (Plan).

    Links from the dashboard fill it in from the query: ``metric``, ``title``,
    ``problem``, ``evidence_kind`` and ``evidence_value``, and scope fields such as
    ``touchpoint=宅配`` (a problem the dashboard shows becomes the initiative's scope).
    """
    if user.role not in EDIT_ROLES:
        return _forbidden(request, user)
    return _new_form(request, user, prefilled(dict(request.query_params)))


def prefilled(query: dict[str, str]) -> NewForm:
    """The new-initiative form filled in from a link's query parameters."""
    keys = ("metric", "title", "problem", "evidence_kind", "evidence_value")
    values = {key: query[key][:300] for key in keys if query.get(key)}
    scope = [(name, query[name][:200]) for name in SCOPE_FIELDS if query.get(name)]
    return NewForm(values=values, scope=scope[:SCOPE_ROWS])


def _new_form(
    request: Request, user: UserInfo, form: NewForm, status_code: int = 200
) -> Response:
    return render(request, "pages/initiatives.html",
                  {"form": form, "names": NAMES, "mode": "new",
                   "fields": SCOPE_FIELDS, "rows": (SCOPE_ROWS, COMPARISON_ROWS),
                   "can_edit": True}, user=user, status_code=status_code)  # fmt: skip


def _day(raw: str, name: str) -> date | None:
    if not raw.strip():
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput(f"{name} {raw!r} is not a date (YYYY-MM-DD)") from None


def _number(raw: str, name: str) -> float | None:
    if not raw.strip():
        return None
    try:
        return float(raw)
    except ValueError:
        raise InvalidInput(f"{name} {raw!r} is not a number") from None


def _pairs(fields: list[str], values: list[str]) -> list[tuple[str, str]]:
    return [(f, v.strip()) for f, v in zip(fields, values, strict=False) if v.strip()]


def _create(settings: Settings, form: NewForm) -> InitiativeView:
    v = form.values
    evidence = ({"kind": v["evidence_kind"], "value": v["evidence_value"].strip()}
                if v.get("evidence_value", "").strip() else None)  # fmt: skip
    return service.create_initiative(
        settings=settings, title=v.get("title", ""), metric=v.get("metric", "nps"),
        scope=dict(form.scope), comparison=dict(form.comparison) or None,
        owner=v.get("owner"), problem=v.get("problem"), evidence=evidence,
        baseline_from=_day(v.get("baseline_from", ""), "baseline from"),
        baseline_to=_day(v.get("baseline_to", ""), "baseline to"),
        target_value=_number(v.get("target_value", ""), "target"),
        target_date=_day(v.get("target_date", ""), "target date"),
    )  # fmt: skip


@router.post("/initiatives", name="create_initiative",
             dependencies=[Depends(current_user), CSRFChecked])  # fmt: skip
async def create_page(
    request: Request, user: CurrentUser, settings: SettingsDep
) -> Response:
    """Start an initiative from the form, then show it (or the form with the error)."""
    if user.role not in EDIT_ROLES:
        return _forbidden(request, user)
    data = await request.form()
    text = {k: str(data.get(k) or "") for k in ("title", "metric", "owner", "problem",
            "baseline_from", "baseline_to", "target_value", "target_date",
            "evidence_kind", "evidence_value")}  # fmt: skip

    def listed(name: str) -> list[str]:
        return [str(item) for item in data.getlist(name)]

    form = NewForm(values=text,
                   scope=_pairs(listed("scope_field"), listed("scope_value")),
                   comparison=_pairs(listed("comparison_field"),
                                     listed("comparison_value")))  # fmt: skip
    try:
        view = _create(settings, form)
    except CxloopError as exc:
        failed = NewForm(form.values, form.scope, form.comparison, str(exc))
        return _new_form(request, user, failed, status_code=400)
    return RedirectResponse(f"/initiatives/{view.id}", status_code=303)


@router.get("/initiatives/{initiative_id}", name="initiative")
def initiative_page(
    request: Request, user: CurrentUser, settings: SettingsDep, initiative_id: int
) -> Response:
    """One initiative: problem, goal, baseline, actions, stages, checks, Act."""
    return _show(request, user, settings, initiative_id)


def _change(
    request: Request,
    user: UserInfo,
    settings: Settings,
    initiative_id: int,
    work: Callable[[], object],
    anchor: str,
) -> Response:
    """Run ``work`` for an editor, then show the page again (with the error, if any)."""
    if user.role not in EDIT_ROLES:
        return _forbidden(request, user)
    try:
        done = work()
    except CxloopError as exc:
        return _show(request, user, settings, initiative_id, exc)
    target = done.id if isinstance(done, InitiativeView) else initiative_id
    return RedirectResponse(f"/initiatives/{target}#{anchor}", status_code=303)


_POST = [Depends(current_user), CSRFChecked]


@router.post("/initiatives/{initiative_id}/actions", dependencies=_POST)
def add_action(
    request: Request, user: CurrentUser, settings: SettingsDep, initiative_id: int,
    title: FormText = "", owner: FormText = "", due_date: FormText = "",
) -> Response:  # fmt: skip
    """Add an action to the plan."""
    return _change(request, user, settings, initiative_id, lambda: service.add_action(
        settings=settings, initiative_id=initiative_id, title=title, owner=owner,
        due_date=_day(due_date, "due date")), "actions")  # fmt: skip


@router.post(
    "/initiatives/{initiative_id}/actions/{action_id}/done", dependencies=_POST
)
def complete_action(
    request: Request, user: CurrentUser, settings: SettingsDep, initiative_id: int,
    action_id: int,
) -> Response:  # fmt: skip
    """Mark an action done."""
    return _change(request, user, settings, initiative_id, lambda: service.complete_action(
        settings=settings, action_id=action_id), "actions")  # fmt: skip


@router.post("/initiatives/{initiative_id}/advance", dependencies=_POST)
def advance(
    request: Request, user: CurrentUser, settings: SettingsDep, initiative_id: int,
    to_stage: FormText = "", change_date: FormText = "",
) -> Response:  # fmt: skip
    """Move to the next stage (Do needs the change date; Check runs the Check)."""
    return _change(request, user, settings, initiative_id, lambda: service.advance(
        settings=settings, initiative_id=initiative_id, to_stage=to_stage,
        change_date=_day(change_date, "change date")), "stages")  # fmt: skip


@router.post("/initiatives/{initiative_id}/check", dependencies=_POST)
def run_check(
    request: Request, user: CurrentUser, settings: SettingsDep, initiative_id: int,
    as_of: FormText = "",
) -> Response:  # fmt: skip
    """Run the Check again (up to ``as_of`` or the latest data)."""
    return _change(request, user, settings, initiative_id, lambda: check_initiative(
        settings=settings, initiative_id=initiative_id,
        as_of=_day(as_of, "as of")), "check")  # fmt: skip


@router.post("/initiatives/{initiative_id}/act", dependencies=_POST)
def act(
    request: Request, user: CurrentUser, settings: SettingsDep, initiative_id: int,
    decision: FormText = "", standard: FormText = "", title: FormText = "",
) -> Response:  # fmt: skip
    """Standardise (record the new standard) or adjust (open a linked new Plan)."""

    def decide() -> InitiativeView:
        if decision == "standardise":
            return service.standardise(
                settings=settings, initiative_id=initiative_id, standard=standard
            )
        if decision == "adjust":
            return service.adjust(
                settings=settings, initiative_id=initiative_id, title=title or None
            )
        raise InvalidInput("choose standardise or adjust")  # fmt: skip

    return _change(request, user, settings, initiative_id, decide, "act")
