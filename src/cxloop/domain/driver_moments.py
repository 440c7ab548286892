"""Correlation matrices for key-driver analysis, in one pass over the rows.

:func:`correlations` centres the rows chunk by chunk, so that a million responses need
no copy of the whole table. :func:`bootstrap_correlations` draws the correlation
matrices of bootstrap resamples from per-block moments: the rows are shuffled into at
most :data:`BOOTSTRAP_BLOCKS` blocks of equal size, each block's sums and cross-products
are computed once, and a resample draws blocks with replacement and adds their moments
up. With up to :data:`BOOTSTRAP_BLOCKS` rows each block is one row, which is the
ordinary row bootstrap; past that, a block of shuffled (exchangeable) rows stands for
its rows, so a resample costs ``blocks x p²`` instead of ``n x p²``.

>>> import numpy as np
>>> X = np.array([[1.0, 2.0], [2.0, 1.0], [3.0, 5.0], [4.0, 3.0]])
>>> rxx, rxy = correlations(X, np.array([1.0, 2.0, 4.0, 3.0]))
>>> [round(float(v), 4) for v in rxy]
[0.8, 0.8315]
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from cxloop.domain.errors import InvalidInput

Floats = npt.NDArray[np.float64]

#: At most this many blocks of rows in a bootstrap (each resample draws this many).
BOOTSTRAP_BLOCKS = 5_000
#: Rows centred at a time when correlating.
_CHUNK_ROWS = 65_536


def checked(X: Floats, y: Floats) -> tuple[Floats, Floats]:
    """``X`` (n, p) and ``y`` (n,) as finite floats; InvalidInput says what is wrong."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or y.ndim != 1 or X.shape[0] != y.shape[0]:
        msg = f"drivers {X.shape} and outcome {y.shape} do not match: need (n, p), (n,)"
        raise InvalidInput(msg)
    if X.shape[0] < X.shape[1] + 2:
        msg = f"{X.shape[0]} rows cannot weigh {X.shape[1]} drivers: need p + 2 rows"
        raise InvalidInput(msg)
    if not (np.isfinite(X).all() and np.isfinite(y).all()):
        raise InvalidInput("drivers and outcome must be finite numbers (no gaps)")
    return X, y


def _means(X: Floats, y: Floats) -> Floats:
    return np.append(X.mean(axis=0), y.mean())


def _rows(X: Floats, y: Floats, rows: slice | npt.NDArray[np.intp]) -> Floats:
    return np.column_stack([X[rows], y[rows]])


def correlations(X: Floats, y: Floats) -> tuple[Floats, Floats]:
    """The drivers' correlation matrix and their correlations with the outcome.

    Raises InvalidInput when the shapes disagree, a value is missing or infinite, or a
    column (or the outcome) does not vary.
    """
    X, y = checked(X, y)
    mean = _means(X, y)
    width = X.shape[1] + 1
    cov = np.zeros((width, width))
    for start in range(0, X.shape[0], _CHUNK_ROWS):
        block = _rows(X, y, slice(start, start + _CHUNK_ROWS)) - mean
        cov += block.T @ block
    corr = _correlation(cov)
    if corr is None:
        scale = np.diag(cov)
        which = [int(i) for i in np.flatnonzero(scale <= 0.0)]
        msg = f"columns {which} do not vary (the last is the outcome): drop them"
        raise InvalidInput(msg)
    p = width - 1
    return corr[:p, :p], corr[:p, p]


def _correlation(cov: Floats) -> Floats | None:
    scale = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    if np.any(scale <= 1e-12 * max(float(scale.max()), 1.0)):
        return None
    corr: Floats = cov / np.outer(scale, scale)
    return corr


def _block_moments(
    X: Floats, y: Floats, rng: np.random.Generator
) -> tuple[Floats, Floats, Floats]:
    """Row counts, sums and cross-products of shuffled blocks (centred on the mean)."""
    n, width = X.shape[0], X.shape[1] + 1
    size = -(-n // BOOTSTRAP_BLOCKS)
    blocks = -(-n // size)
    order = rng.permutation(n)
    mean = _means(X, y)
    sums = np.zeros((blocks, width))
    grams = np.zeros((blocks, width, width))
    step = max(1, _CHUNK_ROWS // size) * size
    for start in range(0, n, step):
        rows = _rows(X, y, order[start : start + step]) - mean
        count = -(-len(rows) // size)
        padded = np.zeros((count * size, width))  # zero rows add nothing (centred)
        padded[: len(rows)] = rows
        stacked = padded.reshape(count, size, width)
        first = start // size
        sums[first : first + count] = stacked.sum(axis=1)
        grams[first : first + count] = np.swapaxes(stacked, 1, 2) @ stacked
    counts = np.full(blocks, float(size))
    counts[-1] = n - size * (blocks - 1)
    return counts, sums, grams


def bootstrap_correlations(
    X: Floats, y: Floats, resamples: int, rng: np.random.Generator
) -> tuple[Floats, Floats]:
    """Correlation matrices of ``resamples`` bootstrap resamples, stacked.

    A resample in which a column does not vary (possible for a rare 0/1 driver) is left
    out; InvalidInput when more than half are.
    """
    X, y = checked(X, y)
    counts, sums, grams = _block_moments(X, y, rng)
    blocks = len(counts)
    draws = rng.multinomial(blocks, np.full(blocks, 1.0 / blocks), size=resamples)
    draws = draws.astype(np.float64)
    n = draws @ counts
    total = draws @ sums
    cross = np.tensordot(draws, grams, axes=1)
    cov = cross - total[:, :, None] * total[:, None, :] / n[:, None, None]
    matrices = [m for m in (_correlation(c) for c in cov) if m is not None]
    if len(matrices) * 2 < resamples:
        msg = "most bootstrap resamples had a driver that did not vary: too few rows"
        raise InvalidInput(msg)
    stack = np.stack(matrices)
    p = X.shape[1]
    return stack[:, :p, :p], stack[:, :p, p]
