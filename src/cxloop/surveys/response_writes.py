"""The statements behind :mod:`cxloop.surveys.responses`: Core inserts and updates.

Each function runs inside the caller's transaction (``engine.begin()``), so a response
is written whole or not at all; a unique constraint that refuses a repeated submission
rolls the whole transaction back.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import Connection, Insert, Table, delete, insert, select, update

from cxloop.domain.survey_spec import (
    AnswerValue,
    QuestionKind,
    decode_choices,
    encode_answer,
)
from cxloop.store.tables import Answer, Interaction, Invitation, SurveyResponse
from cxloop.surveys.definitions import SurveyRecord

KIND = "survey_response"


@dataclass(frozen=True)
class Submission:
    """One submit of the form: its key, whether it completes the response, and when."""

    key: str
    complete: bool
    language: str | None
    channel: str
    now: datetime

    def as_partial(self) -> Submission:
        return replace(self, complete=False)


@dataclass(frozen=True)
class InvitationRow:
    id: int
    survey_id: int
    customer_id: int | None
    channel: str
    language: str | None
    opened_at: datetime | None
    expires_at: datetime | None
    attributes: dict[str, Any] | None


@dataclass(frozen=True)
class StoredResponse:
    id: int
    interaction_id: int
    status: str
    submission_key: str


@dataclass(frozen=True)
class _Inserts:
    interaction: Insert
    answer: Insert
    response: Insert


@cache
def _inserts() -> _Inserts:
    """The three inserts, built once: reused objects skip SQLAlchemy's cache-key work."""
    return _Inserts(
        insert(cast(Table, Interaction.__table__)),
        insert(cast(Table, Answer.__table__)),
        insert(cast(Table, SurveyResponse.__table__)),
    )


def invitation_by_token(conn: Connection, token: str) -> InvitationRow | None:
    """The invitation carrying ``token``, or None."""
    row = conn.execute(
        select(
            Invitation.id, Invitation.survey_id, Invitation.customer_id,
            Invitation.channel, Invitation.language, Invitation.opened_at,
            Invitation.expires_at, Invitation.attributes,
        ).where(Invitation.token == token)
    ).first()  # fmt: skip
    return None if row is None else InvitationRow(*row)


def response_of_invitation(
    conn: Connection, invitation_id: int, *, for_update: bool = False
) -> StoredResponse | None:
    """The response already stored for an invitation (partial or complete), or None."""
    query = select(
        SurveyResponse.id, SurveyResponse.interaction_id, SurveyResponse.status,
        SurveyResponse.submission_key,
    ).where(SurveyResponse.invitation_id == invitation_id)  # fmt: skip
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).first()
    return None if row is None else StoredResponse(*row)


def insert_response(
    conn: Connection,
    survey: SurveyRecord,
    values: dict[str, AnswerValue],
    submission: Submission,
    invitation: InvitationRow | None,
) -> tuple[int, int]:
    """Insert the interaction, its answers and the response; their ids."""
    extra = (invitation.attributes or {}) if invitation is not None else {}
    customer_id = invitation.customer_id if invitation else None
    statements = _inserts()
    interaction_id = conn.execute(
        statements.interaction,
        {
            "customer_id": customer_id,
            "occurred_at": submission.now,
            "channel": submission.channel,
            "touchpoint": _text_attribute(extra, "touchpoint"),
            "journey_stage": _text_attribute(extra, "journey_stage"),
            "kind": KIND,
            "source": f"survey:{survey.key}",
            "external_id": f"response:{submission.key}",
            "text": open_text(survey, values),
            "created_at": submission.now,
        },
    ).inserted_primary_key[0]  # type: ignore[index]
    _insert_answers(conn, survey, values, interaction_id)
    complete = submission.complete
    response_id = conn.execute(
        statements.response,
        {
            "survey_id": survey.id,
            "invitation_id": invitation.id if invitation else None,
            "interaction_id": interaction_id,
            "customer_id": customer_id,
            "submission_key": submission.key,
            "status": "complete" if complete else "partial",
            "language": submission.language,
            "channel": submission.channel,
            "started_at": submission.now,
            "completed_at": submission.now if complete else None,
        },
    ).inserted_primary_key[0]  # type: ignore[index]
    return int(response_id), int(interaction_id)


def _insert_answers(
    conn: Connection,
    survey: SurveyRecord,
    values: dict[str, AnswerValue],
    interaction_id: int,
) -> None:
    rows = []
    for key, value in values.items():
        number, text = encode_answer(value)
        rows.append({
            "interaction_id": interaction_id,
            "question_id": survey.question_ids[key],
            "metric": survey.spec.question(key).metric,
            "value": number,
            "text": text,
        })  # fmt: skip
    if rows:
        conn.execute(_inserts().answer, rows)


def open_text(survey: SurveyRecord, values: dict[str, AnswerValue]) -> str | None:
    """The open-text answers in question order, joined by blank lines (or None)."""
    texts = [
        value
        for question in survey.spec.questions
        if question.kind is QuestionKind.TEXT
        and isinstance(value := values.get(question.key), str)
    ]
    return "\n\n".join(texts) or None


def _text_attribute(attributes: dict[str, Any], name: str) -> str | None:
    value = attributes.get(name)
    return value[:100] if isinstance(value, str) and value else None


def write_personal(
    conn: Connection,
    survey: SurveyRecord,
    invitation: InvitationRow,
    values: dict[str, AnswerValue],
    submission: Submission,
) -> tuple[str, int, int]:
    """Store or update the response of a personal link.

    Returns ``("written" | "duplicate" | "answered", response_id, interaction_id)``:
    a complete response is never changed again ("duplicate" when this very submission
    completed it, "answered" otherwise).
    """
    lock = select(Invitation.id).where(Invitation.id == invitation.id)
    conn.execute(lock.with_for_update())  # one writer per invitation on PostgreSQL
    stored = response_of_invitation(conn, invitation.id)
    if stored is not None and stored.status == "complete":
        again = stored.submission_key == submission.key
        return ("duplicate" if again else "answered"), stored.id, stored.interaction_id
    if stored is None:
        ids = insert_response(conn, survey, values, submission, invitation)
    else:
        _rewrite(conn, survey, values, submission, stored)
        ids = stored.id, stored.interaction_id
    conn.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id)
        .values(
            status="responded" if submission.complete else "partial",
            responded_at=submission.now if submission.complete else None,
        )
    )
    return "written", *ids


def _rewrite(
    conn: Connection,
    survey: SurveyRecord,
    values: dict[str, AnswerValue],
    submission: Submission,
    stored: StoredResponse,
) -> None:
    """Replace the answers of a partial response with the latest ones."""
    conn.execute(delete(Answer).where(Answer.interaction_id == stored.interaction_id))
    _insert_answers(conn, survey, values, stored.interaction_id)
    conn.execute(
        update(Interaction)
        .where(Interaction.id == stored.interaction_id)
        .values(
            occurred_at=submission.now,
            text=open_text(survey, values),
            text_scored_at=None,  # the text changed: the text stage scores it again
        )
    )
    conn.execute(
        update(SurveyResponse)
        .where(SurveyResponse.id == stored.id)
        .values(
            status="complete" if submission.complete else "partial",
            submission_key=submission.key,
            language=submission.language,
            completed_at=submission.now if submission.complete else None,
        )
    )


def stored_answers(
    conn: Connection, survey: SurveyRecord, interaction_id: int
) -> dict[str, AnswerValue]:
    """The answers stored on a response's interaction, by question key."""
    keys = {question_id: key for key, question_id in survey.question_ids.items()}
    rows = conn.execute(
        select(Answer.question_id, Answer.value, Answer.text).where(
            Answer.interaction_id == interaction_id
        )
    )
    answers: dict[str, AnswerValue] = {}
    for question_id, value, text in rows:
        key = keys.get(question_id)
        if key is None:
            continue
        kind = survey.spec.question(key).kind
        if value is not None:
            answers[key] = float(value)
        elif kind is QuestionKind.MULTIPLE:
            answers[key] = decode_choices(text)
        elif text is not None:
            answers[key] = text
    return answers
