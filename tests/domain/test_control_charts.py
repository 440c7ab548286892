"""Control-chart limits and rules against hand-computed charts."""

from __future__ import annotations

import math

import pytest

from cxloop.domain.control_charts import PeriodValue, p_chart, xmr_chart
from cxloop.domain.errors import InvalidInput


def _shares(values: list[float], n: int) -> list[PeriodValue]:
    return [
        PeriodValue(f"m{i}", 100 * p, n, 100 * math.sqrt(p * (1 - p) / n))
        for i, p in enumerate(values)
    ]


def test_p_chart_equal_shares_give_the_classic_p_chart_limits() -> None:
    chart = p_chart(_shares([0.2] * 6, 100))
    # classic p chart: p̄ ± 3·sqrt(p̄(1 − p̄)/n) = 20 ± 3·4 = 8 .. 32 (in %)
    assert chart.centre == pytest.approx(20.0)
    assert chart.sigma == pytest.approx(40.0)  # sqrt(.2·.8) in percentage points
    assert (chart.points[0].lower, chart.points[0].upper) == pytest.approx((8.0, 32.0))
    assert chart.signals == ()


def test_p_chart_limits_widen_for_small_periods() -> None:
    points = [*_shares([0.2] * 4, 400), PeriodValue("small", 20.0, 25, 8.0)]
    chart = p_chart(points, baseline=(0, 4))
    assert chart.points[-1].upper - chart.points[-1].lower == pytest.approx(
        4 * (chart.points[0].upper - chart.points[0].lower)
    )


def test_p_chart_flags_a_point_beyond_the_baseline_limits() -> None:
    chart = p_chart(_shares([0.3, 0.31, 0.29, 0.30, 0.22], 400), baseline=(0, 4))
    assert [(s.period, s.rule, s.side) for s in chart.signals] == [
        ("m4", "beyond_limits", "below")
    ]
    assert chart.points[4].rules == ("beyond_limits",)
    assert not chart.points[4].in_baseline


def test_run_of_eight_on_one_side_flags_from_the_eighth_point() -> None:
    values = [0.2, 0.18, 0.22, 0.2] + [0.21] * 9
    chart = p_chart(_shares(values, 400), baseline=(0, 4))
    runs = [s.index for s in chart.signals if s.rule == "run_of_8"]
    assert runs == [11, 12]  # points 4..11 are the first eight above the centre


def test_point_on_the_centre_breaks_a_run() -> None:
    values = [0.2, 0.18, 0.22, 0.2] + [0.21] * 7 + [0.2] + [0.21] * 3
    chart = p_chart(_shares(values, 400), baseline=(0, 4))
    assert [s for s in chart.signals if s.rule == "run_of_8"] == []


def test_xmr_chart_hand_computed() -> None:
    points = [PeriodValue(str(i), v, 50) for i, v in enumerate([5, 7, 6, 8, 6, 12])]
    chart = xmr_chart(points, baseline=(0, 5))
    # centre 6.4; moving ranges 2, 1, 2, 2 -> MR̄ 1.75; limits 6.4 ± 2.6596·1.75
    assert chart.centre == pytest.approx(6.4)
    assert chart.points[0].upper == pytest.approx(6.4 + 3 / 1.128 * 1.75)
    assert [(s.period, s.rule, s.side) for s in chart.signals] == [
        ("5", "beyond_limits", "above")
    ]


def test_baseline_outside_the_series_is_refused() -> None:
    with pytest.raises(InvalidInput, match="at least 3 periods"):
        xmr_chart([PeriodValue("a", 1.0, 5), PeriodValue("b", 2.0, 5)])
    with pytest.raises(InvalidInput, match="standard error"):
        p_chart([PeriodValue("a", 1.0, 5), PeriodValue("b", 2.0, 5)])
