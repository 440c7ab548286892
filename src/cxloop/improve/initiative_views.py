"""Reading initiatives: the views the pages, the API and the CLI show.

:class:`InitiativeView` is an initiative with its actions and Checks; :func:`board`
groups them by stage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput, NotFound
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import Initiative, InitiativeAction, InitiativeCheck

STAGES = ("plan", "do", "check", "act", "closed")
#: The stages the board shows as columns (closed initiatives are listed apart).
BOARD_STAGES = ("plan", "do", "check", "act")
VERDICTS = ("improved", "no_detectable_change", "worse")


def stored_outcome(verdict: str) -> str:
    """The verdict as the outcome column holds it."""
    if verdict not in VERDICTS:
        raise InvalidInput(f"unknown outcome {verdict!r}")
    return verdict


@dataclass(frozen=True)
class ActionView:
    """A step of the plan, with its owner, due date and when it was done."""

    id: int
    initiative_id: int
    title: str
    owner: str | None
    due_date: date | None
    done_at: datetime | None


@dataclass(frozen=True)
class CheckView:
    """A stored Check: its time, verdict and the figures (see ``checks.CheckResult``)."""

    id: int
    checked_at: datetime
    outcome: str
    result: dict[str, Any]


@dataclass(frozen=True)
class InitiativeView:
    """An initiative with its actions and checks (the newest check first)."""

    id: int
    title: str
    owner: str | None
    problem: str | None
    evidence: dict[str, Any] | None
    metric: str
    scope: dict[str, str]
    comparison: dict[str, str] | None
    baseline_from: date | None
    baseline_to: date | None
    baseline: dict[str, Any] | None
    target_value: float | None
    target_date: date | None
    change_date: date | None
    stage: str
    stage_dates: dict[str, str]
    outcome: str | None
    decision: str | None
    standard: str | None
    parent_id: int | None
    created_at: datetime
    updated_at: datetime
    actions: list[ActionView]
    checks: list[CheckView]

    @property
    def latest_check(self) -> CheckView | None:
        """The newest Check, if any."""
        return self.checks[0] if self.checks else None


@dataclass(frozen=True)
class Board:
    """Initiatives by stage: ``columns`` for Plan, Do, Check and Act, then closed."""

    columns: dict[str, list[InitiativeView]]
    closed: list[InitiativeView]


def get_initiative(*, settings: Settings, initiative_id: int) -> InitiativeView:
    """One initiative with its actions and checks; NotFound when there is none."""
    found = _views(settings, [initiative_id])
    if not found:
        raise NotFound(f"no initiative {initiative_id}")
    return found[0]


def list_initiatives(
    *, settings: Settings, stage: str | None = None
) -> list[InitiativeView]:
    """Every initiative (of one stage when given), the newest first."""
    if stage is not None and stage not in STAGES:
        raise InvalidInput(
            f"unknown stage {stage!r}: choose one of {', '.join(STAGES)}"
        )
    query = select(Initiative.id).order_by(Initiative.id.desc())
    if stage is not None:
        query = query.where(Initiative.stage == stage)
    with engine_for(settings.database_url).connect() as connection:
        ids = list(connection.scalars(query))
    return _views(settings, ids)


def board(*, settings: Settings) -> Board:
    """The initiatives grouped by stage, for the board view."""
    views = list_initiatives(settings=settings)
    columns = {stage: [v for v in views if v.stage == stage] for stage in BOARD_STAGES}
    return Board(columns=columns, closed=[v for v in views if v.stage == "closed"])


def _views(settings: Settings, ids: list[int]) -> list[InitiativeView]:
    if not ids:
        return []
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        rows = session.scalars(select(Initiative).where(Initiative.id.in_(ids))).all()
        actions = session.scalars(
            select(InitiativeAction)
            .where(InitiativeAction.initiative_id.in_(ids))
            .order_by(InitiativeAction.id)
        ).all()
        checks = session.scalars(
            select(InitiativeCheck)
            .where(InitiativeCheck.initiative_id.in_(ids))
            .order_by(InitiativeCheck.checked_at.desc(), InitiativeCheck.id.desc())
        ).all()
        by_id = {row.id: row for row in rows}
        return [
            _view(by_id[i], [action_view(a) for a in actions if a.initiative_id == i],
                  [check_view(c) for c in checks if c.initiative_id == i])
            for i in ids
            if i in by_id
        ]  # fmt: skip


def _view(
    row: Initiative, actions: list[ActionView], checks: list[CheckView]
) -> InitiativeView:
    fields = {name: getattr(row, name) for name in _FIELDS}
    fields["outcome"] = row.outcome
    fields["scope"] = dict(row.scope or {})
    dates = row.stage_dates or {}  # JSONB does not keep the order: restore it
    fields["stage_dates"] = {stage: dates[stage] for stage in STAGES if stage in dates}
    return InitiativeView(**fields, actions=actions, checks=checks)


_FIELDS = tuple(
    name
    for name in InitiativeView.__dataclass_fields__
    if name not in ("actions", "checks")
)


def action_view(row: InitiativeAction) -> ActionView:
    return ActionView(
        id=row.id, initiative_id=row.initiative_id, title=row.title, owner=row.owner,
        due_date=row.due_date, done_at=row.done_at,
    )  # fmt: skip


def check_view(row: InitiativeCheck) -> CheckView:
    outcome = row.outcome
    return CheckView(
        id=row.id, checked_at=row.checked_at, outcome=outcome, result=row.result
    )
