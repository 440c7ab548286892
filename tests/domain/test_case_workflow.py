"""The case workflow rules: transitions, priorities, the first-owner rule, due times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cxloop.domain.case_workflow import (
    TRANSITIONS,
    CaseAction,
    DueState,
    OwnerDecision,
    check_transition,
    decide_owner,
    due_signal,
    next_statuses,
    priority_rank,
    raised_priority,
    status_after_action,
)
from cxloop.domain.errors import Conflict, InvalidInput
from cxloop.domain.vocab import CaseStatus

AT = datetime(2025, 5, 5, 9, 0, tzinfo=UTC)

ALLOWED = [
    ("new", "in_progress"),
    ("in_progress", "waiting_on_customer"),
    ("waiting_on_customer", "in_progress"),
    ("in_progress", "resolved"),
    ("waiting_on_customer", "resolved"),
    ("resolved", "closed"),
    ("resolved", "in_progress"),
]


@pytest.mark.parametrize(("current", "target"), ALLOWED)
def test_check_transition_allows_the_workflow_steps(current: str, target: str) -> None:
    assert check_transition(current, target, resolution="done").value == target


def test_check_transition_refuses_every_other_step() -> None:
    refused = [
        (a.value, b.value)
        for a in CaseStatus
        for b in CaseStatus
        if a != b and (a.value, b.value) not in ALLOWED
    ]
    assert len(refused) == 20 - len(ALLOWED)
    for current, target in refused:
        with pytest.raises(Conflict):
            check_transition(current, target, resolution="done")


def test_check_transition_refuses_resolving_without_notes() -> None:
    with pytest.raises(InvalidInput, match="resolution notes"):
        check_transition("in_progress", "resolved", resolution="  ")


def test_check_transition_names_the_allowed_moves_when_refusing() -> None:
    with pytest.raises(Conflict, match="can move to in_progress, not resolved"):
        check_transition("new", "resolved", resolution="x")
    with pytest.raises(Conflict, match="already new"):
        check_transition("new", "new")
    with pytest.raises(InvalidInput, match="choose one of new, in_progress"):
        check_transition("new", "done")


def test_next_statuses_match_the_transition_table() -> None:
    assert next_statuses("closed") == ()
    assert set(next_statuses("resolved")) == set(TRANSITIONS[CaseStatus.RESOLVED])


def test_priorities_are_ordered_and_raise_one_step() -> None:
    ranks = [priority_rank(p) for p in ("low", "normal", "high", "urgent")]
    assert ranks == sorted(ranks) == [0, 1, 2, 3]
    assert raised_priority("low").value == "normal"
    assert raised_priority("urgent").value == "urgent"
    with pytest.raises(InvalidInput, match="priority 'asap'"):
        priority_rank("asap")


def test_status_after_action_starts_a_new_case_on_take_or_reply_only() -> None:
    assert status_after_action("new", CaseAction.TAKE) == CaseStatus.IN_PROGRESS
    assert status_after_action("new", CaseAction.REPLY) == CaseStatus.IN_PROGRESS
    assert status_after_action("new", CaseAction.COMMENT) is None
    assert status_after_action("waiting_on_customer", CaseAction.REPLY) is None


@pytest.mark.parametrize(
    "action",
    [CaseAction.TAKE, CaseAction.REPLY, CaseAction.STATUS, CaseAction.PRIORITY,
     CaseAction.ROOT_CAUSE],
)  # fmt: skip
def test_decide_owner_gives_an_unowned_case_to_the_first_actor(
    action: CaseAction,
) -> None:
    decision = decide_owner(owner_id=None, actor_id=7, action=action)
    assert decision == OwnerDecision(owner_id=7, claims=True)


def test_decide_owner_keeps_the_owner_until_they_hand_over() -> None:
    with pytest.raises(Conflict, match="owned by 林美華 until they hand it over"):
        decide_owner(owner_id=3, actor_id=7, action=CaseAction.REPLY,
                     owner_label="林美華")  # fmt: skip
    with pytest.raises(Conflict, match="only they can hand it over"):
        decide_owner(owner_id=3, actor_id=7, action=CaseAction.HAND_OVER)
    owner = decide_owner(owner_id=3, actor_id=3, action=CaseAction.HAND_OVER)
    assert owner == OwnerDecision(owner_id=3, claims=False)


def test_decide_owner_lets_anyone_comment_without_claiming() -> None:
    for owner_id in (None, 3):
        decision = decide_owner(owner_id=owner_id, actor_id=7, action="comment")  # type: ignore[arg-type]
        assert decision == OwnerDecision(owner_id=owner_id, claims=False)


def test_decide_owner_lets_an_admin_act_but_never_take_an_owned_case() -> None:
    acted = decide_owner(owner_id=3, actor_id=1, action=CaseAction.STATUS,
                         is_admin=True)  # fmt: skip
    assert acted == OwnerDecision(owner_id=3, claims=False)
    with pytest.raises(Conflict):
        decide_owner(owner_id=3, actor_id=1, action=CaseAction.TAKE, is_admin=True)
    with pytest.raises(Conflict, match="already own"):
        decide_owner(owner_id=3, actor_id=3, action=CaseAction.TAKE)


def _due(
    status: str, *, answered: bool = False, fr: int = 60, res: int = 600
) -> DueState:
    return due_signal(
        status=status,
        first_response_at=AT if answered else None,
        first_response_due_at=AT + timedelta(minutes=fr),
        resolution_due_at=AT + timedelta(minutes=res),
        now=AT,
    ).state


def test_due_signal_follows_the_first_response_then_the_resolution() -> None:
    assert _due("new", fr=-1) == DueState.OVERDUE
    assert _due("new", fr=60) == DueState.SOON
    assert _due("in_progress", answered=True, fr=-1, res=600) == DueState.OK
    assert _due("in_progress", answered=True, res=-5) == DueState.OVERDUE


def test_due_signal_pauses_while_waiting_and_stops_once_resolved() -> None:
    assert _due("waiting_on_customer", fr=-1, res=-1) == DueState.PAUSED
    assert _due("resolved", fr=-1, res=-1) == DueState.NONE
    none = due_signal(status="new", first_response_at=None, first_response_due_at=None,
                      resolution_due_at=None, now=AT)  # fmt: skip
    assert none.state == DueState.NONE
