"""The signed-in survey pages: the list, the form builder, the results, sending.

``/surveys`` lists the surveys and the templates to start from; ``/surveys/new`` and
``/surveys/{key}/edit`` are the form builder (it works without JavaScript: each button
posts the form and the page comes back with the change); ``/surveys/{key}`` shows the
results, the public link and embed snippet, and (for editors) the buttons that open,
pause or close the survey and the form that e-mails it to a saved segment. Analysts and
admins change surveys; viewers and agents read. Customer text is always escaped.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from cxloop.accounts.service import UserInfo
from cxloop.config import Settings
from cxloop.customers import segments as segments_service
from cxloop.domain.errors import CxloopError, InvalidInput, NotFound
from cxloop.domain.survey_parse import spec_to_dict
from cxloop.surveys import definitions, invitations, templates
from cxloop.surveys.documents import survey_links
from cxloop.surveys.invitations import InviteSummary
from cxloop.surveys.results import survey_results
from cxloop.web.deps import CSRFChecked, CurrentUser, SettingsDep, current_user
from cxloop.web.templating import page_language, render
from cxloop.web.ui.survey_builder import (
    KINDS,
    BuilderForm,
    apply_action,
    form_from_definition,
    form_from_post,
    to_definition,
)
from cxloop.web.ui.survey_charts import NAMES, chart_data

router = APIRouter(include_in_schema=False)

#: Roles that may build, open, close and send surveys (viewers and agents read).
EDIT_ROLES = frozenset({"admin", "analyst"})
STATUS_ACTIONS = {"open": "active", "pause": "draft", "close": "closed"}
_POST = [Depends(current_user), CSRFChecked]


def _problem(
    request: Request, user: UserInfo, problem: str, status_code: int
) -> Response:
    return render(request, "pages/surveys.html",
                  {"problem": problem, "names": NAMES, "rows": [], "templates": [],
                   "can_edit": False}, user=user, status_code=status_code)  # fmt: skip


@router.get("/surveys", name="surveys")
def list_page(request: Request, user: CurrentUser, settings: SettingsDep) -> Response:
    """Every survey with its status, questions and responses, and the templates."""
    rows = definitions.list_surveys(settings=settings)
    return render(request, "pages/surveys.html",
                  {"problem": None, "rows": rows, "names": NAMES,
                   "templates": templates.list_templates(),
                   "can_edit": user.role in EDIT_ROLES}, user=user)  # fmt: skip


# --- the builder ------------------------------------------------------------------------


def _builder(
    request: Request,
    user: UserInfo,
    form: BuilderForm,
    *,
    editing: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(request, "pages/survey_builder.html",
                  {"form": form, "editing": editing, "error": error, "kinds": KINDS,
                   "names": NAMES, "templates": templates.list_templates()},
                  user=user, status_code=status_code)  # fmt: skip


@router.get("/surveys/new", name="new_survey")
def new_page(request: Request, user: CurrentUser, template: str = "") -> Response:
    """An empty builder (one NPS question), or one filled from ``?template=NAME``."""
    if user.role not in EDIT_ROLES:
        return _problem(request, user, "forbidden", 403)
    if template:
        try:
            definition = templates.template_definition(template)
        except InvalidInput as exc:
            return _builder(request, user, _blank(), error=str(exc), status_code=400)
        return _builder(request, user, form_from_definition(definition, "active"))
    return _builder(request, user, _blank())


def _blank() -> BuilderForm:
    return apply_action(BuilderForm(), "add", "nps")


@router.post("/surveys/new", dependencies=_POST)
async def new_post(
    request: Request, user: CurrentUser, settings: SettingsDep
) -> Response:
    """Apply a builder button (add, remove, move, template) or save the new survey."""
    return await _builder_post(request, user, settings, editing=None)


@router.get("/surveys/{key}/edit", name="edit_survey")
def edit_page(
    request: Request, user: CurrentUser, settings: SettingsDep, key: str
) -> Response:
    """The builder showing a saved survey (its key stays; answers keep counting)."""
    if user.role not in EDIT_ROLES:
        return _problem(request, user, "forbidden", 403)
    try:
        record = definitions.get_survey(settings=settings, key=key)
    except NotFound:
        return _problem(request, user, "missing", 404)
    form = form_from_definition(spec_to_dict(record.spec), record.status)
    return _builder(request, user, form, editing=key)


@router.post("/surveys/{key}/edit", dependencies=_POST)
async def edit_post(
    request: Request, user: CurrentUser, settings: SettingsDep, key: str
) -> Response:
    """Apply a builder button or save the changed survey."""
    return await _builder_post(request, user, settings, editing=key)


async def _builder_post(
    request: Request, user: UserInfo, settings: Settings, *, editing: str | None
) -> Response:
    if user.role not in EDIT_ROLES:
        return _problem(request, user, "forbidden", 403)
    data = await request.form()
    form = form_from_post(data)
    if editing is not None:
        form = BuilderForm(**{**form.__dict__, "key": editing})
    action = str(data.get("action") or "save")
    try:
        if action == "save":
            record = _save(settings, form, editing)
            return RedirectResponse(f"/surveys/{record.key}", status_code=303)
        form = _apply(form, action, data)
    except CxloopError as exc:
        return _builder(request, user, form, editing=editing, error=str(exc),
                        status_code=409 if action == "save" and
                        not isinstance(exc, InvalidInput) else 400)  # fmt: skip
    return _builder(request, user, form, editing=editing)


def _apply(form: BuilderForm, action: str, data: FormData) -> BuilderForm:
    if action == "template":
        definition = templates.template_definition(
            str(data.get("template") or ""), key=form.key or None,
            name_zh=form.name_zh or None, name_en=form.name_en or None,
        )  # fmt: skip
        return form_from_definition(definition, form.status)
    return apply_action(form, action, str(data.get("new_type") or "nps"))


def _save(
    settings: Settings, form: BuilderForm, editing: str | None
) -> definitions.SurveyRecord:
    status = form.status if form.status in definitions.STATUSES else "active"
    return definitions.save_survey(
        settings=settings, definition=to_definition(form), status=status,
        replace=editing is not None,
    )  # fmt: skip


# --- results, status, sending ------------------------------------------------------------


def _day(raw: str | None, name: str) -> date | None:
    if not raw or not raw.strip():
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput(
            f"{name} {raw.strip()!r} is not a date (YYYY-MM-DD)"
        ) from None


def _results_page(
    request: Request,
    user: UserInfo,
    settings: Settings,
    key: str,
    **extra: Any,
) -> Response:
    query = request.query_params
    error = extra.pop("error", None)
    try:
        first, last = _day(query.get("from"), "from"), _day(query.get("to"), "to")
        page = int(query["page"]) if query.get("page", "").isdigit() else 1
        results = survey_results(settings=settings, key=key, date_from=first,
                                 date_to=last, page=max(page, 1))  # fmt: skip
    except NotFound:
        return _problem(request, user, "missing", 404)
    except InvalidInput as exc:
        error = str(exc)
        results = survey_results(settings=settings, key=key)
    can_edit = user.role in EDIT_ROLES
    translate = request.app.state.translations[page_language(request, user)].gettext
    context = {
        "r": results, "names": NAMES, "error": error, "can_edit": can_edit,
        "links": survey_links(settings=settings, public_token=results.public_token),
        "segments": segments_service.list_segments(settings=settings) if can_edit else [],
        "charts": chart_data(results, page_language(request, user), translate),
        "query": {"from": query.get("from", ""), "to": query.get("to", "")},
        "invite": None, "chosen_segment": "", **extra,
    }  # fmt: skip
    status = 400 if error and extra.get("invite") is None else 200
    return render(request, "pages/survey_results.html", context, user=user,
                  status_code=status)  # fmt: skip


@router.get("/surveys/{key}", name="survey_results")
def results_page(
    request: Request, user: CurrentUser, settings: SettingsDep, key: str
) -> Response:
    """Invitations, rates, each metric with its margin, distributions, verbatims."""
    return _results_page(request, user, settings, key)


@router.post("/surveys/{key}/status", dependencies=_POST)
def change_status(
    request: Request,
    user: CurrentUser,
    settings: SettingsDep,
    key: str,
    action: Annotated[str, Form()] = "",
) -> Response:
    """Open (active), pause (draft) or close the survey."""
    if user.role not in EDIT_ROLES:
        return _problem(request, user, "forbidden", 403)
    if action not in STATUS_ACTIONS:
        return _results_page(request, user, settings, key,
                             error=f"unknown action {action!r}")  # fmt: skip
    definitions.set_status(settings=settings, key=key, status=STATUS_ACTIONS[action])
    return RedirectResponse(f"/surveys/{key}", status_code=303)


@router.post("/surveys/{key}/send", dependencies=_POST)
def send(
    request: Request,
    user: CurrentUser,
    settings: SettingsDep,
    key: str,
    segment: Annotated[str, Form()] = "",
) -> Response:
    """Queue an e-mail invitation for each member of a saved segment; show the summary."""
    if user.role not in EDIT_ROLES:
        return _problem(request, user, "forbidden", 403)
    summary: InviteSummary | None = None
    try:
        if not segment.strip():
            raise InvalidInput("choose a saved segment")
        summary = invitations.invite_customers(
            settings=settings, survey_key=key, segment_key=segment.strip()
        )
    except CxloopError as exc:
        return _results_page(request, user, settings, key, error=str(exc),
                             chosen_segment=segment)  # fmt: skip
    return _results_page(request, user, settings, key, invite=summary,
                         chosen_segment=segment)  # fmt: skip
