"""CLV from a user's transaction file: read, validate, summarise, fit, score.

The file is read with :func:`cxloop.ingest.readers.read_table` (CSV, XLSX or JSON
Lines); every cell of the named columns is checked, and the first bad one is named by
file, line and column.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cxloop.domain.errors import InvalidInput
from cxloop.ingest.readers import RawTable, read_table
from cxloop.predict.bgnbd import BgNbdFit, fit_bgnbd
from cxloop.predict.clv import customer_clv, summarise_transactions
from cxloop.predict.gamma_gamma import GammaGammaFit, fit_gamma_gamma

if TYPE_CHECKING:
    import pyarrow as pa

#: Dates as written: YYYY-MM-DD (or / or .), optionally followed by a time; or YYYYMMDD.
DATE = (
    r"^\s*(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T].*)?$|^\s*(\d{4})(\d{2})(\d{2})\s*$"
)
#: Amounts: digits with an optional decimal part and optional thousands commas.
AMOUNT = r"^\s*[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?\s*$|^\s*[+-]?\.\d+\s*$"


@dataclass(frozen=True)
class ClvReport:
    """What a CLV fit on a file found.

    ``holdout_*`` are set when a calibration end was given: the repeat purchases
    (distinct purchase days) customers made after it, and the sum over customers of
    the BG/NBD conditional expectation for the same duration.
    """

    path: Path
    time_unit: str
    n_transactions: int
    first_purchase: date
    last_purchase: date
    calibration_end: date | None
    bgnbd: BgNbdFit
    spend: GammaGammaFit | None
    spend_skipped: int
    holdout_duration: float | None
    holdout_actual: float | None
    holdout_predicted: float | None
    output: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON values (``r``, ``alpha``, ``a``, ``b`` on top)."""
        fit = self.bgnbd
        result: dict[str, Any] = {
            "r": fit.r,
            "alpha": fit.alpha,
            "a": fit.a,
            "b": fit.b,
            "log_likelihood": fit.log_likelihood,
            "n_customers": fit.n_customers,
            "n_transactions": self.n_transactions,
            "time_unit": self.time_unit,
            "first_purchase": self.first_purchase.isoformat(),
            "last_purchase": self.last_purchase.isoformat(),
        }
        if self.calibration_end is not None:
            result["calibration_end"] = self.calibration_end.isoformat()
            result["holdout_duration"] = self.holdout_duration
            result["holdout_actual"] = self.holdout_actual
            result["holdout_predicted"] = self.holdout_predicted
        if self.spend is not None:
            spend = self.spend
            result["gamma_gamma"] = {
                "p": spend.p,
                "q": spend.q,
                "v": spend.v,
                "log_likelihood": spend.log_likelihood,
                "n_customers": spend.n_customers,
                "skipped_zero_spend": self.spend_skipped,
            }
        if self.output is not None:
            result["output"] = str(self.output)
        return result


def _strings(raw: RawTable, column: str) -> pd.Series:
    if column not in raw.columns:
        known = ", ".join(repr(name) for name in raw.columns)
        raise InvalidInput(f"{raw.path}: no column {column!r}; the file has {known}")
    values: pa.Array = raw.values[column]
    return pd.Series(values.to_pandas(), dtype="string")


def _refuse(
    raw: RawTable, column: str, cells: pd.Series, bad: Any, problem: str
) -> None:
    """Raise for the first row where ``bad`` holds, naming file, line and column."""
    mask = np.asarray(bad, dtype=bool)
    if mask.any():
        row = int(np.flatnonzero(mask)[0])
        more = int(mask.sum()) - 1
        tail = f" ({more:,} more rows like it)" if more else ""
        msg = f"{raw.path} line {raw.lines[row]}, column {column!r}: {cells.iloc[row]!r} {problem}{tail}"
        raise InvalidInput(msg)


def _customers(raw: RawTable, column: str) -> pd.Series:
    cells = _strings(raw, column)
    ids = cells.str.strip()
    _refuse(raw, column, cells, (ids == "").to_numpy(bool), "is an empty customer id")
    return ids


def _dates(raw: RawTable, column: str) -> pd.Series:
    cells = _strings(raw, column)
    parts = cells.str.extract(DATE).astype("float64")
    year = parts[0].fillna(parts[3])
    month, day = parts[1].fillna(parts[4]), parts[2].fillna(parts[5])
    days = pd.to_datetime(
        pd.DataFrame({"year": year, "month": month, "day": day}), errors="coerce"
    )
    _refuse(
        raw, column, cells, days.isna().to_numpy(bool), "is not a date (YYYY-MM-DD)"
    )
    return days


def _amounts(raw: RawTable, column: str) -> pd.Series:
    cells = _strings(raw, column)
    well_formed = cells.str.fullmatch(AMOUNT).fillna(False).to_numpy(bool)
    _refuse(
        raw, column, cells, ~well_formed, "is not an amount (a number such as 12.50)"
    )
    values = pd.to_numeric(cells.str.replace(",", "").str.strip()).astype("float64")
    _refuse(raw, column, cells, (values < 0).to_numpy(bool), "is a negative amount")
    return values


def read_transactions(
    *, path: Path, customer_column: str, date_column: str, amount_column: str | None
) -> pd.DataFrame:
    """The file's transactions as ``customer``, ``date`` and ``amount`` columns.

    Raises
    ------
    InvalidInput
        For an unreadable file, a missing column, an empty customer id, a date that
        is not YYYY-MM-DD (or YYYYMMDD; a time after it is ignored), or an amount
        that is not a number or is negative; the message names file, line and column.
    """
    raw = read_table(path)
    frame = pd.DataFrame(
        {
            "customer": _customers(raw, customer_column),
            "date": _dates(raw, date_column),
        }
    )
    if amount_column is not None:
        frame["amount"] = _amounts(raw, amount_column)
    return frame


@dataclass(frozen=True)
class _Fitted:
    frame: pd.DataFrame
    summary: pd.DataFrame
    report: ClvReport


def _fit(
    frame: pd.DataFrame, path: Path, calibration_end: date | None, time_unit: str
) -> _Fitted:
    has_amount = "amount" in frame.columns
    summary = summarise_transactions(
        frame,
        customer="customer",
        date="date",
        amount="amount" if has_amount else None,
        calibration_end=calibration_end,
        time_unit=time_unit,
    )
    bgnbd = fit_bgnbd(summary["frequency"], summary["recency"], summary["T"])
    spend, skipped = None, 0
    if has_amount:
        spend = fit_gamma_gamma(
            summary["frequency"], summary["monetary_value"], skip_zero_spend=True
        )
        skipped = int((summary["frequency"] > 0).sum()) - spend.n_customers
    holdout = _holdout(summary, bgnbd) if calibration_end is not None else None
    report = ClvReport(
        path=path,
        time_unit=time_unit,
        n_transactions=len(frame),
        first_purchase=frame["date"].min().date(),
        last_purchase=frame["date"].max().date(),
        calibration_end=calibration_end,
        bgnbd=bgnbd,
        spend=spend,
        spend_skipped=skipped,
        holdout_duration=holdout[0] if holdout else None,
        holdout_actual=holdout[1] if holdout else None,
        holdout_predicted=holdout[2] if holdout else None,
    )
    return _Fitted(frame, summary, report)


def _holdout(summary: pd.DataFrame, bgnbd: BgNbdFit) -> tuple[float, float, float]:
    predicted = bgnbd.expected_purchases(
        summary["holdout_duration"],
        summary["frequency"],
        summary["recency"],
        summary["T"],
    )
    duration = float(summary["holdout_duration"].iloc[0])
    return duration, float(summary["holdout_frequency"].sum()), float(predicted.sum())


def fit_file(
    *,
    path: Path,
    customer_column: str,
    date_column: str,
    amount_column: str | None,
    calibration_end: date | None,
    time_unit: str = "week",
) -> ClvReport:
    """Fit BG/NBD (and Gamma-Gamma when amounts are given) on a transaction file.

    Parameters
    ----------
    path : Path
        CSV, XLSX or JSON Lines file with one row per transaction.
    customer_column, date_column : str
        Columns holding the customer id and the purchase date.
    amount_column : str, optional
        Column holding each transaction's amount; enables the spend model.
    calibration_end : date, optional
        Fit on purchases up to this day and compare the holdout after it.
    time_unit : {"week", "day"}
        Unit of the fitted parameters.

    Returns
    -------
    ClvReport
        The fits and, with a calibration end, the holdout comparison.
    """
    frame = read_transactions(
        path=path,
        customer_column=customer_column,
        date_column=date_column,
        amount_column=amount_column,
    )
    return _fit(frame, path, calibration_end, time_unit).report


def score_file(
    *,
    path: Path,
    customer_column: str,
    date_column: str,
    amount_column: str | None,
    calibration_end: date | None,
    output: Path,
    time_unit: str = "week",
    horizon_months: int = 12,
    annual_discount_rate: float = 0.10,
) -> ClvReport:
    """As :func:`fit_file`, and write one CSV row per customer to ``output``.

    The CSV holds the summary (``frequency``, ``recency``, ``T``, ``monetary_value``
    and the holdout columns with a calibration end) and the predictions made at the
    end of the (calibration) period: ``p_alive``, ``expected_purchases`` in the next
    ``horizon_months``, ``expected_spend`` and ``clv`` (empty without amounts).
    """
    if not output.parent.is_dir():
        raise InvalidInput(f"{output}: the folder {output.parent} does not exist")
    frame = read_transactions(
        path=path,
        customer_column=customer_column,
        date_column=date_column,
        amount_column=amount_column,
    )
    fitted = _fit(frame, path, calibration_end, time_unit)
    report = fitted.report
    scores = customer_clv(
        fitted.summary,
        report.bgnbd,
        report.spend,
        horizon_months=horizon_months,
        annual_discount_rate=annual_discount_rate,
        time_unit=time_unit,
    )
    table = fitted.summary.join(scores)
    table.index.name = customer_column
    table.to_csv(output, float_format="%.6g")
    return replace(report, output=output)
