"""PDCA improvement initiatives in the store: plan, do, check, act.

An initiative names a problem and its evidence, a goal metric (NPS, CSAT or CES) in a
scope of metric filters (``{"touchpoint": "宅配", "region": "北部"}``), the baseline of
that metric over a window, a target and the actions planned. It moves through the
stages Plan → Do → Check → Act → Closed, and the time each stage was entered is kept
in ``stage_dates``. Entering Do records the day the change went live; entering Check
runs the Check (:mod:`cxloop.improve.checks`); in Act the change is standardised or
adjusted (a new Plan linked to this one)::

    view = create_initiative(settings=settings, title="準時宅配", metric="nps",
                             scope={"touchpoint": "宅配"})
    advance(settings=settings, initiative_id=view.id, to_stage="do",
            change_date=date(2025, 9, 1))
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session as DBSession

from cxloop.analytics import queries
from cxloop.analytics.service import open_session, parse_where
from cxloop.analytics.session import Session
from cxloop.config import Settings
from cxloop.domain.errors import Conflict, InvalidInput, NotFound
from cxloop.domain.metrics import MetricResult
from cxloop.improve.initiative_views import (
    BOARD_STAGES,
    STAGES,
    VERDICTS,
    ActionView,
    Board,
    CheckView,
    InitiativeView,
    action_view,
    board,
    check_view,
    get_initiative,
    list_initiatives,
    stored_outcome,
)
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import Initiative, InitiativeAction, InitiativeCheck
from cxloop.store.types import utcnow

NEXT_STAGE = {"plan": "do", "do": "check", "check": "act", "act": "closed"}
EVIDENCE_KINDS = ("topic", "touchpoint", "driver", "segment", "check")
#: Days of the default baseline window (ending on the last day with data).
BASELINE_DAYS = 90

__all__ = [
    "BASELINE_DAYS", "BOARD_STAGES", "EVIDENCE_KINDS", "NEXT_STAGE", "STAGES",
    "VERDICTS", "ActionView", "Board", "CheckView", "InitiativeView", "add_action",
    "adjust", "advance", "board", "check_filters", "complete_action",
    "compute_baseline", "create_initiative", "get_initiative", "list_initiatives",
    "measure", "record_check", "standardise", "update_initiative",
]  # fmt: skip


def check_filters(filters: Mapping[str, str] | None, what: str) -> dict[str, str]:
    """Metric filters checked like ``--where`` (unknown fields listed with the known)."""
    checked = parse_where(
        f"{field}={value}" for field, value in (filters or {}).items()
    )
    for field, value in checked.items():
        if not value:
            msg = f"{what} filter {field!r} needs a value ({field}=VALUE)"
            raise InvalidInput(msg)
    return checked


def _check_evidence(evidence: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if evidence is None:
        return None
    kind, value = evidence.get("kind"), evidence.get("value")
    if kind not in EVIDENCE_KINDS:
        msg = f"evidence kind {kind!r} is unknown: choose one of {', '.join(EVIDENCE_KINDS)}"
        raise InvalidInput(msg)
    if not isinstance(value, str | int) or not str(value).strip():
        msg = f"evidence of kind {kind} needs a value (which {kind})"
        raise InvalidInput(msg)
    return dict(evidence)


def measure(
    session: Session, metric: str, where: Mapping[str, str], first: date, last: date
) -> MetricResult:
    """The metric in ``where`` over ``[first, last]`` on an open analytics session."""
    change = session.metric_summary(
        metric=metric, date_from=first, date_to=last, where=where
    )
    return change.current


def _baseline_window(
    session: Session, first: date | None, last: date | None
) -> tuple[date, date] | None:
    span = timedelta(days=BASELINE_DAYS - 1)
    if first is not None and last is not None:
        queries.check_dates(first, last)
        return first, last
    if first is not None:
        return first, first + span
    if last is not None:
        return last - span, last
    known = session.data_range()
    return None if known is None else (known[1] - span, known[1])


def compute_baseline(
    *,
    settings: Settings,
    metric: str,
    scope: Mapping[str, str],
    baseline_from: date | None = None,
    baseline_to: date | None = None,
) -> tuple[date | None, date | None, dict[str, Any]]:
    """The baseline window and the metric over it (value, n, moe, se, computed_at).

    Without dates the window is the :data:`BASELINE_DAYS` days up to the last day with
    data; with one date, the other end is that many days away.
    """
    with open_session(settings=settings) as session:
        window = _baseline_window(session, baseline_from, baseline_to)
        found = None if window is None else measure(session, metric, scope, *window)
    figures = {
        "value": found.value if found else None,
        "n": found.n if found else 0,
        "moe": found.moe if found else None,
        "se": found.se if found else None,
        "computed_at": utcnow().isoformat(timespec="seconds"),
    }
    return (window or (None, None))[0], (window or (None, None))[1], figures


def create_initiative(
    *,
    settings: Settings,
    title: str,
    metric: str,
    scope: Mapping[str, str] | None = None,
    owner: str | None = None,
    problem: str | None = None,
    evidence: Mapping[str, Any] | None = None,
    comparison: Mapping[str, str] | None = None,
    baseline_from: date | None = None,
    baseline_to: date | None = None,
    target_value: float | None = None,
    target_date: date | None = None,
    parent_id: int | None = None,
) -> InitiativeView:
    """Plan a new initiative and compute its baseline (see :func:`compute_baseline`)."""
    if not title.strip():
        raise InvalidInput("an initiative needs a title")
    queries.parse_metric(metric)
    scope_ = check_filters(scope, "scope")
    comparison_ = check_filters(comparison, "comparison") if comparison else None
    first, last, baseline = compute_baseline(
        settings=settings, metric=metric, scope=scope_,
        baseline_from=baseline_from, baseline_to=baseline_to,
    )  # fmt: skip
    row = Initiative(
        title=title.strip(), owner=_text(owner), problem=_text(problem),
        evidence=_check_evidence(evidence), metric=metric, scope=scope_,
        comparison=comparison_, baseline_from=first, baseline_to=last,
        baseline=baseline, target_value=target_value, target_date=target_date,
        stage="plan", stage_dates={"plan": _now()}, parent_id=parent_id,
    )  # fmt: skip
    with _uow(settings).session() as session:
        session.add(row)
        session.flush()
        new_id = row.id
    return get_initiative(settings=settings, initiative_id=new_id)


def update_initiative(
    *,
    settings: Settings,
    initiative_id: int,
    title: str | None = None,
    owner: str | None = None,
    problem: str | None = None,
    target_value: float | None = None,
    target_date: date | None = None,
) -> InitiativeView:
    """Change the descriptive fields and the target (None leaves a field as it is)."""
    if title is not None and not title.strip():
        raise InvalidInput("an initiative needs a title")
    with _uow(settings).session() as session:
        row = _row(session, initiative_id)
        changes = {"title": title and title.strip(), "owner": _text(owner),
                   "problem": _text(problem), "target_value": target_value,
                   "target_date": target_date}  # fmt: skip
        for name, value in changes.items():
            if value is not None:
                setattr(row, name, value)
    return get_initiative(settings=settings, initiative_id=initiative_id)


def add_action(
    *,
    settings: Settings,
    initiative_id: int,
    title: str,
    owner: str | None = None,
    due_date: date | None = None,
) -> ActionView:
    """Add a step to the plan of an open initiative."""
    if not title.strip():
        raise InvalidInput("an action needs a title")
    with _uow(settings).session() as session:
        row = _row(session, initiative_id)
        if row.stage == "closed":
            raise Conflict(f"initiative {initiative_id} is closed")
        action = InitiativeAction(
            initiative_id=row.id, title=title.strip(), owner=_text(owner),
            due_date=due_date,
        )  # fmt: skip
        session.add(action)
        session.flush()
        return action_view(action)


def complete_action(*, settings: Settings, action_id: int) -> ActionView:
    """Mark an action done (done again keeps the first time)."""
    with _uow(settings).session() as session:
        action = session.get(InitiativeAction, action_id)
        if action is None:
            raise NotFound(f"no action {action_id}")
        if action.done_at is None:
            action.done_at = utcnow()
        return action_view(action)


def advance(
    *,
    settings: Settings,
    initiative_id: int,
    to_stage: str,
    change_date: date | None = None,
) -> InitiativeView:
    """Move to the next stage and record when; Do needs the day the change went live.

    Stages only move forward: Plan → Do → Check → Act → Closed (a new Plan after Act
    comes from :func:`adjust`). Entering Check runs the Check.
    """
    if to_stage == "check":  # measured first: a Check that cannot run moves nothing
        from cxloop.improve.checks import check_initiative

        with _uow(settings).session() as session:
            _check_move(_row(session, initiative_id), to_stage)
        check_initiative(settings=settings, initiative_id=initiative_id)
    with _uow(settings).session() as session:
        row = _row(session, initiative_id)
        _check_move(row, to_stage)
        if to_stage == "do":
            row.change_date = _check_change_date(row, change_date)
        _enter(row, to_stage)
    return get_initiative(settings=settings, initiative_id=initiative_id)


def _check_move(row: Initiative, to_stage: str) -> None:
    if to_stage not in STAGES:
        msg = f"unknown stage {to_stage!r}: choose one of {', '.join(STAGES)}"
        raise InvalidInput(msg)
    expected = NEXT_STAGE.get(row.stage)
    if to_stage == "plan" and row.stage == "act":
        msg = "a new Plan after Act is opened with adjust (cxloop initiative act --adjust)"
        raise Conflict(msg)
    if to_stage != expected:
        after = f"the next stage is {expected}" if expected else "it is closed"
        msg = f"initiative {row.id} is in {row.stage}: {after}, not {to_stage}"
        raise Conflict(msg)


def _check_change_date(row: Initiative, change_date: date | None) -> date:
    if change_date is None:
        raise InvalidInput("Do needs the change date: the day the change went live")
    if row.baseline_to is not None and change_date <= row.baseline_to:
        msg = (
            f"the change date {change_date} must come after the baseline window "
            f"({row.baseline_from} to {row.baseline_to})"
        )
        raise InvalidInput(msg)
    return change_date


def _enter(row: Initiative, stage: str) -> None:
    row.stage = stage
    row.stage_dates = {**(row.stage_dates or {}), stage: _now()}


def record_check(
    *, settings: Settings, initiative_id: int, outcome: str, result: dict[str, Any]
) -> CheckView:
    """Store a Check's result and make its verdict the initiative's outcome."""
    stored = stored_outcome(outcome)
    with _uow(settings).session() as session:
        row = _row(session, initiative_id)
        check = InitiativeCheck(
            initiative_id=row.id, checked_at=utcnow(), outcome=stored, result=result
        )
        session.add(check)
        row.outcome = stored
        session.flush()
        return check_view(check)


def standardise(
    *, settings: Settings, initiative_id: int, standard: str
) -> InitiativeView:
    """Record what became the new standard and close the initiative.

    The standard is kept on the initiative; the knowledge base will share it there.
    """
    if not standard.strip():
        raise InvalidInput("describe the new standard (what everyone does from now on)")
    with _uow(settings).session() as session:
        row = _deciding(session, initiative_id)
        row.decision, row.standard = "standardise", standard.strip()
        _enter(row, "closed")
    return get_initiative(settings=settings, initiative_id=initiative_id)


def adjust(
    *, settings: Settings, initiative_id: int, title: str | None = None
) -> InitiativeView:
    """Close the initiative as adjusted and open a new Plan linked to it.

    The new Plan copies the metric, scope and comparison, takes the old Check as its
    evidence and gets a fresh baseline; it is returned.
    """
    old = get_initiative(settings=settings, initiative_id=initiative_id)
    if old.stage not in ("check", "act"):
        raise Conflict(_not_deciding(old.id, old.stage))
    check = old.latest_check
    evidence = {"kind": "check", "value": check.id if check else old.id,
                "initiative_id": old.id, "outcome": old.outcome}  # fmt: skip
    new = create_initiative(
        settings=settings, title=title or old.title, metric=old.metric,
        scope=old.scope, owner=old.owner, problem=old.problem, evidence=evidence,
        comparison=old.comparison, target_value=old.target_value, parent_id=old.id,
    )  # fmt: skip
    with _uow(settings).session() as session:
        row = _deciding(session, initiative_id)
        row.decision = "adjust"
        _enter(row, "closed")
    return new


def _deciding(session: DBSession, initiative_id: int) -> Initiative:
    """The initiative, entering Act first when it is still in Check."""
    row = _row(session, initiative_id)
    if row.stage == "check":
        _enter(row, "act")
    if row.stage != "act":
        raise Conflict(_not_deciding(row.id, row.stage))
    return row


def _not_deciding(initiative_id: int, stage: str) -> str:
    return f"initiative {initiative_id} is in {stage}: standardise or adjust in Act"


def _row(session: DBSession, initiative_id: int) -> Initiative:
    row = session.get(Initiative, initiative_id)
    if row is None:
        raise NotFound(f"no initiative {initiative_id}")
    return row


def _uow(settings: Settings) -> UnitOfWork:
    return UnitOfWork(engine_for(settings.database_url))


def _text(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


def _now() -> str:
    return utcnow().isoformat(timespec="seconds")
