"""Behaviour clusters recover well-separated groups and describe them in words."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxloop.analytics.clusters import behaviour_clusters
from cxloop.domain.errors import InvalidInput

# (recency_days, frequency, monetary, customers) of three kinds of customer
GROUPS = {
    "big_spenders": (10, 12, 20_000, 60),
    "lapsed": (300, 1, 300, 150),
    "regulars": (60, 4, 3_000, 100),
}


def _blobs(seed: int = 1) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    parts, truth = [], []
    for name, (recency, frequency, monetary, n) in GROUPS.items():
        parts.append(
            pd.DataFrame(
                {
                    "recency_days": rng.normal(recency, recency * 0.15, n).clip(0),
                    "frequency": frequency + rng.integers(0, 2, n),
                    "monetary": rng.lognormal(np.log(monetary), 0.15, n),
                }
            )
        )
        truth += [name] * n
    frame = pd.concat(parts, ignore_index=True)
    frame.index = pd.Index([f"C{i:04d}" for i in range(len(frame))], name="customer")
    return frame, pd.Series(truth, index=frame.index)


def test_clusters_recover_three_separated_groups_and_choose_k_3() -> None:
    frame, truth = _blobs()
    result = behaviour_clusters(frame)
    assert result.k == 3
    assert result.silhouette is not None
    assert result.silhouette > 0.5
    assert result.labels.index.equals(frame.index)
    crosstab = pd.crosstab(truth, result.labels)
    assert (crosstab.gt(0).sum(axis=1) == 1).all()  # each group in one cluster
    assert result.sizes.tolist() == [150, 100, 60]  # numbered by size
    assert set(result.log_columns) == {"frequency", "monetary"}


def test_clusters_are_described_in_both_languages() -> None:
    frame, truth = _blobs()
    result = behaviour_clusters(frame, k=3)
    big = int(result.labels[truth == "big_spenders"].iloc[0])
    lapsed = int(result.labels[truth == "lapsed"].iloc[0])
    english, chinese = result.describe("en"), result.describe("zh-TW")
    assert set(english[big].split(", ")) == {"high spend", "frequent", "recent"}
    assert set(chinese[big].split("、")) == {"高消費", "購買頻繁", "近期活躍"}
    assert "not seen lately" in english[lapsed]
    assert "low spend" in english[lapsed]


def test_clusters_centers_hold_original_units_and_z_scores() -> None:
    frame, truth = _blobs()
    result = behaviour_clusters(frame, k=3)
    big = int(result.labels[truth == "big_spenders"].iloc[0])
    expected = frame[truth == "big_spenders"]["monetary"].mean()
    assert result.centers.loc[big, "monetary"] == pytest.approx(expected)
    assert result.centers.loc[big, "monetary_z"] > 1


def test_clusters_are_deterministic_for_a_seed() -> None:
    frame, _ = _blobs(seed=3)
    first = behaviour_clusters(frame, k=4, seed=5)
    second = behaviour_clusters(frame, k=4, seed=5)
    assert first.labels.equals(second.labels)


def test_clusters_use_custom_words_and_fall_back_for_unknown_features() -> None:
    frame, truth = _blobs()
    frame["visits"] = np.where(truth == "lapsed", 0.0, 20.0)
    result = behaviour_clusters(
        frame[["visits", "monetary"]],
        k=3,
        words={"monetary": ("big basket", "small basket", "大單", "小單")},
    )
    described = " | ".join(result.describe("en").values())
    assert "big basket" in described
    assert "low visits" in described
    assert "visits低" in " | ".join(result.describe("zh-TW").values())


def test_clusters_refuse_text_missing_values_and_impossible_k() -> None:
    frame, _ = _blobs()
    with pytest.raises(InvalidInput, match="not numeric: city"):
        behaviour_clusters(frame.assign(city="台北"))
    with pytest.raises(InvalidInput, match="monetary \\(1 missing\\)"):
        behaviour_clusters(frame.assign(monetary=[None, *frame["monetary"][1:]]))
    with pytest.raises(InvalidInput, match="k must be between 2"):
        behaviour_clusters(frame.iloc[:5], k=6)
    with pytest.raises(InvalidInput, match="language 'de'"):
        behaviour_clusters(frame, k=2).describe("de")
