"""SERVQUAL gaps on hand-computed numbers."""

from __future__ import annotations

import numpy as np
import pytest

from cxloop.domain.errors import InvalidInput
from cxloop.domain.servqual import DIMENSIONS, servqual_gaps

NAN = float("nan")


def test_gaps_by_hand() -> None:
    expectations = {
        "empathy": [6.0, 5.0, 7.0, 6.0],
        "reliability": [7.0, 7.0, 6.0, 7.0],
    }
    perceptions = {
        "empathy": [6.0, 6.0, 7.0, 7.0],
        "reliability": [5.0, 4.0, 6.0, 5.0],
    }
    gaps = {g.dimension: g for g in servqual_gaps(expectations, perceptions)}
    # reliability: differences -2, -3, 0, -2 -> mean -1.75, sd sqrt(1.5833)
    reliability = gaps["reliability"]
    assert reliability.gap == pytest.approx(-1.75)
    assert reliability.expectation == pytest.approx(6.75)
    assert reliability.perception == pytest.approx(5.0)
    half = 3.182446305284263 * np.sqrt(19 / 12) / 2  # t(0.975, 3) * sd / sqrt(4)
    assert (reliability.low, reliability.high) == pytest.approx(
        (-1.75 - half, -1.75 + half)
    )
    # empathy: differences 0, 1, 0, 1 -> mean 0.5, sd sqrt(1/3)
    assert gaps["empathy"].gap == pytest.approx(0.5)
    assert gaps["empathy"].n == 4


def test_dimensions_come_in_servqual_order_and_skipped_pairs_drop() -> None:
    data = {d: [5.0, NAN, 4.0] for d in reversed(DIMENSIONS)}
    seen = {d: [4.0, 3.0, NAN] for d in reversed(DIMENSIONS)}
    gaps = servqual_gaps(data, seen)
    assert [g.dimension for g in gaps] == list(DIMENSIONS)
    assert all(g.n == 1 and g.gap == -1.0 for g in gaps)
    assert all(g.low is None and g.high is None for g in gaps)


def test_unpaired_dimension_is_refused() -> None:
    with pytest.raises(InvalidInput, match="assurance"):
        servqual_gaps({"assurance": [5.0]}, {"empathy": [5.0]})


def test_lengths_must_pair_up() -> None:
    with pytest.raises(InvalidInput, match="must pair up"):
        servqual_gaps({"empathy": [5.0, 6.0]}, {"empathy": [5.0]})
