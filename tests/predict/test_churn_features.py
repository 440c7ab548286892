"""Reading a flat customer table into churn features: kinds, left-out columns, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cxloop.domain.errors import InvalidInput
from cxloop.predict.churn_features import read_scoring_table, read_training_table
from cxloop.predict.churn_matrix import fit_schema


def _write(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _table(tmp_path: Path, target_words: tuple[str, str] = ("yes", "no")) -> Path:
    rows = ["id,plan,spend,region,country,note,churn"]
    for i in range(40):
        spend = " " if i % 10 == 0 else f"{i * 1.5}"
        word = target_words[i % 2]
        rows.append(f"c{i},{'ab'[i % 2]}, {spend} ,{'nse'[i % 3]},TW,,{word}")
    return _write(tmp_path / "customers.csv", rows)


def test_telco_total_charges_blanks_are_missing_numbers(shared_data: Path) -> None:
    path = shared_data / "telco_customer_churn" / "WA_Fn-UseC_-Telco-Customer-Churn.csv"
    table, churned = read_training_table(path, target="Churn", id_column="customerID")
    charges = table.features["TotalCharges"]
    assert charges.dtype == np.float64
    assert int(charges.isna().sum()) == 11
    assert table.features["tenure"].dtype == np.float64
    assert "customerID" not in table.features
    assert int(churned.sum()) == 1869
    assert table.skipped == {}


def test_constant_blank_and_identifier_columns_are_left_out(tmp_path: Path) -> None:
    table, _ = read_training_table(_table(tmp_path), target="churn")
    assert list(table.features.columns) == ["plan", "spend", "region"]
    assert table.skipped == {
        "id": "a different value on every row (an identifier?)",
        "country": "one value only",
        "note": "every value is blank",
    }
    assert int(table.features["spend"].isna().sum()) == 4


@pytest.mark.parametrize(
    "words",
    [("YES", "No"), ("True", "FALSE"), ("1", "0"), ("Churned", "active")],
)
def test_target_words_in_any_case_are_read(
    tmp_path: Path, words: tuple[str, str]
) -> None:
    _, churned = read_training_table(_table(tmp_path, words), target="churn")
    assert churned.tolist() == [1, 0] * 20


def test_blank_target_names_its_line(tmp_path: Path) -> None:
    path = _table(tmp_path)
    lines = path.read_text().splitlines()
    lines[5] = lines[5].rsplit(",", 1)[0] + ","
    _write(path, lines)
    with pytest.raises(InvalidInput, match="line 6: column 'churn' is blank"):
        read_training_table(path, target="churn")


def test_text_in_numeric_column_names_line_and_column(tmp_path: Path) -> None:
    rows = ["spend,plan,churn"]
    rows += [f"{i},{'ab'[i % 2]},{i % 2}" for i in range(40)]
    rows[17] = "n/a,a,1"
    path = _write(tmp_path / "customers.csv", rows)
    with pytest.raises(
        InvalidInput, match=r"line 18: column 'spend' holds 'n/a', not a number"
    ):
        read_training_table(path, target="churn")


def test_mostly_text_column_with_numbers_is_a_category(tmp_path: Path) -> None:
    rows = ["plan,churn"] + [f"{'1' if i % 3 else 'gold'},{i % 2}" for i in range(30)]
    table, _ = read_training_table(_write(tmp_path / "c.csv", rows), target="churn")
    assert table.features["plan"].dtype == "string"


def test_scoring_table_follows_the_training_kinds(tmp_path: Path) -> None:
    table, _ = read_training_table(_table(tmp_path), target="churn")
    schema = fit_schema(table.features)
    new = _write(tmp_path / "new.csv", ["id,spend,plan,region", "x1,12,a,n", "x2,,c,"])
    scoring = read_scoring_table(new, schema=schema, id_column="id")
    assert scoring.features["spend"].tolist()[0] == 12.0
    assert scoring.ids is not None
    assert scoring.ids.tolist() == ["x1", "x2"]
    bad = _write(tmp_path / "bad.csv", ["spend,plan,region", "lots,a,n"])
    with pytest.raises(InvalidInput, match="line 2: column 'spend' holds 'lots'"):
        read_scoring_table(bad, schema=schema)
    lacking = _write(tmp_path / "lacking.csv", ["spend,plan", "1,a"])
    with pytest.raises(InvalidInput, match="no column named 'region'"):
        read_scoring_table(lacking, schema=schema)
