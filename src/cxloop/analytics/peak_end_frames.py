"""Peak-end analysis over the store: journeys before each relational answer.

A **journey** is a customer's scored survey responses (any survey but the relational
one) in the :data:`~cxloop.domain.peak_end.WINDOW_DAYS` before one of their relational
answers (the ``relationship`` survey in the demo), in time order; a customer who
answered the relational survey twice has two journeys. Each response's score is the
mean of its NPS, CSAT and CES answers on a 0-1 scale
(:func:`~cxloop.domain.peak_end.touchpoint_scores`). Journeys with fewer than
``min_touchpoints`` scores are left out. The relational NPS (0-10) is then regressed on
the peak, the end, the average and the peak-end mean of each journey.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cxloop.analytics.drivers_service import RELATIONAL_SURVEY
from cxloop.analytics.store_frames import read_responses
from cxloop.config import Settings
from cxloop.domain import peak_end as pe
from cxloop.domain.errors import InvalidInput
from cxloop.domain.vocab import InteractionKind
from cxloop.store.engine import engine_for

if TYPE_CHECKING:
    from cxloop.journeys.definitions import Journey

#: Journeys need at least this many scored touchpoints.
MIN_TOUCHPOINTS = 2
#: At least this many journeys to fit the four lines.
MIN_JOURNEYS = 10


@dataclass(frozen=True)
class PredictorFit:
    """The line of the relational score on one predictor."""

    predictor: str
    slope: float
    low: float
    high: float
    intercept: float
    r2: float


@dataclass(frozen=True)
class MomentCount:
    """How often a touchpoint was the peak (or the end) of a bad journey."""

    touchpoint: str
    peak: int
    end: int
    peak_share: float
    end_share: float


@dataclass(frozen=True)
class PeakEndResult:
    """The four fits (best R² first), the R² gain of peak-end over the average with
    its bootstrap interval, and the touchpoints at the peak or end of bad journeys."""

    journeys: int
    touchpoints: float
    bad_journeys: int
    window_days: int
    fits: list[PredictorFit] = field(default_factory=list)
    gain: float = 0.0
    gain_low: float = 0.0
    gain_high: float = 0.0
    moments: list[MomentCount] = field(default_factory=list)


@dataclass(frozen=True)
class Journeys:
    """The scored touchpoints of each journey, in time order, and its overall answer."""

    rows: pd.DataFrame
    overall: pd.Series


def journeys(
    responses: pd.DataFrame,
    *,
    survey: str = RELATIONAL_SURVEY,
    touchpoints: Collection[str] | None = None,
    min_touchpoints: int = MIN_TOUCHPOINTS,
) -> Journeys:
    """Journeys of the responses frame of :func:`~.store_frames.read_responses`."""
    relational = responses[(responses["survey"] == survey) & responses["nps"].notna()]
    if relational.empty:
        known = ", ".join(sorted(str(s) for s in responses["survey"].dropna().unique()))
        msg = f"no NPS answers of the relational survey {survey!r}: surveys are {known}"
        raise InvalidInput(msg)
    others = responses[responses["survey"] != survey].copy()
    others["score"] = pe.touchpoint_scores(
        *(others[m].to_numpy(np.float64) for m in ("nps", "csat", "ces"))
    )
    others = others[others["score"].notna()]
    if touchpoints is not None:
        others = others[others["touchpoint"].isin(list(touchpoints))]
    anchors = relational[["customer_id", "occurred_at", "nps"]].reset_index(drop=True)
    pairs = anchors.reset_index(names="journey").merge(
        others[["customer_id", "occurred_at", "touchpoint", "score"]],
        on="customer_id",
        suffixes=("_overall", ""),
    )
    gap = pairs["occurred_at_overall"] - pairs["occurred_at"]
    inside = (gap > pd.Timedelta(0)) & (gap <= pd.Timedelta(days=pe.WINDOW_DAYS))
    pairs = pairs[inside].sort_values(["journey", "occurred_at"], ignore_index=True)
    sizes = pairs.groupby("journey")["score"].transform("size")
    pairs = pairs[sizes >= min_touchpoints].reset_index(drop=True)
    return Journeys(rows=pairs, overall=anchors["nps"].astype(np.float64))


def in_journey(responses: pd.DataFrame, journey: Journey) -> pd.Series:
    """Whether ``journey``'s rules place each response on one of its touchpoints.

    Touchpoints marked ``relationship`` (the relational survey itself) do not count.
    """
    fields = ["channel", "touchpoint", "journey_stage"]
    combos = responses[fields].drop_duplicates()
    placed = {}
    for row in combos.itertuples(index=False):
        interaction = dict(zip(fields, row, strict=True))
        interaction["kind"] = InteractionKind.SURVEY_RESPONSE.value
        found = journey.place(interaction)
        placed[tuple(row)] = found is not None and not found[1].relationship
    keys = pd.Series(list(zip(*(responses[f] for f in fields), strict=True)))
    return pd.Series(keys.map(placed).to_numpy(bool), index=responses.index)


def peak_end_analysis(
    *,
    settings: Settings,
    journey: str | None = None,
    survey: str = RELATIONAL_SURVEY,
    touchpoints: Collection[str] | None = None,
    min_touchpoints: int = MIN_TOUCHPOINTS,
    seed: int = 0,
) -> PeakEndResult:
    """Compare peak, end, average and peak-end as predictors of the relational NPS.

    Parameters
    ----------
    journey
        Only responses that this journey's rules place on one of its touchpoints
        (``cxloop journey list``); every response when None.
    survey
        The relational survey (the ``survey`` attribute of its responses).
    touchpoints
        Only these touchpoints make up journeys (a journey definition's touchpoints);
        every touchpoint when None.
    """
    responses = read_responses(engine_for(settings.database_url))
    if journey is not None:
        from cxloop.journeys.service import get_journey

        definition = get_journey(settings=settings, name=journey)
        relational = responses["survey"] == survey
        responses = responses[relational | in_journey(responses, definition)]
    found = journeys(
        responses,
        survey=survey,
        touchpoints=touchpoints,
        min_touchpoints=min_touchpoints,
    )
    return analyse(found, seed=seed)


def analyse(found: Journeys, *, seed: int = 0) -> PeakEndResult:
    """The fits and the moment counts of ``found``."""
    rows = found.rows
    count = int(rows["journey"].nunique()) if len(rows) else 0
    if count < MIN_JOURNEYS:
        msg = (
            f"{count} journeys with at least two scored touchpoints in the "
            f"{pe.WINDOW_DAYS} days before a relational answer: need {MIN_JOURNEYS}"
        )
        raise InvalidInput(msg)
    moments = pe.journey_moments(
        rows["journey"].to_numpy(np.int64), rows["score"].to_numpy(np.float64)
    )
    overall = found.overall.to_numpy(np.float64)[moments.journey]
    fits = pe.compare_predictors(moments, overall)
    gain, low, high = pe.r2_gain(moments.peak_end, moments.average, overall, seed=seed)
    return PeakEndResult(
        journeys=count,
        touchpoints=float(moments.touchpoints.mean()),
        bad_journeys=int((overall <= pe.BAD_AT_MOST).sum()),
        window_days=pe.WINDOW_DAYS,
        fits=sorted(
            (
                PredictorFit(n, f.slope, f.low, f.high, f.intercept, f.r2)
                for n, f in fits.items()
            ),
            key=lambda f: -f.r2,
        ),
        gain=gain,
        gain_low=low,
        gain_high=high,
        moments=_bad_moments(rows, moments, overall),
    )


def _bad_moments(
    rows: pd.DataFrame, moments: pe.JourneyMoments, overall: np.ndarray
) -> list[MomentCount]:
    """Touchpoints most often at the peak or the end of bad journeys (NPS ≤ 6)."""
    bad = overall <= pe.BAD_AT_MOST
    touchpoint = rows["touchpoint"].fillna("").to_numpy(str)
    peaks = pd.Series(touchpoint[moments.peak_index[bad]]).value_counts()
    ends = pd.Series(touchpoint[moments.end_index[bad]]).value_counts()
    total = max(int(bad.sum()), 1)
    names = sorted(set(peaks.index) | set(ends.index))
    counts = [
        MomentCount(
            touchpoint=str(name),
            peak=int(peaks.get(name, 0)),
            end=int(ends.get(name, 0)),
            peak_share=float(peaks.get(name, 0)) / total,
            end_share=float(ends.get(name, 0)) / total,
        )
        for name in names
    ]
    return sorted(counts, key=lambda c: (-(c.peak + c.end), c.touchpoint))
