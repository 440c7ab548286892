"""Key-driver analysis: how much of an outcome each driver explains.

Both methods share out the R² of the linear regression of the outcome on every driver,
so that the importances add up to the full model's R² and can be read as shares of it:

- Johnson's relative weights (Johnson 2000, *Multivariate Behavioral Research* 35,
  1-19): regress the outcome on the orthogonal counterparts of the drivers (the
  symmetric square root of their correlation matrix) and give each driver the variance
  its counterparts explain, weighted by how much it loads on them.
- Shapley value regression (Lipovetsky and Conklin 2001): each driver's average gain
  in R² when it joins a subset of the others, over every order of joining. Computed
  exactly over all ``2**p`` subsets, each subset's R² from the correlation matrix.

Everything works on correlation matrices, so the rows are read once (to correlate
them) and a million responses cost no more than a thousand after that.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(500, 3))
>>> y = X @ np.array([1.0, 0.5, 0.0]) + rng.normal(size=500)
>>> rw = relative_weights(X, y)
>>> bool(np.isclose(rw.raw.sum(), rw.r2)), bool(np.isclose(rw.percent.sum(), 100.0))
(True, True)
>>> sv = shapley_importance(X, y)
>>> [int(i) for i in np.argsort(-sv.raw)]
[0, 1, 2]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from cxloop.domain.driver_moments import bootstrap_correlations, correlations
from cxloop.domain.errors import InvalidInput

Floats = npt.NDArray[np.float64]

#: Shapley regression visits 2**p subsets; past this many drivers use relative weights.
MAX_SHAPLEY_DRIVERS = 15
#: Eigenvalues below this (relative to the largest) count as zero: collinear drivers.
_EIGEN_TOLERANCE = 1e-10


class DriverMethod(StrEnum):
    """How importance is shared out."""

    RELATIVE_WEIGHTS = "relative-weights"
    SHAPLEY = "shapley"


class Quadrant(StrEnum):
    """Where a driver falls in the importance x performance matrix."""

    FIX = "fix"
    MAINTAIN = "maintain"
    MONITOR = "monitor"


@dataclass(frozen=True)
class DriverWeights:
    """Importance of each driver: ``raw`` adds up to ``r2``, ``percent`` to 100."""

    raw: Floats
    percent: Floats
    r2: float
    n: int


@dataclass(frozen=True)
class ImportanceInterval:
    """Percentile bootstrap intervals around :class:`DriverWeights`."""

    estimate: DriverWeights
    low: Floats
    high: Floats
    low_percent: Floats
    high_percent: Floats
    resamples: int
    level: float


def _weights(raw: Floats, r2: float, n: int) -> DriverWeights:
    percent = 100.0 * raw / r2 if r2 > 0 else np.zeros_like(raw)
    return DriverWeights(raw=raw, percent=percent, r2=r2, n=n)


def relative_weights_from_corr(rxx: Floats, rxy: Floats) -> Floats:
    """Raw relative weights from correlations; a leading batch axis is allowed.

    ``rxx`` is ``(..., p, p)`` and ``rxy`` ``(..., p)``; the weights of each matrix add
    up to its model's R².
    """
    values, vectors = np.linalg.eigh(rxx)
    floor = _EIGEN_TOLERANCE * values.max(axis=-1, keepdims=True)
    values = np.where(values > floor, values, 0.0)
    roots = np.sqrt(values)
    inverse = np.divide(1.0, roots, out=np.zeros_like(roots), where=roots > 0)
    transposed = np.swapaxes(vectors, -1, -2)
    lam = (vectors * roots[..., None, :]) @ transposed
    inv_root = (vectors * inverse[..., None, :]) @ transposed
    beta = (inv_root @ rxy[..., None])[..., 0]
    weights: Floats = (lam**2 @ (beta**2)[..., None])[..., 0]
    return weights


def relative_weights(X: Floats, y: Floats) -> DriverWeights:
    """Johnson's relative weights of each column of ``X`` for ``y``.

    Parameters
    ----------
    X
        Drivers, one row per observation and one column per driver.
    y
        The outcome.

    Returns
    -------
    DriverWeights
        ``raw`` adds up to the R² of regressing ``y`` on every column of ``X``;
        ``percent`` is ``raw`` rescaled to add up to 100.
    """
    rxx, rxy = correlations(X, y)
    raw = relative_weights_from_corr(rxx, rxy)
    return _weights(raw, float(raw.sum()), int(np.shape(X)[0]))


def subset_r2(rxx: Floats, rxy: Floats) -> Floats:
    """R² of every subset of drivers, indexed by bit mask (bit j = driver j).

    ``rxx`` may carry a leading batch axis; the result then has shape ``(..., 2**p)``.
    Each subset's R² is ``r_S' R_SS^+ r_S``, solved for all subsets of one size at once.
    """
    p = rxx.shape[-1]
    if p > MAX_SHAPLEY_DRIVERS:
        msg = (
            f"Shapley regression visits 2**p subsets: at most {MAX_SHAPLEY_DRIVERS} "
            f"drivers, not {p} (use relative weights)"
        )
        raise InvalidInput(msg)
    masks = np.arange(2**p)
    bits = (masks[:, None] >> np.arange(p)) & 1
    sizes = bits.sum(axis=1)
    r2 = np.zeros((*rxx.shape[:-2], 2**p))
    for k in range(1, p + 1):
        chosen = masks[sizes == k]
        columns = np.nonzero(bits[chosen])[1].reshape(len(chosen), k)
        sub_xx = rxx[..., columns[:, :, None], columns[:, None, :]]
        sub_xy = rxy[..., columns]
        r2[..., chosen] = np.einsum("...i,...i->...", sub_xy, _solve(sub_xx, sub_xy))
    return r2


def _solve(a: Floats, b: Floats) -> Floats:
    """``a^+ b`` for stacks of symmetric matrices (pseudo-inverse if singular)."""
    try:
        solved = np.linalg.solve(a, b[..., None])
    except np.linalg.LinAlgError:
        solved = np.linalg.pinv(a, hermitian=True) @ b[..., None]
    return np.asarray(solved[..., 0], dtype=np.float64)


def shapley_from_r2(r2: Floats) -> Floats:
    """Shapley values from the R² of every subset (see :func:`subset_r2`).

    Driver j gets the sum over subsets S without j of
    ``|S|! (p - |S| - 1)! / p! * (R²(S + j) - R²(S))``.
    """
    size = r2.shape[-1]
    p = size.bit_length() - 1
    masks = np.arange(size)
    sizes = ((masks[:, None] >> np.arange(max(p, 1))) & 1).sum(axis=1)
    by_size = np.array(
        [
            math.factorial(k) * math.factorial(p - k - 1) / math.factorial(p)
            for k in range(p)
        ]
    )
    values = np.zeros((*r2.shape[:-1], p))
    for j in range(p):
        without = masks[(masks >> j) & 1 == 0]
        gain = r2[..., without | (1 << j)] - r2[..., without]
        values[..., j] = gain @ by_size[sizes[without]]
    return values


def shapley_importance(X: Floats, y: Floats) -> DriverWeights:
    """Shapley value regression: each driver's average marginal R², exactly.

    Raises InvalidInput past :data:`MAX_SHAPLEY_DRIVERS` drivers. The values add up to
    the full model's R² (the Shapley efficiency property).
    """
    rxx, rxy = correlations(X, y)
    raw = shapley_from_r2(subset_r2(rxx, rxy))
    return _weights(raw, float(raw.sum()), int(np.shape(X)[0]))


def importance_from_corr(method: DriverMethod, rxx: Floats, rxy: Floats) -> Floats:
    """Raw importance by ``method`` for one or a batch of correlation matrices."""
    if method is DriverMethod.SHAPLEY:
        return shapley_from_r2(subset_r2(rxx, rxy))
    return relative_weights_from_corr(rxx, rxy)


def bootstrap_importance(
    X: Floats,
    y: Floats,
    method: DriverMethod | str = DriverMethod.RELATIVE_WEIGHTS,
    resamples: int = 200,
    seed: int = 0,
    level: float = 0.95,
) -> ImportanceInterval:
    """Importance with percentile bootstrap intervals.

    Rows are resampled with replacement (by blocks of shuffled rows past 5,000 rows,
    see :mod:`cxloop.domain.driver_moments`); the importances of all resamples are
    computed at once on the stack of their correlation matrices.
    """
    method = parse_method(method) if isinstance(method, str) else method
    if resamples < 10 or not 0.5 <= level < 1.0:
        msg = f"need at least 10 resamples and a level in [0.5, 1), not {resamples}, {level}"
        raise InvalidInput(msg)
    rxx, rxy = correlations(X, y)
    raw = importance_from_corr(method, rxx, rxy)
    estimate = _weights(raw, float(raw.sum()), int(np.shape(X)[0]))
    stack_xx, stack_xy = bootstrap_correlations(
        X, y, resamples, np.random.default_rng(seed)
    )
    draws = importance_from_corr(method, stack_xx, stack_xy)
    totals = draws.sum(axis=1, keepdims=True)
    shares = 100.0 * np.divide(
        draws, totals, out=np.zeros_like(draws), where=totals > 0
    )
    tail = 100.0 * (1.0 - level) / 2.0
    low, high = np.percentile(draws, [tail, 100.0 - tail], axis=0)
    low_pct, high_pct = np.percentile(shares, [tail, 100.0 - tail], axis=0)
    return ImportanceInterval(
        estimate, low, high, low_pct, high_pct, resamples=len(draws), level=level
    )


def driver_matrix(importance: Floats, performance: Floats) -> list[Quadrant]:
    """The quadrant of each driver, cut at the mean importance and mean performance.

    A driver at or above the mean importance is *fix* when its performance is below the
    mean performance and *maintain* otherwise; a driver below the mean importance is
    *monitor*. ``performance`` must be on one scale for every driver (0-1, higher is
    better).

    >>> [q.value for q in driver_matrix(np.array([0.3, 0.2, 0.01]),
    ...                                 np.array([0.4, 0.9, 0.1]))]
    ['fix', 'maintain', 'monitor']
    """
    importance = np.asarray(importance, dtype=np.float64)
    performance = np.asarray(performance, dtype=np.float64)
    if importance.shape != performance.shape or importance.ndim != 1:
        msg = "importance and performance need one value per driver each"
        raise InvalidInput(msg)
    if not np.isfinite(performance).all():
        raise InvalidInput("every driver needs a performance (no gaps)")
    important = importance >= importance.mean()
    strong = performance >= performance.mean()
    return [
        Quadrant.MONITOR if not i else Quadrant.MAINTAIN if s else Quadrant.FIX
        for i, s in zip(important, strong, strict=True)
    ]


def parse_method(text: str) -> DriverMethod:
    """The :class:`DriverMethod` called ``text``; InvalidInput lists the choices."""
    try:
        return DriverMethod(text)
    except ValueError:
        choices = ", ".join(m.value for m in DriverMethod)
        raise InvalidInput(f"method {text!r} is unknown: use {choices}") from None
