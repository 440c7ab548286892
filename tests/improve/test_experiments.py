"""Experiments in a real store (SQLite and PostgreSQL): plan, assign, analyse, peeking."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from cxloop.analytics.segment_rules import SegmentDefinition
from cxloop.config import Settings
from cxloop.customers.segments import save_segments
from cxloop.domain import experiments as stats
from cxloop.domain.errors import Conflict, InvalidInput
from cxloop.improve import experiments as svc
from cxloop.store import tables
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.types import utcnow


def _customers(settings: Settings, count: int) -> list[int]:
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        rows = [
            tables.Customer(external_id=f"c{i}", region="north" if i % 2 else "south")
            for i in range(count)
        ]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def _create(
    settings: Settings, key: str = "script", *, mde: float = 0.05, looks: int = 1
) -> svc.ExperimentInfo:
    return svc.create_experiment(
        settings=settings, key=key, name="Follow-up script",
        arms=["control", "script_b"], analysis="proportion",
        baseline=0.10, mde=mde, looks=looks,
    )  # fmt: skip


def _outcomes(assigned: dict[int, str], rates: dict[str, float]) -> pd.DataFrame:
    """Deterministic 0/1 outcomes: every k-th unit of an arm succeeds for its rate."""
    rows, seen = [], dict.fromkeys(rates, 0)
    for unit, arm in sorted(assigned.items()):
        seen[arm] += 1
        hit = int(seen[arm] * rates[arm]) > int((seen[arm] - 1) * rates[arm])
        rows.append({"unit_id": unit, "outcome": float(hit)})
    return pd.DataFrame(rows)


def test_create_stores_the_fixed_horizon_plan(settings: Settings) -> None:
    info = _create(settings, looks=3)
    assert info.plan["n_per_arm"] == stats.sample_size_proportions(0.10, 0.05)
    assert info.plan["boundaries"] == pytest.approx(stats.sequential_boundaries(3))
    assert info.status == "draft"
    assert info.arms == (("control", 0.5), ("script_b", 0.5))
    with pytest.raises(Conflict, match="exists already"):
        _create(settings, looks=3)


def test_assign_is_deterministic_balanced_and_idempotent(settings: Settings) -> None:
    ids = _customers(settings, 400)
    _create(settings)
    first = svc.assign(settings=settings, key="script", unit_ids=ids[:300])
    again = svc.assign(settings=settings, key="script", unit_ids=ids)
    assert {i: again[i] for i in first} == first
    assert all(
        again[i] == svc.arm_for("script", i, [("control", 0.5), ("script_b", 0.5)])
        for i in ids
    )
    share = sum(arm == "control" for arm in again.values()) / len(again)
    assert 0.40 < share < 0.60
    assert (
        sum(svc.get_experiment(settings=settings, key="script").assigned.values())
        == 400
    )


def test_assign_refuses_unknown_units_and_stopped_experiments(
    settings: Settings,
) -> None:
    ids = _customers(settings, 3)
    _create(settings)
    with pytest.raises(InvalidInput, match="no customer with id 999999"):
        svc.assign(settings=settings, key="script", unit_ids=[ids[0], 999999])
    svc.start_experiment(settings=settings, key="script")
    with pytest.raises(Conflict, match="not a draft"):
        svc.start_experiment(settings=settings, key="script")
    svc.stop_experiment(settings=settings, key="script")
    with pytest.raises(Conflict, match="stopped"):
        svc.assign(settings=settings, key="script", unit_ids=ids)


def test_assign_segment_uses_saved_members(settings: Settings) -> None:
    ids = _customers(settings, 10)
    north = SegmentDefinition.model_validate(
        {
            "key": "north",
            "name": "北區",
            "conditions": [{"field": "region", "op": "eq", "value": "north"}],
        }
    )
    save_segments(settings=settings, definitions=[north])
    _create(settings)
    assigned = svc.assign_segment(settings=settings, key="script", segment_key="north")
    assert sorted(assigned) == [i for n, i in enumerate(ids) if n % 2]


def test_analyse_before_horizon_refuses_a_winner(settings: Settings) -> None:
    ids = _customers(settings, 200)
    _create(settings)
    assigned = svc.assign(settings=settings, key="script", unit_ids=ids)
    result = svc.analyse(
        settings=settings,
        key="script",
        outcomes=_outcomes(assigned, {"control": 0.1, "script_b": 0.5}),
    )
    assert result.decision == "too_early"
    assert result.verdicts == {"script_b": "undecided"}
    assert "peeking" in result.message
    effect = result.effects["script_b"]
    assert effect is not None
    assert effect.significant  # a big effect, yet no winner before the horizon


def test_analyse_at_horizon_declares_the_better_arm(settings: Settings) -> None:
    ids = _customers(settings, 1400)
    _create(settings, mde=0.10)  # about 200 per arm
    assigned = svc.assign(settings=settings, key="script", unit_ids=ids)
    result = svc.analyse(
        settings=settings,
        key="script",
        outcomes=_outcomes(assigned, {"control": 0.1, "script_b": 0.25}),
    )
    assert result.horizon_reached
    assert result.decision == "significant"
    assert result.verdicts == {"script_b": "improved"}
    control = result.arms[0]
    assert control.value == pytest.approx(0.1, abs=0.01)


def test_analyse_counts_outcomes_of_unassigned_units(settings: Settings) -> None:
    ids = _customers(settings, 20)
    _create(settings)
    assigned = svc.assign(settings=settings, key="script", unit_ids=ids[:10])
    frame = _outcomes(
        {**assigned, **dict.fromkeys(ids[10:], "control")},
        {"control": 0.5, "script_b": 0.5},
    )
    result = svc.analyse(settings=settings, key="script", outcomes=frame)
    assert result.unassigned_outcomes == 10
    assert sum(arm.n for arm in result.arms) == 10


def test_analyse_reads_nps_answers_given_while_running(settings: Settings) -> None:
    ids = _customers(settings, 60)
    svc.create_experiment(
        settings=settings,
        key="nps-invite",
        name="Invite",
        arms=["a", "b"],
        analysis="nps",
        baseline=20,
        mde=30,
    )
    assigned = svc.assign(settings=settings, key="nps-invite", unit_ids=ids)
    svc.start_experiment(settings=settings, key="nps-invite")
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        survey = tables.Survey(key="s", name="s")
        session.add(survey)
        session.flush()
        question = tables.Question(survey_id=survey.id, key="nps", metric="nps")
        session.add(question)
        session.flush()
        for n, (unit, arm) in enumerate(sorted(assigned.items())):
            at = utcnow() + timedelta(seconds=n)
            row = tables.Interaction(
                customer_id=unit,
                occurred_at=at,
                kind="survey_response",
                source="t",
                external_id=f"x{n}",
            )
            session.add(row)
            session.flush()
            session.add(
                tables.Answer(
                    interaction_id=row.id,
                    question_id=question.id,
                    metric="nps",
                    value=10 if arm == "b" else 3,
                )
            )
    result = svc.analyse(settings=settings, key="nps-invite")
    values = {arm.arm: arm.value for arm in result.arms}
    assert values == {"a": -100.0, "b": 100.0}
    assert sum(arm.n for arm in result.arms) == 60


def test_sequential_design_records_each_planned_look_once(settings: Settings) -> None:
    ids = _customers(settings, 1400)
    info = _create(settings, mde=0.10, looks=2)
    half = info.plan["n_per_arm"] // 2 + 5
    assigned = svc.assign(settings=settings, key="script", unit_ids=ids)
    svc.start_experiment(settings=settings, key="script")
    arms: dict[str, list[int]] = {"control": [], "script_b": []}
    for unit, arm in sorted(assigned.items()):
        arms[arm].append(unit)
    early = {u: "x" for arm in arms.values() for u in arm[:half]}
    frame = _outcomes(
        {u: assigned[u] for u in early}, {"control": 0.1, "script_b": 0.12}
    )
    first = svc.analyse(settings=settings, key="script", outcomes=frame)
    second = svc.analyse(settings=settings, key="script", outcomes=frame)
    assert first.decision == second.decision == "continue"
    assert (
        len(svc.get_experiment(settings=settings, key="script").plan["looks_taken"])
        == 1
    )
    assert second.sequential is not None
    assert second.sequential.boundary > 2.5


def test_read_outcomes_names_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "outcomes.csv"
    path.write_text("customer,bought\n1,1\n2,yes\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"outcomes.csv, line 3, column bought"):
        svc.read_outcomes(path, id_column="customer", outcome_column="bought")
    with pytest.raises(InvalidInput, match="no column 'id'"):
        svc.read_outcomes(path, id_column="id", outcome_column="bought")


def test_read_unit_ids_accepts_a_header_and_refuses_junk(tmp_path: Path) -> None:
    path = tmp_path / "ids.csv"
    path.write_text("customer_id\n3\n5\n", encoding="utf-8")
    assert svc.read_unit_ids(path) == [3, 5]
    path.write_text("3\nfive\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="line 2"):
        svc.read_unit_ids(path)
