"""RFM scores and segments, checked against a table computed by hand."""

from __future__ import annotations

import doctest

import pandas as pd
import pytest

from cxloop.analytics import rfm
from cxloop.analytics.rfm import RFM_SEGMENTS, rfm_scores, segment_name
from cxloop.domain.errors import InvalidInput

# customer: recency_days, frequency, monetary, then the scores and segment by hand
# (score = 1 + floor(5 * customers strictly worse / 10); FM = (F + M + 1) // 2).
HAND = {
    "c01": (5, 10, 5000, "555", "champions"),
    "c02": (10, 8, 3000, "554", "champions"),
    "c03": (20, 1, 100, "412", "potential_loyalist"),
    "c04": (40, 5, 2500, "444", "loyal"),
    "c05": (60, 1, 80, "312", "about_to_sleep"),
    "c06": (90, 3, 900, "333", "need_attention"),
    "c07": (120, 2, 400, "233", "at_risk"),
    "c08": (200, 6, 4000, "245", "cannot_lose"),
    "c09": (300, 1, 50, "111", "lost"),
    "c10": (365, 1, 60, "111", "lost"),
}


def _frame(rows: dict[str, tuple[float, float, float]]) -> pd.DataFrame:
    return pd.DataFrame.from_dict(
        rows, orient="index", columns=["recency_days", "frequency", "monetary"]
    )


def test_rfm_scores_match_hand_computed_table() -> None:
    frame = _frame({c: v[:3] for c, v in HAND.items()})
    scores = rfm_scores(frame)
    assert scores.index.tolist() == list(HAND)
    assert scores["rfm_score"].tolist() == [v[3] for v in HAND.values()]
    assert scores["rfm_segment"].tolist() == [v[4] for v in HAND.values()]
    assert scores.loc["c07", ["r_score", "f_score", "m_score"]].tolist() == [2, 3, 3]


def test_rfm_ties_share_a_score_when_most_customers_bought_once() -> None:
    frequency = [1] * 60 + [2] * 20 + [3] * 10 + [5] * 10
    frame = pd.DataFrame(
        {"recency_days": range(100), "frequency": frequency, "monetary": range(100)}
    )
    f_score = rfm_scores(frame)["f_score"]
    assert f_score[:60].eq(1).all()
    assert f_score[60:80].eq(4).all()  # 60 % below: 1 + floor(5 * 0.6)
    assert f_score[80:90].eq(5).all()
    assert f_score[90:].eq(5).all()


def test_rfm_recent_one_time_buyer_is_a_new_customer() -> None:
    frame = _frame({"new": (1, 1, 10), **{f"o{i}": (50 + i, 3, 500) for i in range(9)}})
    assert rfm_scores(frame).loc["new", "rfm_segment"] == "new_customers"


def test_rfm_with_three_bins_places_scores_on_the_grid() -> None:
    frame = _frame({c: v[:3] for c, v in HAND.items()})
    scores = rfm_scores(frame, bins=3)
    assert scores[["r_score", "f_score", "m_score"]].isin([1, 2, 3]).all().all()
    assert scores.loc["c01", "rfm_score"] == "333"
    assert scores.loc["c01", "rfm_segment"] == "champions"
    assert scores.loc["c10", "rfm_segment"] == "lost"


def test_rfm_refuses_missing_column_and_negative_values() -> None:
    with pytest.raises(InvalidInput, match="missing: monetary"):
        rfm_scores(pd.DataFrame({"recency_days": [1], "frequency": [1]}))
    frame = _frame({"a": (1, 1, 10), "b": (2, -1, 5)})
    with pytest.raises(InvalidInput, match=r"'frequency'.*customer 'b'"):
        rfm_scores(frame)
    with pytest.raises(InvalidInput, match="bins must be between 2 and 9"):
        rfm_scores(frame.abs(), bins=10)


def test_rfm_segments_are_the_eleven_named_in_both_languages() -> None:
    assert len(RFM_SEGMENTS) == 11
    for key, segment in RFM_SEGMENTS.items():
        assert segment.key == key
        assert all(segment.name(lang) for lang in ("zh-TW", "en"))
        assert all(segment.action(lang) for lang in ("zh-TW", "en"))
    assert segment_name("cannot_lose", "en") == "Cannot lose them"
    assert segment_name("lost", "zh-TW") == "已流失顧客"
    used = {rfm.GRID[r][fm] for r in range(5) for fm in range(5)}
    assert used == set(RFM_SEGMENTS)


def test_segment_name_refuses_unknown_key_or_language() -> None:
    with pytest.raises(InvalidInput, match="'vip' is unknown"):
        segment_name("vip", "en")
    with pytest.raises(InvalidInput, match="language 'fr'"):
        segment_name("lost", "fr")


def test_rfm_doctests_pass() -> None:
    assert doctest.testmod(rfm).failed == 0
