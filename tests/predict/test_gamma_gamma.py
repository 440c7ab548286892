"""Gamma-Gamma: Fader & Hardie's CDNOW spend fit, the gradient, lifetimes' spend."""

from __future__ import annotations

import warnings
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from cxloop.domain.errors import InvalidInput
from cxloop.predict.gamma_gamma import GammaGammaFit, _log_likelihood, fit_gamma_gamma


def _lifetimes() -> ModuleType:
    """lifetimes 0.11.3 sets a pandas option deprecated in pandas 3 when imported."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import lifetimes
    return lifetimes


@pytest.fixture(scope="module")
def spends(shared_data: Path) -> pd.DataFrame:
    """CDNOW calibration summary with ``zbar``, the mean repeat spend (USD)."""
    path = shared_data / "cdnow" / "cdnow_customers_summary_with_transactions.csv"
    return pd.read_csv(path)


@pytest.fixture(scope="module")
def fitted(spends: pd.DataFrame) -> GammaGammaFit:
    return fit_gamma_gamma(spends["x"], spends["zbar"])


def test_fit_reproduces_fader_hardie_note_on_cdnow(fitted: GammaGammaFit) -> None:
    # Fader & Hardie, "The Gamma-Gamma model of monetary value" (2013): p 6.25,
    # q 3.74, gamma 15.44 on the 946 customers with a repeat purchase. The maximum of
    # the likelihood on the two-decimal file is at v 15.4477, within 0.01 of it.
    assert round(fitted.p, 2) == 6.25
    assert round(fitted.q, 2) == 3.74
    assert fitted.v == pytest.approx(15.44, abs=0.01)
    assert fitted.n_customers == 946
    assert fitted.log_likelihood == pytest.approx(-4055.92, abs=0.01)


def test_fit_matches_lifetimes_parameters_and_expected_spend(
    spends: pd.DataFrame, fitted: GammaGammaFit
) -> None:
    repeat = spends[spends["x"] > 0]
    peer = _lifetimes().GammaGammaFitter().fit(repeat["x"], repeat["zbar"])
    for name in ("p", "q", "v"):
        assert getattr(fitted, name) == pytest.approx(peer.params_[name], rel=1e-4)
    theirs = peer.conditional_expected_average_profit(spends["x"], spends["zbar"])
    ours = fitted.expected_spend(spends["x"], spends["zbar"])
    np.testing.assert_allclose(ours, theirs, rtol=0.01)


def test_expected_spend_without_repeat_purchase_is_the_population_mean(
    fitted: GammaGammaFit,
) -> None:
    population = fitted.p * fitted.v / (fitted.q - 1)
    spend = fitted.expected_spend([0, 0, 50], [0.0, 99.0, 20.0])
    assert spend[:2] == pytest.approx([population, population])
    assert 20.0 < spend[2] < population


def test_gradient_matches_finite_differences(spends: pd.DataFrame) -> None:
    repeat = spends[spends["x"] > 0]
    x, m = repeat["x"].to_numpy(np.float64), repeat["zbar"].to_numpy(np.float64)
    params = np.array([3.0, 2.0, 30.0])
    numeric = optimize.approx_fprime(
        params, lambda p: _log_likelihood(p, x, m)[0], 1e-7
    )
    np.testing.assert_allclose(_log_likelihood(params, x, m)[1], numeric, rtol=1e-4)


def test_fit_is_the_same_in_cents_up_to_the_scale(spends: pd.DataFrame) -> None:
    dollars = fit_gamma_gamma(spends["x"], spends["zbar"])
    cents = fit_gamma_gamma(spends["x"], spends["zbar"] * 100)
    assert cents.p == pytest.approx(dollars.p, rel=1e-5)
    assert cents.q == pytest.approx(dollars.q, rel=1e-5)
    assert cents.v == pytest.approx(dollars.v * 100, rel=1e-5)


def test_fit_refuses_free_repeat_purchases_unless_told_to_skip(
    spends: pd.DataFrame,
) -> None:
    zbar = spends["zbar"].to_numpy(copy=True)
    zbar[np.flatnonzero(spends["x"] > 0)[:3]] = 0.0
    with pytest.raises(InvalidInput, match="3 customers with repeat purchases"):
        fit_gamma_gamma(spends["x"], zbar)
    skipped = fit_gamma_gamma(spends["x"], zbar, skip_zero_spend=True)
    assert skipped.n_customers == 946 - 3


def test_fit_refuses_too_few_repeat_customers() -> None:
    with pytest.raises(InvalidInput, match="at least two customers"):
        fit_gamma_gamma([0, 0, 3], [0.0, 0.0, 10.0])
