"""``cxloop churn evaluate|train|score`` on the Telco customer churn table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from cxloop.cli import app
from cxloop.domain.errors import InvalidInput


@pytest.fixture(scope="module")
def telco(shared_data: Path) -> Path:
    return shared_data / "telco_customer_churn" / "WA_Fn-UseC_-Telco-Customer-Churn.csv"


def _churn(*arguments: str) -> Any:
    return CliRunner().invoke(app, ["churn", *arguments])


def test_evaluate_json_reaches_auc_target_on_telco(telco: Path) -> None:
    result = _churn(
        "evaluate", "--input", str(telco), "--target", "Churn",
        "--id-column", "customerID", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["auc"] >= 0.84
    assert figures["folds"] == 5
    assert len(figures["fold_aucs"]) == 5
    assert figures["auc"] == pytest.approx(sum(figures["fold_aucs"]) / 5)
    assert figures["baseline_auc"] > 0.8
    assert figures["n_rows"] == 7043
    assert figures["positive_rate"] == pytest.approx(1869 / 7043)
    # Calibrated: not worse than logistic regression by much, and close to observed.
    assert figures["brier"] <= figures["baseline_brier"] + 0.005
    assert figures["calibration_error"] < 0.03
    assert "customerID" not in figures["features"]
    assert len(figures["features"]) == 19


def test_evaluate_table_prints_both_aucs_and_unused_id(
    tmp_path: Path, telco: Path
) -> None:
    small = tmp_path / "telco_small.csv"
    pd.read_csv(telco, dtype=str, keep_default_na=False).iloc[:1500].to_csv(
        small, index=False
    )
    result = _churn(
        "evaluate", "--input", str(small), "--target", "Churn", "--folds", "3"
    )
    assert result.exit_code == 0, result.output
    assert "auc 0." in result.output
    assert "baseline_auc 0." in result.output
    assert "not used: customerID (a different value on every row" in result.output


def test_train_then_score_round_trip(tmp_path: Path, telco: Path) -> None:
    model_dir = tmp_path / "model"
    trained = _churn(
        "train", "--input", str(telco), "--target", "Churn",
        "--id-column", "customerID", "--model-dir", str(model_dir),
        "--label", "tenure=Months as customer",
    )  # fmt: skip
    assert trained.exit_code == 0, trained.output
    assert "7,043 customers" in trained.output
    output = tmp_path / "scores.csv"
    scored = _churn(
        "score", "--input", str(telco), "--model-dir", str(model_dir),
        "--output", str(output),
    )  # fmt: skip
    assert scored.exit_code == 0, scored.output
    scores = pd.read_csv(output, keep_default_na=False)
    assert list(scores.columns) == [
        "customerID", "churn_probability", "churn_risk",
        "reason_1", "reason_2", "reason_3",
    ]  # fmt: skip
    source = pd.read_csv(telco, dtype=str)
    assert scores["customerID"].tolist() == source["customerID"].tolist()
    assert scores["churn_probability"].between(0, 1).all()
    high = scores["churn_risk"] == "high"
    assert (scores.loc[high, "churn_probability"] >= 0.5).all()
    churned = source["Churn"] == "Yes"
    assert scores.loc[churned, "churn_probability"].mean() > 0.45
    assert scores.loc[~churned, "churn_probability"].mean() < 0.2
    named = {text.split(" = ")[0] for text in scores["reason_1"] if text}
    assert named <= {*source.columns, "Months as customer"}
    assert "Months as customer" in named


def test_score_jsonl_without_id_names_lines(tmp_path: Path, telco: Path) -> None:
    model_dir = tmp_path / "model"
    small = tmp_path / "customers.csv"
    frame = pd.read_csv(telco, dtype=str, keep_default_na=False).iloc[:1000]
    frame.to_csv(small, index=False)
    trained = _churn("train", "--input", str(small), "--target", "Churn",
                     "--model-dir", str(model_dir))  # fmt: skip
    assert trained.exit_code == 0, trained.output
    output = tmp_path / "out" / "scores.jsonl"
    unlabelled = tmp_path / "new.csv"
    frame.drop(columns=["Churn", "customerID"]).iloc[:20].to_csv(
        unlabelled, index=False
    )
    scored = _churn("score", "--input", str(unlabelled), "--model-dir", str(model_dir),
                    "--output", str(output))  # fmt: skip
    assert scored.exit_code == 0, scored.output
    records = [json.loads(line) for line in output.read_text().splitlines()]
    assert [record["line"] for record in records] == list(range(2, 22))
    assert {record["churn_risk"] for record in records} <= {"low", "medium", "high"}


def test_unknown_target_column_is_refused(telco: Path) -> None:
    result = _churn("evaluate", "--input", str(telco), "--target", "Churned")
    assert isinstance(result.exception, InvalidInput)
    assert "no column named 'Churned'" in str(result.exception)


def test_target_with_third_value_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    rows = ["id,plan,spend,left"]
    rows += [f"c{i},{'ab'[i % 2]},{i},{'yes' if i % 3 else 'no'}" for i in range(30)]
    rows[8] = "c7,a,7,maybe"
    path.write_text("\n".join(rows) + "\n")
    result = _churn(
        "evaluate", "--input", str(path), "--target", "left", "--folds", "2"
    )
    assert isinstance(result.exception, InvalidInput)
    assert str(result.exception) == (
        f"{path} line 9: column 'left' holds 'maybe'; a churn target is "
        "1/0, true/false, yes/no or churned/active"
    )


def test_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("")
    result = _churn("evaluate", "--input", str(path), "--target", "Churn")
    assert isinstance(result.exception, InvalidInput)
    assert "the file is empty" in str(result.exception)


def test_score_with_missing_model_dir_is_refused(tmp_path: Path, telco: Path) -> None:
    result = _churn("score", "--input", str(telco), "--model-dir",
                    str(tmp_path / "nothing"), "--output", str(tmp_path / "s.csv"))  # fmt: skip
    assert isinstance(result.exception, InvalidInput)
    assert "no manifest.json" in str(result.exception)


def test_bad_label_option_is_refused(tmp_path: Path, telco: Path) -> None:
    result = _churn("train", "--input", str(telco), "--target", "Churn",
                    "--model-dir", str(tmp_path), "--label", "tenure")  # fmt: skip
    assert isinstance(result.exception, InvalidInput)
    assert "COLUMN=WORDS" in str(result.exception)
