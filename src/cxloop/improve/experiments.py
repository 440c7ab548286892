"""A/B experiments in the store: plan the sample, assign arms, start, stop, analyse.

An experiment randomises customers (or cases) between arms, for example two follow-up
scripts. Its plan is fixed when it is created: the responses needed per arm to detect
the smallest effect worth acting on (the *horizon*), the number of planned looks and,
with more than one look, the O'Brien–Fleming-type boundaries that keep the overall
error rate at alpha (:mod:`cxloop.domain.sequential`). :func:`analyse` lives in
:mod:`cxloop.improve.experiment_analysis` and is re-exported here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.domain import experiments as stats
from cxloop.domain.errors import Conflict, InvalidInput, NotFound
from cxloop.improve.experiment_analysis import (
    ArmResult,
    ExperimentAnalysis,
    analyse,
    read_outcomes,
)
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import Case, Customer, Experiment, ExperimentAssignment
from cxloop.store.types import utcnow

__all__ = [
    "ArmResult",
    "ExperimentAnalysis",
    "ExperimentInfo",
    "analyse",
    "assign",
    "assign_segment",
    "create_experiment",
    "get_experiment",
    "list_experiments",
    "plan_sample",
    "read_outcomes",
    "read_unit_ids",
    "start_experiment",
    "stop_experiment",
]

UNITS = ("customer", "case")
ANALYSES = ("proportion", "mean", "nps")
#: Store metrics an analysis can read by itself when the unit is a customer.
STORE_METRICS = {"nps": ("nps",), "mean": ("csat", "ces")}


@dataclass(frozen=True)
class ExperimentInfo:
    """An experiment with its plan and how many units each arm holds."""

    key: str
    name: str
    description: str | None
    unit: str
    arms: tuple[tuple[str, float], ...]
    analysis: str
    plan: dict[str, Any]
    status: str
    started_at: datetime | None
    stopped_at: datetime | None
    assigned: dict[str, int]


def _arms(arms: Sequence[str] | Sequence[tuple[str, float]]) -> list[tuple[str, float]]:
    pairs = [(a, 1.0) if isinstance(a, str) else (str(a[0]), float(a[1])) for a in arms]
    names = [name.strip() for name, _ in pairs]
    if len(pairs) < 2 or any(not n or len(n) > 64 for n in names):
        msg = "an experiment needs at least two arms with names of 1-64 characters"
        raise InvalidInput(msg)
    if len(set(names)) != len(names):
        raise InvalidInput(f"arm names must differ: {', '.join(names)}")
    if any(not w > 0 for _, w in pairs):
        raise InvalidInput("arm weights must be positive")
    total = sum(w for _, w in pairs)
    return [(n, w / total) for n, (_, w) in zip(names, pairs, strict=True)]


def _nps_shares(baseline: float, passives: float) -> tuple[float, float, float]:
    promoters = (1 - passives + baseline / 100) / 2
    detractors = (1 - passives - baseline / 100) / 2
    if not (0 <= passives < 1 and promoters >= 0 and detractors >= 0):
        msg = f"NPS {baseline} with {passives:.0%} passives is impossible"
        raise InvalidInput(msg)
    return promoters, passives, detractors


def plan_sample(
    *,
    analysis: str,
    baseline: float,
    mde: float,
    arms: int = 2,
    alpha: float = 0.05,
    power: float = 0.8,
    looks: int = 1,
    sd: float | None = None,
    passives: float = 0.3,
) -> dict[str, Any]:
    """The plan of an experiment: responses per arm, looks and boundaries.

    ``baseline`` is the control arm's current value: a share in 0-1 for ``proportion``,
    the mean for ``mean`` (then ``sd`` is required) and the NPS (−100..100) for ``nps``,
    whose passive share ``passives`` completes the distribution. ``mde`` is the smallest
    effect worth detecting, in the same unit. With more than two arms each comparison
    with the control uses ``alpha / (arms − 1)`` (Bonferroni).
    """
    if analysis not in ANALYSES:
        raise InvalidInput(f"analysis must be one of {', '.join(ANALYSES)}")
    if looks < 1 or (looks > 1 and arms != 2):
        raise InvalidInput("looks must be >= 1; several looks need exactly two arms")
    each = alpha / (arms - 1)
    if analysis == "proportion":
        n = stats.sample_size_proportions(baseline, mde, alpha=each, power=power)
    elif analysis == "mean":
        if sd is None:
            raise InvalidInput(
                "a mean experiment needs the outcome's standard deviation"
            )
        n = stats.sample_size_means(sd, mde, alpha=each, power=power)
    else:
        shares = _nps_shares(baseline, passives)
        n = stats.sample_size_nps(shares, mde, alpha=each, power=power)
    bounds = stats.sequential_boundaries(looks, alpha=each) if looks > 1 else []
    return {
        "n_per_arm": n, "looks": looks, "boundaries": bounds, "alpha": alpha,
        "comparison_alpha": each, "power": power, "baseline": baseline, "mde": mde,
        "sd": sd, "passives": passives if analysis == "nps" else None, "looks_taken": [],
    }  # fmt: skip


def _session(settings: Settings) -> Any:
    return UnitOfWork(engine_for(settings.database_url)).session()


def _get(session: Session, key: str) -> Experiment:
    experiment = session.scalar(select(Experiment).where(Experiment.key == key))
    if experiment is None:
        raise NotFound(f"no experiment {key}")
    return experiment


def _info(session: Session, e: Experiment) -> ExperimentInfo:
    counts = session.execute(
        select(ExperimentAssignment.arm, func.count())
        .where(ExperimentAssignment.experiment_id == e.id)
        .group_by(ExperimentAssignment.arm)
    )
    assigned = {str(arm): int(n) for arm, n in counts}
    arms = tuple((str(a["name"]), float(a["weight"])) for a in e.arms)
    return ExperimentInfo(
        e.key, e.name, e.description, e.unit, arms, e.analysis, dict(e.plan), e.status,
        e.started_at, e.stopped_at, {name: assigned.get(name, 0) for name, _ in arms},
    )  # fmt: skip


def create_experiment(
    *,
    settings: Settings,
    key: str,
    name: str,
    arms: Sequence[str] | Sequence[tuple[str, float]],
    unit: str = "customer",
    analysis: str,
    mde: float,
    baseline: float,
    alpha: float = 0.05,
    power: float = 0.8,
    looks: int = 1,
    description: str | None = None,
    metric: str | None = None,
    sd: float | None = None,
    passives: float = 0.3,
    lower_is_better: bool | None = None,
) -> ExperimentInfo:
    """Create a draft experiment and store its plan (see :func:`plan_sample`).

    ``metric`` (``nps`` for an NPS analysis, ``csat`` or ``ces`` for a mean) lets
    :func:`analyse` read outcomes from the store's answers when the unit is a customer;
    without it, outcomes come from a file. ``lower_is_better`` defaults to True for CES.
    """
    key = key.strip()
    if not key or len(key) > 64:
        raise InvalidInput("an experiment key needs 1-64 characters")
    if unit not in UNITS:
        raise InvalidInput(f"unit must be one of {', '.join(UNITS)}")
    metric = metric or ("nps" if analysis == "nps" else None)
    if metric is not None and metric not in STORE_METRICS.get(analysis, ()):
        raise InvalidInput(f"a {analysis} experiment cannot read the {metric} metric")
    pairs = _arms(arms)
    plan = plan_sample(
        analysis=analysis, baseline=baseline, mde=mde, arms=len(pairs), alpha=alpha,
        power=power, looks=looks, sd=sd, passives=passives,
    )  # fmt: skip
    lower = lower_is_better if lower_is_better is not None else metric == "ces"
    plan |= {"metric": metric, "direction": -1 if lower else 1}
    with _session(settings) as session:
        if session.scalar(select(Experiment.id).where(Experiment.key == key)):
            raise Conflict(f"experiment {key} exists already")
        experiment = Experiment(
            key=key, name=name, description=description, unit=unit, analysis=analysis,
            arms=[{"name": n, "weight": w} for n, w in pairs], plan=plan, status="draft",
        )  # fmt: skip
        session.add(experiment)
        session.flush()
        return _info(session, experiment)


def get_experiment(*, settings: Settings, key: str) -> ExperimentInfo:
    """One experiment with its plan and arm sizes."""
    with _session(settings) as session:
        return _info(session, _get(session, key))


def list_experiments(*, settings: Settings) -> list[ExperimentInfo]:
    """Every experiment, newest first."""
    with _session(settings) as session:
        rows = session.scalars(select(Experiment).order_by(Experiment.id.desc()))
        return [_info(session, e) for e in rows]


def start_experiment(*, settings: Settings, key: str) -> ExperimentInfo:
    """Start a draft experiment: outcomes count from now on."""
    with _session(settings) as session:
        experiment = _get(session, key)
        if experiment.status != "draft":
            raise Conflict(f"experiment {key} is {experiment.status}, not a draft")
        experiment.status, experiment.started_at = "running", utcnow()
        return _info(session, experiment)


def stop_experiment(*, settings: Settings, key: str) -> ExperimentInfo:
    """Stop a running experiment: later outcomes no longer count."""
    with _session(settings) as session:
        experiment = _get(session, key)
        if experiment.status != "running":
            raise Conflict(f"experiment {key} is {experiment.status}, not running")
        experiment.status, experiment.stopped_at = "stopped", utcnow()
        return _info(session, experiment)


def arm_for(key: str, unit_id: int, arms: Sequence[tuple[str, float]]) -> str:
    """The arm of a unit: SHA-256 of ``"key:unit_id"`` read as a uniform in [0, 1).

    The same key and unit always give the same arm, on any machine, so an assignment
    can be reproduced and audited; across units the arms follow the weights.
    """
    digest = hashlib.sha256(f"{key}:{unit_id}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    cumulative = 0.0
    for name, weight in arms:
        cumulative += weight
        if u < cumulative:
            return name
    return arms[-1][0]


def _check_units(session: Session, unit: str, ids: set[int]) -> None:
    table = Customer if unit == "customer" else Case
    known: set[int] = set()
    chunk = sorted(ids)
    for start in range(0, len(chunk), 900):
        part = chunk[start : start + 900]
        known.update(session.scalars(select(table.id).where(table.id.in_(part))))
    missing = sorted(ids - known)
    if missing:
        shown = ", ".join(str(i) for i in missing[:10])
        more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        raise InvalidInput(f"no {unit} with id {shown}{more}")


def assign(*, settings: Settings, key: str, unit_ids: Sequence[int]) -> dict[int, str]:
    """Assign units to arms (idempotent: an assigned unit keeps its arm).

    Returns the arm of every unit asked for, new or already assigned.
    """
    ids = {int(i) for i in unit_ids}
    with _session(settings) as session:
        e = _get(session, key)
        if e.status == "stopped":
            raise Conflict(f"experiment {key} is stopped")
        _check_units(session, e.unit, ids)
        existing = dict(
            session.execute(
                select(ExperimentAssignment.unit_id, ExperimentAssignment.arm).where(
                    ExperimentAssignment.experiment_id == e.id
                )
            ).all()
        )
        arms = [(str(a["name"]), float(a["weight"])) for a in e.arms]
        new = {i: arm_for(e.key, i, arms) for i in sorted(ids - existing.keys())}
        if new:
            now = utcnow()
            session.execute(
                insert(ExperimentAssignment),
                [{"experiment_id": e.id, "unit_id": i, "arm": a, "assigned_at": now}
                 for i, a in new.items()],
            )  # fmt: skip
        return {i: existing.get(i) or new[i] for i in sorted(ids)}


def assign_segment(*, settings: Settings, key: str, segment_key: str) -> dict[int, str]:
    """Assign every member of a saved segment (customer experiments only)."""
    from cxloop.customers.segments import segment_members

    if get_experiment(settings=settings, key=key).unit != "customer":
        raise InvalidInput(f"experiment {key} randomises cases, not customers")
    return assign(
        settings=settings,
        key=key,
        unit_ids=segment_members(settings=settings, key=segment_key),
    )


def read_unit_ids(path: Path) -> list[int]:
    """Unit ids from a file: one integer per line (first column; a header is allowed)."""
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file")
    ids: list[int] = []
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    for number, line in enumerate(lines, start=1):
        cell = line.split(",")[0].strip().strip('"')
        if not cell or (number == 1 and not cell.lstrip("-").isdigit()):
            continue
        if not cell.isdigit():
            raise InvalidInput(f"{path}, line {number}: {cell!r} is not a unit id")
        ids.append(int(cell))
    if not ids:
        raise InvalidInput(f"{path}: no unit ids")
    return ids
