"""The churn model on the Telco customer churn table: probabilities, reasons, files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxloop.domain.errors import InvalidInput
from cxloop.predict.churn import (
    ChurnModel,
    ChurnReason,
    load_churn_model,
    risk_bands,
    save_churn_model,
    train_churn_model,
)
from cxloop.predict.churn_attribution import path_contributions
from cxloop.predict.churn_features import read_training_table
from cxloop.predict.churn_matrix import encode


@pytest.fixture(scope="module")
def telco(shared_data: Path) -> tuple[pd.DataFrame, pd.Series[int]]:
    path = shared_data / "telco_customer_churn" / "WA_Fn-UseC_-Telco-Customer-Churn.csv"
    table, churned = read_training_table(path, target="Churn", id_column="customerID")
    return table.features, churned


@pytest.fixture(scope="module")
def model(telco: tuple[pd.DataFrame, pd.Series[int]]) -> ChurnModel:
    features, churned = telco
    return train_churn_model(features, churned, labels={"tenure": "Months as customer"})


def test_probabilities_are_calibrated_on_training_rates(
    model: ChurnModel, telco: tuple[pd.DataFrame, pd.Series[int]]
) -> None:
    features, churned = telco
    probability = model.predict_proba(features)
    assert probability.shape == (len(features),)
    assert ((probability > 0) & (probability < 1)).all()
    assert abs(probability.mean() - churned.mean()) < 0.01
    assert model.metrics_["training_auc"] > 0.85
    baseline = model.baseline_proba(features)
    assert abs(baseline.mean() - churned.mean()) < 0.01


def test_reasons_name_real_columns_largest_first(
    model: ChurnModel, telco: tuple[pd.DataFrame, pd.Series[int]]
) -> None:
    features, _ = telco
    reasons = model.reasons(features.iloc[:500])
    assert len(reasons) == 500
    given = [reason for row in reasons for reason in row]
    assert given
    assert {reason.feature for reason in given} <= set(features.columns)
    for row in reasons:
        assert len(row) <= 3
        effects = [reason.effect for reason in row]
        assert effects == sorted(effects, reverse=True)
        assert all(effect >= 0.005 for effect in effects)
    named = {reason.feature for reason in given}
    assert {"Contract", "tenure"} <= named


def test_reason_text_uses_labels_and_points(
    model: ChurnModel, telco: tuple[pd.DataFrame, pd.Series[int]]
) -> None:
    features, _ = telco
    first = model.reasons(features.iloc[:1], top=5)[0]
    # Telco's first customer: one month of tenure, month-to-month contract.
    by_feature = {reason.feature: reason for reason in first}
    tenure = by_feature["tenure"]
    assert tenure.value == 1.0
    assert tenure.text == f"Months as customer = 1 (+{tenure.effect * 100:.0f} pts)"
    contract = by_feature["Contract"]
    assert contract == ChurnReason(
        "Contract",
        "Month-to-month",
        contract.effect,
        f"Contract = Month-to-month (+{contract.effect * 100:.0f} pts)",
    )


def test_tree_contributions_add_up_to_the_model_score(
    model: ChurnModel, telco: tuple[pd.DataFrame, pd.Series[int]]
) -> None:
    features, _ = telco
    matrix = encode(model.fitted_schema(), features)
    estimator = model.classifier_.calibrated_classifiers_[0].estimator
    raw, contributions = path_contributions(estimator, matrix)
    np.testing.assert_allclose(raw, estimator.decision_function(matrix), atol=1e-9)
    assert contributions.shape == matrix.shape
    # Every feature the trees split on gets credit somewhere.
    assert (np.abs(contributions).sum(axis=0) > 0).sum() >= 10


def test_blank_and_unseen_values_score_without_error(
    model: ChurnModel, telco: tuple[pd.DataFrame, pd.Series[int]]
) -> None:
    features, _ = telco
    odd = features.iloc[:3].copy()
    odd["Contract"] = pd.array(["Lifetime", None, "Two year"], dtype="string")
    odd["TotalCharges"] = [np.nan, 10.0, np.nan]
    probability = model.predict_proba(odd)
    assert np.isfinite(probability).all()
    reasons = model.reasons(odd)
    values = {r.value for row in reasons for r in row if r.feature == "TotalCharges"}
    assert values <= {None, 10.0}


def test_predicting_without_a_trained_column_is_refused(
    model: ChurnModel, telco: tuple[pd.DataFrame, pd.Series[int]]
) -> None:
    features, _ = telco
    with pytest.raises(InvalidInput, match="Contract"):
        model.predict_proba(features.drop(columns=["Contract"]).iloc[:10])


def test_unfitted_model_is_refused(telco: tuple[pd.DataFrame, pd.Series[int]]) -> None:
    with pytest.raises(InvalidInput, match="not fitted"):
        ChurnModel().predict_proba(telco[0])


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ([0, 0, 0, 0, 0, 0, 0, 0], "one class"),
        ([0, 1, 2, 0, 1, 0, 1, 0], "only 0/1"),
        ([0, 1, 0, 0, 0, 0, 0, 0], "smaller class has 1"),
    ],
)
def test_bad_targets_are_refused(target: list[int], message: str) -> None:
    features = pd.DataFrame({"x": np.arange(8.0), "plan": list("abababab")})
    with pytest.raises(InvalidInput, match=message):
        train_churn_model(features, pd.Series(target))


def test_risk_bands_follow_the_cut_points() -> None:
    bands = risk_bands(np.array([0.0, 0.19, 0.2, 0.49, 0.5, 1.0]))
    assert bands.tolist() == ["low", "low", "medium", "medium", "high", "high"]


def test_saved_model_loads_with_same_probabilities(
    model: ChurnModel, telco: tuple[pd.DataFrame, pd.Series[int]], tmp_path: Path
) -> None:
    features, _ = telco
    save_churn_model(model, tmp_path / "model")
    manifest = json.loads((tmp_path / "model" / "manifest.json").read_text())
    assert [item["name"] for item in manifest["features"]] == list(features.columns)
    assert manifest["labels"] == {"tenure": "Months as customer"}
    loaded = load_churn_model(tmp_path / "model")
    np.testing.assert_array_equal(
        loaded.predict_proba(features), model.predict_proba(features)
    )
    assert loaded.reasons(features.iloc[:50]) == model.reasons(features.iloc[:50])


def test_model_dir_from_other_sklearn_version_is_refused(
    model: ChurnModel, tmp_path: Path
) -> None:
    save_churn_model(model, tmp_path)
    path = tmp_path / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["sklearn_version"] = "0.24.2"
    path.write_text(json.dumps(manifest))
    with pytest.raises(
        InvalidInput, match=r"scikit-learn 0\.24\.2.*train the model again"
    ):
        load_churn_model(tmp_path)


def test_model_dir_with_missing_or_changed_files_is_refused(
    model: ChurnModel, tmp_path: Path
) -> None:
    with pytest.raises(InvalidInput, match=r"no manifest\.json"):
        load_churn_model(tmp_path)
    save_churn_model(model, tmp_path)
    with (tmp_path / "model.joblib").open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(InvalidInput, match="does not match"):
        load_churn_model(tmp_path)
    (tmp_path / "model.joblib").unlink()
    with pytest.raises(InvalidInput, match="model file is missing"):
        load_churn_model(tmp_path)


def test_no_customers_give_no_scores(
    model: ChurnModel, telco: tuple[pd.DataFrame, pd.Series[int]]
) -> None:
    empty = telco[0].iloc[:0]
    assert model.predict_proba(empty).shape == (0,)
    assert model.reasons(empty) == []


def test_date_columns_are_refused_with_advice() -> None:
    features = pd.DataFrame(
        {"joined": pd.date_range("2024-01-01", periods=8), "x": np.arange(8.0)}
    )
    with pytest.raises(InvalidInput, match="'joined' holds dates"):
        train_churn_model(features, pd.Series([0, 1] * 4))
