"""Group-sequential boundaries: look at an experiment early without inflating alpha.

Looking at a running A/B test every day and stopping at the first p < 0.05 makes false
wins far more likely than 5 %. A group-sequential design fixes the number of looks in the
plan and spends the error rate across them with the Lan–DeMets O'Brien–Fleming-type
spending function, so early looks need overwhelming evidence and the last look needs
little more than a fixed-horizon test.

>>> [round(b, 3) for b in sequential_boundaries(5)]
[4.877, 3.357, 2.68, 2.29, 2.031]
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from cxloop.domain.errors import InvalidInput

_NORMAL = NormalDist()
_GRID = 801  # odd, for Simpson's rule


@dataclass(frozen=True)
class SequentialDecision:
    """Where a group-sequential test stands after the looks taken so far.

    ``decision`` is ``stop_effect`` (a boundary was crossed: the effect is significant at
    the planned overall alpha), ``continue`` (keep collecting until the next look) or
    ``stop_no_effect`` (the last look was reached without crossing).
    """

    look: int
    looks: int
    z: float
    boundary: float
    boundaries: tuple[float, ...]
    decision: str

    @property
    def crossed(self) -> bool:
        """Whether a boundary has been crossed."""
        return self.decision == "stop_effect"


def obrien_fleming_spending(t: float, alpha: float = 0.05) -> float:
    """Two-sided alpha spent by information fraction ``t`` (Lan & DeMets 1983).

    Each side spends ``α₁(t) = 2 − 2Φ(z_{1−α/4}/sqrt(t))`` of its ``α/2``, so the total
    is ``2·α₁(t)``, which is ``α`` at ``t = 1``. Reference: Lan & DeMets (1983),
    *Biometrika* 70, 659–663; the two-sided symmetric form of the R package ldbounds.
    """
    if t <= 0:
        return 0.0
    z = _NORMAL.inv_cdf(1 - alpha / 4)
    return 2.0 * (2.0 - 2.0 * _NORMAL.cdf(z / math.sqrt(min(t, 1.0))))


def _simpson_weights(a: float, b: float) -> np.ndarray:
    w = np.ones(_GRID)
    w[1:-1:2], w[2:-1:2] = 4.0, 2.0
    return w * (b - a) / (3 * (_GRID - 1))


def _phi(x: np.ndarray) -> np.ndarray:
    result: np.ndarray = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
    return result


def _cdf(x: np.ndarray) -> np.ndarray:
    from scipy.special import ndtr  # a maths library; imported late

    result: np.ndarray = ndtr(x)
    return result


def _exit_probability(
    grid: np.ndarray, mass: np.ndarray, sigma: float, bound: float
) -> float:
    """P(|S_prev + N(0, σ²)| ≥ bound) over the continuation density (grid × weights)."""
    tails = _cdf((-bound - grid) / sigma) + _cdf((grid - bound) / sigma)
    return float(mass @ tails)


def _solve_boundary(
    grid: np.ndarray, mass: np.ndarray, sigma: float, sqrt_t: float, target: float
) -> float:
    """The z boundary ``c`` whose exit probability equals ``target`` (bisection)."""
    low, high = 0.0, 40.0
    for _ in range(200):
        mid = (low + high) / 2
        if _exit_probability(grid, mass, sigma, mid * sqrt_t) > target:
            low = mid
        else:
            high = mid
        if high - low < 1e-10:
            break
    return (low + high) / 2


def _check_fractions(fractions: Sequence[float]) -> list[float]:
    ts = [float(t) for t in fractions]
    if (
        not ts
        or any(t <= 0 or t > 1 for t in ts)
        or any(b <= a for a, b in itertools.pairwise(ts))
    ):
        msg = f"information fractions must increase strictly within (0, 1]: {ts}"
        raise InvalidInput(msg)
    return ts


def sequential_boundaries(
    looks: int, *, alpha: float = 0.05, fractions: Sequence[float] | None = None
) -> list[float]:
    """Two-sided z boundaries of a group-sequential test, one per look.

    Looks default to equal information fractions ``k/looks``; pass ``fractions`` for the
    looks actually taken. The boundary at look k solves ``P(|Z_j| < c_j for j < k,
    |Z_k| ≥ c_k) = spent(t_k) − spent(t_{k−1})`` under the null, with ``Z_k =
    B(t_k)/sqrt(t_k)`` for Brownian motion ``B``; the continuation density is carried
    from look to look on an 801-point Simpson grid (Armitage, McPherson & Rowe 1969;
    Jennison & Turnbull, *Group Sequential Methods*, 2000, ch. 19). Five equal looks at
    α = 0.05 give 4.877, 3.357, 2.680, 2.290, 2.031, as ldbounds does.
    """
    if not 0 < alpha < 1:
        msg = f"alpha must lie strictly between 0 and 1, not {alpha}"
        raise InvalidInput(msg)
    if looks < 1:
        msg = f"looks must be at least 1, not {looks}"
        raise InvalidInput(msg)
    ts = _check_fractions(
        fractions if fractions is not None else [k / looks for k in range(1, looks + 1)]
    )
    bounds = [_NORMAL.inv_cdf(1 - obrien_fleming_spending(ts[0], alpha) / 2)]
    half = bounds[0] * math.sqrt(ts[0])
    grid = np.linspace(-half, half, _GRID)
    density = _phi(grid / math.sqrt(ts[0])) / math.sqrt(ts[0])
    for k in range(1, len(ts)):
        mass = density * _simpson_weights(-half, half)
        sigma = math.sqrt(ts[k] - ts[k - 1])
        target = obrien_fleming_spending(ts[k], alpha) - obrien_fleming_spending(
            ts[k - 1], alpha
        )
        c = _solve_boundary(grid, mass, sigma, math.sqrt(ts[k]), target)
        bounds.append(c)
        half = c * math.sqrt(ts[k])
        new_grid = np.linspace(-half, half, _GRID)
        density = _phi((new_grid[:, None] - grid[None, :]) / sigma) @ mass / sigma
        grid = new_grid
    return bounds


def sequential_decision(
    z_values_so_far: Sequence[float],
    looks: int,
    alpha: float = 0.05,
    *,
    fractions: Sequence[float] | None = None,
) -> SequentialDecision:
    """Decide after the looks taken so far (one z value per look, in order).

    Stops with an effect at the first look whose ``|z|`` reaches its boundary; stops
    without one when the last planned look is reached below it; otherwise continues.
    """
    zs = [float(z) for z in z_values_so_far]
    if not zs or len(zs) > looks:
        msg = f"give between 1 and {looks} z values (got {len(zs)})"
        raise InvalidInput(msg)
    if fractions is not None and len(fractions) != len(zs):
        msg = "give one information fraction per z value"
        raise InvalidInput(msg)
    taken = (
        fractions
        if fractions is not None
        else [k / looks for k in range(1, len(zs) + 1)]
    )
    bounds = tuple(sequential_boundaries(looks, alpha=alpha, fractions=taken))
    for k, (z, c) in enumerate(zip(zs, bounds, strict=True), start=1):
        if abs(z) >= c:
            return SequentialDecision(k, looks, z, c, bounds, "stop_effect")
    last = len(zs)
    final = last == looks or (fractions is not None and fractions[-1] >= 1.0)
    decision = "stop_no_effect" if final else "continue"
    return SequentialDecision(last, looks, zs[-1], bounds[-1], bounds, decision)
