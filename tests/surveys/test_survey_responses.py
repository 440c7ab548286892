"""Storing survey responses once: anonymous and personal links, partial answers."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from response_seeding import (
    NPS_SURVEY,
    counts,
    invitation_row,
    make_invitation,
    make_survey,
)
from sqlalchemy import select, update

from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput, NotFound
from cxloop.domain.survey_spec import AnswerError
from cxloop.store.engine import engine_for
from cxloop.store.tables import Answer, Interaction, Question, SurveyResponse
from cxloop.surveys.definitions import save_survey, set_status
from cxloop.surveys.responses import (
    LinkExpired,
    LinkState,
    Outcome,
    WriterBusy,
    new_submission_key,
    open_personal_link,
    open_public_link,
    submit_response,
)

NOW = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)


def _answers_by_key(
    settings: Settings, interaction_id: int
) -> dict[str, tuple[str, float | None, str | None]]:
    with engine_for(settings.database_url).connect() as conn:
        rows = conn.execute(
            select(Question.key, Answer.metric, Answer.value, Answer.text)
            .join(Question, Question.id == Answer.question_id)
            .where(Answer.interaction_id == interaction_id)
        )
        return {key: (metric, value, text) for key, metric, value, text in rows}


def test_submit_public_link_stores_interaction_answers_and_response(
    settings: Settings,
) -> None:
    survey = make_survey(settings)
    key = new_submission_key()
    result = submit_response(
        settings=settings, public_token=survey.public_token, submission_key=key,
        answers={"nps": "3", "improve": "送貨太慢<script>", "liked": "hidden",
                 "topics": ["delivery", "price"], "channel": ""},
        language="zh-TW", now=NOW,
    )  # fmt: skip
    assert result.outcome is Outcome.STORED
    assert result.interaction_id is not None
    assert _answers_by_key(settings, result.interaction_id) == {
        "nps": ("nps", 3.0, None),
        "improve": ("text", None, "送貨太慢<script>"),
        "topics": ("choice", None, "price\ndelivery"),
    }
    with engine_for(settings.database_url).connect() as conn:
        interaction = conn.execute(
            select(Interaction).where(Interaction.id == result.interaction_id)
        ).one()
        response = conn.execute(select(SurveyResponse)).one()
    assert (interaction.kind, interaction.source, interaction.channel) == (
        "survey_response", "survey:shop-nps", "web"
    )  # fmt: skip
    assert interaction.external_id == f"response:{key}"
    assert interaction.occurred_at == NOW
    assert interaction.text == "送貨太慢<script>"
    assert (response.status, response.language, response.completed_at) == (
        "complete", "zh-TW", NOW
    )  # fmt: skip
    assert response.invitation_id is None


def test_submit_same_key_twice_stores_one_response(settings: Settings) -> None:
    survey = make_survey(settings)
    key = new_submission_key()
    first = submit_response(settings=settings, public_token=survey.public_token,
                            submission_key=key, answers={"nps": "10"})  # fmt: skip
    again = submit_response(settings=settings, public_token=survey.public_token,
                            submission_key=key, answers={"nps": "10"})  # fmt: skip
    assert (first.outcome, again.outcome) == (Outcome.STORED, Outcome.DUPLICATE)
    assert again.response_id == first.response_id
    assert counts(settings) == (1, 1, 1)


def test_submit_concurrent_threads_store_each_key_once(settings: Settings) -> None:
    survey = make_survey(settings)
    keys = [new_submission_key() for _ in range(6)]
    outcomes: list[Outcome] = []

    def send(key: str) -> None:
        result = submit_response(settings=settings, public_token=survey.public_token,
                                 submission_key=key, answers={"nps": "8"})  # fmt: skip
        outcomes.append(result.outcome)

    threads = [threading.Thread(target=send, args=(k,)) for k in keys * 3]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes).count(Outcome.STORED) == 6
    assert sorted(outcomes).count(Outcome.DUPLICATE) == 12
    assert counts(settings) == (6, 6, 6)


def test_submit_invalid_answers_stores_nothing_on_public_link(
    settings: Settings,
) -> None:
    survey = make_survey(settings)
    result = submit_response(
        settings=settings, public_token=survey.public_token,
        submission_key=new_submission_key(),
        answers={"nps": "11", "channel": "moon", "topics": ["price"]},
    )  # fmt: skip
    assert result.outcome is Outcome.INVALID
    assert result.check.errors == {
        "nps": AnswerError.OUT_OF_RANGE,
        "channel": AnswerError.NOT_A_CHOICE,
    }
    assert result.check.values == {"topics": ("price",)}
    assert counts(settings) == (0, 0, 0)


def test_submit_missing_required_answer_is_invalid(settings: Settings) -> None:
    survey = make_survey(settings)
    result = submit_response(settings=settings, public_token=survey.public_token,
                             submission_key=new_submission_key(), answers={})  # fmt: skip
    assert result.outcome is Outcome.INVALID
    assert result.check.errors == {"nps": AnswerError.REQUIRED}


@pytest.mark.parametrize("status", ["closed", "draft"])
def test_submit_to_survey_not_active_is_refused(
    settings: Settings, status: str
) -> None:
    survey = make_survey(settings)
    set_status(settings=settings, key=survey.key, status=status)
    result = submit_response(settings=settings, public_token=survey.public_token,
                             submission_key=new_submission_key(), answers={"nps": "9"})  # fmt: skip
    assert result.outcome is Outcome.CLOSED
    assert counts(settings) == (0, 0, 0)
    assert (
        open_public_link(settings=settings, public_token=survey.public_token).status
        == status
    )


def test_submit_sees_a_changed_survey_at_once(settings: Settings) -> None:
    survey = make_survey(settings)
    submit_response(settings=settings, public_token=survey.public_token,
                    submission_key=new_submission_key(), answers={"nps": "9"})  # fmt: skip
    changed = {**NPS_SURVEY, "questions": [
        *NPS_SURVEY["questions"],
        {"key": "csat", "type": "csat", "required": True, "text": "滿意度？"},
    ]}  # fmt: skip
    save_survey(settings=settings, definition=changed, replace=True)
    result = submit_response(settings=settings, public_token=survey.public_token,
                             submission_key=new_submission_key(), answers={"nps": "9"})  # fmt: skip
    assert result.check.errors == {"csat": AnswerError.REQUIRED}


def test_submit_refuses_bad_arguments(settings: Settings) -> None:
    survey = make_survey(settings)
    with pytest.raises(InvalidInput, match="submission_key"):
        submit_response(settings=settings, public_token=survey.public_token,
                        submission_key="short", answers={"nps": "9"})  # fmt: skip
    with pytest.raises(InvalidInput, match="either"):
        submit_response(settings=settings, submission_key=new_submission_key(),
                        answers={"nps": "9"})  # fmt: skip
    with pytest.raises(NotFound):
        submit_response(settings=settings, public_token="nope",
                        submission_key=new_submission_key(), answers={"nps": "9"})  # fmt: skip


def test_open_personal_link_marks_opened_once(settings: Settings) -> None:
    survey = make_survey(settings)
    token, customer_id = make_invitation(settings, survey)
    link = open_personal_link(settings=settings, token=token, now=NOW)
    open_personal_link(settings=settings, token=token, now=NOW + timedelta(days=1))
    assert (link.state, link.customer_id, link.customer_name) == (
        LinkState.OPEN, customer_id, "陳美玲"
    )  # fmt: skip
    assert (link.language, link.channel, link.answers) == ("zh-TW", "email", {})
    assert invitation_row(settings, token).opened_at == NOW


def test_open_personal_link_unknown_or_expired_is_not_found(settings: Settings) -> None:
    survey = make_survey(settings)
    token, _ = make_invitation(settings, survey, expires_at=NOW - timedelta(hours=1))
    with pytest.raises(LinkExpired):
        open_personal_link(settings=settings, token=token, now=NOW)
    with pytest.raises(NotFound):
        open_personal_link(settings=settings, token="no-such-token", now=NOW)
    with pytest.raises(LinkExpired):
        submit_response(settings=settings, token=token, now=NOW,
                        submission_key=new_submission_key(), answers={"nps": "9"})  # fmt: skip


def test_personal_link_answers_once(settings: Settings) -> None:
    survey = make_survey(settings)
    token, customer_id = make_invitation(
        settings, survey, attributes={"touchpoint": "台北信義店", "order": 7}
    )
    key = new_submission_key()
    first = submit_response(settings=settings, token=token, submission_key=key,
                            answers={"nps": "9", "liked": "店員親切"}, now=NOW)  # fmt: skip
    retry = submit_response(settings=settings, token=token, submission_key=key,
                            answers={"nps": "9"}, now=NOW)  # fmt: skip
    other = submit_response(settings=settings, token=token,
                            submission_key=new_submission_key(), answers={"nps": "0"})  # fmt: skip
    assert [first.outcome, retry.outcome, other.outcome] == [
        Outcome.STORED, Outcome.DUPLICATE, Outcome.ANSWERED
    ]  # fmt: skip
    assert counts(settings) == (1, 1, 2)
    invitation = invitation_row(settings, token)
    assert (invitation.status, invitation.responded_at) == ("responded", NOW)
    with engine_for(settings.database_url).connect() as conn:
        interaction = conn.execute(select(Interaction)).one()
    assert (interaction.customer_id, interaction.channel, interaction.touchpoint) == (
        customer_id, "email", "台北信義店"
    )  # fmt: skip
    assert (
        open_personal_link(settings=settings, token=token).state is LinkState.ANSWERED
    )


def test_personal_link_keeps_partial_answers_until_completed(
    settings: Settings,
) -> None:
    survey = make_survey(settings)
    token, _ = make_invitation(settings, survey)
    saved = submit_response(settings=settings, token=token, complete=False,
                            submission_key=new_submission_key(),
                            answers={"nps": "4", "topics": ["price"]})  # fmt: skip
    assert saved.outcome is Outcome.SAVED
    assert invitation_row(settings, token).status == "partial"
    with engine_for(settings.database_url).begin() as conn:  # the text stage ran
        conn.execute(update(Interaction).values(text_scored_at=NOW))
    link = open_personal_link(settings=settings, token=token)
    assert (link.state, link.answers) == (
        LinkState.OPEN, {"nps": 4.0, "topics": ("price",)}
    )  # fmt: skip
    done = submit_response(settings=settings, token=token, now=NOW,
                           submission_key=new_submission_key(),
                           answers={"nps": "5", "improve": "價格"})  # fmt: skip
    assert done.outcome is Outcome.STORED
    assert done.response_id == saved.response_id
    assert _answers_by_key(settings, done.interaction_id or 0) == {
        "nps": ("nps", 5.0, None), "improve": ("text", None, "價格")
    }  # fmt: skip
    assert counts(settings) == (1, 1, 2)
    assert invitation_row(settings, token).status == "responded"
    with engine_for(settings.database_url).connect() as conn:  # new text: score again
        row = conn.execute(select(Interaction.text, Interaction.text_scored_at)).one()
    assert tuple(row) == ("價格", None)


def test_personal_invalid_submit_saves_the_valid_answers(settings: Settings) -> None:
    survey = make_survey(settings)
    token, _ = make_invitation(settings, survey)
    result = submit_response(settings=settings, token=token,
                             submission_key=new_submission_key(),
                             answers={"nps": "7", "channel": "moon"})  # fmt: skip
    assert (result.outcome, result.saved_partial) == (Outcome.INVALID, True)
    assert result.check.errors == {"channel": AnswerError.NOT_A_CHOICE}
    assert open_personal_link(settings=settings, token=token).answers == {"nps": 7.0}
    with engine_for(settings.database_url).connect() as conn:
        assert conn.scalar(select(SurveyResponse.status)) == "partial"


def test_empty_partial_save_stores_nothing(settings: Settings) -> None:
    survey = make_survey(settings)
    token, _ = make_invitation(settings, survey)
    result = submit_response(settings=settings, token=token, complete=False,
                             submission_key=new_submission_key(), answers={"nps": ""})  # fmt: skip
    assert result.outcome is Outcome.EMPTY
    assert counts(settings) == (0, 0, 0)


def test_quick_submit_gives_up_while_another_process_writes(
    sqlite_settings: Settings,
) -> None:
    survey = make_survey(sqlite_settings)
    path = sqlite_settings.database_url.removeprefix("sqlite:///")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        started = time.perf_counter()
        with pytest.raises(WriterBusy):
            submit_response(settings=sqlite_settings, public_token=survey.public_token,
                            submission_key=new_submission_key(), answers={"nps": "9"},
                            quick=True)  # fmt: skip
        assert time.perf_counter() - started < 2
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert counts(sqlite_settings) == (0, 0, 0)
    with engine_for(sqlite_settings.database_url).connect() as conn:
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    done = submit_response(settings=sqlite_settings, public_token=survey.public_token,
                           submission_key=new_submission_key(), answers={"nps": "9"},
                           quick=True)  # fmt: skip
    assert done.outcome is Outcome.STORED
