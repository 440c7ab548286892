"""Churn risk on a flat customer table: a calibrated gradient-boosting model.

:class:`ChurnModel` fits scikit-learn's ``HistGradientBoostingClassifier`` (shallow
trees, native categorical splits, missing values handled by the trees) inside
``CalibratedClassifierCV`` (Platt scaling on out-of-fold predictions, Platt 1999),
and beside it a logistic-regression baseline (one-hot categories, standardised numbers
with a missing-value indicator). Numeric columns of the features frame are used as
numbers; every other column is a category.

Per-customer reasons come from the trees themselves: each step down a tree is credited
to the feature it split on (:mod:`cxloop.predict.churn_attribution`), and a feature's
effect is how much lower the calibrated probability would be without its credit. All
customers are explained in one vectorised pass.
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

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ChurnReason:
    """One feature that raises a customer's churn risk.

    ``effect`` is how much the feature adds to the predicted probability (0.18 is 18
    percentage points); ``value`` is the customer's value (``None`` when blank);
    ``text`` says it in words, e.g.
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
        Numeric and categorical columns and the categories of each.
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
        if len(matrix) == 0:
            return np.empty(0, dtype=float)
        with thread_limit(len(matrix)):
            return np.asarray(self.baseline_.predict_proba(matrix)[:, 1], dtype=float)

    def reasons(
        self, features: pd.DataFrame, *, top: int = 3
    ) -> list[list[ChurnReason]]:
        """Up to ``top`` features that raise each customer's risk most, largest first.

        A feature's effect is the calibrated probability minus the probability with
        the feature's share of the score taken out (:meth:`effects`); only effects
        of at least half a percentage point count.
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
        """Per customer and feature: how much the feature moves the probability.

        ``matrix`` is the encoded feature matrix (:func:`encode`). Each tree's path
        credits its steps to the features split on (:mod:`churn_attribution`); a
        feature's effect is the calibrated probability minus the probability with that
        feature's credit taken out of the score. Positive effects raise the risk.
        """
        from cxloop.predict.churn_attribution import path_contributions

        self.fitted_schema()
        if len(matrix) == 0:
            return np.zeros(matrix.shape, dtype=float)
        pair = self.classifier_.calibrated_classifiers_[0]
        with thread_limit(len(matrix)):
            raw, contributions = path_contributions(pair.estimator, matrix)
        calibrate = pair.calibrators[0].predict
        without = calibrate((raw[:, np.newaxis] - contributions).ravel())
        effects: FloatArray = calibrate(raw)[:, np.newaxis] - without.reshape(
            contributions.shape
        )
        return effects

    def _proba(self, matrix: FloatArray) -> FloatArray:
        if len(matrix) == 0:
            return np.empty(0, dtype=float)
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
        learning_rate=0.1,
        max_iter=100,
        max_depth=2,
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
