"""Key-driver analysis and SERVQUAL gaps: the use cases the CLI and the web share.

:func:`key_drivers` reads the store, builds the analysis frame
(:mod:`cxloop.analytics.driver_frames`), fills each driver's gaps with its mean,
weighs the drivers (:mod:`cxloop.domain.drivers`) with bootstrap intervals and places
each in the driver matrix. :func:`servqual_file` reads a flat file of SERVQUAL answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cxloop.analytics.driver_fields import Level, Scale, parse_fields, parse_level
from cxloop.analytics.driver_frames import AnalysisFrame, analysis_frame
from cxloop.analytics.store_frames import read_store
from cxloop.config import Settings
from cxloop.domain import drivers as kda
from cxloop.domain.errors import InvalidInput
from cxloop.domain.peak_end import normalised
from cxloop.domain.servqual import ServqualGap, servqual_gaps
from cxloop.store.engine import engine_for

if TYPE_CHECKING:
    from cxloop.ingest.readers import RawTable

#: A driver needs at least this many observed (not filled-in) values.
MIN_OBSERVED = 10
#: The relational survey whose answers are the customer-level outcome.
RELATIONAL_SURVEY = "relationship"


@dataclass(frozen=True)
class DriverRow:
    """One driver: importance (share of R², %), its interval, performance, quadrant."""

    field: str
    importance: float
    percent: float
    low: float
    high: float
    performance: float
    quadrant: str
    coverage: float


@dataclass(frozen=True)
class DriverResult:
    """Drivers of one outcome, most important first."""

    outcome: str
    level: str
    method: str
    n: int
    r2: float
    resamples: int
    confidence: float
    drivers: list[DriverRow] = field(default_factory=list)


def key_drivers(
    *,
    settings: Settings,
    outcome: str,
    drivers: Sequence[str],
    method: str = kda.DriverMethod.RELATIVE_WEIGHTS.value,
    level: str = Level.RESPONSE.value,
    survey: str = RELATIONAL_SURVEY,
    resamples: int = 200,
    seed: int = 0,
) -> DriverResult:
    """Rank ``drivers`` of ``outcome`` (see docs/en/drivers.md for fields and levels).

    Raises
    ------
    InvalidInput
        An unknown outcome, method, level or field (the message lists what exists), a
        driver with fewer than :data:`MIN_OBSERVED` values or none that vary.
    """
    chosen = kda.parse_method(method)
    where = parse_level(level)
    fields = parse_fields(list(drivers), where)
    data = read_store(engine_for(settings.database_url))
    frame = analysis_frame(
        data, outcome=outcome, fields=fields, level=where, survey=survey
    )
    return weigh(frame, method=chosen, level=where, resamples=resamples, seed=seed)


def weigh(
    frame: AnalysisFrame,
    *,
    method: kda.DriverMethod,
    level: Level,
    resamples: int = 200,
    seed: int = 0,
) -> DriverResult:
    """Importance, intervals, performance and quadrant of each driver of ``frame``."""
    observed = frame.drivers.notna().sum()
    thin = [str(name) for name, k in observed.items() if k < MIN_OBSERVED]
    if thin:
        msg = f"drivers with fewer than {MIN_OBSERVED} values: {', '.join(thin)}"
        raise InvalidInput(msg)
    filled = frame.drivers.fillna(frame.drivers.mean())
    flat = [str(name) for name in filled.columns if filled[name].nunique() < 2]
    if flat:
        raise InvalidInput(f"drivers that do not vary here: {', '.join(flat)}")
    X, y = filled.to_numpy(np.float64), frame.values.to_numpy(np.float64)
    ci = kda.bootstrap_importance(X, y, method, resamples=resamples, seed=seed)
    performance = _performance(frame, filled)
    quadrants = kda.driver_matrix(ci.estimate.raw, performance)
    coverage = (observed / len(filled)).to_numpy(np.float64)
    rows = [
        DriverRow(
            field=str(name),
            importance=float(ci.estimate.raw[i]),
            percent=float(ci.estimate.percent[i]),
            low=float(ci.low_percent[i]),
            high=float(ci.high_percent[i]),
            performance=float(performance[i]),
            quadrant=quadrants[i].value,
            coverage=float(coverage[i]),
        )
        for i, name in enumerate(filled.columns)
    ]
    rows.sort(key=lambda r: -r.importance)
    return DriverResult(
        outcome=frame.outcome,
        level=level.value,
        method=method.value,
        n=len(y),
        r2=ci.estimate.r2,
        resamples=ci.resamples,
        confidence=ci.level,
        drivers=rows,
    )


def _good_outcome(frame: AnalysisFrame) -> pd.Series:
    """The outcome on 0 (bad) to 1 (good): churn risk is turned around."""
    values = frame.values.to_numpy(np.float64)
    if frame.outcome == "churn":
        return pd.Series(1.0 - values, index=frame.values.index)
    return pd.Series(normalised(frame.outcome, values), index=frame.values.index)


def _performance(frame: AnalysisFrame, filled: pd.DataFrame) -> np.ndarray:
    """Each driver's performance on 0-1, higher is better (docs: "Driver matrix")."""
    good = _good_outcome(frame)
    out = []
    for name in filled.columns:
        raw = frame.drivers[name].dropna()
        scale = frame.scales[name]
        if scale is Scale.METRIC:
            out.append(float(normalised(frame.metrics[name], raw.to_numpy()).mean()))
        elif scale is Scale.EVENT:
            out.append(float(good[frame.drivers[name] > 0].mean()))
        else:
            low, high = float(raw.min()), float(raw.max())
            place = (float(raw.mean()) - low) / (high - low)
            better = np.corrcoef(filled[name], good)[0, 1] >= 0
            out.append(place if better else 1.0 - place)
    return np.asarray(out, dtype=np.float64)


def servqual_file(
    *, path: Path, expectation_prefix: str = "E_", perception_prefix: str = "P_"
) -> list[ServqualGap]:
    """SERVQUAL gaps from a flat CSV, XLSX or JSON Lines file (one row per respondent).

    Columns ``<expectation_prefix><dimension>`` and ``<perception_prefix><dimension>``
    pair up; a blank cell leaves that respondent out of that dimension only. A cell
    that is not a number is refused with its line and column.
    """
    from cxloop.ingest.readers import read_table

    table = read_table(path)
    expectations = _prefixed(table, expectation_prefix)
    perceptions = _prefixed(table, perception_prefix)
    alone = sorted(set(expectations) ^ set(perceptions))
    if alone:
        msg = (
            f"{path.name}: dimensions without both E and P columns: {', '.join(alone)}"
        )
        raise InvalidInput(msg)
    return servqual_gaps(expectations, perceptions)


def _prefixed(table: RawTable, prefix: str) -> dict[str, np.ndarray]:
    """Numeric columns named ``<prefix><dimension>`` by dimension; blanks are nan."""
    out: dict[str, np.ndarray] = {}
    for column in table.columns:
        if not column.startswith(prefix) or column == prefix:
            continue
        text = pd.Series(table.values[column].to_pylist(), dtype="string").str.strip()
        text = text.mask(text == "")
        numbers = pd.to_numeric(text, errors="coerce")
        bad = numbers.isna() & text.notna()
        if bad.any():
            first = int(np.flatnonzero(bad.to_numpy())[0])
            msg = (
                f"{table.path.name}, line {int(table.lines[first])}, column {column}: "
                f"{text.iloc[first]!r} is not a number"
            )
            raise InvalidInput(msg)
        out[column[len(prefix) :]] = numbers.to_numpy(np.float64)
    if not out:
        names = ", ".join(table.columns)
        msg = f"{table.path.name}: no column starts with {prefix!r} (columns: {names})"
        raise InvalidInput(msg)
    return out
