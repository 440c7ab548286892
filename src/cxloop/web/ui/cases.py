"""The case pages: the inbox and one case.

``/cases`` is the inbox with the tabs mine / my team / unassigned / overdue / all,
filters and pages; each line shows the next SLA due time in colour and in words.
``/cases/{id}`` shows the customer's summary, the case, its SLA clocks and full
history, with forms (POST + CSRF) to take it, comment, reply (with suggested articles
and reply templates), change status, priority and root cause, and hand it over.
Agents, analysts and admins act; viewers read. Customer text is escaped by the
templates, never marked safe.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from cxloop.accounts.service import UserInfo
from cxloop.config import Settings
from cxloop.domain.case_workflow import DueSignal
from cxloop.domain.errors import Conflict, CxloopError, InvalidInput, NotFound
from cxloop.loop import cases, replies
from cxloop.loop.cases import CaseDetail, CaseInfo, CasePage, Colleague
from cxloop.web.deps import CSRFChecked, CurrentUser, SettingsDep, current_user
from cxloop.web.templating import render
from cxloop.web.ui.case_names import NAMES

router = APIRouter(include_in_schema=False)
FormText = Annotated[str, Form()]
TABS = ("mine", "team", "unassigned", "overdue", "all")
PER_PAGE = 25


def can_act(user: UserInfo) -> bool:
    """Whether ``user`` works cases (a person with an acting role)."""
    return user.id > 0 and user.role in cases.ACTING_ROLES


def _clock(settings: Settings) -> Callable[[datetime | None], str]:
    zone = ZoneInfo(settings.timezone)

    def at(moment: datetime | None) -> str:
        return (
            "—"
            if moment is None
            else moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        )

    return at


@dataclass(frozen=True)
class InboxRow:
    """One line of the inbox."""

    info: CaseInfo
    due: DueSignal


@dataclass(frozen=True)
class InboxPage:
    """The inbox: the chosen tab, its filters and one page of cases."""

    view: str
    filters: dict[str, str]
    found: CasePage | None
    rows: list[InboxRow] = field(default_factory=list)
    error: str | None = None

    def link(self, **change: Any) -> str:
        """The inbox URL with the current filters and ``change`` applied."""
        params = {"view": self.view, **self.filters, "page": "1"}
        params |= {k: str(v) for k, v in change.items()}
        return "/cases?" + urlencode({k: v for k, v in params.items() if v})


def _inbox(settings: Settings, user: UserInfo, query: dict[str, str]) -> InboxPage:
    view = query.get("view") or ("mine" if can_act(user) else "all")
    filters = {
        k: query.get(k, "").strip()[:200] for k in ("status", "priority", "team", "q")
    }
    try:
        page = int(query.get("page") or 1)
        found = cases.list_cases(
            settings=settings, view=view, user_id=user.id if user.id > 0 else None,
            status=filters["status"] or "open", priority=filters["priority"] or None,
            team_key=filters["team"] or None, query=filters["q"] or None,
            page=page, per_page=PER_PAGE,
        )  # fmt: skip
    except (CxloopError, ValueError) as exc:
        return InboxPage(view, filters, None, error=str(exc))
    rows = [InboxRow(info, info.due()) for info in found.items]
    return InboxPage(view, filters, found, rows)


@router.get("/cases", name="cases")
def inbox_page(request: Request, user: CurrentUser, settings: SettingsDep) -> Response:
    """The inbox: mine, my team, unassigned, overdue and all open cases."""
    inbox = _inbox(settings, user, dict(request.query_params))
    return render(request, "pages/cases.html",
                  {"inbox": inbox, "tabs": TABS, "names": NAMES,
                   "at": _clock(settings), "can_act": can_act(user)},
                  user=user, status_code=400 if inbox.error else 200)  # fmt: skip


@dataclass(frozen=True)
class Suggestion:
    """A suggested knowledge-base article with its answer text."""

    ref: str
    title: str
    score: float
    answer: str


@dataclass(frozen=True)
class CasePageView:
    """One case and what its page offers the user."""

    detail: CaseDetail
    due: DueSignal
    can_act: bool
    is_owner: bool
    colleagues: list[Colleague]
    articles: list[Suggestion]
    templates: list[Any]
    error: str | None = None


def _suggestions(
    settings: Settings, case_id: int
) -> tuple[list[Suggestion], list[Any]]:
    try:
        found = replies.suggest_replies(settings=settings, case_id=case_id, top=3)
    except CxloopError:
        return [], []
    refs = [(m.source, m.external_id) for m in found.articles]
    answers = cases.article_answers(settings=settings, refs=refs)
    articles = [
        Suggestion(f"{m.source}:{m.external_id}", m.title or m.external_id, m.score,
                   answers.get((m.source, m.external_id), ""))
        for m in found.articles
    ]  # fmt: skip
    return articles, list(found.templates)


def build_case_page(
    settings: Settings, user: UserInfo, case_id: int, error: str | None = None
) -> CasePageView:
    """The page of case ``case_id`` for ``user`` (NotFound when there is none)."""
    detail = cases.get_case(settings=settings, case_id=case_id)
    acting = can_act(user)
    is_open = detail.info.status not in ("resolved", "closed")
    articles, templates = (
        _suggestions(settings, case_id) if acting and is_open else ([], [])
    )
    return CasePageView(
        detail=detail, due=detail.info.due(), can_act=acting,
        is_owner=detail.info.owner_id == user.id,
        colleagues=cases.colleagues(settings=settings) if acting else [],
        articles=articles, templates=templates, error=error,
    )  # fmt: skip


def _show(
    request: Request,
    user: UserInfo,
    settings: Settings,
    case_id: int,
    error: CxloopError | None = None,
) -> Response:
    context: dict[str, Any] = {"names": NAMES, "at": _clock(settings), "problem": None}
    try:
        view = build_case_page(settings, user, case_id, str(error) if error else None)
    except NotFound:
        return render(request, "pages/case.html", {**context, "page": None,
                      "problem": "missing"}, user=user, status_code=404)  # fmt: skip
    status = 200
    if error is not None:
        status = 409 if isinstance(error, Conflict) else 404 if isinstance(
            error, NotFound) else 400  # fmt: skip
    return render(request, "pages/case.html", {**context, "page": view},
                  user=user, status_code=status)  # fmt: skip


@router.get("/cases/{case_id}", name="case")
def case_page(
    request: Request, user: CurrentUser, settings: SettingsDep, case_id: int
) -> Response:
    """One case: customer, details, SLA, history, and the forms to work it."""
    return _show(request, user, settings, case_id)


def _change(
    request: Request,
    user: UserInfo,
    settings: Settings,
    case_id: int,
    work: Callable[[], object],
    anchor: str,
) -> Response:
    """Run ``work`` for a person who acts, then show the case again."""
    if not can_act(user):
        return render(request, "pages/case.html",
                      {"page": None, "problem": "forbidden", "names": NAMES,
                       "at": _clock(settings)}, user=user, status_code=403)  # fmt: skip
    try:
        work()
    except CxloopError as exc:
        return _show(request, user, settings, case_id, exc)
    return RedirectResponse(f"/cases/{case_id}#{anchor}", status_code=303)


_POST = [Depends(current_user), CSRFChecked]


@router.post("/cases/{case_id}/take", dependencies=_POST)
def take(
    request: Request, user: CurrentUser, settings: SettingsDep, case_id: int
) -> Response:
    """Take an unowned case."""
    return _change(request, user, settings, case_id, lambda: cases.take_case(
        settings=settings, case_id=case_id, user_id=user.id), "top")  # fmt: skip


@router.post("/cases/{case_id}/comment", dependencies=_POST)
def comment(
    request: Request, user: CurrentUser, settings: SettingsDep, case_id: int,
    body: FormText = "",
) -> Response:  # fmt: skip
    """Add a note for colleagues."""
    return _change(request, user, settings, case_id, lambda: cases.add_comment(
        settings=settings, case_id=case_id, user_id=user.id, body=body), "history")  # fmt: skip


@router.post("/cases/{case_id}/reply", dependencies=_POST)
async def reply(
    request: Request, user: CurrentUser, settings: SettingsDep, case_id: int
) -> Response:
    """Answer the customer (by e-mail, or record an answer given another way)."""
    data = await request.form()
    body = str(data.get("body") or "")
    articles = [str(a) for a in data.getlist("article")]
    send = str(data.get("send") or "email") == "email"
    return _change(request, user, settings, case_id, lambda: cases.reply_to_customer(
        settings=settings, case_id=case_id, user_id=user.id, body=body,
        articles=articles, send_email=send), "history")  # fmt: skip


@router.post("/cases/{case_id}/status", dependencies=_POST)
def status(
    request: Request, user: CurrentUser, settings: SettingsDep, case_id: int,
    to: FormText = "", resolution: FormText = "",
) -> Response:  # fmt: skip
    """Move the case along the workflow."""
    return _change(request, user, settings, case_id, lambda: cases.set_status(
        settings=settings, case_id=case_id, user_id=user.id, status=to,
        resolution=resolution or None), "top")  # fmt: skip


@router.post("/cases/{case_id}/priority", dependencies=_POST)
def priority(
    request: Request, user: CurrentUser, settings: SettingsDep, case_id: int,
    to: FormText = "",
) -> Response:  # fmt: skip
    """Change the priority."""
    return _change(request, user, settings, case_id, lambda: cases.set_priority(
        settings=settings, case_id=case_id, user_id=user.id, priority=to), "top")  # fmt: skip


@router.post("/cases/{case_id}/root-cause", dependencies=_POST)
def root_cause(
    request: Request, user: CurrentUser, settings: SettingsDep, case_id: int,
    cause: FormText = "", topic: FormText = "",
) -> Response:  # fmt: skip
    """Record the root cause and topic."""
    return _change(request, user, settings, case_id, lambda: cases.set_root_cause(
        settings=settings, case_id=case_id, user_id=user.id, root_cause=cause,
        topic=topic or None), "work")  # fmt: skip


@router.post("/cases/{case_id}/hand-over", dependencies=_POST)
def hand_over(
    request: Request, user: CurrentUser, settings: SettingsDep, case_id: int,
    to_user: FormText = "", note: FormText = "",
) -> Response:  # fmt: skip
    """Hand the case over to a colleague."""

    def work() -> CaseInfo:
        if not to_user.strip().isdigit():
            raise InvalidInput("choose the colleague who takes over")
        return cases.hand_over(settings=settings, case_id=case_id, user_id=user.id,
                               to_user_id=int(to_user), note=note or None)  # fmt: skip

    return _change(request, user, settings, case_id, work, "top")
