"""The customer value pyramid: tier cuts, ties and the per-tier summary."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest

from cxloop.analytics import value_tiers as vt
from cxloop.analytics.value_tiers import TIER_NAMES, tier_summary, value_tiers
from cxloop.domain.errors import InvalidInput


def _thousand() -> pd.Series:
    values = np.random.default_rng(7).permutation(np.arange(1, 1001, dtype=float))
    return pd.Series(values, index=[f"c{i:04d}" for i in range(1000)])


def test_value_tiers_on_1000_distinct_values_take_1_4_15_80_percent() -> None:
    values = _thousand()
    tiers = value_tiers(values)
    assert tiers.value_counts().to_dict() == {
        "low": 800,
        "medium": 150,
        "high": 40,
        "top": 10,
    }
    assert tiers.index.equals(values.index)
    assert set(values[tiers == "top"]) == set(range(991, 1001))
    assert set(values[tiers == "high"]) == set(range(951, 991))
    assert values[tiers == "medium"].min() == 801


def test_value_tiers_tie_at_a_cut_goes_to_the_higher_tier() -> None:
    values = pd.Series(np.arange(1000, 0, -1, dtype=float))
    values.iloc[10] = values.iloc[9]  # the 10th and 11th best are equal
    tiers = value_tiers(values)
    assert tiers.iloc[:11].eq("top").all()
    assert tiers.value_counts()["top"] == 11
    assert tiers.value_counts()["high"] == 39


def test_value_tiers_with_custom_cuts() -> None:
    tiers = value_tiers(_thousand(), cuts=(0.1, 0.5))
    assert tiers.value_counts().to_dict() == {"low": 500, "high": 400, "top": 100}


@pytest.mark.parametrize(
    ("cuts", "message"),
    [
        ((0.05, 0.01, 0.2), "must increase"),
        ((0.0, 0.5), "between 0 and 1"),
        ((0.5, 1.0), "between 0 and 1"),
        ((), "1 to 3 cut points"),
        ((0.1, 0.2, 0.3, 0.4), "1 to 3 cut points"),
    ],
)
def test_value_tiers_refuse_bad_cuts(cuts: tuple[float, ...], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        value_tiers(_thousand(), cuts=cuts)


def test_value_tiers_refuse_missing_values() -> None:
    values = pd.Series([1.0, None, 3.0], index=["a", "b", "c"])
    with pytest.raises(InvalidInput, match="customer 'b'"):
        value_tiers(values)


def test_tier_summary_counts_customers_and_value_per_tier() -> None:
    values = pd.Series([100.0, 50.0, 30.0, 10.0, 10.0])
    tiers = pd.Series(["top", "high", "high", "low", "low"])
    summary = tier_summary(values, tiers)
    assert summary.index.tolist() == ["top", "high", "medium", "low"]
    assert summary["customers"].tolist() == [1, 2, 0, 2]
    assert summary["customer_share"].tolist() == [0.2, 0.4, 0.0, 0.4]
    assert summary["value"].tolist() == [100.0, 80.0, 0.0, 20.0]
    assert summary["value_share"].round(3).tolist() == [0.5, 0.4, 0.0, 0.1]


def test_tier_summary_refuses_unknown_tier() -> None:
    with pytest.raises(InvalidInput, match="gold"):
        tier_summary(pd.Series([1.0]), pd.Series(["gold"]))


def test_tier_names_exist_in_both_languages() -> None:
    assert set(TIER_NAMES) == {"top", "high", "medium", "low"}
    assert vt.tier_name("high", "en") == "High value"
    assert vt.tier_name("low", "zh-TW") == "一般顧客"
    assert doctest.testmod(vt).failed == 0
