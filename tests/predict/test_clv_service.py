"""``clv_service``: CSV, XLSX and JSON Lines read alike; bad cells named by line."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from cxloop.domain.errors import InvalidInput
from cxloop.predict.clv_service import fit_file, read_transactions, score_file


@pytest.fixture(scope="module")
def rows(shared_data: Path) -> pd.DataFrame:
    """The CDNOW sample's first 600 customers (about 1,700 transactions)."""
    frame = pd.read_csv(shared_data / "cdnow" / "CDNOW_sample.csv", dtype=str)
    return frame[frame["customer_id"].astype(int) <= 600].reset_index(drop=True)


def _write(rows: pd.DataFrame, path: Path) -> Path:
    columns = ["customer_id", "date", "dollar_value"]
    if path.suffix == ".csv":
        rows[columns].to_csv(path, index=False)
    elif path.suffix == ".jsonl":
        records = rows[columns].to_dict("records")
        path.write_text(
            "".join(json.dumps(r) + "\n" for r in records), encoding="utf-8"
        )
    else:
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        assert sheet is not None
        sheet.append(columns)
        for record in rows[columns].itertuples(index=False):
            day = date.fromisoformat(record.date)
            sheet.append([record.customer_id, day, float(record.dollar_value)])
        workbook.save(path)
    return path


def test_fit_file_gives_the_same_fit_from_csv_xlsx_and_jsonl(
    rows: pd.DataFrame, tmp_path: Path
) -> None:
    reports = [
        fit_file(
            path=_write(rows, tmp_path / f"orders.{suffix}"),
            customer_column="customer_id",
            date_column="date",
            amount_column="dollar_value",
            calibration_end=date(1997, 9, 30),
        )
        for suffix in ("csv", "xlsx", "jsonl")
    ]
    first = reports[0].to_dict()
    assert first["n_customers"] == 600
    assert first["n_transactions"] == len(rows)
    for report in reports[1:]:
        assert report.to_dict() == first
    assert first["gamma_gamma"]["n_customers"] > 100
    assert first["holdout_actual"] > 0


def test_score_file_writes_one_row_per_customer(
    rows: pd.DataFrame, tmp_path: Path
) -> None:
    output = tmp_path / "scores.csv"
    report = score_file(
        path=_write(rows, tmp_path / "orders.csv"),
        customer_column="customer_id",
        date_column="date",
        amount_column=None,
        calibration_end=None,
        output=output,
        time_unit="day",
        horizon_months=3,
    )
    assert report.output == output
    assert report.spend is None
    scores = pd.read_csv(output)
    assert len(scores) == 600
    assert scores["clv"].isna().all()
    assert "holdout_frequency" not in scores.columns


@pytest.mark.parametrize(
    ("line", "column", "cell", "problem"),
    [
        (3, "date", "1997/02/30", "is not a date (YYYY-MM-DD)"),
        (4, "date", "soon", "is not a date (YYYY-MM-DD)"),
        (2, "dollar_value", "-4.00", "is a negative amount"),
        (5, "dollar_value", "12,5", "is not an amount (a number such as 12.50)"),
        (6, "customer_id", "  ", "is an empty customer id"),
    ],
)
def test_bad_cells_are_named_by_file_line_and_column(
    rows: pd.DataFrame, tmp_path: Path, line: int, column: str, cell: str, problem: str
) -> None:
    bad = rows.head(10).copy()
    bad.loc[line - 2, column] = cell
    path = _write(bad, tmp_path / "orders.csv")
    with pytest.raises(InvalidInput) as caught:
        read_transactions(
            path=path,
            customer_column="customer_id",
            date_column="date",
            amount_column="dollar_value",
        )
    assert (
        str(caught.value)
        == f"{path} line {line}, column {column!r}: {cell!r} {problem}"
    )


def test_every_bad_row_is_counted_in_the_message(
    rows: pd.DataFrame, tmp_path: Path
) -> None:
    bad = rows.head(10).copy()
    bad.loc[[1, 4, 7], "date"] = "n/a"
    path = _write(bad, tmp_path / "orders.csv")
    with pytest.raises(
        InvalidInput, match=r"line 3, .*'n/a' .*\(2 more rows like it\)"
    ):
        read_transactions(
            path=path,
            customer_column="customer_id",
            date_column="date",
            amount_column=None,
        )


def test_accepted_date_spellings(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    cells = [
        "2024-01-02",
        "2024/1/3",
        "20240104",
        "2024-01-05T23:59:00+08:00",
        "2024-01-06 08:00",
    ]
    path.write_text(
        "c,d\n" + "".join(f"x,{cell}\n" for cell in cells), encoding="utf-8"
    )
    frame = read_transactions(
        path=path, customer_column="c", date_column="d", amount_column=None
    )
    assert [day.day for day in frame["date"]] == [2, 3, 4, 5, 6]


@pytest.mark.parametrize(
    ("calibration_end", "time_unit", "problem"),
    [
        (
            date(1999, 1, 1),
            "week",
            "calibration end 1999-01-01 is after the observation end",
        ),
        (
            date(1996, 1, 1),
            "week",
            "calibration end 1996-01-01 is before the first purchase",
        ),
        (None, "month", "unknown time unit 'month'"),
    ],
)
def test_fit_file_refuses_calibration_outside_the_data_and_unknown_units(
    rows: pd.DataFrame,
    tmp_path: Path,
    calibration_end: date | None,
    time_unit: str,
    problem: str,
) -> None:
    path = _write(rows, tmp_path / "orders.csv")
    with pytest.raises(InvalidInput, match=problem):
        fit_file(
            path=path,
            customer_column="customer_id",
            date_column="date",
            amount_column=None,
            calibration_end=calibration_end,
            time_unit=time_unit,
        )


def test_score_file_refuses_a_missing_output_folder(
    rows: pd.DataFrame, tmp_path: Path
) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        score_file(
            path=_write(rows, tmp_path / "orders.csv"),
            customer_column="customer_id",
            date_column="date",
            amount_column=None,
            calibration_end=None,
            output=tmp_path / "missing" / "scores.csv",
        )
