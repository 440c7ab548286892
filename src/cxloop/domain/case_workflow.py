"""The case workflow as plain rules: statuses, priorities and who owns a case.

Statuses move ``new -> in_progress -> waiting_on_customer -> in_progress`` and from
``in_progress`` or ``waiting_on_customer`` to ``resolved``, then ``closed``; a resolved
case may be reopened (``resolved -> in_progress``); a closed case is final.

The first-owner rule: the first person who acts on an unowned case (takes it, replies
to the customer, changes its status, priority or root cause) becomes its owner until
they hand it over. Others may add comments (notes for colleagues) but not act on it;
an admin may act on any case without taking it over, and hand over any case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from cxloop.domain.errors import Conflict, InvalidInput
from cxloop.domain.vocab import CasePriority, CaseStatus, RootCause

S = CaseStatus
#: A due time this close counts as due soon in the inbox.
DUE_SOON = timedelta(hours=4)

#: Where a case may go from each status.
TRANSITIONS: dict[CaseStatus, tuple[CaseStatus, ...]] = {
    S.NEW: (S.IN_PROGRESS,),
    S.IN_PROGRESS: (S.WAITING_ON_CUSTOMER, S.RESOLVED),
    S.WAITING_ON_CUSTOMER: (S.IN_PROGRESS, S.RESOLVED),
    S.RESOLVED: (S.CLOSED, S.IN_PROGRESS),
    S.CLOSED: (),
}
#: Statuses of a case that still needs work (the inbox shows these).
OPEN_STATUSES = (S.NEW, S.IN_PROGRESS, S.WAITING_ON_CUSTOMER)
#: Priorities from the lowest to the highest.
PRIORITY_ORDER = (
    CasePriority.LOW,
    CasePriority.NORMAL,
    CasePriority.HIGH,
    CasePriority.URGENT,
)


class CaseAction(StrEnum):
    """What a person does to a case."""

    TAKE = "take"
    COMMENT = "comment"
    REPLY = "reply"
    STATUS = "status"
    PRIORITY = "priority"
    ROOT_CAUSE = "root_cause"
    HAND_OVER = "hand_over"


def _choice(enum: type[StrEnum], value: str, name: str) -> str:
    try:
        return enum(value).value
    except ValueError:
        choices = ", ".join(item.value for item in enum)
        msg = f"{name} {value!r} is unknown: choose one of {choices}"
        raise InvalidInput(msg) from None


def check_status(value: str) -> CaseStatus:
    """The status named ``value``; InvalidInput lists the valid ones otherwise.

    >>> check_status("resolved")
    <CaseStatus.RESOLVED: 'resolved'>
    """
    return CaseStatus(_choice(CaseStatus, value, "status"))


def check_priority(value: str) -> CasePriority:
    """The priority named ``value``; InvalidInput lists the valid ones otherwise."""
    return CasePriority(_choice(CasePriority, value, "priority"))


def check_root_cause(value: str) -> RootCause:
    """The root cause named ``value`` (value, system or people)."""
    return RootCause(_choice(RootCause, value, "root cause"))


def priority_rank(priority: str) -> int:
    """0 for low up to 3 for urgent.

    >>> priority_rank("urgent") > priority_rank("normal")
    True
    """
    return PRIORITY_ORDER.index(check_priority(priority))


def raised_priority(priority: str) -> CasePriority:
    """One step higher (urgent stays urgent).

    >>> raised_priority("normal").value
    'high'
    >>> raised_priority("urgent").value
    'urgent'
    """
    rank = priority_rank(priority)
    return PRIORITY_ORDER[min(rank + 1, len(PRIORITY_ORDER) - 1)]


def next_statuses(current: str) -> tuple[CaseStatus, ...]:
    """The statuses a case in ``current`` may move to."""
    return TRANSITIONS[check_status(current)]


def check_transition(
    current: str, target: str, *, resolution: str | None = None
) -> CaseStatus:
    """``target`` when a case may move there from ``current``.

    Resolving needs resolution notes (``resolution``: the notes given now or the ones
    the case already has). Conflict explains a refused move.

    >>> check_transition("in_progress", "resolved", resolution="refunded").value
    'resolved'
    >>> check_transition("closed", "in_progress")
    Traceback (most recent call last):
    ...
    cxloop.domain.errors.Conflict: a closed case is final: it cannot move to in_progress
    """
    origin, goal = check_status(current), check_status(target)
    if goal == origin:
        raise Conflict(f"the case is already {goal.value}")
    allowed = TRANSITIONS[origin]
    if goal not in allowed:
        if not allowed:
            msg = f"a closed case is final: it cannot move to {goal.value}"
        else:
            names = ", ".join(s.value for s in allowed)
            msg = f"a case that is {origin.value} can move to {names}, not {goal.value}"
        raise Conflict(msg)
    if goal == S.RESOLVED and not (resolution or "").strip():
        msg = "resolving a case needs resolution notes: say what was done"
        raise InvalidInput(msg)
    return goal


def status_after_action(current: str, action: CaseAction) -> CaseStatus | None:
    """The status a case moves to by itself when someone acts: taking it or replying
    to the customer starts the work on a new case (None: the status stays).

    >>> status_after_action("new", CaseAction.TAKE).value
    'in_progress'
    >>> status_after_action("in_progress", CaseAction.REPLY) is None
    True
    """
    starts = action in (CaseAction.TAKE, CaseAction.REPLY)
    return S.IN_PROGRESS if starts and check_status(current) == S.NEW else None


@dataclass(frozen=True)
class OwnerDecision:
    """Who owns the case after an action, and whether the actor just became owner."""

    owner_id: int | None
    claims: bool


def decide_owner(
    *,
    owner_id: int | None,
    actor_id: int,
    action: CaseAction,
    is_admin: bool = False,
    owner_label: str | None = None,
) -> OwnerDecision:
    """Apply the first-owner rule to ``actor_id`` doing ``action``.

    Conflict refuses an action on someone else's case (``owner_label`` names the
    owner in the message).

    >>> decide_owner(owner_id=None, actor_id=7, action=CaseAction.REPLY)
    OwnerDecision(owner_id=7, claims=True)
    >>> decide_owner(owner_id=3, actor_id=7, action=CaseAction.COMMENT)
    OwnerDecision(owner_id=3, claims=False)
    """
    if action == CaseAction.COMMENT:
        return OwnerDecision(owner_id, claims=False)
    if owner_id == actor_id:
        if action == CaseAction.TAKE:
            raise Conflict("you already own this case")
        return OwnerDecision(owner_id, claims=False)
    if action == CaseAction.HAND_OVER:
        if is_admin:
            return OwnerDecision(owner_id, claims=False)
        if owner_id is None:
            raise Conflict("nobody owns this case yet: take it instead")
        raise _not_yours(owner_label, "hand it over")
    if owner_id is None:
        return OwnerDecision(actor_id, claims=True)
    if is_admin and action != CaseAction.TAKE:
        return OwnerDecision(owner_id, claims=False)
    raise _not_yours(owner_label, "act on it")


def _not_yours(owner_label: str | None, what: str) -> Conflict:
    who = owner_label or "another agent"
    return Conflict(
        f"this case is owned by {who} until they hand it over: only they can {what}"
    )


class DueState(StrEnum):
    """How an open case stands against its next SLA due time."""

    NONE = "none"
    OK = "ok"
    SOON = "soon"
    OVERDUE = "overdue"
    PAUSED = "paused"


@dataclass(frozen=True)
class DueSignal:
    """The next due time of a case (``clock``: first_response or resolution)."""

    state: DueState
    clock: str | None = None
    due_at: datetime | None = None


def due_signal(
    *,
    status: str,
    first_response_at: datetime | None,
    first_response_due_at: datetime | None,
    resolution_due_at: datetime | None,
    now: datetime,
    soon: timedelta = DUE_SOON,
) -> DueSignal:
    """The due time an open case works towards next, and whether it is missed.

    The first response is due first while nobody has answered; then the resolution.
    A case waiting on the customer is paused; a resolved or closed one has none.

    >>> from datetime import UTC
    >>> at = datetime(2025, 5, 5, 9, tzinfo=UTC)
    >>> due_signal(status="new", first_response_at=None, now=at,
    ...            first_response_due_at=at - timedelta(minutes=1),
    ...            resolution_due_at=at + timedelta(days=2)).state.value
    'overdue'
    """
    current = check_status(status)
    if current not in OPEN_STATUSES:
        return DueSignal(DueState.NONE)
    if current == S.WAITING_ON_CUSTOMER:
        return DueSignal(DueState.PAUSED, "resolution", resolution_due_at)
    if first_response_at is None and first_response_due_at is not None:
        clock, due = "first_response", first_response_due_at
    elif resolution_due_at is not None:
        clock, due = "resolution", resolution_due_at
    else:
        return DueSignal(DueState.NONE)
    if due < now:
        return DueSignal(DueState.OVERDUE, clock, due)
    state = DueState.SOON if due - now <= soon else DueState.OK
    return DueSignal(state, clock, due)
