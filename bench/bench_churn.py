"""Churn risk on Telco customer churn: cxloop's model against two plain scikit-learn peers.

All three run on the same five stratified folds of the IBM Telco table (7,043
customers, ``Churn``, id ``customerID``):

- cxloop ``ChurnModel`` (calibrated histogram gradient boosting, read with cxloop's
  own file reader);
- a plain logistic regression (one-hot categories, median-imputed and standardised
  numbers), the usual baseline;
- a plain ``GradientBoostingClassifier`` with default settings on the same one-hot
  matrix.

For each it prints the mean ROC AUC over folds, the Brier score of the pooled
out-of-fold probabilities, and the seconds to fit and to score (summed over folds).
It then times cxloop scoring with three reasons per customer for the table repeated
three times (21,129 customers). Writes the figures to the "Churn" section of
bench/README.md. Run: ``.venv/bin/python bench/bench_churn.py``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from bench_report import machine, write_section
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from cxloop.predict.churn import ChurnModel, train_churn_model
from cxloop.predict.churn_features import read_training_table

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1] / "shared" / "data" / "telco_customer_churn"
TELCO = DATA / "WA_Fn-UseC_-Telco-Customer-Churn.csv"
FOLDS = 5
TARGET_AUC = 0.84


def plain_frame() -> tuple[pd.DataFrame, np.ndarray]:
    """Telco read the usual pandas way, TotalCharges forced to numbers."""
    frame = pd.read_csv(TELCO)
    y = (frame.pop("Churn") == "Yes").astype(int).to_numpy()
    frame = frame.drop(columns=["customerID"])
    frame["TotalCharges"] = pd.to_numeric(frame["TotalCharges"], errors="coerce")
    return frame, y


def one_hot(frame: pd.DataFrame) -> ColumnTransformer:
    numeric = [c for c in frame if pd.api.types.is_numeric_dtype(frame[c])]
    text = [c for c in frame if c not in numeric]
    return ColumnTransformer(
        [
            (
                "n",
                make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
                numeric,
            ),
            ("c", OneHotEncoder(handle_unknown="ignore"), text),
        ]
    )


def run_peer(
    make: Callable[[], Any], frame: pd.DataFrame, y: np.ndarray, splits: list[Any]
) -> dict[str, float]:
    proba = np.empty(len(y))
    aucs, fit_s, score_s = [], 0.0, 0.0
    for train, test in splits:
        model = make_pipeline(one_hot(frame), make())
        began = time.perf_counter()
        model.fit(frame.iloc[train], y[train])
        fit_s += time.perf_counter() - began
        began = time.perf_counter()
        proba[test] = model.predict_proba(frame.iloc[test])[:, 1]
        score_s += time.perf_counter() - began
        aucs.append(roc_auc_score(y[test], proba[test]))
    return _figures(aucs, y, proba, fit_s, score_s)


def run_cxloop(
    features: pd.DataFrame, y: np.ndarray, splits: list[Any]
) -> dict[str, float]:
    proba = np.empty(len(y))
    aucs, fit_s, score_s = [], 0.0, 0.0
    for train, test in splits:
        began = time.perf_counter()
        model = ChurnModel().fit(features.iloc[train], pd.Series(y[train]))
        fit_s += time.perf_counter() - began
        began = time.perf_counter()
        proba[test] = model.predict_proba(features.iloc[test])
        score_s += time.perf_counter() - began
        aucs.append(roc_auc_score(y[test], proba[test]))
    return _figures(aucs, y, proba, fit_s, score_s)


def _figures(
    aucs: list[float], y: np.ndarray, proba: np.ndarray, fit_s: float, score_s: float
) -> dict[str, float]:
    return {
        "auc": float(np.mean(aucs)),
        "auc_min": float(np.min(aucs)),
        "auc_max": float(np.max(aucs)),
        "brier": float(brier_score_loss(y, proba)),
        "fit_s": fit_s,
        "score_s": score_s,
    }


def time_reasons(features: pd.DataFrame, y: np.ndarray) -> tuple[int, float, float]:
    model = train_churn_model(features, pd.Series(y))
    many = pd.concat([features] * 3, ignore_index=True)
    model.reasons(many.iloc[:100])  # warm up imports
    began = time.perf_counter()
    model.predict_proba(many)
    proba_s = time.perf_counter() - began
    began = time.perf_counter()
    model.reasons(many, top=3)
    return len(many), proba_s, time.perf_counter() - began


def section(
    results: dict[str, dict[str, float]], reasons: tuple[int, float, float]
) -> str:
    ours = results["cxloop ChurnModel (calibrated HGB)"]
    rows = [
        "| model | ROC AUC (mean of 5 folds) | fold range | Brier | fit s | score s |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, r in results.items():
        rows.append(
            f"| {name} | {r['auc']:.4f} | {r['auc_min']:.3f}-{r['auc_max']:.3f} | "
            f"{r['brier']:.4f} | {r['fit_s']:.2f} | {r['score_s']:.3f} |"
        )
    n, proba_s, reasons_s = reasons
    lr = results["logistic regression"]
    gbc = results["GradientBoostingClassifier"]
    ratios = (
        f"- cxloop vs peers: AUC {ours['auc'] - lr['auc']:+.4f} vs logistic regression, "
        f"{ours['auc'] - gbc['auc']:+.4f} vs GradientBoostingClassifier; fit time "
        f"{ours['fit_s'] / lr['fit_s']:.1f}x logistic regression's, "
        f"{ours['fit_s'] / gbc['fit_s']:.2f}x GradientBoostingClassifier's"
    )
    met = "met" if ours["auc"] >= TARGET_AUC else "NOT met"
    load = " / ".join(f"{v:.1f}" for v in os.getloadavg())
    return "\n".join(
        [
            "## Churn",
            "",
            "`.venv/bin/python bench/bench_churn.py` runs cxloop's churn model, a plain",
            "logistic regression and a plain scikit-learn `GradientBoostingClassifier`",
            "(defaults, one-hot categories) on the same five stratified folds of the",
            "IBM Telco customer churn table (7,043 customers, 26.5 % churned). Fit and",
            "score seconds are summed over the five folds; Brier is on the pooled",
            "out-of-fold probabilities. The machine is shared, so seconds move between runs.",
            "",
            *rows,
            "",
            f"- target ROC AUC >= {TARGET_AUC} in 5-fold cross-validation: {met} "
            f"({ours['auc']:.4f})",
            ratios,
            f"- scoring {n:,} customers (Telco three times): probabilities {proba_s:.2f} s, "
            f"probabilities with three reasons each {reasons_s:.2f} s",
            f"- machine: {machine()}",
            f"- measured {date.today().isoformat()}; load average {load} after the run "
            "(the cores are shared with other work)",
            "",
        ]
    )


def main() -> None:
    frame, y = plain_frame()
    table, churned = read_training_table(TELCO, target="Churn", id_column="customerID")
    assert (churned.to_numpy() == y).all()
    splits = list(StratifiedKFold(FOLDS, shuffle=True, random_state=0).split(frame, y))
    results = {
        "cxloop ChurnModel (calibrated HGB)": run_cxloop(table.features, y, splits),
        "logistic regression": run_peer(
            lambda: LogisticRegression(max_iter=2000), frame, y, splits
        ),
        "GradientBoostingClassifier": run_peer(
            lambda: GradientBoostingClassifier(random_state=0), frame, y, splits
        ),
    }
    text = section(results, time_reasons(table.features, y))
    print(text)
    write_section("Churn", text)


if __name__ == "__main__":
    main()
