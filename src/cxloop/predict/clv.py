"""Customer summaries from transactions, and a discounted CLV per customer.

:func:`summarise_transactions` turns a transaction table into the ``frequency``,
``recency``, ``T`` and ``monetary_value`` of each customer, the way lifetimes'
``summary_data_from_transaction_data`` does with daily periods (purchases on the same
day count once, their amounts add up); times are exact days divided by the unit, so
weeks are fractional, as in Fader, Hardie & Lee's CDNOW summary.
:func:`customer_clv` combines a BG/NBD fit and a Gamma-Gamma fit into a CLV.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cxloop.domain.errors import InvalidInput

if TYPE_CHECKING:
    from cxloop.predict.bgnbd import BgNbdFit
    from cxloop.predict.gamma_gamma import GammaGammaFit

#: Days in one period of each time unit.
DAYS_PER_UNIT = {"day": 1.0, "week": 7.0}
#: Days in an average month (365.25 / 12), the step of the CLV sum.
DAYS_PER_MONTH = 365.25 / 12


def days_per_unit(time_unit: str) -> float:
    """Days in one ``time_unit`` (``day`` or ``week``)."""
    if time_unit not in DAYS_PER_UNIT:
        raise InvalidInput(
            f"unknown time unit {time_unit!r}: choose one of {', '.join(DAYS_PER_UNIT)}"
        )
    return DAYS_PER_UNIT[time_unit]


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name not in frame.columns:
        known = ", ".join(map(str, frame.columns))
        raise InvalidInput(f"no column {name!r} in the transactions; columns: {known}")
    return frame[name]


def _first_bad(series: pd.Series, bad: pd.Series, problem: str, column: str) -> None:
    if bad.any():
        label = series.index[np.flatnonzero(bad.to_numpy())[0]]
        value = series.loc[label]
        msg = f"row {label!r}, column {column!r}: {value!r} {problem} ({int(bad.sum())} rows)"
        raise InvalidInput(msg)


def _days(series: pd.Series, column: str) -> pd.Series:
    """Each date as a day (datetime64 normalised to midnight, time zone dropped)."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        parsed = series
    else:
        parsed = pd.to_datetime(series, errors="coerce", format="ISO8601")
    _first_bad(series, parsed.isna(), "is not a date", column)
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_localize(None)
    days: pd.Series = parsed.dt.normalize().astype("datetime64[s]")
    return days


def _amounts(series: pd.Series, column: str) -> pd.Series:
    values = pd.to_numeric(series, errors="coerce").astype("float64")
    _first_bad(series, values.isna(), "is not a number", column)
    _first_bad(series, values < 0, "is negative", column)
    return values


def _daily(
    frame: pd.DataFrame, customer: str, date_column: str, amount: str | None
) -> pd.DataFrame:
    """One row per customer and day: the day and the day's total amount."""
    ids = _column(frame, customer)
    _first_bad(ids, ids.isna(), "is not a customer id", customer)
    days = _days(_column(frame, date_column), date_column)
    values = (
        _amounts(_column(frame, amount), amount)
        if amount is not None
        else pd.Series(0.0, index=frame.index)
    )
    table = pd.DataFrame(
        {
            "customer": ids.to_numpy(),
            "day": days.to_numpy(),
            "amount": values.to_numpy(),
        }
    )
    return table.groupby(["customer", "day"], sort=True)["amount"].sum().reset_index()


def _period_ends(
    days: pd.Series, calibration_end: date | None, observation_end: date | None
) -> tuple[pd.Timestamp, pd.Timestamp]:
    last = pd.Timestamp(observation_end) if observation_end else days.max()
    cut = pd.Timestamp(calibration_end) if calibration_end else last
    if cut > last:
        raise InvalidInput(
            f"the calibration end {cut.date()} is after the observation end {last.date()}"
        )
    if cut < days.min():
        raise InvalidInput(
            f"the calibration end {cut.date()} is before the first purchase {days.min().date()}"
        )
    return cut, last


def _summary(daily: pd.DataFrame, end: pd.Timestamp, unit: float) -> pd.DataFrame:
    groups = daily.groupby("customer", sort=True)
    first, last = groups["day"].min(), groups["day"].max()
    frequency = groups.size() - 1
    repeat_total = groups["amount"].sum() - groups["amount"].first()
    return pd.DataFrame(
        {
            "frequency": frequency.astype("float64"),
            "recency": (last - first).dt.days / unit,
            "T": (end - first).dt.days / unit,
            "monetary_value": (repeat_total / frequency.where(frequency > 0)).fillna(
                0.0
            ),
        }
    )


def summarise_transactions(
    frame: pd.DataFrame,
    *,
    customer: str,
    date: str,
    amount: str | None = None,
    calibration_end: date | None = None,
    observation_end: date | None = None,
    time_unit: str = "week",
) -> pd.DataFrame:
    """Summarise transactions into one row per customer.

    Parameters
    ----------
    frame : DataFrame
        One row per transaction.
    customer, date : str
        Columns holding the customer id and the purchase date (a date, a timestamp or
        text pandas can read as one; only the day counts).
    amount : str, optional
        Column holding the amount of each transaction (numbers >= 0).
    calibration_end : date, optional
        Last day of the calibration period. Customers whose first purchase is later
        are left out (they did not exist yet); later purchases are the holdout.
    observation_end : date, optional
        Last day observed (default: the last purchase); later purchases are ignored.
    time_unit : {"week", "day"}
        Unit of ``recency``, ``T`` and ``holdout_duration`` (exact days / 7 for weeks).

    Returns
    -------
    DataFrame
        Indexed by customer id: ``frequency`` (repeat purchase days), ``recency``,
        ``T``, ``monetary_value`` (mean amount of the repeat purchase days, 0 without
        one) and, with a calibration end, ``holdout_frequency`` and ``holdout_duration``.

    Raises
    ------
    InvalidInput
        For a missing column, an unreadable date or amount, a negative amount, or a
        calibration end outside the data.
    """
    unit = days_per_unit(time_unit)
    daily = _daily(frame, customer, date, amount)
    if daily.empty:
        raise InvalidInput("there are no transactions to summarise")
    cut, last = _period_ends(daily["day"], calibration_end, observation_end)
    daily = daily[daily["day"] <= last]
    summary = _summary(daily[daily["day"] <= cut], cut, unit)
    if calibration_end is not None:
        later = daily[daily["day"] > cut].groupby("customer").size()
        holdout = later.reindex(summary.index, fill_value=0)
        summary["holdout_frequency"] = holdout.astype("float64")
        summary["holdout_duration"] = (last - cut).days / unit
    summary.index.name = customer
    return summary


def monthly_discount_rate(annual_discount_rate: float) -> float:
    """The monthly rate that compounds to ``annual_discount_rate`` over twelve months."""
    if not 0 <= annual_discount_rate < 10:
        raise InvalidInput(
            f"the annual discount rate {annual_discount_rate} is not between 0 and 10"
        )
    return float((1 + annual_discount_rate) ** (1 / 12) - 1)


def customer_clv(
    summary: pd.DataFrame,
    bgnbd: BgNbdFit,
    spend: GammaGammaFit | None,
    *,
    horizon_months: int = 12,
    annual_discount_rate: float = 0.10,
    time_unit: str = "week",
) -> pd.DataFrame:
    """A discounted customer lifetime value for every customer in ``summary``.

    As lifetimes' ``customer_lifetime_value``: for each month ``i`` of the horizon,
    the purchases expected in that month (the difference of the cumulative
    conditional expectations) times the expected spend, divided by ``(1 + d)^i``
    where ``d`` is the monthly rate equivalent to ``annual_discount_rate``.

    Parameters
    ----------
    summary : DataFrame
        Output of :func:`summarise_transactions` (``frequency``, ``recency``, ``T``
        and, for spend, ``monetary_value``), in the unit of the BG/NBD fit.
    bgnbd : BgNbdFit
        Purchase model fitted on the same time unit.
    spend : GammaGammaFit, optional
        Spend model; without it ``expected_spend`` and ``clv`` are NaN.
    horizon_months : int
        Months ahead (a month is 365.25 / 12 days).
    annual_discount_rate : float
        Yearly discount rate of future cash flows.
    time_unit : {"week", "day"}
        Unit of ``recency`` and ``T``.

    Returns
    -------
    DataFrame
        Same index: ``p_alive``, ``expected_purchases`` (in the horizon),
        ``expected_spend`` (per purchase) and ``clv``.
    """
    if horizon_months < 1:
        raise InvalidInput(
            f"the horizon must be at least one month, not {horizon_months}"
        )
    month = DAYS_PER_MONTH / days_per_unit(time_unit)
    rate = monthly_discount_rate(annual_discount_rate)
    history = (summary["frequency"], summary["recency"], summary["T"])
    months = np.arange(horizon_months + 1)
    cumulative = np.stack(
        [bgnbd.expected_purchases(month * i, *history) for i in months]
    )
    in_month = np.diff(cumulative, axis=0)
    discounted = (in_month / (1 + rate) ** months[1:, None]).sum(axis=0)
    expected_spend = (
        spend.expected_spend(summary["frequency"], summary["monetary_value"])
        if spend is not None
        else np.full(len(summary), np.nan)
    )
    return pd.DataFrame(
        {
            "p_alive": bgnbd.p_alive(*history),
            "expected_purchases": cumulative[-1],
            "expected_spend": expected_spend,
            "clv": discounted * expected_spend,
        },
        index=summary.index,
    )
