"""The results of one survey: invitations, response and completion rates, each question's
metric with its margin, answer distributions, responses over time, SERVQUAL gaps, the CX
index and the latest verbatims.

Responses are ``survey_response`` rows (partial or complete); their answers hang on the
response's interaction. Scored questions are summarised from counts grouped in the
database (the same sufficient statistics :mod:`cxloop.domain.metrics` takes), so a survey
with many answers costs one grouped query, not one row per answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput
from cxloop.domain.servqual import ServqualGap
from cxloop.domain.survey_scores import CxIndexReport, cx_index_report, servqual_report
from cxloop.domain.survey_spec import (
    AnswerValue,
    QuestionKind,
    QuestionSpec,
    SurveySpec,
)
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import (
    Answer,
    Customer,
    Interaction,
    Invitation,
    SurveyResponse,
)
from cxloop.surveys.definitions import SurveyRecord, get_survey
from cxloop.surveys.result_stats import (
    InvitationCounts,
    QuestionResult,
    SurveyResults,
    Verbatim,
    VerbatimPage,
    distribution,
    score_summary,
    timeline,
)

__all__ = [
    "InvitationCounts",
    "QuestionResult",
    "SurveyResults",
    "Verbatim",
    "VerbatimPage",
    "survey_results",
]

#: Invitation states that mean the e-mail (or link) went out.
SENT_STATES = ("sent", "partial", "responded")
PERIODS = ("day", "week")
MAX_PAGE_SIZE = 200
_Q = TypeVar("_Q", bound=Select[*tuple[Any, ...]])


def survey_results(
    *,
    settings: Settings,
    key: str,
    date_from: date | None = None,
    date_to: date | None = None,
    page: int = 1,
    page_size: int = 20,
    period: str | None = None,
) -> SurveyResults:
    """The results of survey ``key`` for responses started between the two days.

    Parameters
    ----------
    date_from, date_to
        Inclusive days in the business time zone (``settings.timezone``); None leaves
        that side open. Invitations are counted by the day they were created.
    page, page_size
        Which page of verbatims (newest first) to return.
    period
        ``day`` or ``week`` for the responses over time; None picks days for spans up
        to 62 days and weeks beyond.

    Raises
    ------
    NotFound
        There is no survey with this key (or it only holds imported answers).
    InvalidInput
        A day range that ends before it starts, a page below 1, an unknown period.
    """
    _check_arguments(date_from, date_to, page, page_size, period)
    record = get_survey(settings=settings, key=key)
    window = _Window.of(settings.timezone, date_from, date_to)
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        invitations = _invitations(session, record.id, window)
        counts = _response_counts(session, record.id, window)
        questions = _questions(session, record, window)
        chosen, points = timeline(
            _start_times(session, record.id, window), window.zone, period
        )
        verbatims = _verbatims(session, record, window, page, page_size)
        per_response = _per_response(session, record, window)
    responses, complete = counts
    servqual, cx_index, notes = _composites(record.spec, per_response)
    return SurveyResults(
        key=record.key,
        status=record.status,
        public_token=record.public_token,
        spec=record.spec,
        date_from=date_from,
        date_to=date_to,
        invitations=invitations,
        responses=responses,
        complete=complete,
        response_rate=invitations.answered / invitations.sent
        if invitations.sent
        else None,
        completion_rate=complete / responses if responses else None,
        questions=questions,
        period=chosen,
        timeline=points,
        verbatims=verbatims,
        servqual=servqual,
        cx_index=cx_index,
        notes=notes,
    )


def _check_arguments(
    date_from: date | None,
    date_to: date | None,
    page: int,
    page_size: int,
    period: str | None,
) -> None:
    if date_from and date_to and date_to < date_from:
        raise InvalidInput(f"the range ends ({date_to}) before it starts ({date_from})")
    if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidInput(f"page must be 1 or more and page size 1-{MAX_PAGE_SIZE}")
    if period is not None and period not in PERIODS:
        raise InvalidInput(f"period {period!r}: choose day or week")


@dataclass(frozen=True)
class _Window:
    """A day range in the business zone, as UTC bounds (None: open)."""

    zone: ZoneInfo
    start: datetime | None
    end: datetime | None

    @classmethod
    def of(cls, zone_name: str, first: date | None, last: date | None) -> _Window:
        zone = ZoneInfo(zone_name)

        def midnight(day: date) -> datetime:
            return datetime.combine(day, time.min, zone).astimezone(UTC)

        return cls(
            zone,
            midnight(first) if first else None,
            midnight(last + timedelta(days=1)) if last else None,
        )

    def apply(self, query: _Q, column: Any) -> _Q:
        if self.start is not None:
            query = query.where(column >= self.start)
        if self.end is not None:
            query = query.where(column < self.end)
        return query


def _invitations(session: Session, survey_id: int, window: _Window) -> InvitationCounts:
    query = (
        select(Invitation.status, Invitation.error, func.count())
        .where(Invitation.survey_id == survey_id)
        .group_by(Invitation.status, Invitation.error)
    )
    rows = session.execute(window.apply(query, Invitation.created_at)).all()
    by_status: dict[str, int] = {}
    skipped: dict[str, int] = {}
    for status, error, n in rows:
        by_status[status] = by_status.get(status, 0) + n
        if status == "skipped":
            reason = error or "unknown"
            skipped[reason] = skipped.get(reason, 0) + n
    answered = select(func.count()).where(
        Invitation.survey_id == survey_id,
        Invitation.status.in_(SENT_STATES),
        select(SurveyResponse.id)
        .where(SurveyResponse.invitation_id == Invitation.id)
        .exists(),
    )
    return InvitationCounts(
        total=sum(by_status.values()),
        sent=sum(by_status.get(s, 0) for s in SENT_STATES),
        queued=by_status.get("queued", 0),
        failed=by_status.get("failed", 0),
        answered=session.scalar(window.apply(answered, Invitation.created_at)) or 0,
        skipped=dict(sorted(skipped.items(), key=lambda item: -item[1])),
        by_status=by_status,
    )


def _responses(
    survey_id: int, window: _Window, *columns: Any
) -> Select[*tuple[Any, ...]]:
    query = (
        select(*columns)
        .select_from(SurveyResponse)
        .where(SurveyResponse.survey_id == survey_id)
    )
    return window.apply(query, SurveyResponse.started_at)


def _response_counts(
    session: Session, survey_id: int, window: _Window
) -> tuple[int, int]:
    query = _responses(survey_id, window, SurveyResponse.status, func.count()).group_by(
        SurveyResponse.status
    )
    counts: dict[str, int] = dict(session.execute(query).all())
    return sum(counts.values()), counts.get("complete", 0)


def _start_times(session: Session, survey_id: int, window: _Window) -> list[Any]:
    query = _responses(
        survey_id, window, SurveyResponse.started_at, SurveyResponse.status
    )
    return list(session.execute(query).all())


def _questions(
    session: Session, record: SurveyRecord, window: _Window
) -> list[QuestionResult]:
    """Each question's answer count, metric and distribution from grouped counts."""
    grouped: dict[int, list[tuple[float | None, str | None, int]]] = {}
    query = (
        _responses(record.id, window, Answer.question_id, Answer.value, Answer.text)
        .add_columns(func.count())
        .join(Answer, Answer.interaction_id == SurveyResponse.interaction_id)
        .where(Answer.metric != "text")
        .group_by(Answer.question_id, Answer.value, Answer.text)
    )
    for question_id, value, text, n in session.execute(query):
        grouped.setdefault(question_id, []).append((value, text, n))
    text_counts = _text_counts(session, record, window)
    results = []
    for question in record.spec.questions:
        question_id = record.question_ids[question.key]
        rows = grouped.get(question_id, [])
        answered = text_counts.get(question_id, 0) + sum(n for *_, n in rows)
        results.append(_question_result(question, rows, answered))
    return results


def _text_counts(
    session: Session, record: SurveyRecord, window: _Window
) -> dict[int, int]:
    query = (
        _responses(record.id, window, Answer.question_id, func.count())
        .join(Answer, Answer.interaction_id == SurveyResponse.interaction_id)
        .where(Answer.metric == "text")
        .group_by(Answer.question_id)
    )
    return dict(session.execute(query).all())


def _question_result(
    question: QuestionSpec,
    rows: list[tuple[float | None, str | None, int]],
    answered: int,
) -> QuestionResult:
    return QuestionResult(
        key=question.key,
        kind=question.kind.value,
        text=question.text,
        answered=answered,
        score=score_summary(question, rows),
        distribution=distribution(question, rows),
    )


def _verbatims(
    session: Session, record: SurveyRecord, window: _Window, page: int, size: int
) -> VerbatimPage:
    text_keys = {
        record.question_ids[q.key]: q.key
        for q in record.spec.questions
        if q.kind is QuestionKind.TEXT
    }
    scored = next((q for q in record.spec.questions if q.metric != "text" and q.kind
                   not in (QuestionKind.SINGLE, QuestionKind.MULTIPLE)), None)  # fmt: skip
    base = (
        _responses(record.id, window)
        .join(Answer, Answer.interaction_id == SurveyResponse.interaction_id)
        .where(Answer.question_id.in_(list(text_keys)), Answer.text != "")
    )
    total = session.scalar(base.add_columns(func.count())) or 0
    rows = session.execute(
        base.add_columns(
            SurveyResponse.id,
            Answer.question_id,
            Answer.text,
            SurveyResponse.interaction_id,
            Customer.external_id,
            Interaction.occurred_at,
        )
        .join(Interaction, Interaction.id == SurveyResponse.interaction_id)
        .outerjoin(Customer, Customer.id == SurveyResponse.customer_id)
        .order_by(Interaction.occurred_at.desc(), Answer.id.desc())
        .limit(size)
        .offset((page - 1) * size)
    ).all()
    scores = _scores_of(session, scored, record, [row[3] for row in rows])
    items = [
        Verbatim(response_id, text_keys[question_id], text or "",
                 scores.get(interaction_id), ref, at)
        for response_id, question_id, text, interaction_id, ref, at in rows
    ]  # fmt: skip
    metric = scored.kind.value if scored else None
    return VerbatimPage(items, total, page, size, metric)


def _scores_of(
    session: Session,
    scored: QuestionSpec | None,
    record: SurveyRecord,
    interaction_ids: list[int],
) -> dict[int, float]:
    if scored is None or not interaction_ids:
        return {}
    query = select(Answer.interaction_id, Answer.value).where(
        Answer.question_id == record.question_ids[scored.key],
        Answer.interaction_id.in_(interaction_ids),
        Answer.value.is_not(None),
    )
    return {iid: float(v or 0.0) for iid, v in session.execute(query)}


def _composite_questions(spec: SurveySpec) -> list[QuestionSpec]:
    return [q for q in spec.questions if (q.dimension and q.part) or q.pillar]


def _per_response(
    session: Session, record: SurveyRecord, window: _Window
) -> list[dict[str, AnswerValue]]:
    """Answers to SERVQUAL and CX-index items, one mapping per response."""
    wanted = {
        record.question_ids[q.key]: q.key for q in _composite_questions(record.spec)
    }
    if not wanted:
        return []
    query = (
        _responses(
            record.id, window, SurveyResponse.id, Answer.question_id, Answer.value
        )
        .join(Answer, Answer.interaction_id == SurveyResponse.interaction_id)
        .where(Answer.question_id.in_(list(wanted)), Answer.value.is_not(None))
        .order_by(SurveyResponse.id)
    )
    answers: dict[int, dict[str, AnswerValue]] = {}
    for response_id, question_id, value in session.execute(query):
        answers.setdefault(response_id, {})[wanted[question_id]] = float(value)
    return list(answers.values())


def _composites(
    spec: SurveySpec, responses: list[dict[str, AnswerValue]]
) -> tuple[list[ServqualGap] | None, CxIndexReport | None, list[str]]:
    """SERVQUAL gaps and the CX index when the survey has such items and answers."""
    items = _composite_questions(spec)
    if not items or not responses:
        return None, None, []
    notes: list[str] = []
    servqual = cx_index = None
    if any(q.dimension and q.part for q in items):
        try:
            servqual = servqual_report(spec, responses) or None
        except InvalidInput as exc:
            notes.append(f"SERVQUAL: {exc}")
    if any(q.pillar for q in items):
        try:
            cx_index = cx_index_report(spec, responses)
        except InvalidInput as exc:
            notes.append(f"CX index: {exc}")
    return servqual, cx_index, notes
