"""Peak-end moments and one-predictor fits on hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from cxloop.domain import peak_end as pe
from cxloop.domain.errors import InvalidInput

NAN = float("nan")


def test_moments_of_two_journeys_by_hand() -> None:
    journey = np.array([7, 3, 7, 3, 7])
    score = np.array([0.9, 0.5, 0.1, 1.0, 0.8])  # journey 7: 0.9, 0.1, 0.8; 3: 0.5, 1.0
    moments = pe.journey_moments(journey, score)
    # typical score 0.66: journey 3 peaks at 1.0 (0.34 away), journey 7 at 0.1 (0.56)
    assert moments.journey.tolist() == [3, 7]
    assert moments.peak.tolist() == [1.0, 0.1]
    assert moments.end.tolist() == [1.0, 0.8]
    assert moments.average == pytest.approx([0.75, 0.6])
    assert moments.peak_end == pytest.approx([1.0, 0.45])
    assert moments.peak_index.tolist() == [3, 2]
    assert moments.end_index.tolist() == [3, 4]
    assert moments.touchpoints.tolist() == [2, 3]


def test_peak_tie_goes_to_the_lower_score_then_the_later() -> None:
    moments = pe.journey_moments(
        np.array([1, 1, 1, 2, 2]), np.array([0.9, 0.1, 0.5, 0.2, 0.2]), reference=0.5
    )
    assert moments.peak.tolist() == [0.1, 0.2]
    assert moments.peak_index.tolist() == [1, 4]


def test_touchpoint_scores_average_the_normalised_answers() -> None:
    scores = pe.touchpoint_scores(
        np.array([10.0, 6.0, NAN, NAN]),
        np.array([5.0, NAN, 2.0, NAN]),
        np.array([NAN, 1.0, 7.0, NAN]),
    )
    assert scores[:3] == pytest.approx([1.0, (0.6 + 1.0) / 2, (0.25 + 0.0) / 2])
    assert np.isnan(scores[3])


def test_line_fit_matches_the_textbook_formulas() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    y = np.array([2.0, 4.0, 5.0, 4.0, 5.0])
    fit = pe.line_fit(x, y)
    # slope = Sxy / Sxx = 6 / 10; SSE = 2.4; se = sqrt(2.4 / 3 / 10)
    assert fit.slope == pytest.approx(0.6)
    assert fit.intercept == pytest.approx(2.2)
    assert fit.r2 == pytest.approx(1.0 - 2.4 / 6.0)
    se = np.sqrt(2.4 / 3 / 10)
    assert fit.se == pytest.approx(se)
    t = stats.t.ppf(0.975, 3)
    assert (fit.low, fit.high) == pytest.approx((0.6 - t * se, 0.6 + t * se))
    reference = stats.linregress(x, y)
    assert fit.slope == pytest.approx(reference.slope)
    assert fit.r2 == pytest.approx(reference.rvalue**2)


def test_compare_predictors_prefers_the_one_that_made_the_score() -> None:
    rng = np.random.default_rng(4)
    journey = np.repeat(np.arange(400), 4)
    score = rng.uniform(0, 1, journey.size)
    moments = pe.journey_moments(journey, score)
    overall = 10 * moments.peak_end + rng.normal(0, 0.5, 400)
    fits = pe.compare_predictors(moments, overall)
    assert max(fits, key=lambda name: fits[name].r2) == "peak_end"
    low, high = fits["peak_end"].low, fits["peak_end"].high
    assert low < 10 < high
    gain, gain_low, gain_high = pe.r2_gain(moments.peak_end, moments.average, overall)
    assert gain == pytest.approx(fits["peak_end"].r2 - fits["average"].r2)
    assert 0 < gain_low < gain < gain_high


def test_normalised_turns_effort_around() -> None:
    assert pe.normalised("ces", np.array([1.0, 4.0, 7.0])).tolist() == [1.0, 0.5, 0.0]
    assert pe.normalised("csat", np.array([1.0, 5.0])).tolist() == [0.0, 1.0]
    with pytest.raises(InvalidInput, match="not a scored metric"):
        pe.normalised("text", np.array([1.0]))


def test_a_flat_predictor_cannot_fit_a_line() -> None:
    with pytest.raises(InvalidInput, match="must both vary"):
        pe.line_fit(np.ones(5), np.arange(5.0))
