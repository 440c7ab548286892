"""``/cases/new``: open a case by hand.

The customer is named as on the command line (e-mail, phone, member id, customer id;
empty for a case without a customer). The case goes through
:func:`cxloop.loop.cases.open_case`, so it is routed to a team and agent and gets its
SLA due times, then the browser is sent to the case page. Agents, analysts and
admins open cases; viewers read. An error is shown next to its field and nothing is
saved. Customer text is escaped by the template.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from cxloop.accounts.service import UserInfo
from cxloop.config import Settings
from cxloop.customers.view import customer_360
from cxloop.domain.errors import CxloopError
from cxloop.domain.vocab import Channel
from cxloop.loop import cases
from cxloop.loop.cases import CaseInfo
from cxloop.web.deps import CSRFChecked, CurrentUser, SettingsDep, current_user
from cxloop.web.templating import render
from cxloop.web.ui.case_names import NAMES

router = APIRouter(include_in_schema=False)
_POST = [Depends(current_user), CSRFChecked]
CHANNELS = tuple(channel.value for channel in Channel)
MAX_TOUCHPOINT = 100
#: The start of an ``open_case`` error message -> the field it is about.
_FIELDS = (("the title", "title"), ("the description", "description"),
           ("kind", "kind"), ("priority", "priority"), ("channel", "channel"))  # fmt: skip


@dataclass(frozen=True)
class NewCaseForm:
    """The new-case form as typed."""

    customer: str = ""
    title: str = ""
    description: str = ""
    priority: str = "normal"
    kind: str = "complaint"
    channel: str = ""
    touchpoint: str = ""


@dataclass(frozen=True)
class NewCasePage:
    """The form and, after a failed try, the error and the field it is about."""

    form: NewCaseForm
    error: str | None = None
    where: str | None = None

    def problem(self, name: str) -> str | None:
        """The error to show next to field ``name``, if it is about it."""
        return self.error if self.where == name else None


def may_open(user: UserInfo) -> bool:
    """People who work cases may open them (a viewer reads only)."""
    return user.id > 0 and user.role in cases.ACTING_ROLES


def _show(
    request: Request, user: UserInfo, page: NewCasePage, status: int = 200
) -> Response:
    return render(request, "cases/new.html", {"page": page, "names": NAMES,
                  "channels": CHANNELS}, user=user, status_code=status)  # fmt: skip


def _forbidden(request: Request, user: UserInfo) -> Response:
    return render(request, "setup/problem.html", {"problem": "forbidden",
                  "back": "/cases"}, user=user, status_code=403)  # fmt: skip


@router.get("/cases/new", name="new_case")
def new_case_page(request: Request, user: CurrentUser) -> Response:
    """The empty form (``?customer=REF`` fills in the customer)."""
    if not may_open(user):
        return _forbidden(request, user)
    customer = request.query_params.get("customer", "")[:320]
    return _show(request, user, NewCasePage(NewCaseForm(customer=customer)))


def _open(settings: Settings, user: UserInfo, form: NewCaseForm) -> CaseInfo:
    if len(form.touchpoint) > MAX_TOUCHPOINT:
        msg = f"the touchpoint is longer than {MAX_TOUCHPOINT} characters"
        raise _Placed(msg, "touchpoint")
    customer_id = None
    if form.customer:
        try:
            customer_id = customer_360(settings=settings, ref=form.customer, limit=1).id
        except CxloopError as exc:
            raise _Placed(str(exc), "customer") from None
    return cases.open_case(
        settings=settings, customer_id=customer_id, title=form.title,
        description=form.description or None, kind=form.kind, priority=form.priority,
        channel=form.channel or None, touchpoint=form.touchpoint or None,
        actor=user.email,
    )  # fmt: skip


class _Placed(CxloopError):
    def __init__(self, message: str, where: str) -> None:
        super().__init__(message)
        self.where = where


def _where(exc: CxloopError) -> str | None:
    if isinstance(exc, _Placed):
        return exc.where
    message = str(exc)
    return next((name for start, name in _FIELDS if message.startswith(start)), None)


@router.post("/cases/new", dependencies=_POST)
async def new_case_post(
    request: Request, user: CurrentUser, settings: SettingsDep
) -> Response:
    """Open the case, routed and with SLA due times, and go to its page."""
    if not may_open(user):
        return _forbidden(request, user)
    data = await request.form()
    values: dict[str, Any] = {}
    for item in fields(NewCaseForm):
        raw = data.get(item.name)
        values[item.name] = raw.strip() if isinstance(raw, str) else ""
    form = NewCaseForm(**values)
    try:
        info = _open(settings, user, form)
    except CxloopError as exc:
        page = NewCasePage(form, str(exc), _where(exc))
        return _show(request, user, page, 400)
    return RedirectResponse(f"/cases/{info.id}", status_code=303)
