"""Churn risk on a flat customer table: a calibrated gradient-boosting model.

:class:`ChurnModel` fits scikit-learn's ``HistGradientBoostingClassifier`` (shallow
trees, native categorical splits, missing values handled by the trees) inside
``CalibratedClassifierCV`` (Platt scaling on out-of-fold predictions, Platt 1999),
and beside it a logistic-regression baseline (one-hot categories, standardised numbers
with a missing-value indicator). Numeric columns of the features frame are used as
numbers; every other column is a category.

Per-customer reasons are "what if this one feature were typical": the drop in the
predicted probability when a feature is set to its training median (numbers) or its
most common value (categories). All customers and features are scored in one batch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from cxloop.domain.errors import InvalidInput
from cxloop.predict.churn_matrix import (
    FeatureSchema,
    binary_target,
    encode,
    fit_schema,
    thread_limit,
)

if TYPE_CHECKING:
    from pathlib import Path

    from sklearn.base import ClassifierMixin

__all__ = [
    "RISK_CUTS",
    "ChurnEvaluation",
    "ChurnModel",
    "ChurnReason",
    "evaluate_churn",
    "load_churn_model",
    "risk_bands",
    "save_churn_model",
    "train_churn_model",
]

#: Probability cut points between the ``low``, ``medium`` and ``high`` risk bands.
RISK_CUTS = (0.2, 0.5)
#: Smallest effect (probability) that counts as a reason: half a percentage point.
MIN_EFFECT = 0.005
#: Folds of the calibration (Platt scaling on out-of-fold predictions).
CALIBRATION_FOLDS = 3
#: Rows predicted per call when computing reasons (bounds memory on big tables).
REASON_CHUNK_ROWS = 250_000

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ChurnReason:
    """One feature that raises a customer's churn risk.

    ``effect`` is the predicted probability minus the probability with this feature set
    to its typical value; ``text`` says it in words, e.g.
    ``"Contract = Month-to-month (+18 pts)"``.
    """

    feature: str
    value: object
    effect: float
    text: str


class ChurnModel:
    """Calibrated gradient boosting for churn, with a logistic-regression baseline.

    Parameters
    ----------
    seed
        Random state for the boosting and the calibration folds.
    labels
        Human words for feature names, used in reasons (``{"tenure": "Months"}``).

    Attributes
    ----------
    schema_ : FeatureSchema
        Numeric and categorical columns, categories and typical values.
    classifier_ : CalibratedClassifierCV
        The calibrated boosting model on the encoded matrix.
    baseline_ : Pipeline
        The logistic-regression baseline on the same matrix.
    metrics_ : dict
        In-sample figures from fitting: ``n_rows``, ``positive_rate``,
        ``training_auc``, ``training_brier``.
    source_ : dict
        Free metadata saved with the model (the service records the file's target and
        id columns and the columns it left out).
    """

    def __init__(self, *, seed: int = 0, labels: Mapping[str, str] | None = None):
        self.seed = seed
        self.labels = dict(labels or {})
        self.source_: dict[str, Any] = {}

    def fit(self, features: pd.DataFrame, target: pd.Series[Any]) -> ChurnModel:
        """Fit both models on ``features`` and a 0/1 ``target``; returns ``self``."""
        from sklearn.metrics import brier_score_loss, roc_auc_score

        y = binary_target(target, len(features))
        smaller = int(min(np.count_nonzero(y), np.count_nonzero(y == 0)))
        if smaller < CALIBRATION_FOLDS:
            msg = (
                f"the smaller class has {smaller} customers; calibration needs at "
                f"least {CALIBRATION_FOLDS} churned and {CALIBRATION_FOLDS} active"
            )
            raise InvalidInput(msg)
        self.schema_ = fit_schema(features)
        matrix = encode(self.schema_, features)
        with thread_limit(len(matrix)):
            self.classifier_ = _boosting(self.schema_, self.seed).fit(matrix, y)
            self.baseline_ = _baseline(self.schema_).fit(matrix, y)
            proba = self.classifier_.predict_proba(matrix)[:, 1]
        self.metrics_ = {
            "n_rows": len(y),
            "positive_rate": float(y.mean()),
            "training_auc": float(roc_auc_score(y, proba)),
            "training_brier": float(brier_score_loss(y, proba)),
        }
        return self

    def predict_proba(self, features: pd.DataFrame) -> FloatArray:
        """The calibrated probability that each customer churns."""
        return self._proba(encode(self.fitted_schema(), features))

    def baseline_proba(self, features: pd.DataFrame) -> FloatArray:
        """The logistic-regression baseline's probability of churn."""
        matrix = encode(self.fitted_schema(), features)
        with thread_limit(len(matrix)):
            return np.asarray(self.baseline_.predict_proba(matrix)[:, 1], dtype=float)

    def reasons(
        self, features: pd.DataFrame, *, top: int = 3
    ) -> list[list[ChurnReason]]:
        """Up to ``top`` features that raise each customer's risk most, largest first.

        A feature's effect is the predicted probability minus the probability with
        that feature set to its typical value; only effects of at least half a
        percentage point count.
        """
        if top < 1:
            raise InvalidInput(f"top must be at least 1, not {top}")
        schema = self.fitted_schema()
        matrix = encode(schema, features)
        effects = self.effects(matrix)
        order = np.argsort(-effects, axis=1, kind="stable")[:, :top]
        names = schema.columns
        raw = {name: features[name].to_numpy(dtype=object) for name in names}
        return [
            [
                self._reason(names[j], raw[names[j]][i], float(effects[i, j]))
                for j in row
                if effects[i, j] >= MIN_EFFECT
            ]
            for i, row in enumerate(order)
        ]

    def effects(self, matrix: FloatArray) -> FloatArray:
        """Per customer and feature: probability minus "feature set to typical".

        ``matrix`` is the encoded feature matrix (see :func:`encode`); the result has
        one row per customer and one column per feature, 0 where the customer already
        holds the typical value.
        """
        typical = self.fitted_schema().typical
        base = self._proba(matrix)
        effects = np.zeros(matrix.shape, dtype=float)
        differs = ~np.isclose(matrix, typical[np.newaxis, :], equal_nan=False)
        rows, cols = np.nonzero(differs)
        for start in range(0, len(rows), REASON_CHUNK_ROWS):
            r = rows[start : start + REASON_CHUNK_ROWS]
            c = cols[start : start + REASON_CHUNK_ROWS]
            neutral = matrix[r]
            neutral[np.arange(len(r)), c] = typical[c]
            effects[r, c] = base[r] - self._proba(neutral)
        return effects

    def _proba(self, matrix: FloatArray) -> FloatArray:
        with thread_limit(len(matrix)):
            return np.asarray(self.classifier_.predict_proba(matrix)[:, 1], dtype=float)

    def fitted_schema(self) -> FeatureSchema:
        """The fitted :class:`FeatureSchema`; refuses an unfitted model."""
        if not hasattr(self, "schema_"):
            raise InvalidInput("the churn model is not fitted: call fit() first")
        return self.schema_

    def _reason(self, feature: str, value: object, effect: float) -> ChurnReason:
        label = self.labels.get(feature, feature)
        text = f"{label} = {_value_text(value)} ({effect * 100:+.0f} pts)"
        return ChurnReason(feature, None if _missing(value) else value, effect, text)


def train_churn_model(
    features: pd.DataFrame,
    target: pd.Series[Any],
    *,
    seed: int = 0,
    labels: Mapping[str, str] | None = None,
) -> ChurnModel:
    """Fit a :class:`ChurnModel` on ``features`` and a 0/1 (or bool) ``target``."""
    return ChurnModel(seed=seed, labels=labels).fit(features, target)


def risk_bands(probability: FloatArray) -> npt.NDArray[np.str_]:
    """``low`` below 0.2, ``medium`` below 0.5, ``high`` from 0.5 (:data:`RISK_CUTS`)."""
    low, high = RISK_CUTS
    return np.where(
        probability >= high, "high", np.where(probability >= low, "medium", "low")
    )


def _boosting(schema: FeatureSchema, seed: int) -> ClassifierMixin:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import HistGradientBoostingClassifier

    trees = HistGradientBoostingClassifier(
        learning_rate=0.05,
        max_iter=150,
        max_depth=3,
        min_samples_leaf=30,
        l2_regularization=1.0,
        categorical_features=schema.categorical_mask,
        early_stopping=False,
        random_state=seed,
    )
    calibrated: ClassifierMixin = CalibratedClassifierCV(
        trees, method="sigmoid", cv=CALIBRATION_FOLDS, ensemble=False
    )
    return calibrated


def _baseline(schema: FeatureSchema) -> ClassifierMixin:
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True), StandardScaler()
    )
    categorical = make_pipeline(
        SimpleImputer(strategy="constant", fill_value=-1.0),
        OneHotEncoder(handle_unknown="ignore"),
    )
    mask = np.asarray(schema.categorical_mask)
    columns = ColumnTransformer(
        [
            ("numeric", numeric, np.flatnonzero(~mask)),
            ("categorical", categorical, np.flatnonzero(mask)),
        ]
    )
    pipeline: Pipeline = make_pipeline(columns, LogisticRegression(max_iter=2000))
    return pipeline


def _missing(value: object) -> bool:
    return (
        value is None
        or value is pd.NA
        or (isinstance(value, float) and math.isnan(value))
    )


def _value_text(value: object) -> str:
    if _missing(value):
        return "(blank)"
    if isinstance(value, float | np.floating):
        return f"{float(value):g}"
    return str(value)


@dataclass(frozen=True)
class ChurnEvaluation:
    """Stratified k-fold figures for the model and its logistic-regression baseline.

    AUCs are means over folds; the Brier scores and the calibration error are computed
    on the pooled out-of-fold probabilities. ``calibration_error`` is the expected
    calibration error over ten equal-width probability bins, and ``calibration`` lists
    those bins as ``(mean predicted, observed rate, customers)``.
    """

    auc: float
    fold_aucs: tuple[float, ...]
    baseline_auc: float
    baseline_fold_aucs: tuple[float, ...]
    brier: float
    baseline_brier: float
    calibration_error: float
    calibration: tuple[tuple[float, float, int], ...]
    n_rows: int
    positive_rate: float
    folds: int
    seed: int


def evaluate_churn(
    features: pd.DataFrame, target: pd.Series[Any], *, folds: int = 5, seed: int = 0
) -> ChurnEvaluation:
    """Cross-validate :class:`ChurnModel` and its baseline in stratified ``folds``."""
    from cxloop.predict.churn_evaluation import cross_validate

    return cross_validate(features, target, folds=folds, seed=seed)


def save_churn_model(model: ChurnModel, directory: Path) -> None:
    """Write ``model`` into ``directory``: ``model.joblib`` and ``manifest.json``."""
    from cxloop.predict.churn_files import save_model

    save_model(model, directory)


def load_churn_model(directory: Path) -> ChurnModel:
    """Read a model that :func:`save_churn_model` wrote; refuses other versions.

    The model file is a pickle: load only directories you wrote or trust.
    """
    from cxloop.predict.churn_files import load_model

    return load_model(directory)
