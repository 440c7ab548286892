"""Every statistic of experiments and checks against a published or hand-computed value."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from cxloop.domain import metrics
from cxloop.domain.errors import InvalidInput
from cxloop.domain.experiments import (
    GroupStat,
    before_after,
    difference_in_differences,
    difference_of_changes,
    nps_difference,
    nps_difference_from_counts,
    responses_needed,
    sample_size_means,
    sample_size_nps,
    sample_size_proportions,
    sequential_boundaries,
    sequential_decision,
    two_proportion_test,
    welch_test,
    welch_test_samples,
)


def test_two_proportion_matches_agresti_physicians_health_study() -> None:
    # Agresti, Categorical Data Analysis, Table 2.3: placebo 189/11034, aspirin 104/11037
    # heart attacks; difference 0.0077 with 95 % CI (0.005, 0.011); Pearson X² = 25.01.
    r = two_proportion_test(189, 11034, 104, 11037)
    assert r.estimate == pytest.approx(-0.0077, abs=5e-5)
    assert (round(-r.ci_high, 3), round(-r.ci_low, 3)) == (0.005, 0.011)
    assert r.statistic**2 == pytest.approx(25.01, abs=0.01)
    assert r.verdict(target_direction=-1) == "improved"


def test_two_proportion_pvalue_equals_pearson_chi_square() -> None:
    table = [[40, 360], [58, 342]]
    chi2, p, _, _ = stats.chi2_contingency(table, correction=False)
    r = two_proportion_test(40, 400, 58, 400)
    assert r.p_value == pytest.approx(p, rel=1e-9)
    assert r.statistic**2 == pytest.approx(chi2, rel=1e-9)


def test_two_proportion_rejects_impossible_counts() -> None:
    with pytest.raises(InvalidInput, match="arm b"):
        two_proportion_test(3, 10, 12, 10)


def test_welch_matches_scipy_on_raw_arrays() -> None:
    rng = np.random.default_rng(7)
    a, b = rng.normal(5.0, 1.0, 30), rng.normal(5.6, 2.5, 45)
    ours = welch_test_samples(a, b)
    ref = stats.ttest_ind(b, a, equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert ours.statistic == pytest.approx(ref.statistic, rel=1e-10)
    assert ours.p_value == pytest.approx(ref.pvalue, rel=1e-10)
    assert (ours.ci_low, ours.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-10)


def test_welch_summary_statistics_hand_computed() -> None:
    # se² = 4/10 + 9/20 = 0.85; df = 0.85² / (0.4²/9 + 0.45²/19) = 26.65...
    r = welch_test(10.0, 4.0, 10, 11.0, 9.0, 20)
    assert r.se == pytest.approx(math.sqrt(0.85))
    df = 0.85**2 / (0.4**2 / 9 + 0.45**2 / 19)
    assert r.p_value == pytest.approx(2 * stats.t.sf(1 / math.sqrt(0.85), df))


def test_nps_difference_pvalue_matches_metric_compare() -> None:
    a = [10] * 40 + [8] * 30 + [3] * 30
    b = [10] * 50 + [8] * 30 + [3] * 20
    r = nps_difference(a, b)
    change = metrics.compare(metrics.nps(b), metrics.nps(a))
    assert r.estimate == pytest.approx(20.0)
    assert r.p_value == pytest.approx(change.p_value)
    assert r.ci_low < 20.0 < r.ci_high
    assert r.ci_high - r.ci_low == pytest.approx(2 * 1.96 * r.se, rel=0.1)


def test_nps_bootstrap_is_reproducible_with_seed() -> None:
    args = ((30, 40, 30), (45, 30, 25))
    assert nps_difference_from_counts(*args, seed=3) == nps_difference_from_counts(
        *args, seed=3
    )


def test_nps_bootstrap_interval_covers_true_difference_by_simulation() -> None:
    rng = np.random.default_rng(2024)
    share_a, share_b = (0.35, 0.40, 0.25), (0.45, 0.35, 0.20)
    truth = 100 * ((0.45 - 0.20) - (0.35 - 0.25))
    covered = 0
    for i in range(200):
        ca = tuple(int(x) for x in rng.multinomial(200, share_a))
        cb = tuple(int(x) for x in rng.multinomial(200, share_b))
        r = nps_difference_from_counts(ca, cb, resamples=1000, seed=i)  # type: ignore[arg-type]
        covered += r.ci_low <= truth <= r.ci_high
    assert 0.90 <= covered / 200 <= 0.99


def test_nps_difference_rejects_out_of_range_scores() -> None:
    with pytest.raises(InvalidInput, match="0-10"):
        nps_difference([1, 11], [5, 6])


def test_did_card_krueger_minimum_wage_table_3() -> None:
    r = difference_in_differences(
        GroupStat(20.44, 0.51, 321),
        GroupStat(21.03, 0.52, 319),
        GroupStat(23.33, 1.35, 78),
        GroupStat(21.17, 0.94, 77),
    )
    assert r.estimate == pytest.approx(
        2.76, abs=0.015
    )  # published 2.76 from unrounded means
    assert r.se == pytest.approx(math.sqrt(0.51**2 + 0.52**2 + 1.35**2 + 0.94**2))
    panel = difference_of_changes(
        GroupStat(0.59, 0.54, 321), GroupStat(-2.16, 1.25, 78)
    )
    assert (round(panel.estimate, 2), round(panel.se, 2)) == (2.75, 1.36)
    assert panel.significant
    assert panel.verdict() == "improved"


def test_before_after_no_detectable_change_when_interval_spans_zero() -> None:
    r = before_after(GroupStat(30.0, 3.0, 300), GroupStat(33.0, 3.0, 300))
    assert r.ci_low < 0 < r.ci_high
    assert r.verdict() == "no_detectable_change"
    assert (
        before_after(GroupStat(30.0, 1.0, 900), GroupStat(24.0, 1.0, 900)).verdict()
        == "worse"
    )


def test_sample_size_proportions_ten_to_twelve_percent() -> None:
    # Fleiss pooled formula by hand: p̄ = .11 -> (1.95996·sqrt(.1958) + .84162·sqrt(.1956))²/.02²
    by_hand = (
        1.959964 * math.sqrt(0.1958) + 0.841621 * math.sqrt(0.1956)
    ) ** 2 / 0.0004
    assert math.ceil(by_hand) == 3841
    assert sample_size_proportions(0.10, 0.02) == 3841


def test_sample_size_means_half_sd_effect() -> None:
    assert sample_size_means(1.0, 0.5) == 63  # 2·(1.96 + 0.84)²/0.25 = 62.8


def test_sample_size_nps_uses_score_variance() -> None:
    shares = (0.40, 0.30, 0.30)  # v = 0.7 − 0.01 = 0.69
    expected = math.ceil(2 * (1.959964 + 0.841621) ** 2 * 0.69 / 0.05**2)
    assert sample_size_nps(shares, 5.0) == expected


def test_responses_needed_from_current_standard_error() -> None:
    # se 2 on 400 answers; a 5-point effect needs se <= 5/2.8016 -> 502.3 answers in all
    assert responses_needed(2.0, 400, 5.0) == 103
    assert responses_needed(1.0, 400, 5.0) == 0


def test_obrien_fleming_boundaries_five_looks_match_ldbounds() -> None:
    expected = [4.8769, 3.3570, 2.6803, 2.2898, 2.0310]
    assert sequential_boundaries(5) == pytest.approx(expected, abs=2e-4)
    assert sequential_boundaries(1) == pytest.approx([1.959964], abs=1e-6)


def test_sequential_boundaries_keep_overall_alpha_by_simulation() -> None:
    bounds = np.array(sequential_boundaries(4))
    rng = np.random.default_rng(1)
    steps = rng.normal(0.0, math.sqrt(0.25), size=(200_000, 4)).cumsum(axis=1)
    z = steps / np.sqrt(np.array([0.25, 0.5, 0.75, 1.0]))
    rejected = (np.abs(z) >= bounds).any(axis=1).mean()
    assert rejected == pytest.approx(0.05, abs=0.003)


def test_sequential_decision_stops_only_past_boundary() -> None:
    early = sequential_decision([3.0], looks=5)
    assert early.decision == "continue"
    assert not early.crossed
    assert sequential_decision([3.0, 3.5], looks=5).decision == "stop_effect"
    assert sequential_decision([1.0, 1.2, 1.5], looks=3).decision == "stop_no_effect"


def test_sequential_rejects_more_z_values_than_looks() -> None:
    with pytest.raises(InvalidInput, match="between 1 and 2"):
        sequential_decision([1.0, 2.0, 3.0], looks=2)
