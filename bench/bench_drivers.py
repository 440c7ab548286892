"""Key-driver analysis: cxloop's relative weights and Shapley regression against plain
references on the same data.

Data: seeded synthetic responses, drivers drawn from a correlated normal (every pair
correlated 0.3, as touchpoint ratings are) and an outcome that depends on half of them
plus noise.

- **Relative weights**, 20 drivers x 1,000,000 responses: cxloop
  ``relative_weights`` (one pass over the rows for the correlation matrix, then an
  eigen-decomposition) against Johnson's method done step by step on the rows with
  numpy (standardise, SVD for the orthogonal counterparts, two least-squares fits).
- **Shapley value regression**, 12 drivers (4,096 subsets): cxloop
  ``shapley_importance`` (every subset's R² from the correlation matrix) against
  fitting OLS on the rows for every subset, with numpy ``lstsq`` and with
  scikit-learn ``LinearRegression``. The per-subset peers run on 5,000 rows (on a
  million they take hours); cxloop runs on the same 5,000 rows and on 1,000,000.
- **Bootstrap**: 200 resamples of each on the full data, for the intervals.

Every pair of methods is checked to agree before the figures are printed. Writes the
"Drivers" section of bench/README.md. Run: ``.venv/bin/python bench/bench_drivers.py``
(``--rows N`` for a quicker run).
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import statistics
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np
from bench_report import machine, write_section
from sklearn.linear_model import LinearRegression

from cxloop.domain.drivers import (
    bootstrap_importance,
    relative_weights,
    shapley_importance,
)

Floats = np.ndarray
PEER_ROWS = 5_000
TARGET_RW_S = 2.0
TARGET_SHAPLEY_S = 10.0


def make_data(rows: int, drivers: int, seed: int = 0) -> tuple[Floats, Floats]:
    """Correlated drivers (0.3 between every pair) and an outcome of half of them."""
    rng = np.random.default_rng(seed)
    shared = rng.normal(size=(rows, 1))
    X = np.sqrt(0.3) * shared + np.sqrt(0.7) * rng.normal(size=(rows, drivers))
    beta = np.where(
        np.arange(drivers) < drivers // 2, np.linspace(0.6, 0.1, drivers), 0
    )
    y = X @ beta + rng.normal(size=rows)
    return X, y


def timed(call: Callable[[], Any], repeats: int = 3) -> tuple[float, Any]:
    """Median seconds of ``repeats`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def rw_reference(X: Floats, y: Floats) -> Floats:
    """Johnson (2000) step by step on the rows."""
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    u, _, vt = np.linalg.svd(Z, full_matrices=False)
    orthogonal = u @ vt * np.sqrt(len(y))
    ys = (y - y.mean()) / y.std()
    beta, *_ = np.linalg.lstsq(orthogonal, ys, rcond=None)
    loadings, *_ = np.linalg.lstsq(orthogonal, Z, rcond=None)
    weights: Floats = (loadings.T**2) @ (beta**2)
    return weights


def _subset_r2(
    X: Floats, y: Floats, fit: Callable[[Floats, Floats], float]
) -> dict[int, float]:
    p = X.shape[1]
    r2 = {0: 0.0}
    for size in range(1, p + 1):
        for subset in itertools.combinations(range(p), size):
            mask = sum(1 << j for j in subset)
            r2[mask] = fit(X[:, list(subset)], y)
    return r2


def _lstsq_r2(X: Floats, y: Floats) -> float:
    design = np.column_stack([np.ones(len(y)), X])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    residual = y - design @ coef
    centred = y - y.mean()
    return float(1.0 - residual @ residual / (centred @ centred))


def _sklearn_r2(X: Floats, y: Floats) -> float:
    return float(LinearRegression().fit(X, y).score(X, y))


def shapley_reference(
    X: Floats, y: Floats, fit: Callable[[Floats, Floats], float]
) -> Floats:
    """Shapley values from OLS refitted on the rows for every subset."""
    p = X.shape[1]
    r2 = _subset_r2(X, y, fit)
    values = np.zeros(p)
    for mask, value in r2.items():
        size = bin(mask).count("1")
        for j in range(p):
            if mask >> j & 1:
                weight = (
                    math.factorial(size - 1)
                    * math.factorial(p - size)
                    / math.factorial(p)
                )
                values[j] += weight * (value - r2[mask & ~(1 << j)])
    return values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    rows = parser.parse_args().rows
    lines: list[str] = []

    X, y = make_data(rows, 20)
    ours_rw, rw = timed(lambda: relative_weights(X, y))
    peer_rw, reference = timed(lambda: rw_reference(X, y), repeats=1)
    assert np.allclose(rw.raw, reference, atol=1e-8), "relative weights disagree"
    boot_rw, _ = timed(
        lambda: bootstrap_importance(X, y, "relative-weights"), repeats=1
    )

    X12, y12 = X[:, :12], y
    small_X, small_y = X12[:PEER_ROWS], y[:PEER_ROWS]
    ours_sv, sv = timed(lambda: shapley_importance(X12, y12))
    ours_small, sv_small = timed(lambda: shapley_importance(small_X, small_y))
    peer_np, ref_np = timed(lambda: shapley_reference(small_X, small_y, _lstsq_r2), 1)
    peer_sk, ref_sk = timed(lambda: shapley_reference(small_X, small_y, _sklearn_r2), 1)
    assert np.allclose(sv_small.raw, ref_np, atol=1e-9), "Shapley disagrees with lstsq"
    assert np.allclose(sv_small.raw, ref_sk, atol=1e-9), (
        "Shapley disagrees with sklearn"
    )
    assert math.isclose(sv.raw.sum(), sv.r2), "Shapley values do not add up to R²"
    boot_sv, _ = timed(lambda: bootstrap_importance(X12, y12, "shapley"), repeats=1)

    table = [
        "| what | rows | drivers | seconds | peer seconds | faster by |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        f"| relative weights: cxloop vs numpy step by step (SVD + lstsq) | {rows:,} | 20 | {ours_rw:.3f} | {peer_rw:.2f} | {peer_rw / ours_rw:.1f}x |",
        f"| Shapley: cxloop vs numpy lstsq on each of 4,096 subsets | {PEER_ROWS:,} | 12 | {ours_small:.3f} | {peer_np:.2f} | {peer_np / ours_small:.0f}x |",
        f"| Shapley: cxloop vs scikit-learn LinearRegression on each subset | {PEER_ROWS:,} | 12 | {ours_small:.3f} | {peer_sk:.2f} | {peer_sk / ours_small:.0f}x |",
        f"| Shapley: cxloop | {rows:,} | 12 | {ours_sv:.3f} | | |",
        f"| bootstrap, 200 resamples, relative weights | {rows:,} | 20 | {boot_rw:.2f} | | |",
        f"| bootstrap, 200 resamples, Shapley | {rows:,} | 12 | {boot_sv:.2f} | | |",
    ]
    met_rw = "met" if ours_rw < TARGET_RW_S else "NOT met"
    met_sv = "met" if ours_sv < TARGET_SHAPLEY_S else "NOT met"
    load = " / ".join(f"{v:.1f}" for v in os.getloadavg())
    lines += [
        *table,
        "",
        f"- targets: relative weights, 20 drivers x 1,000,000 rows, under {TARGET_RW_S:.0f} s: {met_rw}; "
        f"Shapley, 12 drivers, under {TARGET_SHAPLEY_S:.0f} s: {met_sv}",
        f"- agreement: relative weights vs the step-by-step reference, max difference "
        f"{np.abs(rw.raw - reference).max():.1e}; Shapley vs lstsq per subset "
        f"{np.abs(sv_small.raw - ref_np).max():.1e}, vs scikit-learn "
        f"{np.abs(sv_small.raw - ref_sk).max():.1e}; Shapley values add up to R² ({sv.r2:.4f})",
        f"- machine: {machine(f'numpy {np.__version__}')}; measured {date.today().isoformat()}, "
        f"load average {load} after the run (the cores are shared)",
    ]
    text = "\n".join(lines)
    print(text)
    if rows == 1_000_000:
        intro = (
            "## Drivers\n\n"
            + __doc__.split("\n\n", 1)[1].rsplit("\n\nEvery pair", 1)[0]
        )
        write_section("Drivers", intro + "\n\n" + text + "\n")


if __name__ == "__main__":
    main()
