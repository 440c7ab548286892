"""Close the loop after a case: ask the customer whether the problem was solved.

Resolving a case (:func:`on_case_resolved`, called by ``cases.set_status`` inside its
transaction) queues a personal invitation to the follow-up CSAT survey
(:data:`SURVEY_KEY`, made from the ``csat-case`` template on first use) for the case's
customer, records it on ``case.followup_invitation_id`` and writes a
``followup_queued`` event. :func:`cxloop.loop.followup_sending.run_followups`, one
periodic pass, e-mails the due follow-ups (``followup_sent``, or ``followup_skipped``
/ ``followup_failed`` with the reason) and copies each complete answer onto its case
(:func:`collect_followup_answers`): ``followup_score`` (CSAT 1-5), ``followup_solved``
("was your problem solved?") and a ``followup_answered`` event.

Rules of the follow-up, which differ from other survey invitations:

- **No contact cap.** A customer who complained must be asked, even if another survey
  reached them within ``contact_cap_days``. Follow-ups therefore go on their own
  invitation channel (:data:`CHANNEL`) and are sent by ``run_followups``, not by
  the survey dispatcher (which applies the cap). They still count as contacts for
  the cap of later surveys.
- **Unsubscribes always hold.** An unsubscribed customer is never mailed: checked when
  the case is resolved and again just before sending.
- **One ask per case, one open ask per customer.** A case resolved again after being
  reopened is not asked twice, and a customer already holding an unanswered
  follow-up is not sent a second one (the event says so).
- **One reminder.** A follow-up still unanswered ``CXLOOP_REMINDER_DAYS`` after it
  was sent gets one reminder (none with 0), never to an unsubscribed customer
  (``followup_reminded`` in the case history).
- **Switch off** by closing the survey: ``cxloop survey close case-followup``.

The survey's answers are ordinary survey answers too, so follow-up CSAT appears in
every CSAT figure and dashboard.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.domain.survey_parse import parse_survey
from cxloop.domain.survey_spec import decode_choices
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import (
    Answer,
    Case,
    CaseEvent,
    Customer,
    Interaction,
    Invitation,
    Question,
    Survey,
    SurveyResponse,
)
from cxloop.store.types import utcnow
from cxloop.surveys import invitations as inv
from cxloop.surveys.definitions import sync_questions
from cxloop.surveys.templates import template_definition

#: Key of the follow-up survey, created from :data:`TEMPLATE` on first use.
SURVEY_KEY = "case-followup"
TEMPLATE = "csat-case"
#: Invitation channel of follow-ups, e-mailed by
#: :func:`cxloop.loop.followup_sending.run_followups` (not the survey dispatcher).
CHANNEL = "followup"
#: Question keys of the template read back onto the case.
SCORE_QUESTION = "csat"
SOLVED_QUESTION = "solved"
ACTOR = "system"
#: Reasons a follow-up is not sent (the ``followup_skipped`` event says which).
NO_CUSTOMER = "the case has no customer"
PENDING = "a follow-up of another case is waiting for this customer's answer"


def on_case_resolved(session: Session, case: Case, *, now: datetime) -> None:
    """Queue the follow-up CSAT survey for the customer of a resolved case.

    Runs in the caller's transaction. Writes ``followup_queued`` (and sets
    ``case.followup_invitation_id``) or ``followup_skipped`` with the reason: no
    customer, no e-mail address, unsubscribed, a follow-up of another case pending,
    or the follow-up survey is not active. A case that already had its follow-up is
    left alone.

    Parameters
    ----------
    session
        Open session of the caller's transaction.
    case
        The case that has just been resolved.
    now
        Time of resolution (aware).
    """
    if case.followup_invitation_id is not None:
        return
    survey = followup_survey(session)
    customer = _customer(session, case)
    reason = _reason_not_to_ask(session, survey, customer)
    if reason is not None or customer is None:
        add_event(session, case.id, now, "followup_skipped", reason or NO_CUSTOMER)
        return
    invitation = _queue(session, survey, customer, case, now)
    case.followup_invitation_id = invitation.id
    body = f"follow-up survey queued for {inv.email_hint(invitation.email)}"
    add_event(session, case.id, now, "followup_queued", body, invitation.id)


def followup_survey(session: Session) -> Survey:
    """The follow-up survey, created from the ``csat-case`` template if missing."""
    survey = session.scalar(select(Survey).where(Survey.key == SURVEY_KEY))
    if survey is not None:
        return survey
    definition = template_definition(TEMPLATE, key=SURVEY_KEY)
    spec = parse_survey(definition)
    try:
        with session.begin_nested():
            survey = Survey(
                key=SURVEY_KEY,
                public_token=inv.new_token()[:16],
                name=spec.name.zh or spec.name.en,
                description=spec.description.zh if spec.description else None,
                status="active",
                definition=definition,
                updated_at=utcnow(),
            )
            session.add(survey)
            session.flush()
            sync_questions(session, survey.id, spec)
    except IntegrityError:  # made at the same moment by another transaction
        found = session.scalar(select(Survey).where(Survey.key == SURVEY_KEY))
        if found is None:
            raise
        return found
    return survey


def _customer(session: Session, case: Case) -> Customer | None:
    if case.customer_id is None:
        return None
    customer = session.get(Customer, case.customer_id)
    return None if customer is None else inv.live_customer(session, customer)


def _reason_not_to_ask(
    session: Session, survey: Survey, customer: Customer | None
) -> str | None:
    if survey.status != "active":
        return f"the survey {SURVEY_KEY} is {survey.status}"
    if customer is None:
        return NO_CUSTOMER
    if not (customer.email or "").strip():
        return inv.NO_EMAIL
    if inv.suppressed(session, [customer.id]):
        return inv.UNSUBSCRIBED
    pending = select(Invitation.id).where(
        Invitation.survey_id == survey.id,
        Invitation.customer_id == customer.id,
        Invitation.status.in_(inv.UNANSWERED),
    )
    if session.execute(pending.limit(1)).first() is not None:
        return PENDING
    return None


def _queue(
    session: Session, survey: Survey, customer: Customer, case: Case, now: datetime
) -> Invitation:
    language = case.language or customer.language
    invitation = Invitation(
        survey_id=survey.id,
        customer_id=customer.id,
        token=inv.new_token(),
        channel=CHANNEL,
        status="queued",
        email=(customer.email or "").strip(),
        language=inv.language_of(language, "zh-TW") if language else None,
        send_after=now,
        created_at=now,
        attributes=_attributes(case),
    )
    session.add(invitation)
    session.flush()
    return invitation


def _attributes(case: Case) -> dict[str, Any]:
    attributes: dict[str, Any] = {"case_id": case.id, "journey_stage": "support"}
    if case.touchpoint:
        attributes["touchpoint"] = case.touchpoint
    return attributes


def add_event(
    session: Session,
    case_id: int,
    at: datetime,
    kind: str,
    body: str,
    invitation_id: int | None = None,
    **data: Any,
) -> None:
    """Write one line of a case's history about its follow-up."""
    if invitation_id is not None:
        data["invitation_id"] = invitation_id
    session.add(
        CaseEvent(
            case_id=case_id, at=at, actor=ACTOR, kind=kind, body=body,
            data=data or None,
        )
    )  # fmt: skip


def collect_followup_answers(*, settings: Settings) -> int:
    """Copy every new complete follow-up answer onto its case; how many were new."""
    query = (
        select(SurveyResponse.id)
        .join(Case, Case.followup_invitation_id == SurveyResponse.invitation_id)
        .where(
            SurveyResponse.status == "complete",
            Case.followup_score.is_(None),
            Case.followup_solved.is_(None),
        )
        .order_by(SurveyResponse.id)
    )
    with engine_for(settings.database_url).connect() as conn:
        ids = list(conn.scalars(query))
    return sum(record_followup_answer(settings=settings, response_id=i) for i in ids)


def record_followup_answer(*, settings: Settings, response_id: int) -> bool:
    """Put the answer of a follow-up response on its case (idempotent).

    Call it right after the response service stored a complete response (any
    survey: responses that are not follow-ups are ignored). Returns True when the
    answer was new on a case.
    """
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        response = session.get(SurveyResponse, response_id)
        if response is None or response.status != "complete":
            return False
        case = session.scalar(
            select(Case).where(Case.followup_invitation_id == response.invitation_id)
        )
        if response.invitation_id is None or case is None:
            return False
        if case.followup_score is not None or case.followup_solved is not None:
            return False
        _record(session, case, response)
        return True


def _record(session: Session, case: Case, response: SurveyResponse) -> None:
    answers = _answers(session, response)
    score = answers.get(SCORE_QUESTION)
    solved_text = answers.get(SOLVED_QUESTION)
    case.followup_score = score if isinstance(score, float) else None
    case.followup_solved = None if solved_text is None else solved_text == "yes"
    # The personal link came by e-mail: say so on the stored response.
    session.execute(
        update(Interaction)
        .where(Interaction.id == response.interaction_id)
        .values(channel="email")
    )
    solved = {True: "solved", False: "not solved", None: "no answer"}
    body = (
        f"customer answered the follow-up: CSAT {_shown(case.followup_score)}, "
        f"{solved[case.followup_solved]}"
    )
    at = response.completed_at or utcnow()
    add_event(
        session, case.id, at, "followup_answered", body, response.invitation_id,
        response_id=response.id, score=case.followup_score,
        solved=case.followup_solved,
    )  # fmt: skip


def _answers(session: Session, response: SurveyResponse) -> dict[str, float | str]:
    rows = session.execute(
        select(Question.key, Answer.value, Answer.text)
        .join(Answer, Answer.question_id == Question.id)
        .where(
            Answer.interaction_id == response.interaction_id,
            Question.key.in_((SCORE_QUESTION, SOLVED_QUESTION)),
        )
    )
    found: dict[str, float | str] = {}
    for key, value, text in rows:
        if value is not None:
            found[key] = float(value)
        elif text:
            found[key] = decode_choices(text)[0] if decode_choices(text) else text
    return found


def _shown(score: float | None) -> str:
    return "-" if score is None else f"{score:g}"
