"""NPS, CSAT and CES exactly as DESIGN.md defines them, with 95 % margins and tests of change.

Each metric is computed from its sufficient statistics (counts and sums), so the same
formula serves a plain list of scores here and the aggregates an analytics engine returns.

>>> r = nps([10, 9, 8, 6, 0])
>>> r.value, r.n
(0.0, 5)
>>> csat([5, 4, 3, 1]).value
50.0
>>> ces([7, 5, 3, 1]).value
4.0
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from cxloop.domain.errors import InvalidInput
from cxloop.domain.vocab import SCORE_RANGES, MetricKind

Z_95 = 1.959963984540054
SCORED_METRICS = (MetricKind.NPS, MetricKind.CSAT, MetricKind.CES)

#: Whether a rise is good news. CES runs 1 = very easy to 7 = very hard, so it is not.
HIGHER_IS_BETTER: dict[MetricKind, bool] = {
    MetricKind.NPS: True,
    MetricKind.CSAT: True,
    MetricKind.CES: False,
}


@dataclass(frozen=True)
class MetricResult:
    """One metric over one group of answers.

    ``value`` is None when there are no answers; ``moe`` (the 95 % margin of error, in the
    unit of ``value``) and ``se`` are None when fewer than two answers make it undefined.
    """

    metric: MetricKind
    value: float | None
    n: int
    moe: float | None
    se: float | None
    detail: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Change:
    """The change of a metric from a previous period to the current one."""

    current: MetricResult
    previous: MetricResult
    difference: float | None
    p_value: float | None
    significant: bool

    @property
    def direction(self) -> str:
        """``up``, ``down`` or ``flat`` (flat when the change is not significant)."""
        if not self.significant or self.difference is None:
            return "flat"
        return "up" if self.difference > 0 else "down"

    @property
    def tone(self) -> str:
        """``better``, ``worse`` or ``flat``: the direction read for this metric.

        >>> compare(ces([6, 7, 6, 7]), ces([1, 2, 1, 2])).tone
        'worse'
        """
        if self.direction == "flat":
            return "flat"
        rising_is_good = HIGHER_IS_BETTER.get(self.current.metric, True)
        return "better" if (self.direction == "up") == rising_is_good else "worse"


def _empty(metric: MetricKind) -> MetricResult:
    return MetricResult(metric=metric, value=None, n=0, moe=None, se=None)


def _check_scores(metric: MetricKind, scores: Iterable[float]) -> list[float]:
    low, high = SCORE_RANGES[metric]
    values = [float(s) for s in scores]
    for s in values:
        if not low <= s <= high:
            msg = f"{metric.value} score {s:g} is outside {low}-{high}"
            raise InvalidInput(msg)
    return values


def nps_from_counts(n: int, promoters: int, detractors: int) -> MetricResult:
    """NPS = % promoters (9-10) - % detractors (0-6), in -100..100.

    The margin comes from the variance of the per-answer score (+1 promoter, 0 passive,
    -1 detractor): ``var = p + d - (p - d)**2`` and ``moe = 1.96 * sqrt(var / n) * 100``.
    """
    if n <= 0:
        return _empty(MetricKind.NPS)
    p, d = promoters / n, detractors / n
    value = 100.0 * (p - d)
    se = math.sqrt(max(p + d - (p - d) ** 2, 0.0) / n) * 100.0 if n >= 2 else None
    return MetricResult(
        metric=MetricKind.NPS,
        value=value,
        n=n,
        moe=Z_95 * se if se is not None else None,
        se=se,
        detail={
            "promoters_pct": 100.0 * p,
            "passives_pct": 100.0 * (1 - p - d),
            "detractors_pct": 100.0 * d,
        },
    )


def csat_from_sums(n: int, top_two: int, total: float) -> MetricResult:
    """CSAT = % of 4-5 answers on 1-5 (top-two-box); ``detail['mean']`` is the mean."""
    if n <= 0:
        return _empty(MetricKind.CSAT)
    p = top_two / n
    se = math.sqrt(p * (1 - p) / n) * 100.0 if n >= 2 else None
    return MetricResult(
        metric=MetricKind.CSAT,
        value=100.0 * p,
        n=n,
        moe=Z_95 * se if se is not None else None,
        se=se,
        detail={"mean": total / n},
    )


def ces_from_sums(
    n: int, total: float, total_sq: float, top_three: int
) -> MetricResult:
    """CES = mean on 1-7; ``detail['agree_pct']`` is the % of 5-7 answers.

    The margin uses the sample standard deviation: ``1.96 * s / sqrt(n)``.
    """
    if n <= 0:
        return _empty(MetricKind.CES)
    mean = total / n
    se = None
    if n >= 2:
        var = max(total_sq - n * mean * mean, 0.0) / (n - 1)
        se = math.sqrt(var / n)
    return MetricResult(
        metric=MetricKind.CES,
        value=mean,
        n=n,
        moe=Z_95 * se if se is not None else None,
        se=se,
        detail={"agree_pct": 100.0 * top_three / n},
    )


def nps(scores: Iterable[float]) -> MetricResult:
    """NPS of 0-10 scores (the plain-Python reference every engine is tested against)."""
    values = _check_scores(MetricKind.NPS, scores)
    return nps_from_counts(
        len(values), sum(s >= 9 for s in values), sum(s <= 6 for s in values)
    )


def csat(scores: Iterable[float]) -> MetricResult:
    """CSAT of 1-5 scores."""
    values = _check_scores(MetricKind.CSAT, scores)
    return csat_from_sums(len(values), sum(s >= 4 for s in values), sum(values))


def ces(scores: Iterable[float]) -> MetricResult:
    """CES of 1-7 scores."""
    values = _check_scores(MetricKind.CES, scores)
    return ces_from_sums(
        len(values),
        sum(values),
        sum(s * s for s in values),
        sum(s >= 5 for s in values),
    )


def compute(metric: MetricKind | str, scores: Iterable[float]) -> MetricResult:
    """Dispatch to :func:`nps`, :func:`csat` or :func:`ces` by name."""
    kind = MetricKind(metric)
    if kind is MetricKind.NPS:
        return nps(scores)
    if kind is MetricKind.CSAT:
        return csat(scores)
    if kind is MetricKind.CES:
        return ces(scores)
    msg = f"{kind.value} is not a scored metric (choose nps, csat or ces)"
    raise InvalidInput(msg)


def compare(
    current: MetricResult, previous: MetricResult, *, alpha: float = 0.05
) -> Change:
    """Test the change from ``previous`` to ``current``.

    NPS and CSAT use a z-test on the difference of two independent proportions-style
    scores with unpooled standard errors; CES uses Welch's t-test on the two means.
    Undefined (no data, or fewer than two answers on a side) gives ``p_value=None`` and
    ``significant=False``.
    """
    if current.value is None or previous.value is None:
        return Change(current, previous, None, None, False)
    diff = current.value - previous.value
    if current.se is None or previous.se is None:
        return Change(current, previous, diff, None, False)
    se = math.sqrt(current.se**2 + previous.se**2)
    if se == 0.0:
        p_value = 1.0 if diff == 0 else 0.0
    elif current.metric is MetricKind.CES:
        p_value = _welch_p(current, previous, diff, se)
    else:
        p_value = math.erfc(abs(diff / se) / math.sqrt(2.0))
    return Change(current, previous, diff, p_value, p_value < alpha)


def _welch_p(a: MetricResult, b: MetricResult, diff: float, se: float) -> float:
    from scipy import stats  # a maths library; imported late to keep start-up fast

    va, vb = (a.se or 0.0) ** 2, (b.se or 0.0) ** 2
    df = (va + vb) ** 2 / (va**2 / (a.n - 1) + vb**2 / (b.n - 1))
    return float(2.0 * stats.t.sf(abs(diff / se), df))
