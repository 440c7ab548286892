"""SLA policies per priority and the two clocks of a case (first response, resolution).

Targets are business minutes from the ``sla_policy`` table, or :data:`DEFAULT_POLICIES`
for a priority without a row. Clocks run in the calendar of the case's team (the YAML
file in ``team.calendar``), else in Taiwan's shipped calendar. They stand still while
the case waits on the customer: the periods between a ``status`` event to
``waiting_on_customer`` and the next ``status`` event away from it.

The target of a case is that of its priority before any escalation: raising the
priority on a breach does not move the clock that breached.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.domain.business_hours import BusinessCalendar, business_seconds_between
from cxloop.domain.errors import InvalidInput
from cxloop.domain.routing_rules import PRIORITY_ORDER
from cxloop.domain.sla_clock import OpenPause, SlaClock, sla_status
from cxloop.domain.vocab import CaseStatus
from cxloop.loop.calendars import load_calendar
from cxloop.store.tables import Case, CaseEvent, SlaPolicy, Team

#: Business minutes (first response, resolution) per priority when none is configured.
DEFAULT_POLICIES: dict[str, tuple[int, int]] = {
    "urgent": (60, 8 * 60),
    "high": (4 * 60, 24 * 60),
    "normal": (8 * 60, 40 * 60),
    "low": (16 * 60, 80 * 60),
}
OPEN_STATUSES = (
    CaseStatus.NEW.value,
    CaseStatus.IN_PROGRESS.value,
    CaseStatus.WAITING_ON_CUSTOMER.value,
)
WAITING = CaseStatus.WAITING_ON_CUSTOMER.value
CLOCKS = ("first_response", "resolution")
_HISTORY_KINDS = ("status", "escalated", "priority")


@dataclass(frozen=True)
class Policy:
    """SLA targets of one priority; ``configured`` is False for a built-in default."""

    priority: str
    first_response_minutes: int
    resolution_minutes: int
    configured: bool


@dataclass(frozen=True)
class CaseSla:
    """The two clocks of one case (None where the case has no due time)."""

    first_response: SlaClock | None
    resolution: SlaClock | None


def load_policies(session: Session) -> dict[str, Policy]:
    """The policy of every priority: configured rows, else the defaults."""
    rows = {row.priority: row for row in session.scalars(select(SlaPolicy))}
    policies = {}
    for priority in PRIORITY_ORDER:
        row = rows.get(priority)
        if row is None:
            first, resolution = DEFAULT_POLICIES[priority]
            policies[priority] = Policy(priority, first, resolution, configured=False)
        else:
            policies[priority] = Policy(
                priority, row.first_response_minutes, row.resolution_minutes, True
            )
    return policies


@lru_cache(maxsize=64)
def _calendar_file(path: str | None, stamp: int) -> BusinessCalendar:  # noqa: ARG001
    """A parsed calendar, kept until its file changes (``stamp`` is its mtime)."""
    return load_calendar(path)


def calendar_at(path: str | None) -> BusinessCalendar:
    """The calendar in the YAML file at ``path``, or Taiwan's when None."""
    if path is None:
        return _calendar_file(None, 0)
    try:
        stamp = Path(path).stat().st_mtime_ns
    except OSError:
        msg = f"{path}: no such calendar file"
        raise InvalidInput(msg) from None
    return _calendar_file(path, stamp)


def team_calendar(session: Session, team_id: int | None) -> BusinessCalendar:
    """The calendar of the team (its ``calendar`` file), else Taiwan's."""
    path = None
    if team_id is not None:
        path = session.scalar(select(Team.calendar).where(Team.id == team_id))
    return calendar_at(path or None)


def status_pauses(
    changes: Iterable[tuple[datetime, Mapping[str, Any] | None]],
) -> list[OpenPause]:
    """Periods spent waiting on the customer, from ``status`` events in time order.

    Each change is ``(at, data)`` with ``data`` ``{"from": ..., "to": ...}``; a pause
    still running at the last change has the end None.
    """
    pauses: list[OpenPause] = []
    started: datetime | None = None
    for at, data in changes:
        to = (data or {}).get("to")
        if to == WAITING and started is None:
            started = at
        elif to != WAITING and started is not None:
            pauses.append((started, at))
            started = None
    if started is not None:
        pauses.append((started, None))
    return pauses


@dataclass(frozen=True)
class CaseHistory:
    """What the clocks need from a case's events."""

    pauses: Sequence[OpenPause] = ()
    priority_before_escalation: str | None = None
    escalated_to: str | None = None

    def sla_priority(self, current: str) -> str:
        """The priority whose policy counts: the one before escalation while the
        case still has the priority the last escalation gave it."""
        if self.priority_before_escalation and current == self.escalated_to:
            return self.priority_before_escalation
        return current


def history_of(events: Iterable[CaseEvent]) -> CaseHistory:
    """Pauses, and the priority before escalation, from a case's events.

    Escalations in a row keep the priority the first one started from; a ``priority``
    event (a person's choice) ends that, so the chosen priority's policy applies.
    """
    ordered = sorted(events, key=lambda e: (e.at, e.id))
    statuses = [(e.at, e.data) for e in ordered if e.kind == "status"]
    before: str | None = None
    escalated_to: str | None = None
    for event in ordered:
        data = event.data or {}
        if event.kind == "priority":
            before = escalated_to = None
        elif event.kind == "escalated":
            if before is None:
                before = data.get("from") if isinstance(data.get("from"), str) else None
            escalated_to = data.get("to") if isinstance(data.get("to"), str) else None
    return CaseHistory(status_pauses(statuses), before, escalated_to)


def load_history(session: Session, case_ids: Sequence[int]) -> dict[int, CaseHistory]:
    """The :class:`CaseHistory` of each case (cases without events are left out)."""
    events: dict[int, list[CaseEvent]] = {}
    for start in range(0, len(case_ids), 500):
        chunk = case_ids[start : start + 500]
        query = select(CaseEvent).where(
            CaseEvent.case_id.in_(chunk), CaseEvent.kind.in_(_HISTORY_KINDS)
        )
        for event in session.scalars(query):
            events.setdefault(event.case_id, []).append(event)
    return {case_id: history_of(found) for case_id, found in events.items()}


def clocks_of(
    case: Case,
    *,
    now: datetime,
    policies: Mapping[str, Policy],
    calendar: BusinessCalendar,
    history: CaseHistory,
) -> CaseSla:
    """Both clocks of ``case`` at ``now`` from already loaded parts."""
    priority = history.sla_priority(case.priority)
    policy = policies.get(priority) or policies["normal"]
    resolved = case.resolved_at or case.closed_at
    return CaseSla(
        first_response=sla_status(
            calendar,
            target_seconds=policy.first_response_minutes * 60,
            start=case.opened_at,
            now=now,
            pauses=history.pauses,
            stopped_at=case.first_response_at or resolved,
        ),
        resolution=sla_status(
            calendar,
            target_seconds=policy.resolution_minutes * 60,
            start=case.opened_at,
            now=now,
            pauses=history.pauses,
            stopped_at=resolved,
        ),
    )


@dataclass(frozen=True)
class Outcome:
    """Where one clock stands, without its due time (cheaper, for reports).

    ``elapsed_seconds`` is the business time used up to the stop, or to ``now``
    while the clock runs; the target is met while it is at most ``target_seconds``.
    """

    target_seconds: float
    elapsed_seconds: float
    stopped: bool

    @property
    def breached(self) -> bool:
        return self.elapsed_seconds > self.target_seconds


def outcomes_of(
    case: Case,
    *,
    now: datetime,
    policies: Mapping[str, Policy],
    calendar: BusinessCalendar,
    history: CaseHistory,
) -> tuple[Outcome, Outcome]:
    """The first-response and resolution :class:`Outcome` of ``case`` at ``now``."""
    policy = policies.get(history.sla_priority(case.priority)) or policies["normal"]
    resolved = case.resolved_at or case.closed_at
    result = []
    for minutes, stop in (
        (policy.first_response_minutes, case.first_response_at or resolved),
        (policy.resolution_minutes, resolved),
    ):
        stopped = stop is not None and stop <= now
        end = stop if stop is not None and stopped else now
        pauses = [(start, end if until is None else until) for start, until in history.pauses
                  if until is not None or start <= end]  # fmt: skip
        elapsed = business_seconds_between(calendar, case.opened_at, end, pauses)
        result.append(Outcome(minutes * 60.0, elapsed, stopped))
    return result[0], result[1]


def case_sla(session: Session, case: Case, *, now: datetime) -> CaseSla:
    """The case's first-response and resolution clocks at ``now``."""
    history = CaseHistory()
    if case.id is not None:
        history = load_history(session, [case.id]).get(case.id, history)
    return clocks_of(
        case,
        now=now,
        policies=load_policies(session),
        calendar=team_calendar(session, case.team_id),
        history=history,
    )


def apply_policy(session: Session, case: Case, *, now: datetime) -> None:
    """Set the case's two due times from its priority's policy and team calendar.

    Call it when a case opens (after routing, so the team's calendar counts), and
    again after a change of priority or team, or when the case stops waiting on the
    customer, so the stored due times include the pauses so far.
    """
    clocks = case_sla(session, case, now=now)
    if clocks.first_response is not None:
        case.first_response_due_at = clocks.first_response.due_at.astimezone(UTC)
    if clocks.resolution is not None:
        case.resolution_due_at = clocks.resolution.due_at.astimezone(UTC)
