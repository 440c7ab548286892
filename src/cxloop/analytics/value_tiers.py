"""The customer value pyramid: tiers by CLV or revenue at cumulative cut points.

With the default cuts ``(0.01, 0.05, 0.20)`` the top 1 % of customers by value are
``top``, the next 4 % ``high``, the next 15 % ``medium`` and the rest ``low``.

A customer belongs to the first tier whose cut is larger than the share of customers
with a strictly higher value. Customers with equal values therefore always share a tier,
and a tie that straddles a cut goes to the higher tier (which may then hold a little more
than its share).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise

import numpy as np
import pandas as pd

from cxloop.analytics.rfm import check_language
from cxloop.domain.errors import InvalidInput

#: Tier keys from the most to the least valuable.
TIERS = ("top", "high", "medium", "low")
DEFAULT_CUTS = (0.01, 0.05, 0.20)

#: Tier names per language.
TIER_NAMES: Mapping[str, Mapping[str, str]] = {
    "top": {"zh-TW": "頂級顧客", "en": "Top"},
    "high": {"zh-TW": "高價值顧客", "en": "High value"},
    "medium": {"zh-TW": "中價值顧客", "en": "Medium value"},
    "low": {"zh-TW": "一般顧客", "en": "Low value"},
}


def tier_name(tier: str, language: str) -> str:
    """The name of ``tier`` in ``language`` (``zh-TW`` or ``en``).

    >>> tier_name("top", "zh-TW")
    '頂級顧客'
    """
    if tier not in TIER_NAMES:
        raise InvalidInput(
            f"value tier {tier!r} is unknown: choose one of {', '.join(TIERS)}"
        )
    return TIER_NAMES[tier][check_language(language)]


def tier_keys(cuts: Sequence[float]) -> tuple[str, ...]:
    """The tiers that ``cuts`` make: the first ``len(cuts)`` of TIERS, then ``low``.

    >>> tier_keys((0.1,))
    ('top', 'low')
    """
    check_cuts(cuts)
    return (*TIERS[: len(cuts)], "low")


def check_cuts(cuts: Sequence[float]) -> None:
    """Refuse cuts that are not 1 to 3 increasing shares strictly between 0 and 1."""
    shares = list(cuts)
    if not 1 <= len(shares) <= len(TIERS) - 1:
        msg = f"value tiers need 1 to {len(TIERS) - 1} cut points, not {len(shares)}"
        raise InvalidInput(msg)
    if any(not 0 < share < 1 for share in shares):
        msg = f"value tier cuts are shares of customers between 0 and 1 (exclusive): {shares}"
        raise InvalidInput(msg)
    if any(b <= a for a, b in pairwise(shares)):
        msg = f"value tier cuts must increase (cumulative shares): {shares}"
        raise InvalidInput(msg)


def value_tiers(
    values: pd.Series, *, cuts: Sequence[float] = DEFAULT_CUTS
) -> pd.Series:
    """The value tier of each customer.

    Parameters
    ----------
    values
        One value per customer (CLV or revenue); the index is kept. Missing values are
        refused: fill them (for example with 0) first.
    cuts
        Cumulative shares of customers at which a tier ends, increasing, each in (0, 1).

    Returns
    -------
    pandas.Series
        The tier key of each customer (``top``, ``high``, ``medium``, ``low``).

    >>> value_tiers(pd.Series([5.0, 1.0, 3.0, 3.0]), cuts=(0.25, 0.5)).tolist()
    ['top', 'low', 'high', 'high']
    """
    keys = tier_keys(cuts)
    numbers = _checked(values)
    if numbers.empty:
        return pd.Series([], index=values.index, dtype=object, name="tier")
    above = (
        numbers.rank(method="min", ascending=False).to_numpy() - 1
    )  # strictly higher
    share_above = above / len(numbers)
    position = np.searchsorted(np.asarray(cuts, dtype=np.float64), share_above, "right")
    return pd.Series(
        np.asarray(keys, dtype=object)[position], index=values.index, name="tier"
    )


def tier_summary(values: pd.Series, tiers: pd.Series) -> pd.DataFrame:
    """Customers, share of customers, total value and share of value per tier.

    Every tier of :data:`TIERS` appears, in order, with zero rows where it is empty.
    """
    numbers = _checked(values)
    unknown = sorted(set(tiers.dropna()) - set(TIERS))
    if unknown or tiers.isna().any():
        raise InvalidInput(
            f"tiers must be {', '.join(TIERS)}; found {unknown or 'missing'}"
        )
    frame = pd.DataFrame({"value": numbers, "tier": tiers.reindex(numbers.index)})
    grouped = frame.groupby("tier")["value"].agg(["size", "sum"]).reindex(list(TIERS))
    out = pd.DataFrame(index=pd.Index(list(TIERS), name="tier"))
    out["customers"] = grouped["size"].fillna(0).astype("int64")
    out["customer_share"] = out["customers"] / max(len(frame), 1)
    out["value"] = grouped["sum"].fillna(0.0).astype("float64")
    total = float(numbers.sum())
    out["value_share"] = out["value"] / total if total else 0.0
    return out


def _checked(values: pd.Series) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce").astype("float64")
    bad = numbers.isna() | np.isinf(numbers)
    if bad.any():
        first = values.index[bad.to_numpy()][0]
        msg = (
            f"value tiers need a number for every customer: customer {first!r} has "
            f"{values.loc[first]!r} ({int(bad.sum())} such customers)"
        )
        raise InvalidInput(msg)
    return numbers
