"""Recovery: detractors who later answer as passives or promoters.

A *detractor* is a customer with an NPS answer of 0-6 in the window (business-zone
days); the first such answer is their reference. They are *recovered* when any later
NPS answer of theirs (at any time after the reference, also after the window) is 7 or
more: a *promoter* when the best later answer is 9-10, else a *passive*. Detractors
who have not answered again count as not (yet) recovered, so the rate is
``recovered / detractors``; ``rate_answered`` is ``recovered / answered_again``.

The case opened for a detractor is the case whose ``interaction_id`` is the
detractor answer, else the customer's first case opened within
:data:`CASE_WINDOW` after it. Its team and agent (see :mod:`cxloop.loop.case_facts`)
give the rows of ``by="team"`` / ``"agent"`` / ``"channel"``; detractors without such a
case have the group None.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput
from cxloop.loop.case_facts import CaseFact, cases_opened, utc_bounds
from cxloop.store.engine import engine_for
from cxloop.store.tables import Answer, Interaction

#: How long after a detractor answer a case of the customer counts as opened for it.
CASE_WINDOW = timedelta(days=14)
#: Highest NPS answer of a detractor; a later answer above it and 7 or more recovers.
DETRACTOR_MAX = 6
#: Groups a recovery report can be cut by (fields of the case opened).
RECOVERY_CUTS = ("team", "agent", "channel")


@dataclass(frozen=True)
class Detractor:
    """A detractor's reference answer, what came after it and the case opened."""

    customer_id: int
    interaction_id: int
    answered_at: datetime
    score: float
    best_later: float | None
    case: CaseFact | None

    @property
    def recovered(self) -> bool:
        return self.best_later is not None and self.best_later >= 7


@dataclass(frozen=True)
class RecoveryRow:
    """Recovery of one group (``group`` None: overall, or detractors with no case)."""

    group: str | None
    detractors: int
    answered_again: int
    recovered: int
    promoters: int
    passives: int

    @property
    def rate(self) -> float | None:
        """% of detractors recovered (None without detractors)."""
        return 100.0 * self.recovered / self.detractors if self.detractors else None

    @property
    def rate_answered(self) -> float | None:
        """% recovered among the detractors who answered again."""
        if not self.answered_again:
            return None
        return 100.0 * self.recovered / self.answered_again


@dataclass(frozen=True)
class RecoveryReport:
    """Overall recovery and, with ``by``, one row per group."""

    date_from: date | None
    date_to: date | None
    by: str | None
    overall: RecoveryRow
    rows: tuple[RecoveryRow, ...] = ()


def recovery_report(
    *,
    settings: Settings,
    date_from: date | None,
    date_to: date | None,
    by: str | None = None,
) -> RecoveryReport:
    """Detractors of the window and how many recovered, overall and per ``by``.

    Raises
    ------
    InvalidInput
        An unknown ``by`` or a window that ends before it starts.
    """
    if by is not None and by not in RECOVERY_CUTS:
        raise InvalidInput(f"by {by!r}: choose one of {', '.join(RECOVERY_CUTS)}")
    start, end = utc_bounds(settings.timezone, date_from, date_to)
    with Session(engine_for(settings.database_url)) as session:
        found = detractors(session, start, end)
    rows: tuple[RecoveryRow, ...] = ()
    if by is not None:
        groups: dict[str | None, list[Detractor]] = defaultdict(list)
        for item in found:
            groups[None if item.case is None else getattr(item.case, by)].append(item)
        ordered = sorted(groups.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))
        rows = tuple(tally(group, items) for group, items in ordered)
    return RecoveryReport(date_from, date_to, by, tally(None, found), rows)


def tally(group: str | None, items: list[Detractor]) -> RecoveryRow:
    """The counts of a list of detractors."""
    again = [d for d in items if d.best_later is not None]
    recovered = [d for d in again if d.recovered]
    promoters = sum(1 for d in recovered if (d.best_later or 0) >= 9)
    return RecoveryRow(
        group, len(items), len(again), len(recovered), promoters,
        len(recovered) - promoters,
    )  # fmt: skip


def detractors(
    session: Session, start: datetime | None, end: datetime | None
) -> list[Detractor]:
    """Each detractor of ``[start, end)`` with their best later answer and their case.

    One read of the NPS answers from ``start`` on (later answers come after the
    reference, so nothing before ``start`` is needed) and one of the cases.
    """
    query = (
        select(
            Interaction.customer_id,
            Interaction.id,
            Interaction.occurred_at,
            Answer.value,
        )
        .join(Answer, Answer.interaction_id == Interaction.id)
        .where(
            Answer.metric == "nps",
            Answer.value.is_not(None),
            Interaction.customer_id.is_not(None),
        )
        .order_by(Interaction.customer_id, Interaction.occurred_at, Interaction.id)
    )
    if start is not None:
        query = query.where(Interaction.occurred_at >= start)
    first: dict[int, tuple[int, datetime, float]] = {}
    later: dict[int, float] = {}
    for customer_id, interaction_id, at, value in session.execute(query):
        if customer_id is None or value is None:
            continue
        if customer_id in first:
            later[customer_id] = max(later.get(customer_id, -1.0), float(value))
        elif value <= DETRACTOR_MAX and (end is None or at < end):
            first[customer_id] = (interaction_id, at, float(value))
    cases = _cases_for(session, first, start)
    return [
        Detractor(cid, iid, at, score, later.get(cid), cases.get(cid))
        for cid, (iid, at, score) in first.items()
    ]


def _cases_for(
    session: Session,
    first: dict[int, tuple[int, datetime, float]],
    start: datetime | None,
) -> dict[int, CaseFact]:
    """The case opened for each detractor answer, by customer id."""
    found: dict[int, CaseFact] = {}
    candidates = [
        case for case in cases_opened(session, start, None) if case.customer_id in first
    ]
    by_interaction = {c.interaction_id: c for c in candidates if c.interaction_id}
    for customer_id, (interaction_id, _, _) in first.items():
        linked = by_interaction.get(interaction_id)
        if linked is not None:
            found[customer_id] = linked
    for case in sorted(candidates, key=lambda c: (c.opened_at, c.id)):
        cid = case.customer_id
        if cid is None or cid in found:
            continue
        _, at, _ = first[cid]
        if at <= case.opened_at <= at + CASE_WINDOW:
            found[cid] = case
    return found
