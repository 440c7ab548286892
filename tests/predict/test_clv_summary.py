"""Transaction summaries and discounted CLV, against CDNOW and lifetimes."""

from __future__ import annotations

import warnings
from datetime import date
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

from cxloop.domain.errors import InvalidInput
from cxloop.predict.bgnbd import fit_bgnbd
from cxloop.predict.clv import customer_clv, summarise_transactions
from cxloop.predict.gamma_gamma import fit_gamma_gamma

CALIBRATION_END = date(1997, 9, 30)


def _lifetimes_utils() -> ModuleType:
    """lifetimes 0.11.3 sets a pandas option deprecated in pandas 3 when imported."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import lifetimes.utils
    return lifetimes.utils


@pytest.fixture(scope="module")
def transactions(shared_data: Path) -> pd.DataFrame:
    path = shared_data / "cdnow" / "CDNOW_sample.csv"
    return pd.read_csv(path, dtype={"customer_id": str, "master_customer_id": str})


@pytest.fixture(scope="module")
def summary(transactions: pd.DataFrame) -> pd.DataFrame:
    return summarise_transactions(
        transactions,
        customer="customer_id",
        date="date",
        amount="dollar_value",
        calibration_end=CALIBRATION_END,
    )


def test_summary_of_cdnow_sample_matches_the_published_summary(
    summary: pd.DataFrame, shared_data: Path
) -> None:
    path = shared_data / "cdnow" / "cdnow_customers_summary_with_transactions.csv"
    published = pd.read_csv(path)
    assert len(summary) == len(published) == 2357
    assert (summary["frequency"].to_numpy() == published["x"].to_numpy()).all()
    for ours, theirs in (("recency", "t_x"), ("T", "T"), ("monetary_value", "zbar")):
        np.testing.assert_allclose(summary[ours], published[theirs], atol=0.0051)


def test_summary_matches_lifetimes_calibration_and_holdout_data(
    transactions: pd.DataFrame, summary: pd.DataFrame
) -> None:
    theirs = (
        _lifetimes_utils()
        .calibration_and_holdout_data(
            transactions,
            "customer_id",
            "date",
            calibration_period_end="1997-09-30",
            freq="D",
            freq_multiplier=7,
            monetary_value_col="dollar_value",
        )
        .reindex(summary.index)
    )
    pairs = {
        "frequency": "frequency_cal",
        "recency": "recency_cal",
        "T": "T_cal",
        "monetary_value": "monetary_value_cal",
        "holdout_frequency": "frequency_holdout",
        "holdout_duration": "duration_holdout",
    }
    for ours, column in pairs.items():
        np.testing.assert_allclose(summary[ours], theirs[column], rtol=1e-12)
    assert summary["holdout_frequency"].sum() == 1882


def test_same_day_purchases_count_once_and_their_amounts_add_up() -> None:
    frame = pd.DataFrame(
        {
            "who": ["a", "a", "a", "a", "b"],
            "when": [
                "2024-01-01",
                "2024-01-08 09:00",
                "2024-01-08 17:30",
                "2024-01-15",
                "2024-01-10",
            ],
            "paid": [10.0, 5.0, 7.0, 30.0, 4.0],
        }
    )
    summary = summarise_transactions(frame, customer="who", date="when", amount="paid")
    assert summary.loc["a"].to_dict() == {
        "frequency": 2.0,
        "recency": 2.0,
        "T": 2.0,
        "monetary_value": 21.0,
    }
    assert summary.loc["b"].to_dict() == {
        "frequency": 0.0,
        "recency": 0.0,
        "T": 5 / 7,
        "monetary_value": 0.0,
    }


def test_calibration_leaves_out_later_customers_and_observation_end_cuts() -> None:
    frame = pd.DataFrame(
        {
            "who": [1, 1, 1, 2, 1],
            "when": pd.to_datetime(
                ["2024-01-01", "2024-01-03", "2024-01-06", "2024-01-05", "2024-02-01"]
            ),
        }
    )
    summary = summarise_transactions(
        frame,
        customer="who",
        date="when",
        calibration_end=date(2024, 1, 4),
        observation_end=date(2024, 1, 10),
        time_unit="day",
    )
    assert list(summary.index) == [1]
    assert summary.loc[1].to_dict() == {
        "frequency": 1.0,
        "recency": 2.0,
        "T": 3.0,
        "monetary_value": 0.0,
        "holdout_frequency": 1.0,
        "holdout_duration": 6.0,
    }


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"when": "not a day"}, r"row 1, column 'when': 'not a day' is not a date"),
        ({"paid": -3.0}, r"row 1, column 'paid': -3.0 is negative"),
        ({"paid": "lots"}, r"row 1, column 'paid': 'lots' is not a number"),
        ({"who": None}, r"row 1, column 'who': None is not a customer id"),
    ],
)
def test_summary_refuses_bad_cells_naming_row_and_column(
    change: dict[str, object], problem: str
) -> None:
    frame = pd.DataFrame(
        {"who": ["a", "a"], "when": ["2024-01-01", "2024-01-02"], "paid": [1.0, 2.0]},
        dtype=object,
    )
    for column, value in change.items():
        frame.loc[1, column] = value
    with pytest.raises(InvalidInput, match=problem):
        summarise_transactions(frame, customer="who", date="when", amount="paid")


def test_summary_refuses_unknown_column_and_unit() -> None:
    frame = pd.DataFrame({"who": ["a"], "when": ["2024-01-01"]})
    with pytest.raises(InvalidInput, match=r"no column 'date'.*columns: who, when"):
        summarise_transactions(frame, customer="who", date="date")
    with pytest.raises(InvalidInput, match="unknown time unit 'month'"):
        summarise_transactions(frame, customer="who", date="when", time_unit="month")


def test_customer_clv_matches_lifetimes_within_one_percent(
    summary: pd.DataFrame,
) -> None:
    bgnbd = fit_bgnbd(summary["frequency"], summary["recency"], summary["T"])
    spend = fit_gamma_gamma(summary["frequency"], summary["monetary_value"])
    ours = customer_clv(
        summary, bgnbd, spend, horizon_months=12, annual_discount_rate=0.10
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from lifetimes import BetaGeoFitter, GammaGammaFitter
    history = (summary["frequency"], summary["recency"], summary["T"])
    bgf = BetaGeoFitter().fit(*history)
    repeat = summary[summary["frequency"] > 0]
    ggf = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    theirs = ggf.customer_lifetime_value(
        bgf,
        *history,
        summary["monetary_value"],
        time=12,
        discount_rate=1.10 ** (1 / 12) - 1,
        freq="W",
    )
    np.testing.assert_allclose(ours["clv"], theirs, rtol=0.01)
    expected = bgf.conditional_expected_number_of_purchases_up_to_time(
        365.25 / 7, *history
    )
    np.testing.assert_allclose(ours["expected_purchases"], expected, rtol=0.01)


def test_customer_clv_without_spend_model_leaves_value_empty(
    summary: pd.DataFrame,
) -> None:
    bgnbd = fit_bgnbd(summary["frequency"], summary["recency"], summary["T"])
    scores = customer_clv(summary, bgnbd, None, horizon_months=3)
    assert list(scores.columns) == [
        "p_alive",
        "expected_purchases",
        "expected_spend",
        "clv",
    ]
    assert scores["clv"].isna().all()
    assert scores["p_alive"].between(0, 1).all()
    assert (scores["expected_purchases"] > 0).all()


def test_customer_clv_falls_with_a_higher_discount_rate(summary: pd.DataFrame) -> None:
    bgnbd = fit_bgnbd(summary["frequency"], summary["recency"], summary["T"])
    spend = fit_gamma_gamma(summary["frequency"], summary["monetary_value"])
    low = customer_clv(summary, bgnbd, spend, annual_discount_rate=0.0)["clv"]
    high = customer_clv(summary, bgnbd, spend, annual_discount_rate=0.5)["clv"]
    assert (high < low).all()
    undiscounted = low.to_numpy()
    spend_each = spend.expected_spend(summary["frequency"], summary["monetary_value"])
    purchases = bgnbd.expected_purchases(
        365.25 / 7, *(summary[c] for c in ("frequency", "recency", "T"))
    )
    np.testing.assert_allclose(undiscounted, spend_each * purchases, rtol=1e-9)
