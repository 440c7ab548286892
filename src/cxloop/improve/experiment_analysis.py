"""Analyse an A/B experiment without peeking.

Each arm is compared with the first arm (the control): a two-proportion test, Welch's
t-test or the NPS difference with a bootstrap interval (:mod:`cxloop.domain.experiments`).
A winner is declared only at the fixed horizon of the plan, or at a planned look of a
group-sequential design whose boundary is crossed. Before that the result says plainly
that it is too early and shows the interval for information only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.domain import experiments as stats
from cxloop.domain.errors import InvalidInput, NotFound
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import Answer, Experiment, ExperimentAssignment, Interaction

if TYPE_CHECKING:
    import pandas as pd

DECISIONS = ("too_early", "continue", "significant", "no_detectable_change")


@dataclass(frozen=True)
class ArmResult:
    """One arm: units assigned, outcomes observed and the arm's value.

    ``value`` is a share (0-1) for a proportion, the mean for a mean and the NPS in
    points for an NPS experiment; None without outcomes.
    """

    arm: str
    assigned: int
    n: int
    value: float | None


@dataclass(frozen=True)
class ExperimentAnalysis:
    """The analysis of an experiment at one moment.

    ``effects`` maps each treatment arm to its effect against the control (None when an
    arm has fewer than two outcomes); ``verdicts`` says ``improved``, ``worse``,
    ``no_detectable_change`` or ``undecided`` per arm; ``decision`` is one of
    :data:`DECISIONS` and ``message`` says it in words.
    """

    key: str
    analysis: str
    metric: str | None
    control: str
    arms: tuple[ArmResult, ...]
    effects: dict[str, stats.EffectEstimate | None]
    n_per_arm: int
    horizon_reached: bool
    sequential: stats.SequentialDecision | None
    decision: str
    verdicts: dict[str, str]
    message: str
    unassigned_outcomes: int


def read_outcomes(path: Path, *, id_column: str, outcome_column: str) -> pd.DataFrame:
    """Read a file of outcomes (CSV, XLSX, JSON Lines) as ``unit_id`` and ``outcome``.

    Every row needs an integer id and a number; errors name the file, line and column.
    """
    import pandas as pd

    from cxloop.ingest.readers import read_table

    table = read_table(path)
    for column in (id_column, outcome_column):
        if column not in table.columns:
            known = ", ".join(table.columns)
            raise InvalidInput(f"{path}: no column {column!r} (columns: {known})")
    ids, values = [], []
    lines = table.lines.tolist()
    cells = zip(
        table.values[id_column].to_pylist(),
        table.values[outcome_column].to_pylist(),
        strict=True,
    )
    for line, (raw_id, raw_value) in zip(lines, cells, strict=True):
        ids.append(_parse(path, line, id_column, raw_id, int))
        values.append(_parse(path, line, outcome_column, raw_value, float))
    return pd.DataFrame({"unit_id": ids, "outcome": values})


def _parse(path: Path, line: int, column: str, raw: Any, kind: type) -> Any:
    text = str(raw or "").strip()
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or (kind is float and not math.isfinite(value)):
        msg = f"{path}, line {line}, column {column}: {text!r} is not a number"
        raise InvalidInput(msg)
    return value


def _load(session: Session, key: str) -> Experiment:
    experiment = session.scalar(select(Experiment).where(Experiment.key == key))
    if experiment is None:
        raise NotFound(f"no experiment {key}")
    return experiment


def _store_outcomes(session: Session, e: Experiment) -> dict[int, float]:
    """Each assigned customer's latest answer of the plan's metric while it ran."""
    metric = e.plan.get("metric")
    if e.unit != "customer" or metric is None:
        msg = (
            f"experiment {e.key} reads no metric from the store: give an outcomes file"
        )
        raise InvalidInput(msg)
    if e.started_at is None:
        raise InvalidInput(f"experiment {e.key} has not started: no outcomes yet")
    query = (
        select(Interaction.customer_id, Answer.value)
        .join(Answer, Answer.interaction_id == Interaction.id)
        .join(
            ExperimentAssignment,
            (ExperimentAssignment.unit_id == Interaction.customer_id)
            & (ExperimentAssignment.experiment_id == e.id),
        )
        .where(Answer.metric == metric, Answer.value.is_not(None))
        .where(Interaction.occurred_at >= e.started_at)
        .order_by(Interaction.occurred_at, Answer.id)
    )
    if e.stopped_at is not None:
        query = query.where(Interaction.occurred_at <= e.stopped_at)
    rows = session.execute(query).all()
    return {int(c): float(v) for c, v in rows if c is not None and v is not None}


def _frame_outcomes(outcomes: pd.DataFrame, analysis: str) -> dict[int, float]:
    for column in ("unit_id", "outcome"):
        if column not in outcomes.columns:
            raise InvalidInput(f"outcomes need a {column!r} column")
    duplicated = outcomes["unit_id"][outcomes["unit_id"].duplicated()]
    if len(duplicated):
        msg = f"unit {int(duplicated.iloc[0])} has more than one outcome: give one per unit"
        raise InvalidInput(msg)
    values = outcomes["outcome"].astype(float)
    bad = {"proportion": ~values.isin([0.0, 1.0]), "nps": ~values.between(0, 10)}
    mask = bad.get(analysis)
    if mask is not None and mask.any():
        rule = "0 or 1" if analysis == "proportion" else "0-10"
        first = int(outcomes["unit_id"][mask].iloc[0])
        raise InvalidInput(f"outcome of unit {first} must be {rule} for {analysis}")
    ids = outcomes["unit_id"].astype(int)
    return dict(zip(ids.tolist(), values.tolist(), strict=True))


def _effect(
    analysis: str, control: list[float], other: list[float], alpha: float
) -> stats.EffectEstimate | None:
    if len(control) < 2 or len(other) < 2:
        return None
    if analysis == "proportion":
        return stats.two_proportion_test(
            int(sum(control)), len(control), int(sum(other)), len(other), alpha=alpha
        )
    if analysis == "mean":
        return stats.welch_test_samples(control, other, alpha=alpha)
    return stats.nps_difference(control, other, alpha=alpha)


def _value(analysis: str, values: list[float]) -> float | None:
    if not values:
        return None
    if analysis == "nps":
        return (
            100.0
            * (sum(v >= 9 for v in values) - sum(v <= 6 for v in values))
            / len(values)
        )
    return sum(values) / len(values)


def analyse(
    *, settings: Settings, key: str, outcomes: pd.DataFrame | None = None
) -> ExperimentAnalysis:
    """Compare every arm with the control, honouring the plan's horizon and looks.

    ``outcomes`` has columns ``unit_id`` and ``outcome`` (see :func:`read_outcomes`);
    without it, a customer experiment with a metric reads each assigned customer's
    latest answer given between its start and stop. Outcomes of units not assigned are
    counted in ``unassigned_outcomes`` and left out. With several looks, reaching a new
    planned look while the experiment runs records that look in the plan.
    """
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        e = _load(session, key)
        assigned = dict(
            session.execute(
                select(ExperimentAssignment.unit_id, ExperimentAssignment.arm).where(
                    ExperimentAssignment.experiment_id == e.id
                )
            ).all()
        )
        observed = (
            _store_outcomes(session, e)
            if outcomes is None
            else _frame_outcomes(outcomes, e.analysis)
        )
        return _assemble(e, assigned, observed)


def _assemble(
    e: Experiment, assigned: Mapping[int, str], observed: Mapping[int, float]
) -> ExperimentAnalysis:
    names = [str(a["name"]) for a in e.arms]
    by_arm: dict[str, list[float]] = {name: [] for name in names}
    for unit, value in observed.items():
        if unit in assigned:
            by_arm[assigned[unit]].append(value)
    sizes = dict.fromkeys(names, 0)
    for arm in assigned.values():
        sizes[arm] += 1
    plan = e.plan
    alpha = float(plan["comparison_alpha"])
    effects = {
        name: _effect(e.analysis, by_arm[names[0]], by_arm[name], alpha)
        for name in names[1:]
    }
    arms = tuple(
        ArmResult(n, sizes[n], len(by_arm[n]), _value(e.analysis, by_arm[n]))
        for n in names
    )
    n_min = min(len(v) for v in by_arm.values())
    outside = sum(unit not in assigned for unit in observed)
    seq, decision, verdicts, message = decide(e, effects, n_min)
    return ExperimentAnalysis(
        e.key, e.analysis, plan.get("metric"), names[0], arms, effects,
        int(plan["n_per_arm"]), n_min >= int(plan["n_per_arm"]), seq, decision,
        verdicts, message, outside,
    )  # fmt: skip


def _record_look(e: Experiment, z: float, fraction: float) -> list[dict[str, float]]:
    """The looks taken, adding this one when a new planned look has been reached."""
    looks = int(e.plan["looks"])
    taken: list[dict[str, float]] = list(e.plan.get("looks_taken", []))
    reached = min(math.floor(fraction * looks + 1e-9), looks)
    last = math.floor(taken[-1]["fraction"] * looks + 1e-9) if taken else 0
    if e.status == "running" and reached > last:
        taken.append({"fraction": min(fraction, 1.0), "z": z})
        e.plan = {**e.plan, "looks_taken": taken}
    return taken


def _sequential(
    e: Experiment, effect: stats.EffectEstimate | None, n_min: int
) -> tuple[stats.SequentialDecision | None, str]:
    looks, horizon = int(e.plan["looks"]), int(e.plan["n_per_arm"])
    fraction = n_min / horizon
    taken = _record_look(e, effect.statistic, fraction) if effect is not None else []
    next_n = math.ceil((math.floor(fraction * looks + 1e-9) + 1) / looks * horizon)
    if not taken:
        return (
            None,
            f"too early: the first planned look is at {math.ceil(horizon / looks)} per arm",
        )
    seq = stats.sequential_decision(
        [t["z"] for t in taken], looks, float(e.plan["comparison_alpha"]),
        fractions=[t["fraction"] for t in taken],
    )  # fmt: skip
    if seq.decision == "continue":
        return seq, (
            f"look {seq.look} of {looks}: |z| = {abs(seq.z):.2f} is below the boundary "
            f"{seq.boundary:.2f}; keep going until {next_n} per arm"
        )
    return (
        seq,
        f"look {seq.look} of {looks}: |z| = {abs(seq.z):.2f}, boundary {seq.boundary:.2f}",
    )


def decide(
    e: Experiment, effects: Mapping[str, stats.EffectEstimate | None], n_min: int
) -> tuple[stats.SequentialDecision | None, str, dict[str, str], str]:
    """The decision, each arm's verdict and the message, guarding against peeking."""
    direction = int(e.plan.get("direction", 1))
    horizon = int(e.plan["n_per_arm"])
    undecided = dict.fromkeys(effects, "undecided")
    if int(e.plan["looks"]) > 1:
        arm, effect = next(iter(effects.items()))
        seq, message = _sequential(e, effect, n_min)
        if seq is None or seq.decision == "continue":
            return seq, "too_early" if seq is None else "continue", undecided, message
        if seq.decision == "stop_no_effect":
            return seq, "no_detectable_change", {arm: "no_detectable_change"}, message
        verdict = "improved" if seq.z * direction > 0 else "worse"
        return seq, "significant", {arm: verdict}, message
    if n_min < horizon:
        message = (
            f"too early: the plan's horizon is {horizon} outcomes per arm and the "
            f"smallest arm has {n_min}; no winner can be declared before it (the "
            "intervals are shown for information only: deciding now would be peeking)"
        )
        return None, "too_early", undecided, message
    verdicts = {
        arm: effect.verdict(direction) if effect else "undecided"
        for arm, effect in effects.items()
    }
    if any(v in ("improved", "worse") for v in verdicts.values()):
        return None, "significant", verdicts, "horizon reached: " + _summary(verdicts)
    return (
        None,
        "no_detectable_change",
        verdicts,
        "horizon reached: no detectable change",
    )


def _summary(verdicts: Mapping[str, str]) -> str:
    return "; ".join(
        f"{arm} {verdict.replace('_', ' ')}" for arm, verdict in verdicts.items()
    )
