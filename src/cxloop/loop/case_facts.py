"""Cases as plain rows for the service metrics, the leaderboard and recovery.

A case's team is its routed team's key (``team.key``), else the team text it was
imported with; its agent is the owner's name (or e-mail), else the imported owner
text (empty texts count as none). Windows are business-zone dates
(``Settings.timezone``), both ends inclusive.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row, Select, func, select
from sqlalchemy.orm import Session

from cxloop.domain.errors import InvalidInput
from cxloop.store.tables import Case, Team, User

CHUNK = 500


@dataclass(frozen=True)
class CaseFact:
    """What the metrics read of one case (times are aware, UTC)."""

    id: int
    customer_id: int | None
    interaction_id: int | None
    team: str | None
    agent: str | None
    channel: str | None
    opened_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    first_response_due_at: datetime | None
    resolution_due_at: datetime | None
    contacts: int
    handling_seconds: int | None
    followup_score: float | None
    followup_solved: bool | None


def utc_bounds(
    zone: str, date_from: date | None, date_to: date | None
) -> tuple[datetime | None, datetime | None]:
    """``[start, end)`` in UTC of business-zone days ``date_from`` .. ``date_to``."""
    if date_from is not None and date_to is not None and date_to < date_from:
        raise InvalidInput(f"--to {date_to} is before --from {date_from}")
    tz = ZoneInfo(zone)

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(), tz).astimezone(UTC)

    start = midnight(date_from) if date_from is not None else None
    end = midnight(date_to + timedelta(days=1)) if date_to is not None else None
    return start, end


def _query() -> Select[*tuple[Any, ...]]:
    agent = func.coalesce(User.name, User.email, Case.owner)
    return (
        select(
            Case.id,
            Case.customer_id,
            Case.interaction_id,
            func.coalesce(Team.key, Case.team),
            agent,
            Case.channel,
            Case.opened_at,
            Case.first_response_at,
            Case.resolved_at,
            Case.first_response_due_at,
            Case.resolution_due_at,
            Case.contacts,
            Case.handling_seconds,
            Case.followup_score,
            Case.followup_solved,
        )
        .outerjoin(Team, Team.id == Case.team_id)
        .outerjoin(User, User.id == Case.owner_id)
        .order_by(Case.id)
    )


def _fact(row: Row[Any]) -> CaseFact:
    fields = list(row)
    fields[3] = fields[3] or None  # team ("" from an import counts as none)
    fields[4] = fields[4] or None  # agent
    fields[5] = fields[5] or None  # channel
    fields[11] = fields[11] if fields[11] is not None else 1  # contacts
    return CaseFact(*fields)


def cases_opened(
    session: Session, start: datetime | None, end: datetime | None
) -> list[CaseFact]:
    """The cases opened in ``[start, end)`` (an open end is unbounded)."""
    query = _query()
    if start is not None:
        query = query.where(Case.opened_at >= start)
    if end is not None:
        query = query.where(Case.opened_at < end)
    return [_fact(row) for row in session.execute(query)]


def chunks(values: Sequence[int]) -> Iterable[Sequence[int]]:
    """``values`` in slices small enough for an ``IN (...)`` list."""
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]
