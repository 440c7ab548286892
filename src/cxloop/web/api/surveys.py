"""Surveys over the REST API: the list, one definition, its results, creating one.

Reading needs a session or an API key of any role. Creating a survey needs the analyst
or admin role (a key made with scopes holds only what its scopes name, so it may not).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Query
from pydantic import BaseModel

from cxloop.accounts.service import UserInfo
from cxloop.config import Settings
from cxloop.domain.errors import Conflict
from cxloop.domain.survey_parse import spec_to_dict
from cxloop.surveys import definitions
from cxloop.surveys.documents import survey_links
from cxloop.surveys.results import survey_results
from cxloop.web.deps import CurrentUser, SettingsDep

router = APIRouter(prefix="/api/v1", tags=["surveys"])

#: Roles that may create surveys; everyone signed in may read.
EDIT_ROLES = frozenset({"admin", "analyst"})
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No session and no valid API key."},
    422: {"description": "A parameter is not valid (the message says which)."},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No survey has this key."}
}
EXAMPLE = {
    "key": "store-nps",
    "name": {"zh-TW": "門市 NPS", "en": "Store NPS"},
    "questions": [
        {"key": "nps", "type": "nps", "required": True,
         "text": {"zh-TW": "您有多大可能向親友推薦我們？",
                  "en": "How likely are you to recommend us?"}},
        {"key": "improve", "type": "text", "show_if": {"question": "nps", "max": 6},
         "text": {"zh-TW": "我們該改進什麼？", "en": "What should we improve?"}},
    ],
}  # fmt: skip


class SurveySummaryPublic(BaseModel):
    key: str
    name_zh: str
    name_en: str
    status: str
    questions: int
    responses: int
    created_at: datetime


class SurveysPublic(BaseModel):
    data: list[SurveySummaryPublic]
    count: int


class SurveyPublic(BaseModel):
    """A survey: status, the links customers use and its whole definition."""

    key: str
    status: str
    form_url: str
    embed_url: str
    definition: dict[str, Any]
    created_at: datetime
    updated_at: datetime | None


class SurveyResultsPublic(BaseModel):
    """Invitations, rates, each question's metric (95 % margin) and distribution,
    responses over time, SERVQUAL gaps and CX index when present, verbatims."""

    key: str
    status: str
    date_from: date | None
    date_to: date | None
    invitations: dict[str, Any]
    responses: int
    complete: int
    response_rate: float | None
    completion_rate: float | None
    questions: list[dict[str, Any]]
    period: str
    timeline: list[dict[str, Any]]
    servqual: list[dict[str, Any]] | None
    cx_index: dict[str, Any] | None
    verbatims: dict[str, Any]
    notes: list[str]


def _public(settings: Settings, record: definitions.SurveyRecord) -> SurveyPublic:
    links = survey_links(settings=settings, public_token=record.public_token)
    return SurveyPublic(
        key=record.key,
        status=record.status,
        form_url=links.form_url,
        embed_url=links.embed_url,
        definition=spec_to_dict(record.spec),
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


@router.get(
    "/surveys",
    response_model=SurveysPublic,
    summary="Surveys made with a form or a file, newest first",
    responses=ERRORS,
)
def list_surveys(
    settings: SettingsDep,
    user: CurrentUser,  # noqa: ARG001 - signs the request in
) -> SurveysPublic:
    """Every survey with its status, number of questions and responses."""
    rows = definitions.list_surveys(settings=settings)
    data = [SurveySummaryPublic.model_validate(asdict(row)) for row in rows]
    return SurveysPublic(data=data, count=len(data))


@router.post(
    "/surveys",
    response_model=SurveyPublic,
    status_code=201,
    summary="Create a survey from a JSON definition",
    responses={**ERRORS, 403: {"description": "The role or key may not create."},
               409: {"description": "A survey with this key exists."}},
)  # fmt: skip
def create_survey(
    settings: SettingsDep,
    user: CurrentUser,
    definition: Annotated[
        dict[str, Any],
        Body(description="The survey definition (as in a YAML/JSON file).",
             examples=[EXAMPLE]),
    ],
    status: Annotated[
        str, Query(description="active (takes answers) or draft.")
    ] = "active",
    replace: Annotated[
        bool, Query(description="Update the survey with this key if it exists.")
    ] = False,
) -> SurveyPublic:  # fmt: skip
    """Validate and store the survey; errors name the path (``questions[1].type``)."""
    _may_edit(user)
    try:
        record = definitions.save_survey(
            settings=settings, definition=definition, status=status, replace=replace
        )
    except Conflict as exc:
        raise HTTPException(409, str(exc)) from None
    return _public(settings, record)


def _may_edit(user: UserInfo) -> None:
    if user.role not in EDIT_ROLES:
        raise HTTPException(403, f"the role {user.role} may read surveys, not create")
    if user.scopes is not None:
        raise HTTPException(403, "an API key with scopes may not create surveys")


@router.get(
    "/surveys/{key}",
    response_model=SurveyPublic,
    summary="One survey's definition, status and links",
    responses={**ERRORS, **NOT_FOUND},
)
def get_survey(
    settings: SettingsDep,
    user: CurrentUser,  # noqa: ARG001 - signs the request in
    key: str,
) -> SurveyPublic:
    """The survey's whole definition (reads back into ``POST /api/v1/surveys``)."""
    return _public(settings, definitions.get_survey(settings=settings, key=key))


@router.get(
    "/surveys/{key}/results",
    response_model=SurveyResultsPublic,
    summary="A survey's results: rates, metrics with margins, distributions, verbatims",
    responses={**ERRORS, **NOT_FOUND},
)
def get_results(
    settings: SettingsDep,
    user: CurrentUser,  # noqa: ARG001 - signs the request in
    key: str,
    date_from: Annotated[
        date | None, Query(alias="from", description="First day (business zone).")
    ] = None,
    date_to: Annotated[
        date | None, Query(alias="to", description="Last day, inclusive.")
    ] = None,
    page: Annotated[int, Query(ge=1, description="Page of verbatims.")] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
    period: Annotated[str | None, Query(description="day or week.")] = None,
) -> SurveyResultsPublic:
    """Everything the results page shows, as numbers."""
    results = survey_results(
        settings=settings, key=key, date_from=date_from, date_to=date_to,
        page=page, page_size=page_size, period=period,
    )  # fmt: skip
    plain = asdict(results)
    plain.pop("spec")
    plain.pop("public_token")
    plain["verbatims"]["pages"] = results.verbatims.pages
    return SurveyResultsPublic.model_validate(plain)
