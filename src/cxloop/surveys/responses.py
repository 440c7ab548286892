"""Responses to the survey form: open a link, store what the respondent sent, once.

A response is one ``interaction`` (kind ``survey_response``, source ``survey:<key>``,
external id ``response:<submission_key>``, the open-text answers as its text), one
``answer`` row per answered question, and one ``survey_response`` row tying them to the
survey, the invitation and the customer. So every metric sees the scores at once.

Stored exactly once:

- every rendering of the form carries a random ``submission_key``; the same key sent
  again (a double click, a retry, a reload) stores nothing more and reports
  :attr:`Outcome.DUPLICATE`. The unique constraints decide, so this holds across threads,
  processes and database engines;
- a personal link (``/r/{token}``) answers once: after a complete response a new
  submission is refused with :attr:`Outcome.ANSWERED`.

Partial answers are kept on personal links: "save and finish later"
(``complete=False``) and a complete submit that fails validation both store the valid
answers as a *partial* response (``invitation.status`` ``partial``); opening the link
again shows them, and the final submit completes the same response. Anonymous links
store only complete responses (nobody could come back to a partial one).

The hot path is one read of the survey row, the answer check (pure, against a spec
cached per process) and one short transaction of Core inserts; on SQLite the writers
of a process queue on a lock (see :mod:`cxloop.surveys.form_cache`).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from functools import cache
from typing import Any

from sqlalchemy import Connection, Select, bindparam, select, update
from sqlalchemy.exc import IntegrityError

from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput, NotFound
from cxloop.domain.survey_spec import (
    AnswerCheck,
    AnswerValue,
    check_answers,
)
from cxloop.domain.vocab import Channel
from cxloop.store.engine import engine_for
from cxloop.store.tables import Customer, Invitation, Survey, SurveyResponse
from cxloop.store.types import utcnow
from cxloop.surveys import response_writes as writes
from cxloop.surveys.definitions import SurveyRecord
from cxloop.surveys.form_cache import WriterBusy as WriterBusy
from cxloop.surveys.form_cache import cached_survey, sqlite_wait, write_lock

#: How long a ``quick`` submission waits for the SQLite write lock (seconds).
QUICK_WAIT = 0.05
SUBMISSION_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
CHANNELS = frozenset(channel.value for channel in Channel)


class LinkExpired(NotFound):
    """A personal link past its ``expires_at``."""


class Outcome(StrEnum):
    """What :func:`submit_response` did."""

    STORED = "stored"  #: a complete response was stored
    SAVED = "saved"  #: the answers were kept as a partial response
    DUPLICATE = "duplicate"  #: this submission was stored before; nothing changed
    INVALID = "invalid"  #: some answers were refused (``check.errors``)
    EMPTY = "empty"  #: nothing was answered; nothing stored
    ANSWERED = "answered"  #: the personal link was answered before; refused
    CLOSED = "closed"  #: the survey is a draft or closed; refused


class LinkState(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    CLOSED = "closed"


@dataclass(frozen=True)
class SubmitResult:
    """The outcome, the checked answers and, when something is stored, its ids."""

    outcome: Outcome
    check: AnswerCheck
    response_id: int | None = None
    interaction_id: int | None = None
    #: With INVALID on a personal link: the valid answers were saved as partial.
    saved_partial: bool = False
    #: The survey the answers were checked against (None before it was found).
    survey: SurveyRecord | None = None


@dataclass(frozen=True)
class PersonalLink:
    """An invitation's link as the form shows it."""

    token: str
    invitation_id: int
    survey: SurveyRecord
    customer_id: int | None
    customer_name: str | None
    language: str | None
    channel: str
    state: LinkState
    #: Answers saved before (a partial response), by question key.
    answers: dict[str, AnswerValue] = field(default_factory=dict)


def stores_inline(settings: Settings) -> bool:
    """Whether a ``quick`` submission may run on the caller's thread (SQLite: yes).

    An SQLite write takes well under a millisecond and writers queue anyway, so the
    web layer stores on its event loop instead of paying for a worker thread; on
    PostgreSQL (a network round trip) it uses a worker thread.
    """
    return engine_for(settings.database_url).dialect.name == "sqlite"


def new_submission_key() -> str:
    """A fresh random key for one rendering of the form."""
    return secrets.token_urlsafe(18)


def open_public_link(*, settings: Settings, public_token: str) -> SurveyRecord:
    """The survey behind an anonymous link (any status); NotFound for an unknown one."""
    with engine_for(settings.database_url).connect() as conn:
        return _survey_by(conn, settings, "token", public_token)


def open_personal_link(
    *, settings: Settings, token: str, now: datetime | None = None
) -> PersonalLink:
    """The survey, customer and saved answers of a personal link; marks it opened.

    ``invitation.opened_at`` is set on the first opening only.

    Raises
    ------
    NotFound
        No invitation has this token.
    LinkExpired
        The invitation expired.
    """
    now = now or utcnow()
    engine = engine_for(settings.database_url)
    with engine.connect() as conn:
        invitation = _invitation(conn, token, now)
        survey = _survey_by(conn, settings, "id", invitation.survey_id)
        name = conn.scalar(
            select(Customer.name).where(Customer.id == invitation.customer_id)
        )
        stored = writes.response_of_invitation(conn, invitation.id)
        answers = (
            writes.stored_answers(conn, survey, stored.interaction_id) if stored else {}
        )
    if invitation.opened_at is None:
        with write_lock(settings), engine.begin() as conn:
            conn.execute(
                update(Invitation)
                .where(Invitation.id == invitation.id, Invitation.opened_at.is_(None))
                .values(opened_at=now)
            )
    state = LinkState.OPEN
    if stored is not None and stored.status == "complete":
        state = LinkState.ANSWERED
    elif not survey.accepts_answers:
        state = LinkState.CLOSED
    return PersonalLink(
        token=token,
        invitation_id=invitation.id,
        survey=survey,
        customer_id=invitation.customer_id,
        customer_name=name,
        language=invitation.language,
        channel=_channel(invitation.channel),
        state=state,
        answers=answers,
    )


def submit_response(
    *,
    settings: Settings,
    answers: Mapping[str, str | Sequence[str]],
    submission_key: str,
    public_token: str | None = None,
    token: str | None = None,
    complete: bool = True,
    language: str | None = None,
    channel: str | None = None,
    now: datetime | None = None,
    quick: bool = False,
) -> SubmitResult:
    """Check and store one submission of the form, at most once.

    Give ``public_token`` (anonymous link) or ``token`` (personal link). ``answers``
    are the form fields by question key. ``complete=False`` saves the valid answers of
    a personal link as a partial response. ``channel`` (a channel of the vocabulary,
    default ``web``) applies to anonymous links; a personal link uses its invitation's.
    ``quick`` (anonymous links on SQLite) waits at most :data:`QUICK_WAIT` for the
    write lock, so a caller on an event loop is never held up by a long writer.

    Raises
    ------
    InvalidInput
        Neither or both tokens, a malformed ``submission_key`` or an unknown channel.
    NotFound
        The link is unknown (:class:`LinkExpired` when a personal link expired).
    WriterBusy
        With ``quick``: another writer held the store too long; nothing was stored.
    """
    if (public_token is None) == (token is None):
        raise InvalidInput("give either public_token or token")
    if not SUBMISSION_KEY.match(submission_key):
        raise InvalidInput("submission_key: 16 to 64 letters, digits, - or _")
    if channel is not None and channel not in CHANNELS:
        raise InvalidInput(f"channel {channel!r}: choose one of {', '.join(CHANNELS)}")
    request = writes.Submission(
        key=submission_key,
        complete=complete,
        language=language,
        channel=channel or "web",
        now=now or utcnow(),
    )
    if token is not None:
        return _submit_personal(settings, token, answers, request)
    return _submit_public(settings, public_token or "", answers, request, quick=quick)


def _submit_public(
    settings: Settings,
    public_token: str,
    answers: Mapping[str, str | Sequence[str]],
    request: writes.Submission,
    *,
    quick: bool,
) -> SubmitResult:
    """One connection, one short transaction: read the survey row, check, insert."""
    engine = engine_for(settings.database_url)
    wait = QUICK_WAIT if quick else -1
    with (
        write_lock(settings, wait=wait),
        engine.connect() as conn,
        sqlite_wait(conn, wait),
    ):
        try:
            with conn.begin():
                survey = _survey_by(conn, settings, "token", public_token)
                check = check_answers(survey.spec, answers, complete=True)
                refused = _refusal(survey, check, keeps_partial=False)
                if refused is not None:
                    return replace(refused, survey=survey)
                ids = writes.insert_response(conn, survey, check.values, request, None)
        except IntegrityError:
            return _duplicate(conn, request.key, check, survey)
    return SubmitResult(Outcome.STORED, check, *ids, survey=survey)


def _refusal(
    survey: SurveyRecord, check: AnswerCheck, *, keeps_partial: bool
) -> SubmitResult | None:
    """CLOSED, INVALID or EMPTY when nothing of the submission is to be stored.

    With ``keeps_partial`` (personal links) refused answers do not stop the valid ones
    from being kept.
    """
    if not survey.accepts_answers:
        return SubmitResult(Outcome.CLOSED, AnswerCheck({}, {}))
    if not check.values or (check.errors and not keeps_partial):
        return SubmitResult(Outcome.INVALID if check.errors else Outcome.EMPTY, check)
    return None


def _submit_personal(
    settings: Settings,
    token: str,
    answers: Mapping[str, str | Sequence[str]],
    request: writes.Submission,
) -> SubmitResult:
    engine = engine_for(settings.database_url)
    with write_lock(settings), engine.connect() as conn:
        try:
            with conn.begin():
                invitation = _invitation(conn, token, request.now)
                survey = _survey_by(conn, settings, "id", invitation.survey_id)
                check = check_answers(survey.spec, answers, complete=request.complete)
                refused = _refusal(survey, check, keeps_partial=True)
                if refused is not None:
                    return replace(refused, survey=survey)
                if not check.ok:
                    request = request.as_partial()
                request = replace(request, channel=_channel(invitation.channel))
                done, response_id, interaction_id = writes.write_personal(
                    conn, survey, invitation, check.values, request
                )
        except IntegrityError:
            return _duplicate(conn, request.key, check, survey, personal=True)
    outcome = Outcome.SAVED
    if done != "written":
        outcome = Outcome(done)
    elif request.complete:
        outcome = Outcome.STORED
    elif check.errors:
        outcome = Outcome.INVALID
    saved = outcome is Outcome.INVALID
    return SubmitResult(outcome, check, response_id, interaction_id, saved, survey)


def _duplicate(
    conn: Connection,
    key: str,
    check: AnswerCheck,
    survey: SurveyRecord,
    *,
    personal: bool = False,
) -> SubmitResult:
    """After a unique-constraint refusal: the earlier response, or "answered"."""
    row = conn.execute(
        select(SurveyResponse.id, SurveyResponse.interaction_id).where(
            SurveyResponse.submission_key == key
        )
    ).first()
    if row is not None:
        return SubmitResult(
            Outcome.DUPLICATE, check, row.id, row.interaction_id, survey=survey
        )
    if personal:
        return SubmitResult(Outcome.ANSWERED, check, survey=survey)
    raise InvalidInput("the response could not be stored; send the form again")


@cache
def _survey_queries() -> dict[str, Select[*tuple[Any, ...]]]:
    """The survey-row reads of the hot path, built once (see response_writes)."""
    columns = select(Survey.id, Survey.key, Survey.status, Survey.updated_at).where(
        Survey.definition.is_not(None)
    )
    return {
        "token": columns.where(Survey.public_token == bindparam("value")),
        "id": columns.where(Survey.id == bindparam("value")),
    }


def _survey_by(
    conn: Connection, settings: Settings, by: str, value: str | int
) -> SurveyRecord:
    row = conn.execute(_survey_queries()[by], {"value": value}).first()
    if row is None:
        raise NotFound("no such survey link")
    return cached_survey(
        conn,
        settings=settings,
        survey_id=row.id,
        status=row.status,
        updated_at=row.updated_at,
    )


def _invitation(conn: Connection, token: str, now: datetime) -> writes.InvitationRow:
    row = writes.invitation_by_token(conn, token)
    if row is None:
        raise NotFound("no such survey link")
    if row.expires_at is not None and row.expires_at <= now:
        raise LinkExpired("this survey link has expired")
    return row


def _channel(invitation_channel: str) -> str:
    return invitation_channel if invitation_channel in CHANNELS else "web"
