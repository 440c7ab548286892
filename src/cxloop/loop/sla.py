"""SLAs: due times of a case, its clocks, escalation on breach and the SLA report.

The clocks live in :mod:`cxloop.loop.sla_clocks`, escalation in
:mod:`cxloop.loop.sla_escalation`; this module is the one other parts import.

A clock counts as *met* when it stopped within its target, *missed* when more than
the target has been used (whether it stopped or still runs), and is left out of the
report's percentages while it still runs within its target.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.domain.business_hours import BusinessCalendar
from cxloop.domain.errors import InvalidInput
from cxloop.domain.opening_hours import WEEKDAYS
from cxloop.loop.sla_clocks import (
    DEFAULT_POLICIES,
    CaseHistory,
    CaseSla,
    Outcome,
    Policy,
    apply_policy,
    calendar_at,
    case_sla,
    load_history,
    load_policies,
    outcomes_of,
    team_calendar,
)
from cxloop.loop.sla_escalation import EscalationSummary, escalate_breaches
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import Case, Team, User
from cxloop.store.types import utcnow

__all__ = [
    "DEFAULT_POLICIES",
    "CalendarSummary",
    "CaseSla",
    "EscalationSummary",
    "Policy",
    "SlaRow",
    "apply_policy",
    "case_sla",
    "check_calendar",
    "escalate_breaches",
    "list_policies",
    "sla_report",
]

ReportBy = Literal["team", "agent"]
NO_TEAM = "(no team)"
NO_AGENT = "(unassigned)"


@dataclass(frozen=True)
class SlaRow:
    """SLA results of the cases of one team or agent.

    Attributes
    ----------
    group
        The team key or the agent's e-mail (``(no team)``, ``(unassigned)``).
    cases
        Cases opened in the period.
    first_response_measured, first_response_met, first_response_pct
        Clocks with a known outcome, those met, and the percentage met (None
        without any measured clock); likewise for ``resolution_*``.
    median_first_response_minutes, median_resolution_minutes
        Median business minutes to the first response and to the resolution, over
        the cases that got there (None when none did).
    """

    group: str
    cases: int
    first_response_measured: int
    first_response_met: int
    first_response_pct: float | None
    resolution_measured: int
    resolution_met: int
    resolution_pct: float | None
    median_first_response_minutes: float | None
    median_resolution_minutes: float | None


@dataclass(frozen=True)
class CalendarSummary:
    """What a business calendar file holds, for checking it by eye."""

    name: str
    timezone: str
    weekly: tuple[str, ...]
    weekly_hours: float
    holidays_per_year: dict[int, int]
    working_days: int
    coming: tuple[str, ...]


def check_calendar(
    *, path: str, today: date | None = None, coming: int = 6
) -> CalendarSummary:
    """Load a calendar file (errors name the line and field) and summarise it.

    ``coming`` lists the next closed dates and extra working days from ``today``.
    """
    calendar = calendar_at(path)
    day = today or utcnow().astimezone(ZoneInfo(calendar.timezone)).date()
    weekly = tuple(
        f"{WEEKDAYS[i]} {', '.join(map(str, hours)) or 'closed'}"
        for i, hours in enumerate(calendar.weekly)
    )
    seconds = sum(
        interval.end - interval.start for hours in calendar.weekly for interval in hours
    )
    per_year: dict[int, int] = {}
    for holiday in calendar.holidays:
        per_year[holiday.year] = per_year.get(holiday.year, 0) + 1
    special = [
        (d, f"closed: {name}" if name else "closed")
        for d, name in calendar.holidays.items()
    ]
    special += [
        (d, f"open {', '.join(map(str, h))}") for d, h in calendar.working_days.items()
    ]
    upcoming = sorted(item for item in special if item[0] >= day)[:coming]
    return CalendarSummary(
        name=calendar.name,
        timezone=calendar.timezone,
        weekly=weekly,
        weekly_hours=seconds / 3600,
        holidays_per_year=dict(sorted(per_year.items())),
        working_days=len(calendar.working_days),
        coming=tuple(f"{d.isoformat()} {text}" for d, text in upcoming),
    )


def list_policies(*, settings: Settings) -> list[Policy]:
    """The SLA policy of every priority, lowest first (defaults where none is set)."""
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        return list(load_policies(session).values())


def sla_report(
    *,
    settings: Settings,
    date_from: date | None = None,
    date_to: date | None = None,
    by: ReportBy = "team",
    now: datetime | None = None,
) -> list[SlaRow]:
    """% of first responses and resolutions within target per team or agent.

    Cases count when opened from ``date_from`` through ``date_to`` (whole days in
    ``settings.timezone``; either end may be open). Rows are sorted by group.
    """
    if by not in ("team", "agent"):
        msg = f"--by {by!r}: choose team or agent"
        raise InvalidInput(msg)
    if date_from and date_to and date_to < date_from:
        msg = f"--to {date_to} is before --from {date_from}"
        raise InvalidInput(msg)
    moment = now or utcnow()
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        rows = _cases(session, settings.timezone, date_from, date_to, by)
        histories = load_history(session, [case.id for case, _ in rows])
        policies = load_policies(session)
        calendars: dict[int | None, BusinessCalendar] = {}
        grouped: dict[str, list[tuple[Outcome, Outcome]]] = {}
        for case, group in rows:
            if case.team_id not in calendars:
                calendars[case.team_id] = team_calendar(session, case.team_id)
            clocks = outcomes_of(
                case,
                now=moment,
                policies=policies,
                calendar=calendars[case.team_id],
                history=histories.get(case.id, CaseHistory()),
            )
            grouped.setdefault(group, []).append(clocks)
    return [_row(group, grouped[group]) for group in sorted(grouped)]


def _cases(
    session: Session,
    timezone: str,
    date_from: date | None,
    date_to: date | None,
    by: ReportBy,
) -> list[tuple[Case, str]]:
    zone = ZoneInfo(timezone)
    if by == "team":
        query = select(Case, Team.key).outerjoin(Team, Team.id == Case.team_id)
    else:
        query = select(Case, User.email).outerjoin(User, User.id == Case.owner_id)
    if date_from is not None:
        query = query.where(Case.opened_at >= datetime.combine(date_from, time(), zone))
    if date_to is not None:
        end = datetime.combine(date_to + timedelta(days=1), time(), zone)
        query = query.where(Case.opened_at < end)
    result = []
    for case, name in session.execute(query.order_by(Case.id)):
        legacy = case.team if by == "team" else case.owner
        fallback = NO_TEAM if by == "team" else NO_AGENT
        result.append((case, name or legacy or fallback))
    return result


def _row(group: str, clocks: Sequence[tuple[Outcome, Outcome]]) -> SlaRow:
    first = _outcomes(c[0] for c in clocks)
    resolution = _outcomes(c[1] for c in clocks)
    return SlaRow(
        group=group,
        cases=len(clocks),
        first_response_measured=first[0],
        first_response_met=first[1],
        first_response_pct=_pct(first[1], first[0]),
        resolution_measured=resolution[0],
        resolution_met=resolution[1],
        resolution_pct=_pct(resolution[1], resolution[0]),
        median_first_response_minutes=first[2],
        median_resolution_minutes=resolution[2],
    )


def _outcomes(clocks: Iterable[Outcome]) -> tuple[int, int, float | None]:
    """(measured, met, median business minutes of the stopped clocks)."""
    measured = met = 0
    stopped: list[float] = []
    for clock in clocks:
        if clock.stopped:
            stopped.append(clock.elapsed_seconds / 60)
        if clock.stopped or clock.breached:
            measured += 1
            met += not clock.breached
    median = round(statistics.median(stopped), 1) if stopped else None
    return measured, met, median


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None
