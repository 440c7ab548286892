"""Peak-end analysis: which moments of a journey the overall score remembers.

The peak-end rule (Kahneman et al. 1993; Fredrickson and Kahneman 1993) says that a
remembered experience follows its most intense moment and its last one more than the
average of all its moments. Here each journey is a customer's scored touchpoints in a
window before an overall (relational) answer, each score on a common 0-1 scale
(:func:`normalised`). For each journey:

- **peak**: the score farthest from the typical score (the mean of every score in the
  analysis), good or bad; on a tie the lower score, then the later one;
- **end**: the last score;
- **average**: the mean of the scores;
- **peak-end**: the mean of the peak and the end (the rule's own prediction).

Each is then put in a one-predictor regression of the overall score
(:func:`line_fit`), with the slope's confidence interval and the model's R².

>>> import numpy as np
>>> m = journey_moments(np.array([0, 0, 0, 1, 1]), np.array([0.9, 0.1, 0.8, 0.7, 0.6]))
>>> m.peak.tolist(), m.end.tolist(), [round(v, 2) for v in m.average.tolist()]
([0.1, 0.7], [0.8, 0.6], [0.6, 0.65])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cxloop.domain.errors import InvalidInput
from cxloop.domain.vocab import SCORE_RANGES, MetricKind

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

#: The four predictors, in the order reports list them.
PREDICTORS = ("peak", "end", "average", "peak_end")
#: A journey is the scored touchpoints of a customer in this many days before (and
#: not including) their overall answer.
WINDOW_DAYS = 90
#: An overall NPS at or below this ends a bad journey (a detractor).
BAD_AT_MOST = 6


def normalised(metric: MetricKind | str, values: Floats) -> Floats:
    """Scores of ``metric`` on 0 (worst) to 1 (best): NPS /10, CSAT 1-5, CES 7-1.

    >>> normalised("ces", np.array([1.0, 7.0])).tolist()
    [1.0, 0.0]
    """
    kind = MetricKind(metric)
    if kind not in SCORE_RANGES:
        raise InvalidInput(f"{kind.value} is not a scored metric (nps, csat, ces)")
    low, high = SCORE_RANGES[kind]
    share = (np.asarray(values, dtype=np.float64) - low) / (high - low)
    return np.asarray(1.0 - share if kind is MetricKind.CES else share)


def touchpoint_scores(nps: Floats, csat: Floats, ces: Floats) -> Floats:
    """One 0-1 score per interaction: the mean of its normalised answers.

    ``nan`` marks a question not answered; an interaction with no answer gets ``nan``.

    >>> nan = float("nan")
    >>> touchpoint_scores(np.array([10.0, nan]), np.array([3.0, nan]),
    ...                   np.array([nan, nan])).tolist()
    [0.75, nan]
    """
    stacked = np.column_stack(
        [
            normalised(MetricKind.NPS, nps),
            normalised(MetricKind.CSAT, csat),
            normalised(MetricKind.CES, ces),
        ]
    )
    answered = (~np.isnan(stacked)).sum(axis=1)
    total = np.nansum(stacked, axis=1)
    out = np.full(len(total), np.nan)
    np.divide(total, answered, out=out, where=answered > 0)
    return out


@dataclass(frozen=True)
class JourneyMoments:
    """Per journey (in the order of the journey ids): the four predictors.

    ``peak_index`` and ``end_index`` are positions in the arrays given to
    :func:`journey_moments`, so that callers can say which touchpoint was the peak.
    """

    journey: Ints
    peak: Floats
    end: Floats
    average: Floats
    peak_index: Ints
    end_index: Ints
    touchpoints: Ints

    @property
    def peak_end(self) -> Floats:
        """The mean of the peak and the end."""
        return np.asarray((self.peak + self.end) / 2.0)

    def predictor(self, name: str) -> Floats:
        """One of :data:`PREDICTORS` by name."""
        if name not in PREDICTORS:
            raise InvalidInput(f"predictor {name!r} is unknown: use {PREDICTORS}")
        return np.asarray(getattr(self, name), dtype=np.float64)


def journey_moments(
    journey: Ints, score: Floats, reference: float | None = None
) -> JourneyMoments:
    """Peak, end and average of each journey.

    Parameters
    ----------
    journey
        The journey of each score; the scores of one journey must be given in time
        order (journeys may interleave).
    score
        Scores on one 0-1 scale.
    reference
        The typical score that the peak is farthest from; the mean of ``score`` when
        not given.
    """
    journey = np.asarray(journey, dtype=np.int64)
    score = np.asarray(score, dtype=np.float64)
    if journey.shape != score.shape or score.ndim != 1 or not len(score):
        raise InvalidInput("need one journey id per score, and at least one score")
    if not np.isfinite(score).all():
        raise InvalidInput("scores must be finite numbers")
    typical = float(score.mean()) if reference is None else reference
    position = np.arange(len(score))
    by_journey = np.lexsort((position, journey))
    ids, starts, counts = np.unique(
        journey[by_journey], return_index=True, return_counts=True
    )
    ends = by_journey[starts + counts - 1]
    ranked = np.lexsort((position, -score, np.abs(score - typical), journey))
    peaks = ranked[starts + counts - 1]
    sums = np.bincount(np.searchsorted(ids, journey), weights=score)
    return JourneyMoments(
        journey=ids,
        peak=score[peaks],
        end=score[ends],
        average=sums / counts,
        peak_index=peaks,
        end_index=ends,
        touchpoints=counts.astype(np.int64),
    )


@dataclass(frozen=True)
class LineFit:
    """``y = intercept + slope * x`` by least squares, with the slope's interval."""

    intercept: float
    slope: float
    se: float
    low: float
    high: float
    r2: float
    n: int
    level: float


def line_fit(x: Floats, y: Floats, level: float = 0.95) -> LineFit:
    """One-predictor least squares with a t interval for the slope and the R².

    >>> fit = line_fit(np.array([0.0, 1.0, 2.0, 3.0]), np.array([1.0, 3.0, 5.0, 7.5]))
    >>> round(fit.slope, 3), round(fit.r2, 4)
    (2.15, 0.9968)
    """
    from scipy import stats

    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = len(x)
    if x.shape != y.shape or n < 3:
        raise InvalidInput("a line needs x and y of one length, at least 3 points")
    dx, dy = x - x.mean(), y - y.mean()
    sxx, syy = float(dx @ dx), float(dy @ dy)
    if sxx <= 0.0 or syy <= 0.0:
        raise InvalidInput("x and y must both vary to fit a line")
    slope = float(dx @ dy) / sxx
    residual = dy - slope * dx
    sse = float(residual @ residual)
    se = float(np.sqrt(sse / (n - 2) / sxx))
    half = float(stats.t.ppf(0.5 + level / 2.0, n - 2)) * se
    return LineFit(
        intercept=float(y.mean()) - slope * float(x.mean()),
        slope=slope,
        se=se,
        low=slope - half,
        high=slope + half,
        r2=1.0 - sse / syy,
        n=n,
        level=level,
    )


def compare_predictors(
    moments: JourneyMoments, overall: Floats, level: float = 0.95
) -> dict[str, LineFit]:
    """The fit of ``overall`` (one value per journey) on each of :data:`PREDICTORS`."""
    overall = np.asarray(overall, dtype=np.float64)
    if overall.shape != moments.peak.shape:
        raise InvalidInput("need one overall score per journey")
    return {
        name: line_fit(moments.predictor(name), overall, level) for name in PREDICTORS
    }


def r2_gain(
    better: Floats,
    worse: Floats,
    y: Floats,
    *,
    resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float, float]:
    """R² of ``y`` on ``better`` minus R² on ``worse``, with a bootstrap interval.

    Journeys are resampled with replacement; each one-predictor R² is the squared
    correlation. Returns ``(gain, low, high)``.
    """
    stacked = np.column_stack([better, worse, y]).astype(np.float64)
    n = len(stacked)
    if n < 3:
        raise InvalidInput("an R² gain needs at least 3 journeys")
    rng = np.random.default_rng(seed)
    picks = stacked[rng.integers(0, n, (resamples, n))]
    centred = picks - picks.mean(axis=1, keepdims=True)
    cov = np.einsum("bni,bnj->bij", centred, centred)
    var = np.diagonal(cov, axis1=1, axis2=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = cov[:, :2, 2] ** 2 / (var[:, :2] * var[:, 2:3])
    draws = (r2[:, 0] - r2[:, 1])[np.isfinite(r2).all(axis=1)]
    full = np.asarray(np.corrcoef(stacked.T), dtype=np.float64) ** 2
    tail = 100.0 * (1.0 - level) / 2.0
    low, high = np.percentile(draws, [tail, 100.0 - tail])
    return float(full[0, 2] - full[1, 2]), float(low), float(high)
