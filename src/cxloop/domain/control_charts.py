"""Control charts: tell a real shift in a metric from the noise of sampling.

Two charts, both with 3-sigma limits computed from a *baseline* window (all points when
none is given), and two signal rules:

* ``p`` chart for shares and scores built from shares (NPS, CSAT): the limits of period
  i are ``centre ± 3·σ/sqrt(n_i)``, so months with few answers get wider limits;
* ``xmr`` (individuals and moving range) chart for means (CES): ``centre ± 2.66·MR̄``.

Rules (Western Electric Co., *Statistical Quality Control Handbook*, 1956; Nelson,
*J. Quality Technology* 16, 1984): ``beyond_limits``, one point outside the limits, and
``run_of_8``, eight or more points in a row on one side of the centre line (every period
from the eighth of such a run on is flagged).

>>> pts = [PeriodValue(str(m), v, 400, 2.0) for m, v in enumerate([30, 31, 29, 30, 18])]
>>> chart = p_chart(pts, baseline=(0, 4))
>>> [(s.period, s.rule) for s in chart.signals]
[('4', 'beyond_limits')]
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from cxloop.domain.errors import InvalidInput

SIGMA = 3.0
RUN_LENGTH = 8
#: 3/d2 with d2 = 1.128, the bias constant of a moving range of two (Montgomery,
#: *Introduction to Statistical Quality Control*, 7th ed., §6.4).
XMR_FACTOR = 3.0 / 1.128
RULES = ("beyond_limits", "run_of_8")


@dataclass(frozen=True)
class PeriodValue:
    """One period of a metric: its label, value, responses and standard error."""

    period: str
    value: float
    n: int
    se: float | None = None


@dataclass(frozen=True)
class Signal:
    """A rule broken at a period; ``side`` is ``above`` or ``below`` the centre."""

    period: str
    index: int
    rule: str
    side: str


@dataclass(frozen=True)
class ChartPoint:
    """One period on the chart, with its own limits and the rules it broke."""

    period: str
    value: float
    n: int
    lower: float
    upper: float
    in_baseline: bool
    rules: tuple[str, ...]


@dataclass(frozen=True)
class ControlChart:
    """A control chart: kind (``p`` or ``xmr``), centre line, points and signals."""

    kind: str
    centre: float
    sigma: float
    baseline: tuple[int, int]
    points: tuple[ChartPoint, ...]
    signals: tuple[Signal, ...]


def _window(count: int, baseline: tuple[int, int] | None, need: int) -> tuple[int, int]:
    """Validate a half-open baseline window ``[start, stop)`` of point indices."""
    start, stop = baseline if baseline is not None else (0, count)
    if not 0 <= start < stop <= count or stop - start < need:
        msg = (
            f"the baseline needs at least {need} periods within the {count} charted "
            f"(got periods {start} to {stop - 1})"
        )
        raise InvalidInput(msg)
    return start, stop


def _signals(
    values: Sequence[float],
    lows: Sequence[float],
    highs: Sequence[float],
    centre: float,
    labels: Sequence[str],
) -> list[Signal]:
    """Apply ``beyond_limits`` and ``run_of_8`` to a series."""
    found: list[Signal] = []
    run_side, run = "", 0
    for i, v in enumerate(values):
        side = "above" if v > centre else "below" if v < centre else ""
        if v > highs[i] or v < lows[i]:
            found.append(Signal(labels[i], i, "beyond_limits", side))
        run = run + 1 if side and side == run_side else (1 if side else 0)
        run_side = side
        if run >= RUN_LENGTH:
            found.append(Signal(labels[i], i, "run_of_8", side))
    return found


def _assemble(
    kind: str,
    points: Sequence[PeriodValue],
    centre: float,
    sigma: float,
    limits: Sequence[tuple[float, float]],
    window: tuple[int, int],
) -> ControlChart:
    labels = [p.period for p in points]
    signals = _signals(
        [p.value for p in points],
        [lo for lo, _ in limits],
        [hi for _, hi in limits],
        centre,
        labels,
    )
    chart_points = tuple(
        ChartPoint(
            period=p.period,
            value=p.value,
            n=p.n,
            lower=lo,
            upper=hi,
            in_baseline=window[0] <= i < window[1],
            rules=tuple(s.rule for s in signals if s.index == i),
        )
        for i, (p, (lo, hi)) in enumerate(zip(points, limits, strict=True))
    )
    return ControlChart(kind, centre, sigma, window, chart_points, tuple(signals))


def p_chart(
    points: Sequence[PeriodValue], *, baseline: tuple[int, int] | None = None
) -> ControlChart:
    """A p-chart-style chart with per-period limits from each period's n.

    Centre ``c = Σ n_i·x_i / Σ n_i`` over the baseline; per-response standard deviation
    ``σ = sqrt(Σ n_i·(n_i·se_i²) / Σ n_i)`` pooled over the baseline (for a share this is
    ``sqrt(p(1 − p))``; for NPS the standard deviation of the +1/0/−1 score, in points);
    limits ``c ± 3·σ/sqrt(n_i)``. Every point needs ``n ≥ 1`` and an ``se``.
    Reference: Montgomery, *Introduction to Statistical Quality Control*, §7.2.2
    (variable sample size).
    """
    start, stop = _window(len(points), baseline, 2)
    if any(p.n < 1 or p.se is None or p.se < 0 for p in points):
        msg = "a p chart needs n >= 1 and a standard error for every period"
        raise InvalidInput(msg)
    base = points[start:stop]
    total = sum(p.n for p in base)
    centre = sum(p.n * p.value for p in base) / total
    sigma = math.sqrt(sum(p.n * p.n * (p.se or 0.0) ** 2 for p in base) / total)
    limits = [
        (
            centre - SIGMA * sigma / math.sqrt(p.n),
            centre + SIGMA * sigma / math.sqrt(p.n),
        )
        for p in points
    ]
    return _assemble("p", points, centre, sigma, limits, (start, stop))


def xmr_chart(
    points: Sequence[PeriodValue], *, baseline: tuple[int, int] | None = None
) -> ControlChart:
    """An individuals (XmR) chart for a series of means.

    Centre ``x̄`` of the baseline values, average moving range ``MR̄ = mean |x_i −
    x_{i−1}|`` within the baseline, limits ``x̄ ± 2.66·MR̄`` (``2.66 = 3/d2``) and
    ``sigma = MR̄/1.128``. Reference: Montgomery, §6.4; Wheeler, *Understanding
    Variation* (2000).
    """
    start, stop = _window(len(points), baseline, 3)
    base = [p.value for p in points[start:stop]]
    centre = sum(base) / len(base)
    mr_bar = sum(abs(b - a) for a, b in itertools.pairwise(base)) / (len(base) - 1)
    half = XMR_FACTOR * mr_bar
    limits = [(centre - half, centre + half)] * len(points)
    return _assemble("xmr", points, centre, mr_bar / 1.128, limits, (start, stop))
