"""Escalation on breach: raise the priority, tell the team lead, record it once.

One pass looks at open cases whose stored due time has passed, reads their clocks
(pauses included) and, for each clock that is breached and still running and has no
``sla_breached`` event yet, writes ``sla_breached`` (data ``clock``, ``due_at``,
``overdue_minutes``), raises the priority one step with an ``escalated`` event (data
``from``, ``to``, ``clocks``, ``notified``) and sets ``escalated_at`` the first time.
The e-mails to the team leads go out after the changes are committed, so a mail
server that is down never undoes an escalation; failures are listed in the summary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.domain.business_hours import BusinessCalendar
from cxloop.domain.errors import InvalidInput
from cxloop.domain.routing_rules import raised_priority
from cxloop.domain.sla_clock import SlaClock
from cxloop.loop.sla_clocks import (
    OPEN_STATUSES,
    CaseHistory,
    Policy,
    clocks_of,
    load_history,
    load_policies,
    team_calendar,
)
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import Case, CaseEvent, Team, User
from cxloop.store.types import utcnow
from cxloop.surveys.mailer import Mailer, MailError, OutgoingMail, escape

ACTOR = "system"


@dataclass(frozen=True)
class EscalationSummary:
    """What one pass did.

    Attributes
    ----------
    checked
        Open cases past a stored due time that were looked at.
    breaches
        Clocks newly found breached (at most one per case and clock, ever).
    escalated
        Ids of the cases whose priority was raised in this pass.
    mailed
        E-mails handed to the mail server (or written to the outbox).
    failures
        One line for each e-mail that could not be sent.
    """

    checked: int = 0
    breaches: int = 0
    escalated: tuple[int, ...] = ()
    mailed: int = 0
    failures: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class _Notice:
    to: str
    language: str
    case_id: int
    title: str
    team: str
    clocks: tuple[str, ...]
    priority: str


def escalate_breaches(
    *, settings: Settings, now: datetime | None = None
) -> EscalationSummary:
    """Escalate every open case whose SLA clock has newly been breached (one pass)."""
    moment = now or utcnow()
    notices: list[_Notice] = []
    escalated: list[int] = []
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        cases = _candidates(session, moment)
        histories = load_history(session, [c.id for c in cases])
        seen = _breached_before(session, [c.id for c in cases])
        context = _Context(load_policies(session), histories, seen)
        breaches = 0
        for case in cases:
            clocks = _new_breaches(session, case, moment, context)
            if not clocks:
                continue
            breaches += len(clocks)
            escalated.append(case.id)
            notice = _escalate(session, case, clocks, moment, settings)
            if notice is not None:
                notices.append(notice)
    mailed, failures = _send(settings, notices)
    return EscalationSummary(
        checked=len(cases),
        breaches=breaches,
        escalated=tuple(escalated),
        mailed=mailed,
        failures=tuple(failures),
    )


def _candidates(session: Session, now: datetime) -> list[Case]:
    """Open cases with a stored due time passed (pauses only move due times later)."""
    query = (
        select(Case)
        .where(
            Case.status.in_(OPEN_STATUSES),
            or_(
                and_(
                    Case.first_response_at.is_(None), Case.first_response_due_at <= now
                ),
                Case.resolution_due_at <= now,
            ),
        )
        .order_by(Case.id)
    )
    return list(session.scalars(query))


def _breached_before(session: Session, case_ids: list[int]) -> set[tuple[int, str]]:
    found: set[tuple[int, str]] = set()
    for start in range(0, len(case_ids), 500):
        query = select(CaseEvent.case_id, CaseEvent.data).where(
            CaseEvent.case_id.in_(case_ids[start : start + 500]),
            CaseEvent.kind == "sla_breached",
        )
        for case_id, data in session.execute(query):
            found.add((case_id, str((data or {}).get("clock"))))
    return found


@dataclass
class _Context:
    policies: dict[str, Policy]
    histories: dict[int, CaseHistory]
    seen: set[tuple[int, str]]
    calendars: dict[int | None, BusinessCalendar] = field(default_factory=dict)


def _new_breaches(
    session: Session, case: Case, now: datetime, context: _Context
) -> list[tuple[str, SlaClock]]:
    calendar = context.calendars.get(case.team_id)
    if calendar is None:
        calendar = context.calendars[case.team_id] = team_calendar(
            session, case.team_id
        )
    sla = clocks_of(
        case,
        now=now,
        policies=context.policies,
        calendar=calendar,
        history=context.histories.get(case.id, CaseHistory()),
    )
    pairs = (("first_response", sla.first_response), ("resolution", sla.resolution))
    return [
        (name, clock)
        for name, clock in pairs
        if clock is not None
        and clock.breached
        and not clock.stopped
        and (case.id, name) not in context.seen
    ]


def _escalate(
    session: Session,
    case: Case,
    clocks: list[tuple[str, SlaClock]],
    now: datetime,
    settings: Settings,
) -> _Notice | None:
    for name, clock in clocks:
        session.add(CaseEvent(
            case_id=case.id, at=now, actor=ACTOR, kind="sla_breached", body=name,
            data={"clock": name, "due_at": clock.due_at.isoformat(),
                  "overdue_minutes": round(clock.overdue_seconds / 60, 1)},
        ))  # fmt: skip
    team = session.get(Team, case.team_id) if case.team_id is not None else None
    lead = team.lead_email if team is not None else None
    before, after = case.priority, raised_priority(case.priority)
    names = tuple(name for name, _ in clocks)
    session.add(CaseEvent(
        case_id=case.id, at=now, actor=ACTOR, kind="escalated", body=f"{before} → {after}",
        data={"from": before, "to": after, "clocks": list(names), "notified": lead},
    ))  # fmt: skip
    case.priority = after
    if case.escalated_at is None:
        case.escalated_at = now
    if team is None or lead is None:
        return None
    language = session.scalar(select(User.language).where(User.email == lead))
    return _Notice(
        to=lead,
        language=language or settings.default_language,
        case_id=case.id,
        title=case.title,
        team=team.name,
        clocks=names,
        priority=after,
    )


WORDING = {
    "zh-TW": {
        "subject": "SLA 逾時：案件 #{id}「{title}」已升級為 {priority}",
        "body": "{team} 的案件 #{id}「{title}」已超過{clocks}的服務時限，"
        "優先等級已提高為 {priority}。請儘速安排處理：",
        "first_response": "首次回覆",
        "resolution": "解決",
        "join": "與",
    },
    "en": {
        "subject": "SLA breached: case #{id} “{title}” escalated to {priority}",
        "body": "Case #{id} “{title}” of {team} has missed its {clocks} target; "
        "its priority is now {priority}. Please see to it:",
        "first_response": "first response",
        "resolution": "resolution",
        "join": " and ",
    },
}


def escalation_mail(settings: Settings, notice: _Notice) -> OutgoingMail:
    """The e-mail that tells a team lead about a breach, in the lead's language."""
    words = WORDING["en" if notice.language.startswith("en") else "zh-TW"]
    clocks = words["join"].join(words[name] for name in notice.clocks)
    values = {"id": notice.case_id, "title": notice.title, "team": notice.team,
              "priority": notice.priority, "clocks": clocks}  # fmt: skip
    link = f"{settings.public_url.rstrip('/')}/cases/{notice.case_id}"
    text = words["body"].format(**values)
    return OutgoingMail(
        to_address=notice.to,
        to_name=None,
        subject=words["subject"].format(**values),
        text=f"{text}\n\n{link}\n",
        html=(
            '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
            f'<p>{escape(text)}</p><p><a href="{escape(link)}">{escape(link)}</a></p>'
            "</body></html>"
        ),
    )


def _send(settings: Settings, notices: list[_Notice]) -> tuple[int, list[str]]:
    if not notices:
        return 0, []
    sent, failures = 0, []
    with Mailer(settings) as mailer:
        for notice in notices:
            try:
                mailer.send(escalation_mail(settings, notice))
                sent += 1
            except (MailError, InvalidInput) as exc:
                failures.append(f"case {notice.case_id} to {notice.to}: {exc}")
    return sent, failures
