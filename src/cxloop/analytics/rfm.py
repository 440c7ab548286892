"""RFM scores (recency, frequency, monetary) and the eleven named RFM segments.

Each customer gets a score from 1 to ``bins`` on each of recency, frequency and
monetary value, from their rank among all customers. Equal values always get the same
score: a customer's score is one plus the number of whole ``1/bins`` shares of customers
that rank strictly below them. So when 60 % of customers bought once, all of them get
frequency score 1 and the next frequency jumps to score 4; no bin is split through a tie.

The named segment comes from the usual R × FM grid, where FM is the mean of the F and M
scores rounded half up (on a 1-5 scale; other ``bins`` are mapped onto it):

======  ==============  ==================  ==================  =========  ===========
R \\ FM  1               2                   3                   4          5
======  ==============  ==================  ==================  =========  ===========
5       new_customers   potential_loyalist  potential_loyalist  champions  champions
4       promising       potential_loyalist  potential_loyalist  loyal      loyal
3       about_to_sleep  about_to_sleep      need_attention      loyal      loyal
2       hibernating     hibernating         at_risk             at_risk    cannot_lose
1       lost            lost                at_risk             at_risk    cannot_lose
======  ==============  ==================  ==================  =========  ===========
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cxloop.domain.errors import InvalidInput

#: Languages the names and actions are written in.
LANGUAGES = ("zh-TW", "en")
RFM_COLUMNS = ("recency_days", "frequency", "monetary")


@dataclass(frozen=True)
class RFMSegment:
    """A named RFM segment: its names and a one-line suggested action per language."""

    key: str
    names: Mapping[str, str]
    actions: Mapping[str, str]

    def name(self, language: str) -> str:
        """The segment's name in ``language`` (``zh-TW`` or ``en``)."""
        return self.names[check_language(language)]

    def action(self, language: str) -> str:
        """The suggested action in ``language`` (``zh-TW`` or ``en``)."""
        return self.actions[check_language(language)]


def _segment(key: str, zh: str, en: str, action_zh: str, action_en: str) -> RFMSegment:
    return RFMSegment(
        key, {"zh-TW": zh, "en": en}, {"zh-TW": action_zh, "en": action_en}
    )


#: The eleven RFM segments, from the best customers to the lost ones.
RFM_SEGMENTS: Mapping[str, RFMSegment] = {
    s.key: s
    for s in (
        _segment("champions", "冠軍顧客", "Champions",
                 "給予專屬禮遇與搶先體驗，邀請他們評論與推薦親友。",
                 "Reward them with early access and perks; ask for reviews and referrals."),
        _segment("loyal", "忠誠顧客", "Loyal customers",
                 "推薦更高價值的商品，邀請加入會員或忠誠計畫。",
                 "Upsell higher-value products; invite them to the loyalty programme."),
        _segment("potential_loyalist", "潛力忠誠顧客", "Potential loyalists",
                 "提供會員權益與相關商品推薦，培養回購習慣。",
                 "Offer membership benefits and related products to build a habit."),
        _segment("new_customers", "新顧客", "New customers",
                 "做好新手引導與首購後關懷，給他們再次光臨的理由。",
                 "Onboard them well and give them a reason to come back soon."),
        _segment("promising", "值得培養顧客", "Promising",
                 "加深品牌印象，提供試用或小額優惠。",
                 "Build brand awareness; offer trials or a small incentive."),
        _segment("need_attention", "需要關注顧客", "Need attention",
                 "依過去購買提供限時優惠，重新引起興趣。",
                 "Make a limited-time offer based on past purchases to re-engage them."),
        _segment("about_to_sleep", "即將沉睡顧客", "About to sleep",
                 "分享熱門商品與實用內容，在流失前重新聯繫。",
                 "Share popular products and useful content; reconnect before they lapse."),
        _segment("at_risk", "流失風險顧客", "At risk",
                 "發送個人化訊息與續購優惠，了解他們遇到的問題。",
                 "Send personal messages and renewal offers; find out what went wrong."),
        _segment("cannot_lose", "不能失去的顧客", "Cannot lose them",
                 "由專人主動聯繫，以新品或專屬方案把他們贏回來。",
                 "Contact them personally; win them back with new products or a special offer."),
        _segment("hibernating", "冬眠顧客", "Hibernating",
                 "提供相關商品與特別折扣，重建品牌價值。",
                 "Offer relevant products and special discounts to rebuild interest."),
        _segment("lost", "已流失顧客", "Lost",
                 "嘗試一次挽回活動；無回應便不再投入成本。",
                 "Try one win-back campaign; otherwise spend nothing more on them."),
    )
}  # fmt: skip


def check_language(language: str) -> str:
    """``language`` when it is ``zh-TW`` or ``en``; InvalidInput otherwise."""
    if language not in LANGUAGES:
        msg = f"language {language!r} is unknown: choose zh-TW or en"
        raise InvalidInput(msg)
    return language


def segment_name(key: str, language: str) -> str:
    """The name of RFM segment ``key`` in ``language`` (``zh-TW`` or ``en``).

    >>> segment_name("champions", "zh-TW")
    '冠軍顧客'
    """
    try:
        segment = RFM_SEGMENTS[key]
    except KeyError:
        msg = f"RFM segment {key!r} is unknown: choose one of {', '.join(RFM_SEGMENTS)}"
        raise InvalidInput(msg) from None
    return segment.name(language)


#: Segment keys of the R × FM grid: ``GRID[r - 1][fm - 1]`` on 1-5 scores.
GRID: tuple[tuple[str, ...], ...] = (
    ("lost", "lost", "at_risk", "at_risk", "cannot_lose"),
    ("hibernating", "hibernating", "at_risk", "at_risk", "cannot_lose"),
    ("about_to_sleep", "about_to_sleep", "need_attention", "loyal", "loyal"),
    ("promising", "potential_loyalist", "potential_loyalist", "loyal", "loyal"),
    ("new_customers", "potential_loyalist", "potential_loyalist", "champions", "champions"),
)  # fmt: skip


def grid_segment(r: int, fm: int) -> str:
    """The segment key of cell (R, FM) of the 5 × 5 grid (scores 1-5).

    >>> grid_segment(5, 5), grid_segment(1, 1), grid_segment(3, 3)
    ('champions', 'lost', 'need_attention')
    """
    return GRID[r - 1][fm - 1]


def rank_scores(values: pd.Series, bins: int) -> pd.Series:
    """Scores 1..``bins`` where higher values score higher and ties score alike.

    The score is ``1 + floor(bins * below / n)`` with ``below`` the number of values
    strictly smaller.

    >>> rank_scores(pd.Series([1, 1, 1, 2, 5]), 5).tolist()
    [1, 1, 1, 4, 5]
    """
    below = values.rank(method="min").to_numpy(dtype=np.float64) - 1
    scores = 1 + np.floor(bins * below / len(values)).astype(np.int64)
    return pd.Series(np.clip(scores, 1, bins), index=values.index, dtype="int64")


def rfm_scores(frame: pd.DataFrame, *, bins: int = 5) -> pd.DataFrame:
    """R, F and M scores, the ``rfm_score`` text (e.g. ``"545"``) and ``rfm_segment``.

    Parameters
    ----------
    frame
        One row per customer (the index is kept) with ``recency_days`` (days since the
        last purchase; fewer is better), ``frequency`` (orders) and ``monetary`` (spend).
    bins
        Number of score levels, 2 to 9 (5 by default).

    Returns
    -------
    pandas.DataFrame
        Same index; ``r_score``, ``f_score``, ``m_score`` (1..bins), ``rfm_score`` and
        ``rfm_segment`` (a key of :data:`RFM_SEGMENTS`).
    """
    if not 2 <= bins <= 9:
        raise InvalidInput(f"bins must be between 2 and 9, not {bins}")
    values = _checked(frame)
    out = pd.DataFrame(index=frame.index)
    out["r_score"] = rank_scores(-values["recency_days"], bins)
    out["f_score"] = rank_scores(values["frequency"], bins)
    out["m_score"] = rank_scores(values["monetary"], bins)
    out["rfm_score"] = (
        out["r_score"].astype(str)
        + out["f_score"].astype(str)
        + out["m_score"].astype(str)
    )
    r5 = _on_five(out["r_score"], bins)
    fm5 = (_on_five(out["f_score"], bins) + _on_five(out["m_score"], bins) + 1) // 2
    out["rfm_segment"] = [GRID[r - 1][fm - 1] for r, fm in zip(r5, fm5, strict=True)]
    return out


def _on_five(scores: pd.Series, bins: int) -> pd.Series:
    """Scores 1..bins placed on the 1-5 scale of the grid (identity for 5 bins)."""
    placed = 1 + np.floor((scores.to_numpy() - 1) * 4 / (bins - 1) + 0.5)
    return pd.Series(placed.astype(np.int64), index=scores.index)


def _checked(frame: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in RFM_COLUMNS if c not in frame.columns]
    if missing:
        msg = f"RFM needs the columns {', '.join(RFM_COLUMNS)}; missing: {', '.join(missing)}"
        raise InvalidInput(msg)
    if frame.empty:
        raise InvalidInput("RFM needs at least one customer")
    values = pd.DataFrame(index=frame.index)
    for column in RFM_COLUMNS:
        numbers = pd.to_numeric(frame[column], errors="coerce").astype("float64")
        bad = numbers.isna() | (numbers < 0)
        if bad.any():
            first = frame.index[bad.to_numpy()][0]
            msg = (
                f"RFM column {column!r} needs numbers of 0 or more: customer {first!r} "
                f"has {frame[column].loc[first]!r} ({int(bad.sum())} such rows)"
            )
            raise InvalidInput(msg)
        values[column] = numbers
    return values
