"""Key-driver maths against brute-force references computed from the rows."""

from __future__ import annotations

import itertools
import math

import numpy as np
import numpy.typing as npt
import pytest

from cxloop.domain import drivers as kda
from cxloop.domain.driver_moments import BOOTSTRAP_BLOCKS, correlations
from cxloop.domain.errors import InvalidInput

Floats = npt.NDArray[np.float64]


def _sample(n: int = 400, seed: int = 3) -> tuple[Floats, Floats]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    X[:, 1] += 0.7 * X[:, 0]  # correlated drivers, where the methods matter
    X[:, 3] += 0.5 * X[:, 2]
    X = X * np.array([1.0, 2.0, 0.5, 3.0, 1.5]) + np.array([8.0, 0, 3, -2, 100])
    y = X @ np.array([0.8, 0.2, 0.4, 0.0, -0.2]) + rng.normal(size=n)
    return X, y


def _ols_r2(X: Floats, y: Floats, columns: tuple[int, ...]) -> float:
    if not columns:
        return 0.0
    design = np.column_stack([np.ones(len(y)), X[:, list(columns)]])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    residual = y - design @ coef
    centred = y - y.mean()
    return float(1.0 - residual @ residual / (centred @ centred))


def _brute_shapley(X: Floats, y: Floats) -> Floats:
    """Shapley values by fitting OLS on every subset of the rows (the reference)."""
    p = X.shape[1]
    values = np.zeros(p)
    for j in range(p):
        others = [k for k in range(p) if k != j]
        for size in range(p):
            weight = (
                math.factorial(size) * math.factorial(p - size - 1) / math.factorial(p)
            )
            for subset in itertools.combinations(others, size):
                gain = _ols_r2(X, y, (*subset, j)) - _ols_r2(X, y, subset)
                values[j] += weight * gain
    return values


def _brute_relative_weights(X: Floats, y: Floats) -> Floats:
    """Johnson (2000) step by step on the rows: orthogonal Z, two regressions."""
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    u, _, vt = np.linalg.svd(Z, full_matrices=False)
    orthogonal = u @ vt * np.sqrt(len(y))  # closest orthonormal columns to Z
    ys = (y - y.mean()) / y.std()
    beta, *_ = np.linalg.lstsq(orthogonal, ys, rcond=None)
    loadings, *_ = np.linalg.lstsq(orthogonal, Z, rcond=None)  # Z_j on the Z*
    weights: Floats = (loadings.T**2) @ (beta**2)
    return weights


def test_shapley_matches_ols_on_every_subset() -> None:
    X, y = _sample()
    result = kda.shapley_importance(X, y)
    np.testing.assert_allclose(result.raw, _brute_shapley(X, y), rtol=1e-9, atol=1e-12)


def test_shapley_values_add_up_to_the_full_model_r2() -> None:
    X, y = _sample(seed=11)
    result = kda.shapley_importance(X, y)
    full = _ols_r2(X, y, tuple(range(X.shape[1])))
    assert result.raw.sum() == pytest.approx(full, rel=1e-10)
    assert result.r2 == pytest.approx(full, rel=1e-10)
    assert result.percent.sum() == pytest.approx(100.0)


def test_relative_weights_match_the_step_by_step_reference() -> None:
    X, y = _sample()
    result = kda.relative_weights(X, y)
    np.testing.assert_allclose(result.raw, _brute_relative_weights(X, y), rtol=1e-8)
    full = _ols_r2(X, y, tuple(range(X.shape[1])))
    assert result.r2 == pytest.approx(full, rel=1e-10)


def test_relative_weights_close_to_shapley_and_same_order() -> None:
    X, y = _sample(n=2000, seed=5)
    rw = kda.relative_weights(X, y).raw
    sv = kda.shapley_importance(X, y).raw
    assert list(np.argsort(-rw)) == list(np.argsort(-sv))
    np.testing.assert_allclose(rw, sv, atol=0.01)


def test_uncorrelated_drivers_get_their_squared_correlation() -> None:
    rng = np.random.default_rng(0)
    raw = rng.normal(size=(300, 3))
    X, _ = np.linalg.qr(raw - raw.mean(axis=0))  # centred, exactly uncorrelated
    y = X @ np.array([3.0, 2.0, 1.0]) + 0.5 * rng.normal(size=300)
    rxx, rxy = correlations(X, y)
    np.testing.assert_allclose(rxx, np.eye(3), atol=1e-12)
    for method in (kda.relative_weights, kda.shapley_importance):
        np.testing.assert_allclose(method(X, y).raw, rxy**2, rtol=1e-9)


def test_duplicate_drivers_share_their_importance() -> None:
    X, y = _sample()
    doubled = np.column_stack([X[:, 0], X[:, 0], X[:, 2]])
    for method in (kda.relative_weights, kda.shapley_importance):
        raw = method(doubled, y).raw
        assert raw[0] == pytest.approx(raw[1], rel=1e-6)
        assert raw.sum() == pytest.approx(_ols_r2(X, y, (0, 2)), rel=1e-6)


def test_bootstrap_interval_surrounds_the_estimate_and_repeats() -> None:
    X, y = _sample(n=600)
    first = kda.bootstrap_importance(X, y, "shapley", resamples=100, seed=1)
    again = kda.bootstrap_importance(X, y, "shapley", resamples=100, seed=1)
    np.testing.assert_array_equal(first.low, again.low)
    assert first.resamples == 100
    assert np.all(first.low <= first.estimate.raw)
    assert np.all(first.estimate.raw <= first.high)
    assert np.all(first.low_percent <= first.estimate.percent + 1e-9)
    assert first.high[0] - first.low[0] < 0.2


def test_block_bootstrap_of_many_rows_matches_the_row_bootstrap_spread() -> None:
    rng = np.random.default_rng(8)
    n = 4 * BOOTSTRAP_BLOCKS
    X = rng.normal(size=(n, 3))
    y = X @ np.array([0.5, 0.3, 0.1]) + rng.normal(size=n)
    blocks = kda.bootstrap_importance(X, y, resamples=200, seed=2)
    rows = [
        kda.relative_weights(X[idx], y[idx]).raw
        for idx in (rng.integers(0, n, n) for _ in range(200))
    ]
    spread = np.percentile(rows, 97.5, axis=0) - np.percentile(rows, 2.5, axis=0)
    np.testing.assert_allclose(blocks.high - blocks.low, spread, rtol=0.35)


def test_driver_matrix_cuts_at_the_means() -> None:
    quadrants = kda.driver_matrix(
        np.array([0.30, 0.20, 0.02, 0.08]), np.array([0.40, 0.90, 0.10, 0.95])
    )
    # mean importance 0.15, mean performance 0.5875
    assert quadrants == [
        kda.Quadrant.FIX,
        kda.Quadrant.MAINTAIN,
        kda.Quadrant.MONITOR,
        kda.Quadrant.MONITOR,
    ]


def test_shapley_refuses_more_than_fifteen_drivers() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 16))
    with pytest.raises(InvalidInput, match="at most 15"):
        kda.shapley_importance(X, X[:, 0])


@pytest.mark.parametrize(
    ("X", "y", "message"),
    [
        (np.ones((20, 2)), np.arange(20.0), "do not vary"),
        (np.zeros((3, 2)), np.zeros(3), "need p \\+ 2 rows"),
        (np.full((20, 1), np.nan), np.arange(20.0), "finite"),
        (np.zeros((20, 2)), np.zeros(19), "do not match"),
    ],
)
def test_bad_input_is_refused_with_a_reason(X: Floats, y: Floats, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        kda.relative_weights(X, y)


def test_unknown_method_lists_the_choices() -> None:
    with pytest.raises(InvalidInput, match="relative-weights, shapley"):
        kda.parse_method("lasso")
