"""Cases over the REST API: the inbox, one case with its history, opening a case and
working it (comment, reply, status, priority, root cause, take, hand over).

Reading needs a session or an API key of any role. Opening a case needs an agent,
analyst or admin (a key created with scopes may only do what its scopes name).
Working a case is done by a person signed in (the first-owner rule needs someone
to own the case), so API keys are refused there (403).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from cxloop.accounts.service import UserInfo
from cxloop.domain.errors import Conflict
from cxloop.loop import cases
from cxloop.loop.cases import CaseInfo
from cxloop.web.deps import CurrentUser, SettingsDep

router = APIRouter(prefix="/api/v1", tags=["cases"])

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No session and no valid API key."},
    422: {"description": "A parameter is not valid (the message says which)."},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such case."}}
WRITES: dict[int | str, dict[str, Any]] = {
    403: {"description": "The role (or the API key) may only read cases."},
    409: {"description": "The workflow or the case's owner refuses the change."},
}


class CasePublic(BaseModel):
    """A case as the inbox lists it (times in UTC)."""

    id: int
    title: str
    status: str
    priority: str
    kind: str
    customer_id: int | None
    customer_name: str | None
    team_key: str | None
    team_name: str | None
    owner_id: int | None
    owner_name: str | None
    opened_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    first_response_due_at: datetime | None
    resolution_due_at: datetime | None
    channel: str | None
    touchpoint: str | None
    language: str | None
    due_state: str


class CasesPublic(BaseModel):
    data: list[CasePublic]
    count: int
    page: int
    per_page: int


class CaseEventPublic(BaseModel):
    id: int
    at: datetime
    actor: str
    actor_name: str | None
    kind: str
    body: str | None
    data: dict[str, Any]


class CaseDetailPublic(CasePublic):
    """A case with its notes, root cause, follow-up and whole history."""

    description: str | None
    resolution: str | None
    root_cause: str | None
    root_cause_topic: str | None
    interaction_id: int | None
    followup_score: float | None
    followup_solved: bool | None
    next_statuses: list[str]
    events: list[CaseEventPublic]


class CaseCreate(BaseModel):
    """A new case; it is routed and gets its SLA due times."""

    title: str = Field(min_length=1, max_length=300)
    customer_id: int | None = None
    description: str | None = Field(default=None, max_length=20000)
    kind: str = "complaint"
    priority: str = "normal"
    channel: str | None = None
    touchpoint: str | None = Field(default=None, max_length=100)
    interaction_id: int | None = None
    language: str | None = Field(default=None, max_length=16)
    topics: list[str] = Field(default_factory=list, max_length=50)
    intent: str | None = Field(default=None, max_length=100)


class CaseEventCreate(BaseModel):
    """One piece of work on a case; which fields count depends on ``kind``."""

    kind: Literal["take", "comment", "reply", "status", "priority", "root_cause",
                  "hand_over"]  # fmt: skip
    body: str | None = Field(default=None, max_length=20000)
    status: str | None = None
    resolution: str | None = Field(default=None, max_length=20000)
    priority: str | None = None
    root_cause: str | None = None
    topic: str | None = Field(default=None, max_length=100)
    to_user_email: str | None = None
    note: str | None = Field(default=None, max_length=20000)
    articles: list[str] = Field(default_factory=list, max_length=10)
    send_email: bool = True


def _public(info: CaseInfo) -> CasePublic:
    return CasePublic(**asdict(info), due_state=info.due().state.value)


@router.get("/cases", response_model=CasesPublic, responses=ERRORS,
            summary="The inbox: open cases, most urgent first")  # fmt: skip
def list_cases(
    settings: SettingsDep,
    user: CurrentUser,
    view: Annotated[str, Query(description="mine, team, unassigned, overdue or all.")] = "all",
    status: Annotated[str, Query(description="open, any, or one status.")] = "open",
    priority: Annotated[str | None, Query(description="Only this priority.")] = None,
    team: Annotated[str | None, Query(description="Only this team's key.")] = None,
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 50,
) -> CasesPublic:  # fmt: skip
    """One page of an inbox view (``mine`` and ``team`` are the signed-in person's)."""
    found = cases.list_cases(
        settings=settings, view=view, user_id=user.id if user.id > 0 else None,
        status=status, priority=priority, team_key=team, page=page, per_page=per_page,
    )  # fmt: skip
    return CasesPublic(data=[_public(c) for c in found.items], count=found.total,
                       page=found.page, per_page=found.per_page)  # fmt: skip


def _detail(settings: Any, case_id: int) -> CaseDetailPublic:
    d = cases.get_case(settings=settings, case_id=case_id)
    return CaseDetailPublic(
        **_public(d.info).model_dump(), description=d.description,
        resolution=d.resolution, root_cause=d.root_cause,
        root_cause_topic=d.root_cause_topic, interaction_id=d.interaction_id,
        followup_score=d.followup_score, followup_solved=d.followup_solved,
        next_statuses=list(d.next_statuses),
        events=[CaseEventPublic(**asdict(e)) for e in d.events],
    )  # fmt: skip


@router.get("/cases/{case_id}", response_model=CaseDetailPublic,
            responses={**ERRORS, **NOT_FOUND},
            summary="One case with its whole history")  # fmt: skip
def get_case(
    settings: SettingsDep,
    user: CurrentUser,  # noqa: ARG001 - signs the request in
    case_id: int,
) -> CaseDetailPublic:
    """The case, its notes and every event, oldest first."""
    return _detail(settings, case_id)


def _may_open(user: UserInfo) -> None:
    if user.role not in cases.ACTING_ROLES or user.scopes is not None:
        raise HTTPException(
            403, "this role or API key may read cases but not open them"
        )


@router.post("/cases", response_model=CaseDetailPublic, status_code=201,
             responses={**ERRORS, **WRITES}, summary="Open a case")  # fmt: skip
def open_case(
    settings: SettingsDep, user: CurrentUser, new: CaseCreate
) -> CaseDetailPublic:
    """Open a case: it is routed to a team and agent and gets its SLA due times."""
    _may_open(user)
    info = cases.open_case(settings=settings, actor=user.email, **new.model_dump())
    return _detail(settings, info.id)


def _work(settings: Any, user: UserInfo, case_id: int, event: CaseEventCreate) -> None:
    base: dict[str, Any] = {
        "settings": settings,
        "case_id": case_id,
        "user_id": user.id,
    }
    kind = event.kind
    if kind == "take":
        cases.take_case(**base)
    elif kind == "comment":
        cases.add_comment(**base, body=event.body or "")
    elif kind == "reply":
        cases.reply_to_customer(**base, body=event.body or "", articles=event.articles,
                                send_email=event.send_email)  # fmt: skip
    elif kind == "status":
        cases.set_status(**base, status=event.status or "", resolution=event.resolution)
    elif kind == "priority":
        cases.set_priority(**base, priority=event.priority or "")
    elif kind == "root_cause":
        cases.set_root_cause(
            **base, root_cause=event.root_cause or "", topic=event.topic
        )
    else:
        target = cases.find_user_id(settings=settings, email=event.to_user_email or "")
        cases.hand_over(**base, to_user_id=target, note=event.note)


@router.post("/cases/{case_id}/events", response_model=CaseDetailPublic,
             status_code=201, responses={**ERRORS, **NOT_FOUND, **WRITES},
             summary="Work a case: comment, reply, status, priority, root cause, "
                     "take or hand over")  # fmt: skip
def add_event(
    settings: SettingsDep, user: CurrentUser, case_id: int, event: CaseEventCreate
) -> CaseDetailPublic:
    """Do one piece of work on the case as the signed-in person; the case afterwards."""
    if user.id < 0 or user.role not in cases.ACTING_ROLES:
        raise HTTPException(
            403, "cases are worked by a person signed in as an agent, analyst or admin"
        )
    try:
        _work(settings, user, case_id, event)
    except Conflict as exc:
        raise HTTPException(409, str(exc)) from None
    return _detail(settings, case_id)
