"""``cxloop recommend evaluate`` on purchase files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cxloop.cli import app
from cxloop.domain.errors import InvalidInput
from cxloop.predict import recommend_service

runner = CliRunner()

PURCHASES = """\
會員編號,商品,購買日期
A,tent,2026-01-01
A,stove,2026-01-02
B,tent,2026-01-01
B,stove,2026-01-02
B,lamp,2026-01-03
C,tent,2026-01-01
C,lamp,2026-01-02
D,mug,2026-01-01
E,bag,2026-01-01
E,mug,2026-01-02
A,lamp,2026-03-15
C,stove,2026-03-15
D,bag,2026-03-15
E,mug,2026-03-15
F,tent,2026-03-15
"""
OPTIONS = ["--customer-column", "會員編號", "--item-column", "商品", "--date-column", "購買日期"]  # fmt: skip


def _file(tmp_path: Path, text: str = PURCHASES) -> Path:
    path = tmp_path / "purchases.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_recommend_evaluate_json_gives_hand_computed_hit_rates(tmp_path: Path) -> None:
    args = ["recommend", "evaluate", "--input", str(_file(tmp_path)), *OPTIONS,
            "--split-date", "2026-03-01", "--k", "1", "--json"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["n_customers"] == 3
    assert data["hit_rate"] == 1.0
    assert data["baseline_hit_rate"] == pytest.approx(1 / 3)
    assert data["split_date"] == "2026-03-01T00:00:00"
    assert data["k"] == 1


def test_recommend_evaluate_prints_a_table(tmp_path: Path) -> None:
    args = ["recommend", "evaluate", "--input", str(_file(tmp_path)), *OPTIONS]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "hit rate at 5" in result.stdout
    assert "popularity baseline" in result.stdout
    assert "100.0%" in result.stdout


def test_recommend_evaluate_names_a_missing_column(tmp_path: Path) -> None:
    args = ["recommend", "evaluate", "--input", str(_file(tmp_path)),
            "--customer-column", "customer", "--item-column", "商品",
            "--date-column", "購買日期"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code != 0
    assert "no column 'customer' (the customer column)" in str(result.exception)


def test_evaluate_file_names_the_line_of_a_bad_date_or_empty_cell(
    tmp_path: Path,
) -> None:
    columns = {
        "customer_column": "會員編號",
        "item_column": "商品",
        "date_column": "購買日期",
    }
    bad_date = _file(tmp_path, PURCHASES.replace("C,lamp,2026-01-02", "C,lamp,明天"))
    with pytest.raises(
        InvalidInput, match=r"purchases\.csv line 8: column '購買日期': '明天'"
    ):
        recommend_service.evaluate_file(path=bad_date, **columns)
    empty = _file(tmp_path, PURCHASES.replace("D,mug,2026-01-01", ",mug,2026-01-01"))
    with pytest.raises(
        InvalidInput, match=r"purchases\.csv line 9: column '會員編號' is empty"
    ):
        recommend_service.evaluate_file(path=empty, **columns)
    with pytest.raises(InvalidInput, match="k must be 1 or more"):
        recommend_service.evaluate_file(path=_file(tmp_path), k=0, **columns)
