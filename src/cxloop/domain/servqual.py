"""SERVQUAL service quality gaps: perception minus expectation, per dimension.

Parasuraman, Zeithaml and Berry (1988) measure service quality on five dimensions; each
respondent rates what they expect of such a service and what they got. The gap of a
dimension is the mean of the paired differences P - E (negative: the service falls
short), with a t interval on those differences.

>>> gaps = servqual_gaps({"reliability": [6, 7, 5]}, {"reliability": [5, 5, 5]})
>>> g = gaps[0]
>>> g.dimension, g.gap, g.n
('reliability', -1.0, 3)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cxloop.domain.errors import InvalidInput

#: The five SERVQUAL dimensions, in the order reports list them.
DIMENSIONS = ("tangibles", "reliability", "responsiveness", "assurance", "empathy")

Values = Sequence[float] | npt.NDArray[np.float64]


@dataclass(frozen=True)
class ServqualGap:
    """The gap of one dimension: mean P - E with its interval (None below 2 pairs)."""

    dimension: str
    expectation: float
    perception: float
    gap: float
    low: float | None
    high: float | None
    n: int
    level: float


def _pairs(name: str, expected: Values, perceived: Values) -> npt.NDArray[np.float64]:
    e = np.asarray(expected, dtype=np.float64)
    p = np.asarray(perceived, dtype=np.float64)
    if e.shape != p.shape or e.ndim != 1:
        msg = f"{name}: expectations ({e.size}) and perceptions ({p.size}) must pair up"
        raise InvalidInput(msg)
    both = ~(np.isnan(e) | np.isnan(p))
    if not both.any():
        raise InvalidInput(f"{name}: no respondent answered both E and P")
    return np.column_stack([e[both], p[both]])


def _gap(name: str, pairs: npt.NDArray[np.float64], level: float) -> ServqualGap:
    from scipy import stats

    diff = pairs[:, 1] - pairs[:, 0]
    n = len(diff)
    gap = float(diff.mean())
    low = high = None
    if n >= 2:
        half = float(stats.t.ppf(0.5 + level / 2.0, n - 1)) * float(
            diff.std(ddof=1) / np.sqrt(n)
        )
        low, high = gap - half, gap + half
    return ServqualGap(
        dimension=name,
        expectation=float(pairs[:, 0].mean()),
        perception=float(pairs[:, 1].mean()),
        gap=gap,
        low=low,
        high=high,
        n=n,
        level=level,
    )


def servqual_gaps(
    expectations: Mapping[str, Values],
    perceptions: Mapping[str, Values],
    level: float = 0.95,
) -> list[ServqualGap]:
    """The gap P - E of each dimension, with a paired t interval and n.

    Parameters
    ----------
    expectations, perceptions
        Answers per dimension, one entry per respondent in the same order in both;
        ``nan`` where a respondent skipped the item (that pair is left out).
    level
        Confidence level of the intervals.

    Returns
    -------
    list of ServqualGap
        The five :data:`DIMENSIONS` first (those given), then any other dimension in
        the order of ``expectations``.
    """
    if set(expectations) != set(perceptions):
        alone = sorted(set(expectations) ^ set(perceptions))
        raise InvalidInput(f"dimensions without both E and P: {', '.join(alone)}")
    if not expectations:
        raise InvalidInput("no SERVQUAL dimension given")
    if not 0.5 <= level < 1.0:
        raise InvalidInput(f"level {level} is not in [0.5, 1)")
    order = [d for d in DIMENSIONS if d in expectations] + [
        d for d in expectations if d not in DIMENSIONS
    ]
    return [
        _gap(name, _pairs(name, expectations[name], perceptions[name]), level)
        for name in order
    ]
