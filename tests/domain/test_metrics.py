"""Every formula against hand-computed values and the edge cases."""

from __future__ import annotations

import math

import pytest

from cxloop.domain import metrics
from cxloop.domain.errors import InvalidInput
from cxloop.domain.vocab import MetricKind


def test_nps_hand_computed_with_margin() -> None:
    # 4 promoters, 3 passives, 3 detractors: p=.4 d=.3 -> NPS 10
    scores = [10, 9, 9, 10, 8, 7, 7, 6, 0, 3]
    result = metrics.nps(scores)
    assert result.value == pytest.approx(10.0)
    assert result.n == 10
    var = 0.4 + 0.3 - (0.4 - 0.3) ** 2  # variance of the +1/0/-1 score
    assert result.moe == pytest.approx(1.959964 * math.sqrt(var / 10) * 100, rel=1e-6)
    assert result.detail["promoters_pct"] == pytest.approx(40.0)
    assert result.detail["detractors_pct"] == pytest.approx(30.0)


def test_nps_no_answers_has_no_value() -> None:
    result = metrics.nps([])
    assert (result.value, result.n, result.moe) == (None, 0, None)


def test_nps_one_answer_has_value_but_no_margin() -> None:
    result = metrics.nps([9])
    assert (result.value, result.n, result.moe) == (100.0, 1, None)


def test_nps_all_promoters_and_all_detractors() -> None:
    assert metrics.nps([9, 10, 10]).value == 100.0
    assert metrics.nps([9, 10, 10]).moe == 0.0
    assert metrics.nps([0, 6, 3, 5]).value == -100.0


def test_nps_boundaries_seven_and_eight_are_passive() -> None:
    assert metrics.nps([7, 8]).value == 0.0
    assert metrics.nps([6, 9]).value == 0.0


def test_nps_refuses_out_of_range_score() -> None:
    with pytest.raises(InvalidInput, match="outside 0-10"):
        metrics.nps([11])


def test_csat_top_two_box_and_mean() -> None:
    result = metrics.csat([5, 4, 3, 2, 1, 5, 4, 4])
    assert result.value == pytest.approx(62.5)
    assert result.detail["mean"] == pytest.approx(28 / 8)
    p = 0.625
    assert result.moe == pytest.approx(
        1.959964 * math.sqrt(p * (1 - p) / 8) * 100, rel=1e-6
    )


def test_ces_mean_with_sample_sd_margin() -> None:
    scores = [7, 6, 5, 2, 1]
    result = metrics.ces(scores)
    assert result.value == pytest.approx(4.2)
    sd = math.sqrt(sum((s - 4.2) ** 2 for s in scores) / 4)
    assert result.moe == pytest.approx(1.959964 * sd / math.sqrt(5), rel=1e-6)
    assert result.detail["agree_pct"] == pytest.approx(60.0)


def test_compare_detects_a_large_nps_drop() -> None:
    before = metrics.nps([10] * 60 + [8] * 20 + [3] * 20)  # NPS 40
    after = metrics.nps([10] * 30 + [8] * 20 + [3] * 50)  # NPS -20
    change = metrics.compare(after, before)
    assert change.difference == pytest.approx(-60.0)
    assert change.p_value is not None
    assert change.p_value < 0.001
    assert change.significant
    assert change.direction == "down"


def test_compare_small_change_is_not_significant() -> None:
    before = metrics.nps([10, 9, 8, 3, 2, 10, 9, 7, 6, 10])
    after = metrics.nps([10, 9, 8, 3, 2, 10, 9, 7, 8, 10])
    change = metrics.compare(after, before)
    assert not change.significant
    assert change.direction == "flat"


def test_compare_ces_uses_welch_t_test() -> None:
    from scipy import stats

    a, b = [5, 6, 7, 6, 5, 7], [3, 4, 2, 5, 4]
    change = metrics.compare(metrics.ces(a), metrics.ces(b))
    expected = stats.ttest_ind(a, b, equal_var=False).pvalue
    assert change.p_value == pytest.approx(expected, rel=1e-9)


def test_compare_without_data_is_undefined() -> None:
    change = metrics.compare(metrics.nps([9]), metrics.nps([]))
    assert (change.difference, change.p_value, change.significant) == (
        None,
        None,
        False,
    )


def test_compute_dispatches_and_refuses_unscored_metric() -> None:
    assert metrics.compute("nps", [9]).metric is MetricKind.NPS
    with pytest.raises(InvalidInput, match="not a scored metric"):
        metrics.compute("text", [1])


def test_change_tone_reads_a_ces_rise_as_worse_and_an_nps_rise_as_better() -> None:
    harder = metrics.compare(metrics.ces([6, 7, 6, 7] * 10), metrics.ces([1, 2] * 20))
    assert (harder.direction, harder.tone) == ("up", "worse")
    happier = metrics.compare(metrics.nps([10] * 40), metrics.nps([0] * 40))
    assert (happier.direction, happier.tone) == ("up", "better")
    same = metrics.compare(metrics.nps([10, 0] * 5), metrics.nps([0, 10] * 5))
    assert same.tone == "flat"
