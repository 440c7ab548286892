"""Initiatives over the REST API: the list, one initiative, and running its Check.

Reading needs a session or an API key of any role; running a Check stores it, so a
viewer's key is refused (403).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel

from cxloop.improve import initiatives as service
from cxloop.improve.checks import check_initiative
from cxloop.web.deps import CurrentUser, SettingsDep

router = APIRouter(prefix="/api/v1", tags=["initiatives"])

#: Roles that may run a Check (it is stored); everyone signed in may read.
CHECK_ROLES = frozenset({"admin", "analyst"})
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No session and no valid API key."},
    422: {"description": "A parameter is not valid (the message says which)."},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No initiative has this id."}
}


class ActionPublic(BaseModel):
    id: int
    title: str
    owner: str | None
    due_date: date | None
    done_at: datetime | None


class CheckPublic(BaseModel):
    """A stored Check: the verdict and its figures (windows, effects, summary)."""

    id: int
    checked_at: datetime
    outcome: str
    result: dict[str, Any]


class InitiativePublic(BaseModel):
    """An initiative, its actions and its Checks (the newest first)."""

    id: int
    title: str
    owner: str | None
    problem: str | None
    evidence: dict[str, Any] | None
    metric: str
    scope: dict[str, str]
    comparison: dict[str, str] | None
    baseline_from: date | None
    baseline_to: date | None
    baseline: dict[str, Any] | None
    target_value: float | None
    target_date: date | None
    change_date: date | None
    stage: str
    stage_dates: dict[str, str]
    outcome: str | None
    decision: str | None
    standard: str | None
    parent_id: int | None
    created_at: datetime
    updated_at: datetime
    actions: list[ActionPublic]
    checks: list[CheckPublic]


class InitiativesPublic(BaseModel):
    data: list[InitiativePublic]
    count: int


class CheckResultPublic(BaseModel):
    """What a Check found; ``did`` is set when there is a comparison group."""

    initiative_id: int
    check_id: int
    checked_at: datetime
    outcome: str
    result: dict[str, Any]


@router.get(
    "/initiatives",
    response_model=InitiativesPublic,
    summary="PDCA initiatives, newest first, with their stage and checks",
    responses=ERRORS,
)
def list_initiatives(
    settings: SettingsDep,
    user: CurrentUser,  # noqa: ARG001 - signs the request in
    stage: Annotated[
        str | None, Query(description="plan, do, check, act or closed.")
    ] = None,
) -> InitiativesPublic:
    """Every initiative (of one stage when asked)."""
    views = service.list_initiatives(settings=settings, stage=stage)
    data = [InitiativePublic.model_validate(asdict(view)) for view in views]
    return InitiativesPublic(data=data, count=len(data))


@router.get(
    "/initiatives/{initiative_id}",
    response_model=InitiativePublic,
    summary="One initiative: goal, baseline, target, actions, stages and checks",
    responses={**ERRORS, **NOT_FOUND},
)
def get_initiative(
    settings: SettingsDep,
    user: CurrentUser,  # noqa: ARG001 - signs the request in
    initiative_id: int,
) -> InitiativePublic:
    """The initiative with every action and Check."""
    view = service.get_initiative(settings=settings, initiative_id=initiative_id)
    return InitiativePublic.model_validate(asdict(view))


@router.post(
    "/initiatives/{initiative_id}/check",
    response_model=CheckResultPublic,
    summary="Run the Check: the goal metric after the change against the baseline",
    responses={**ERRORS, **NOT_FOUND,
               403: {"description": "The role may only read."}},
)  # fmt: skip
def run_check(
    settings: SettingsDep,
    user: CurrentUser,
    initiative_id: int,
    as_of: Annotated[
        date | None, Query(description="Last day measured (default: latest data).")
    ] = None,
) -> CheckResultPublic:
    """Difference, 95 % interval, p-value, DiD, verdict; stored as a new Check."""
    if user.role not in CHECK_ROLES:
        raise HTTPException(403, "this role may read initiatives but not check them")
    result = check_initiative(
        settings=settings, initiative_id=initiative_id, as_of=as_of
    )
    plain = result.to_dict()
    return CheckResultPublic(
        initiative_id=result.initiative_id,
        check_id=result.check_id,
        checked_at=result.checked_at,
        outcome=result.outcome,
        result={k: v for k, v in plain.items() if k not in _TOP},
    )


_TOP = ("initiative_id", "check_id", "checked_at", "outcome")
