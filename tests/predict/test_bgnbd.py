"""BG/NBD: the published CDNOW fit, the analytic gradient, lifetimes' predictions."""

from __future__ import annotations

import warnings
from datetime import date
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from cxloop.domain.errors import InvalidInput
from cxloop.predict._bgnbd_likelihood import Histories, hessian, value_and_gradient
from cxloop.predict.bgnbd import BgNbdFit, ConvergenceError, fit_bgnbd, sample_bgnbd
from cxloop.predict.clv import summarise_transactions


def _lifetimes() -> ModuleType:
    """lifetimes 0.11.3 sets a pandas option deprecated in pandas 3 when imported."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import lifetimes
    return lifetimes


@pytest.fixture(scope="module")
def cdnow(shared_data: Path) -> pd.DataFrame:
    """Fader & Hardie's CDNOW calibration summary (weeks, two decimals)."""
    return pd.read_csv(shared_data / "cdnow" / "cdnow_customers_summary.csv")


@pytest.fixture(scope="module")
def fitted(cdnow: pd.DataFrame) -> BgNbdFit:
    return fit_bgnbd(cdnow["frequency"], cdnow["recency"], cdnow["T"])


def _history(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Series]:
    return frame["frequency"], frame["recency"], frame["T"]


def test_fit_reproduces_published_parameters_on_cdnow_summary(
    fitted: BgNbdFit,
) -> None:
    # Fader, Hardie & Lee (2005), section 5: r 0.243, alpha 4.414, a 0.793, b 2.426.
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    assert {name: round(getattr(fitted, name), 3) for name in published} == published
    assert round(fitted.log_likelihood, 2) == -9582.43
    assert fitted.n_customers == 2357


@pytest.mark.parametrize("point", [[0.5, 2.0, 1.5, 3.0], [0.1, 9.0, 0.3, 0.9]])
def test_gradient_and_hessian_match_finite_differences(
    cdnow: pd.DataFrame, point: list[float]
) -> None:
    data = Histories.collapse(
        *(column.to_numpy(np.float64) for column in _history(cdnow)),
        np.ones(len(cdnow)),
    )
    params = np.array(point)
    value, gradient = value_and_gradient(params, data)
    numeric = optimize.approx_fprime(
        params, lambda p: value_and_gradient(p, data)[0], 1e-7
    )
    np.testing.assert_allclose(gradient, numeric, rtol=1e-4, atol=1e-2)
    numeric_hessian = optimize.approx_fprime(
        params, lambda p: value_and_gradient(p, data)[1], 1e-7
    )
    np.testing.assert_allclose(
        hessian(params, data), numeric_hessian, rtol=1e-4, atol=1e-1
    )
    assert value < 0


def test_weights_give_the_same_fit_as_repeated_rows(cdnow: pd.DataFrame) -> None:
    head = cdnow.head(400)
    weights = np.arange(len(head)) % 3 + 1
    repeated = head.loc[head.index.repeat(weights)]
    by_weight = fit_bgnbd(*_history(head), weights=weights)
    by_row = fit_bgnbd(*_history(repeated))
    assert by_weight.n_customers == len(repeated) == by_row.n_customers
    for name in ("r", "alpha", "a", "b", "log_likelihood"):
        assert getattr(by_weight, name) == pytest.approx(
            getattr(by_row, name), rel=1e-6
        )


def test_predictions_match_lifetimes_within_one_percent_on_cdnow(
    cdnow: pd.DataFrame, fitted: BgNbdFit
) -> None:
    peer = _lifetimes().BetaGeoFitter().fit(*_history(cdnow))
    for name in ("r", "alpha", "a", "b"):
        assert getattr(fitted, name) == pytest.approx(peer.params_[name], rel=1e-4)
    for horizon in (1.0, 39.0, 78.0):
        theirs = peer.conditional_expected_number_of_purchases_up_to_time(
            horizon, *_history(cdnow)
        )
        ours = fitted.expected_purchases(horizon, *_history(cdnow))
        np.testing.assert_allclose(ours, theirs, rtol=0.01)
    alive = peer.conditional_probability_alive(*_history(cdnow))
    np.testing.assert_allclose(fitted.p_alive(*_history(cdnow)), alive, rtol=0.01)
    weeks = np.array([1.0, 39.0, 78.0])
    new = peer.expected_number_of_purchases_up_to_time(weeks)
    np.testing.assert_allclose(fitted.expected_purchases_new(weeks), new, rtol=0.01)


def test_expected_purchases_new_returns_a_float_for_a_scalar(fitted: BgNbdFit) -> None:
    value = fitted.expected_purchases_new(39.0)
    assert isinstance(value, float)
    assert 1.0 < value < 1.5


def test_p_alive_is_one_without_repeat_purchases_and_falls_with_silence(
    fitted: BgNbdFit,
) -> None:
    alive = fitted.p_alive([0, 5, 5], [0.0, 38.0, 5.0], [39.0, 39.0, 39.0])
    assert alive[0] == 1.0
    assert alive[1] > 0.8 > 0.1 > alive[2]


def test_expected_purchases_of_heavy_buyers_match_lifetimes(
    cdnow: pd.DataFrame, fitted: BgNbdFit
) -> None:
    peer = _lifetimes().BetaGeoFitter().fit(*_history(cdnow))
    history = (
        np.array([40, 300, 1500]),
        np.array([30.0, 38.0, 39.0]),
        np.full(3, 39.0),
    )
    theirs = peer.conditional_expected_number_of_purchases_up_to_time(52.0, *history)
    ours = fitted.expected_purchases(52.0, *history)
    assert np.isfinite(ours).all()
    assert ours[2] > ours[1] > 10
    np.testing.assert_allclose(ours, theirs, rtol=0.01)


def test_fit_recovers_generating_parameters_on_a_sampled_population() -> None:
    rng = np.random.default_rng(2005)
    ages = (273 - rng.integers(0, 91, size=60_000)) / 7
    truth = (0.243, 4.414, 0.793, 2.426)
    frequency, recency = sample_bgnbd(ages, truth, rng=rng)
    fit = fit_bgnbd(frequency, recency, ages)
    estimate = (fit.r, fit.alpha, fit.a, fit.b)
    np.testing.assert_allclose(estimate, truth, rtol=0.15)


@pytest.mark.parametrize(
    ("frequency", "recency", "T", "problem"),
    [
        ([1, 2], [3.0], [5.0, 5.0], "different lengths"),
        ([], [], [], "or none"),
        ([1, -1], [3.0, 0.0], [5.0, 5.0], "whole number"),
        ([1.5, 2], [3.0, 4.0], [5.0, 5.0], "whole number"),
        ([1, 2], [6.0, 4.0], [5.0, 5.0], "above T"),
        ([0, 2], [1.0, 4.0], [5.0, 5.0], "no repeat purchase"),
        ([0, 0], [0.0, 0.0], [5.0, 5.0], "BG/NBD cannot be fitted"),
        ([1, np.nan], [1.0, 0.0], [5.0, 5.0], "missing"),
    ],
)
def test_fit_refuses_inconsistent_summaries(
    frequency: list[float], recency: list[float], T: list[float], problem: str
) -> None:
    with pytest.raises(InvalidInput, match=problem):
        fit_bgnbd(frequency, recency, T)


def test_fit_without_an_interior_maximum_raises_convergence_error() -> None:
    # Every customer bought right up to the end: nothing tells when they drop out.
    with pytest.raises(ConvergenceError, match="found no maximum"):
        fit_bgnbd([3, 2, 4], [5.0, 5.0, 5.0], [5.0, 5.0, 5.0])


@pytest.mark.parametrize("seed", [5, 42])
def test_fit_finds_the_interior_maximum_when_newton_runs_onto_the_ridge(
    seed: int,
) -> None:
    # Few demo customers drop out: Newton from the origin heads for a, b -> infinity,
    # while a better maximum lies inside (found from the origin by L-BFGS-B).
    from cxloop.demo.generator import generate

    sales = generate(seed=seed, size="small").transactions
    bought = sales[sales["kind"] == "purchase"].copy()
    bought["day"] = pd.to_datetime(bought["occurred_at"]).dt.normalize()
    summary = summarise_transactions(
        bought, customer="customer_id", date="day", observation_end=date(2026, 10, 31)
    )
    fit = fit_bgnbd(summary["frequency"], summary["recency"], summary["T"])
    assert fit.a < 10
    assert fit.b < 100
    on_ridge = np.array([fit.r, fit.alpha, np.exp(12.0), np.exp(12.0) * fit.b / fit.a])
    data = Histories.collapse(
        *(summary[c].to_numpy(np.float64) for c in ("frequency", "recency", "T")),
        np.ones(len(summary)),
    )
    assert fit.log_likelihood > value_and_gradient(on_ridge, data)[0]
