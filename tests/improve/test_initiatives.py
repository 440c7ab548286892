"""Initiatives in the store: baseline, stages and their dates, actions, Act (both engines)."""

from __future__ import annotations

from datetime import date

import pytest
from initiative_seeding import Batch, repeat, seed

from cxloop.config import Settings
from cxloop.domain.errors import Conflict, InvalidInput, NotFound
from cxloop.domain.metrics import nps
from cxloop.improve import initiatives as ini

BEFORE = repeat({10: 5, 8: 3, 3: 2})  # NPS 30
AFTER = repeat({10: 7, 8: 2, 3: 1})  # NPS 60
BATCHES = (
    Batch("nps", BEFORE, "2025-01-10"),
    Batch("nps", BEFORE, "2025-01-20"),
    Batch("nps", repeat({10: 1, 0: 3}), "2025-01-15", touchpoint="超商取貨"),
    Batch("nps", AFTER, "2025-02-10"),
    Batch("nps", AFTER, "2025-02-20"),
    Batch("nps", repeat({10: 2, 0: 2}), "2025-02-15", touchpoint="超商取貨"),
)
JANUARY = {"baseline_from": date(2025, 1, 1), "baseline_to": date(2025, 1, 31)}


@pytest.fixture
def seeded(settings: Settings) -> Settings:
    seed(settings, BATCHES)
    return settings


def _planned(settings: Settings, **extra: object) -> ini.InitiativeView:
    fields: dict[str, object] = {"scope": {"touchpoint": "宅配"}, **JANUARY, **extra}
    return ini.create_initiative(
        settings=settings,
        title="準時宅配",
        metric="nps",
        **fields,  # type: ignore[arg-type]
    )


def test_create_computes_baseline_over_window_in_scope(seeded: Settings) -> None:
    view = _planned(seeded, owner="物流組", problem="宅配遲到", target_value=45.0,
                    evidence={"kind": "touchpoint", "value": "宅配"})  # fmt: skip
    expected = nps(BEFORE * 2)
    assert view.baseline is not None
    assert view.baseline["value"] == pytest.approx(30.0) == expected.value
    assert view.baseline["n"] == 20
    assert view.baseline["moe"] == pytest.approx(expected.moe)
    assert (view.stage, list(view.stage_dates)) == ("plan", ["plan"])
    assert view.scope == {"touchpoint": "宅配"}
    assert view.evidence == {"kind": "touchpoint", "value": "宅配"}


def test_create_defaults_baseline_to_last_90_days_of_data(seeded: Settings) -> None:
    view = ini.create_initiative(settings=seeded, title="全體", metric="nps")
    assert (view.baseline_from, view.baseline_to) == (
        date(2024, 11, 23),
        date(2025, 2, 20),
    )
    assert view.baseline is not None
    assert view.baseline["n"] == 48


@pytest.mark.parametrize(
    ("fields", "message"),
    [({"metric": "nrr"}, "unknown metric 'nrr': choose one of nps, csat, ces"),
     ({"scope": {"value": "x"}}, "choose one of channel, touchpoint"),
     ({"scope": {"no_such_key": "x"}}, "no customer has such an attribute"),
     ({"scope": {"touchpoint": ""}}, "scope filter 'touchpoint' needs a value"),
     ({"comparison": {"bad key": "x"}}, "field 'bad key' cannot be used"),
     ({"evidence": {"kind": "rumour", "value": "x"}}, "choose one of topic"),
     ({"title": "  "}, "needs a title")],
)  # fmt: skip
def test_create_refuses_bad_input_naming_it(
    seeded: Settings, fields: dict[str, object], message: str
) -> None:
    base: dict[str, object] = {"title": "t", "metric": "nps", **fields}
    with pytest.raises(InvalidInput, match=message):
        ini.create_initiative(settings=seeded, **base)  # type: ignore[arg-type]
    assert ini.list_initiatives(settings=seeded) == []


def test_stages_move_forward_only_recording_each_date(seeded: Settings) -> None:
    view = _planned(seeded)
    with pytest.raises(Conflict, match="in plan: the next stage is do, not check"):
        ini.advance(settings=seeded, initiative_id=view.id, to_stage="check")
    with pytest.raises(InvalidInput, match="Do needs the change date"):
        ini.advance(settings=seeded, initiative_id=view.id, to_stage="do")
    with pytest.raises(InvalidInput, match="must come after the baseline window"):
        ini.advance(settings=seeded, initiative_id=view.id, to_stage="do",
                    change_date=date(2025, 1, 31))  # fmt: skip
    for stage in ("do", "check", "act", "closed"):
        view = ini.advance(settings=seeded, initiative_id=view.id, to_stage=stage,
                           change_date=date(2025, 2, 1))  # fmt: skip
    assert view.stage == "closed"
    assert list(view.stage_dates) == ["plan", "do", "check", "act", "closed"]
    assert view.change_date == date(2025, 2, 1)
    with pytest.raises(Conflict, match="it is closed"):
        ini.advance(settings=seeded, initiative_id=view.id, to_stage="do")


def test_entering_check_runs_and_stores_the_check(seeded: Settings) -> None:
    view = _planned(seeded)
    ini.advance(settings=seeded, initiative_id=view.id, to_stage="do",
                change_date=date(2025, 2, 1))  # fmt: skip
    view = ini.advance(settings=seeded, initiative_id=view.id, to_stage="check")
    assert view.stage == "check"
    assert len(view.checks) == 1
    check = view.latest_check
    assert check is not None
    assert check.result["after"]["value"] == pytest.approx(60.0)
    assert check.outcome == view.outcome
    assert set(check.result["summary"]) == {"en", "zh-TW"}


def test_check_without_answers_after_change_moves_nothing(seeded: Settings) -> None:
    view = _planned(seeded)
    ini.advance(settings=seeded, initiative_id=view.id, to_stage="do",
                change_date=date(2025, 3, 1))  # fmt: skip
    with pytest.raises(InvalidInput, match="too few answers in the scope after"):
        ini.advance(settings=seeded, initiative_id=view.id, to_stage="check")
    view = ini.get_initiative(settings=seeded, initiative_id=view.id)
    assert (view.stage, view.checks) == ("do", [])


def test_actions_are_added_and_completed(seeded: Settings) -> None:
    view = _planned(seeded)
    action = ini.add_action(settings=seeded, initiative_id=view.id,
                            title="加派司機", owner="陳經理", due_date=date(2025, 1, 25))  # fmt: skip
    assert action.done_at is None
    done = ini.complete_action(settings=seeded, action_id=action.id)
    again = ini.complete_action(settings=seeded, action_id=action.id)
    assert done.done_at is not None
    assert again.done_at == done.done_at
    view = ini.get_initiative(settings=seeded, initiative_id=view.id)
    assert [(a.title, a.owner, a.due_date) for a in view.actions] == [
        ("加派司機", "陳經理", date(2025, 1, 25))
    ]
    with pytest.raises(NotFound, match="no action 999"):
        ini.complete_action(settings=seeded, action_id=999)
    with pytest.raises(InvalidInput, match="needs a title"):
        ini.add_action(settings=seeded, initiative_id=view.id, title=" ")


def _checked(settings: Settings) -> ini.InitiativeView:
    view = _planned(settings, comparison={"touchpoint": "超商取貨"})
    ini.advance(settings=settings, initiative_id=view.id, to_stage="do",
                change_date=date(2025, 2, 1))  # fmt: skip
    return ini.advance(settings=settings, initiative_id=view.id, to_stage="check")


def test_standardise_records_the_standard_and_closes(seeded: Settings) -> None:
    planned = _planned(seeded)
    with pytest.raises(Conflict, match="standardise or adjust in Act"):
        ini.standardise(settings=seeded, initiative_id=planned.id, standard="x")
    view = ini.standardise(settings=seeded, initiative_id=_checked(seeded).id,
                           standard="每日兩班配送")  # fmt: skip
    assert (view.stage, view.decision, view.standard) == (
        "closed",
        "standardise",
        "每日兩班配送",
    )
    assert list(view.stage_dates)[-2:] == ["act", "closed"]


def test_adjust_opens_linked_plan_with_old_check_as_evidence(seeded: Settings) -> None:
    old = _checked(seeded)
    new = ini.adjust(settings=seeded, initiative_id=old.id, title="準時宅配 第二輪")
    old = ini.get_initiative(settings=seeded, initiative_id=old.id)
    assert (old.stage, old.decision) == ("closed", "adjust")
    assert (new.stage, new.parent_id, new.title) == ("plan", old.id, "準時宅配 第二輪")
    assert (new.metric, new.scope, new.comparison) == (
        old.metric,
        old.scope,
        old.comparison,
    )
    assert old.latest_check is not None
    assert new.evidence is not None
    assert (new.evidence["kind"], new.evidence["value"]) == (
        "check",
        old.latest_check.id,
    )
    with pytest.raises(Conflict, match="next stage is do, not plan"):
        ini.advance(settings=seeded, initiative_id=new.id, to_stage="plan")


def test_board_groups_by_stage_and_list_filters(seeded: Settings) -> None:
    planned = _planned(seeded)
    checked = _checked(seeded)
    closed = ini.standardise(settings=seeded, initiative_id=_checked(seeded).id,
                             standard="s")  # fmt: skip
    board = ini.board(settings=seeded)
    assert list(board.columns) == ["plan", "do", "check", "act"]
    assert [v.id for v in board.columns["plan"]] == [planned.id]
    assert [v.id for v in board.columns["check"]] == [checked.id]
    assert [v.id for v in board.closed] == [closed.id]
    listed = ini.list_initiatives(settings=seeded, stage="check")
    assert [v.id for v in listed] == [checked.id]
    with pytest.raises(InvalidInput, match="unknown stage 'done'"):
        ini.list_initiatives(settings=seeded, stage="done")
    with pytest.raises(NotFound, match="no initiative 999"):
        ini.get_initiative(settings=seeded, initiative_id=999)


def test_update_changes_given_fields_only(seeded: Settings) -> None:
    view = _planned(seeded, owner="物流組")
    view = ini.update_initiative(settings=seeded, initiative_id=view.id,
                                 target_value=50.0, title="準時宅配 2")  # fmt: skip
    assert (view.title, view.owner, view.target_value) == ("準時宅配 2", "物流組", 50.0)
