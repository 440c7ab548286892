"""Surveys in the store: create or update one from a spec, read it back, list them.

A survey row keeps its whole definition (``survey.definition``) and one ``question`` row
per question, whose ids the answers point to. Updating a survey keeps the ids of
questions whose key stays, so answers given before the change still count; a question
that is dropped keeps its row (old answers still refer to it) but leaves the form.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.domain.errors import Conflict, InvalidInput, NotFound
from cxloop.domain.survey_parse import parse_survey, spec_to_dict
from cxloop.domain.survey_spec import SurveySpec
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import Question, Survey, SurveyResponse
from cxloop.store.types import utcnow

#: Survey states: active surveys take answers, drafts and closed ones do not.
STATUSES = ("draft", "active", "closed")


@dataclass(frozen=True)
class SurveyRecord:
    """A stored survey: its spec, and the ids the store gave it and its questions."""

    id: int
    key: str
    status: str
    public_token: str
    spec: SurveySpec
    question_ids: dict[str, int]
    created_at: datetime
    updated_at: datetime | None

    @property
    def accepts_answers(self) -> bool:
        return self.status == "active"


@dataclass(frozen=True)
class SurveySummary:
    """A line of the survey list."""

    key: str
    name_zh: str
    name_en: str
    status: str
    questions: int
    responses: int
    created_at: datetime


def _uow(settings: Settings) -> UnitOfWork:
    return UnitOfWork(engine_for(settings.database_url))


def save_survey(
    *,
    settings: Settings,
    definition: dict[str, Any],
    status: str = "active",
    replace: bool = False,
) -> SurveyRecord:
    """Create a survey from a definition mapping, or update it with ``replace``.

    Raises
    ------
    InvalidInput
        The definition is not a valid survey, or ``status`` is unknown.
    Conflict
        A survey with this key exists and ``replace`` is false.
    """
    spec = parse_survey(definition)
    if status not in STATUSES:
        raise InvalidInput(f"status {status!r}: choose one of {', '.join(STATUSES)}")
    if spec.key.startswith("import"):
        raise InvalidInput(
            f"key {spec.key!r}: keys starting with 'import' are reserved"
        )
    with _uow(settings).session() as session:
        survey = session.scalar(select(Survey).where(Survey.key == spec.key))
        if survey is not None and not replace:
            msg = f"survey {spec.key!r} exists; use replace to update it"
            raise Conflict(msg)
        if survey is None:
            survey = Survey(key=spec.key, public_token=secrets.token_urlsafe(12))
            session.add(survey)
        survey.name = spec.name.zh or spec.name.en
        survey.description = spec.description.zh if spec.description else None
        survey.status = status
        survey.definition = spec_to_dict(spec)
        survey.updated_at = utcnow()
        session.flush()
        sync_questions(session, survey.id, spec)
        return _record(session, survey)


def sync_questions(session: Session, survey_id: int, spec: SurveySpec) -> None:
    """Make the survey's question rows match ``spec`` inside the caller's transaction.

    Questions keep their ids (and answers) while their key stays; a question whose
    kind changed is refused.
    """
    existing = {
        q.key: q
        for q in session.scalars(
            select(Question).where(Question.survey_id == survey_id)
        )
    }
    for position, spec_q in enumerate(spec.questions):
        row = existing.get(spec_q.key)
        if row is None:
            row = Question(survey_id=survey_id, key=spec_q.key)
            session.add(row)
        elif row.metric != spec_q.metric:
            msg = (
                f"question {spec_q.key!r} was a {row.metric} question and has answers "
                "of that kind; give the changed question a new key"
            )
            raise InvalidInput(msg)
        row.metric = spec_q.metric
        row.kind = spec_q.kind.value
        row.text_zh = spec_q.text.zh
        row.text_en = spec_q.text.en
        row.position = position
        row.required = spec_q.required
    session.flush()


def _record(session: Session, survey: Survey) -> SurveyRecord:
    if survey.definition is None:
        msg = f"survey {survey.key!r} holds imported answers and has no form"
        raise NotFound(msg)
    spec = parse_survey(survey.definition)
    ids = dict(
        session.execute(
            select(Question.key, Question.id).where(Question.survey_id == survey.id)
        ).all()
    )
    return SurveyRecord(
        id=survey.id,
        key=survey.key,
        status=survey.status,
        public_token=survey.public_token or "",
        spec=spec,
        question_ids={q.key: ids[q.key] for q in spec.questions},
        created_at=survey.created_at,
        updated_at=survey.updated_at,
    )


def get_survey(*, settings: Settings, key: str) -> SurveyRecord:
    """The survey with ``key``; NotFound otherwise (imported-answer surveys too)."""
    with _uow(settings).session() as session:
        survey = session.scalar(select(Survey).where(Survey.key == key))
        if survey is None:
            raise NotFound(f"no survey {key!r}")
        return _record(session, survey)


def get_survey_by_token(*, settings: Settings, public_token: str) -> SurveyRecord:
    """The survey whose anonymous link carries ``public_token``; NotFound otherwise."""
    with _uow(settings).session() as session:
        survey = session.scalar(
            select(Survey).where(Survey.public_token == public_token)
        )
        if survey is None or survey.definition is None:
            raise NotFound("no such survey link")
        return _record(session, survey)


def set_status(*, settings: Settings, key: str, status: str) -> None:
    """Open (active), pause (draft) or close a survey."""
    if status not in STATUSES:
        raise InvalidInput(f"status {status!r}: choose one of {', '.join(STATUSES)}")
    with _uow(settings).session() as session:
        survey = session.scalar(select(Survey).where(Survey.key == key))
        if survey is None or survey.definition is None:
            raise NotFound(f"no survey {key!r}")
        survey.status = status
        survey.updated_at = utcnow()


def list_surveys(*, settings: Settings) -> list[SurveySummary]:
    """Every survey made with a form (not the import surveys), newest first."""
    responses = (
        select(SurveyResponse.survey_id, func.count().label("n"))
        .group_by(SurveyResponse.survey_id)
        .subquery()
    )
    query = (
        select(Survey, func.coalesce(responses.c.n, 0))
        .outerjoin(responses, responses.c.survey_id == Survey.id)
        .where(Survey.definition.is_not(None))
        .order_by(Survey.created_at.desc(), Survey.id.desc())
    )
    with _uow(settings).session() as session:
        rows = session.execute(query).all()
        return [_summary(survey, int(n)) for survey, n in rows]


def _summary(survey: Survey, responses: int) -> SurveySummary:
    spec = parse_survey(survey.definition or {})
    return SurveySummary(
        key=survey.key,
        name_zh=spec.name.zh,
        name_en=spec.name.en,
        status=survey.status,
        questions=len(spec.questions),
        responses=responses,
        created_at=survey.created_at,
    )
