"""Churn risk on a customer file: evaluate, train into a model directory, score.

These are the use cases behind ``cxloop churn evaluate|train|score``. They read the
user's file (:mod:`cxloop.predict.churn_features`), call the model
(:mod:`cxloop.predict.churn`) and write model directories and score files.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cxloop.domain.errors import InvalidInput
from cxloop.predict.churn import (
    ChurnEvaluation,
    ChurnModel,
    evaluate_churn,
    load_churn_model,
    risk_bands,
    save_churn_model,
    train_churn_model,
)
from cxloop.predict.churn_features import read_scoring_table, read_training_table

#: Score file endings: CSV or JSON Lines.
SCORE_SUFFIXES = (".csv", ".jsonl", ".ndjson")


@dataclass(frozen=True)
class ChurnFileEvaluation:
    """Cross-validated figures for a file, the features used and those left out."""

    evaluation: ChurnEvaluation
    features: tuple[str, ...]
    skipped: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON: the evaluation's fields, ``features`` and ``skipped``."""
        figures = asdict(self.evaluation)
        figures["calibration"] = [
            {"predicted": p, "observed": o, "customers": n}
            for p, o, n in self.evaluation.calibration
        ]
        return {**figures, "features": list(self.features), "skipped": self.skipped}


@dataclass(frozen=True)
class ChurnTraining:
    """What :func:`train_file` wrote and learned from."""

    model_dir: Path
    n_rows: int
    positive_rate: float
    features: tuple[str, ...]
    skipped: dict[str, str]
    metrics: dict[str, float]


@dataclass(frozen=True)
class ChurnScoring:
    """What :func:`score_file` wrote: rows, customers per risk band, the id column."""

    output: Path
    n_rows: int
    bands: dict[str, int]
    id_column: str


def evaluate_file(
    *,
    path: Path,
    target: str,
    id_column: str | None = None,
    folds: int = 5,
    seed: int = 0,
) -> ChurnFileEvaluation:
    """Stratified k-fold AUC of the model and the logistic-regression baseline."""
    table, labels = read_training_table(path, target=target, id_column=id_column)
    evaluation = evaluate_churn(table.features, labels, folds=folds, seed=seed)
    return ChurnFileEvaluation(evaluation, tuple(table.features.columns), table.skipped)


def train_file(
    *,
    path: Path,
    target: str,
    id_column: str | None = None,
    model_dir: Path,
    seed: int = 0,
    labels: Mapping[str, str] | None = None,
) -> ChurnTraining:
    """Fit on the whole file and save the model into ``model_dir``."""
    table, churned = read_training_table(path, target=target, id_column=id_column)
    unknown = sorted(set(labels or {}) - set(table.features.columns))
    if unknown:
        raise InvalidInput(
            f"labels name columns that are not features: {', '.join(unknown)}"
        )
    model = train_churn_model(table.features, churned, seed=seed, labels=labels)
    model.source_ = {
        "file": path.name,
        "target": target,
        "id_column": id_column,
        "skipped": table.skipped,
    }
    save_churn_model(model, model_dir)
    return ChurnTraining(
        model_dir=model_dir,
        n_rows=len(table.features),
        positive_rate=float(model.metrics_["positive_rate"]),
        features=tuple(table.features.columns),
        skipped=table.skipped,
        metrics=dict(model.metrics_),
    )


def score_file(
    *,
    path: Path,
    id_column: str | None = None,
    model_dir: Path,
    output: Path,
    top: int = 3,
) -> ChurnScoring:
    """Write each customer's probability, risk band and top reasons to ``output``.

    ``id_column`` defaults to the id column the model was trained with; with neither,
    customers are named by their line in the file (column ``line``).
    """
    suffix = output.suffix.lower()
    if suffix not in SCORE_SUFFIXES:
        msg = f"{output}: write scores to {', '.join(SCORE_SUFFIXES)}, not {suffix!r}"
        raise InvalidInput(msg)
    if output.resolve() == path.resolve():
        raise InvalidInput(f"{output}: the output would overwrite the input file")
    model = load_churn_model(model_dir)
    id_column = id_column or model.source_.get("id_column")
    table = read_scoring_table(path, schema=model.fitted_schema(), id_column=id_column)
    name = id_column or "line"
    ids = table.ids if table.ids is not None else pd.Series(table.lines)
    frame = score_frame(model, table.features, ids=ids, id_name=name, top=top)
    _write(frame, output)
    counts = frame["churn_risk"].value_counts()
    bands = {band: int(counts.get(band, 0)) for band in ("low", "medium", "high")}
    return ChurnScoring(output=output, n_rows=len(frame), bands=bands, id_column=name)


def score_frame(
    model: ChurnModel,
    features: pd.DataFrame,
    *,
    ids: pd.Series[Any],
    id_name: str = "customer_id",
    top: int = 3,
) -> pd.DataFrame:
    """One row per customer: id, ``churn_probability``, ``churn_risk``, reasons.

    ``reason_1`` … ``reason_<top>`` hold the reasons' text, ``""`` where a customer
    has fewer.
    """
    probability = model.predict_proba(features)
    reasons = model.reasons(features, top=top)
    frame = pd.DataFrame(
        {
            id_name: ids.to_numpy(dtype=object),
            "churn_probability": np.round(probability, 4),
            "churn_risk": risk_bands(probability),
        }
    )
    for k in range(top):
        frame[f"reason_{k + 1}"] = [
            row[k].text if k < len(row) else "" for row in reasons
        ]
    return frame


def _write(frame: pd.DataFrame, output: Path) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    if output.suffix.lower() == ".csv":
        frame.to_csv(output, index=False, encoding="utf-8")
        return
    with output.open("w", encoding="utf-8") as handle:
        for record in frame.to_dict("records"):
            handle.write(json.dumps(record, ensure_ascii=False, default=_plain) + "\n")


def _plain(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")
