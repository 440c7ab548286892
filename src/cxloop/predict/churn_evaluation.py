"""Stratified k-fold evaluation of :class:`~cxloop.predict.churn.ChurnModel`."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from cxloop.domain.errors import InvalidInput
from cxloop.predict.churn import ChurnEvaluation, ChurnModel
from cxloop.predict.churn_matrix import binary_target

#: Equal-width probability bins for the expected calibration error.
CALIBRATION_BINS = 10

FloatArray = npt.NDArray[np.float64]


def cross_validate(
    features: pd.DataFrame, target: pd.Series[Any], *, folds: int, seed: int
) -> ChurnEvaluation:
    """Fit on ``folds - 1`` parts, score the held-out part, for every part."""
    from sklearn.metrics import brier_score_loss, roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    y = binary_target(target, len(features))
    _check_folds(y, folds)
    model_proba = np.empty(len(y), dtype=float)
    baseline_proba = np.empty(len(y), dtype=float)
    aucs: list[tuple[float, float]] = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(np.zeros(len(y)), y):
        model = ChurnModel(seed=seed).fit(features.iloc[train], pd.Series(y[train]))
        held_out = features.iloc[test]
        model_proba[test] = model.predict_proba(held_out)
        baseline_proba[test] = model.baseline_proba(held_out)
        aucs.append(
            (
                float(roc_auc_score(y[test], model_proba[test])),
                float(roc_auc_score(y[test], baseline_proba[test])),
            )
        )
    bins = calibration_bins(model_proba, y)
    return ChurnEvaluation(
        auc=float(np.mean([a for a, _ in aucs])),
        fold_aucs=tuple(a for a, _ in aucs),
        baseline_auc=float(np.mean([b for _, b in aucs])),
        baseline_fold_aucs=tuple(b for _, b in aucs),
        brier=float(brier_score_loss(y, model_proba)),
        baseline_brier=float(brier_score_loss(y, baseline_proba)),
        calibration_error=expected_calibration_error(bins, len(y)),
        calibration=bins,
        n_rows=len(y),
        positive_rate=float(y.mean()),
        folds=folds,
        seed=seed,
    )


def calibration_bins(
    probability: FloatArray, y: npt.NDArray[np.int64]
) -> tuple[tuple[float, float, int], ...]:
    """``(mean predicted, observed rate, count)`` for each non-empty tenth of [0, 1]."""
    index = np.minimum(
        (probability * CALIBRATION_BINS).astype(int), CALIBRATION_BINS - 1
    )
    counts = np.bincount(index, minlength=CALIBRATION_BINS)
    predicted = np.bincount(index, weights=probability, minlength=CALIBRATION_BINS)
    observed = np.bincount(index, weights=y, minlength=CALIBRATION_BINS)
    return tuple(
        (
            float(predicted[b] / counts[b]),
            float(observed[b] / counts[b]),
            int(counts[b]),
        )
        for b in range(CALIBRATION_BINS)
        if counts[b]
    )


def expected_calibration_error(
    bins: tuple[tuple[float, float, int], ...], n_rows: int
) -> float:
    """Share-weighted mean gap between predicted and observed rates (Naeini et al. 2015)."""
    return float(sum(count * abs(p - o) for p, o, count in bins) / n_rows)


def _check_folds(y: npt.NDArray[np.int64], folds: int) -> None:
    smallest = int(min(np.count_nonzero(y), np.count_nonzero(y == 0)))
    if folds < 2:
        raise InvalidInput(f"folds must be at least 2, not {folds}")
    if folds > smallest:
        msg = (
            f"{folds} folds need at least {folds} customers of each class; "
            f"the smaller class has {smallest}"
        )
        raise InvalidInput(msg)
