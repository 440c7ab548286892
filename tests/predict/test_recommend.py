"""Next best product: co-occurrence recommendations and their hit rate on a time split."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxloop.demo.generator import generate
from cxloop.domain.errors import InvalidInput
from cxloop.predict.recommend import ItemRecommender, default_split, evaluate_hit_rate

# Before 2026-03-01: who bought what. After it: A lamp, C stove, D bag (all new to
# them), E mug again (not new), F tent (a new customer).
BEFORE = {
    "A": ["tent", "stove"],
    "B": ["tent", "stove", "lamp"],
    "C": ["tent", "lamp"],
    "D": ["mug"],
    "E": ["bag", "mug"],
}
AFTER = {"A": ["lamp"], "C": ["stove"], "D": ["bag"], "E": ["mug"], "F": ["tent"]}


def _history() -> pd.DataFrame:
    rows = [
        (customer, item, f"2026-01-{day + 1:02d}")
        for customer, items in BEFORE.items()
        for day, item in enumerate(items)
    ]
    rows += [(c, i, "2026-03-15") for c, items in AFTER.items() for i in items]
    return pd.DataFrame(rows, columns=["customer", "item", "date"])


def _before() -> pd.DataFrame:
    history = _history()
    return history[history["date"] < "2026-03-01"]


def test_recommend_ranks_co_bought_items_by_cosine() -> None:
    model = ItemRecommender().fit(_before())
    picks = model.recommend(["A"], k=3)
    assert picks["item"].tolist() == ["lamp", "mug", "bag"]
    assert picks["source"].tolist() == ["similar", "popular", "popular"]
    # tent~lamp: 2 / sqrt(3 * 2); stove~lamp: 1 / sqrt(2 * 2)
    assert picks["score"].iloc[0] == pytest.approx(2 / np.sqrt(6) + 0.5)
    assert picks["score"].iloc[1] == pytest.approx(2 / 5)  # 2 of 5 customers
    assert picks["rank"].tolist() == [1, 2, 3]


def test_recommend_never_repeats_a_purchase_unless_allowed() -> None:
    picks = ItemRecommender().fit(_before()).recommend(["B"], k=5)
    assert picks["item"].tolist() == ["mug", "bag"]  # only two items left
    repeat = ItemRecommender(allow_repeat=True).fit(_before()).recommend(["B"], k=5)
    assert set(repeat["item"]) == {"tent", "stove", "lamp", "mug", "bag"}


def test_recommend_cold_customer_gets_most_popular_items() -> None:
    picks = ItemRecommender().fit(_before()).recommend(["nobody", "D"], k=2)
    cold = picks[picks["customer"] == "nobody"]
    assert cold["item"].tolist() == ["tent", "lamp"]  # 3 buyers, then 2 (by name)
    assert cold["source"].eq("popular").all()
    assert cold["score"].tolist() == pytest.approx([0.6, 0.4])
    assert picks[picks["customer"] == "D"]["item"].iloc[0] == "bag"


def test_recommend_with_lift_similarity() -> None:
    model = ItemRecommender(similarity="lift").fit(_before())
    picks = model.recommend(["D"], k=1)
    assert picks["item"].tolist() == ["bag"]
    assert picks["score"].iloc[0] == pytest.approx(1 * 5 / (2 * 1))  # c N / (n_i n_j)


def test_hit_rate_on_hand_made_history() -> None:
    result = evaluate_hit_rate(
        _history(), customer="customer", item="item", date="date",
        split_date="2026-03-01", k=1,
    )  # fmt: skip
    assert result.n_customers == 3  # A, C and D bought something new to them
    assert result.hit_rate == 1.0
    # popularity gives A lamp (hit), C mug and D tent (misses)
    assert result.baseline_hit_rate == pytest.approx(1 / 3)
    assert result.n_new_customers == 1
    assert (result.n_train_purchases, result.n_test_purchases) == (10, 5)
    assert result.to_dict()["n_items"] == 5


def test_default_split_is_the_date_at_80_percent_of_purchases() -> None:
    dates = pd.Series(pd.to_datetime([f"2026-01-{d:02d}" for d in range(1, 11)]))
    assert default_split(dates) == pd.Timestamp("2026-01-08")  # index floor(0.8 * 9)
    result = evaluate_hit_rate(
        _history(), customer="customer", item="item", date="date"
    )
    assert result.split_date.startswith("2026-03-15")


def test_hit_rate_refuses_a_split_outside_the_history() -> None:
    with pytest.raises(InvalidInput, match="leaves no purchases on one side"):
        evaluate_hit_rate(
            _history(), customer="customer", item="item", date="date",
            split_date="2025-01-01",
        )  # fmt: skip


def test_purchase_history_errors_name_the_column_and_row() -> None:
    history = _history()
    with pytest.raises(InvalidInput, match="no column 'product'"):
        ItemRecommender().fit(history, item="product")
    history.loc[3, "date"] = "someday"
    with pytest.raises(InvalidInput, match="row 3: 'someday' is not a date"):
        ItemRecommender().fit(history)
    history.loc[4, "item"] = None
    with pytest.raises(InvalidInput, match="row 4: column 'item' is empty"):
        ItemRecommender().fit(history)
    with pytest.raises(InvalidInput, match="not fitted"):
        ItemRecommender().recommend(["A"])


def _affinity_history(seed: int = 0) -> pd.DataFrame:
    """600 customers who each buy mostly from one of 4 categories of 6 items."""
    rng = np.random.default_rng(seed)
    weights = np.array([0.3, 0.25, 0.2, 0.12, 0.08, 0.05])
    rows = []
    for customer in range(600):
        home = rng.integers(4)
        for _ in range(rng.integers(3, 9)):
            category = home if rng.random() < 0.85 else rng.integers(4)
            item = f"cat{category}-item{rng.choice(6, p=weights)}"
            day = pd.Timestamp("2025-01-01") + pd.Timedelta(days=int(rng.integers(365)))
            rows.append((f"C{customer:04d}", item, day))
    return pd.DataFrame(rows, columns=["customer", "item", "date"])


def test_recommender_beats_popularity_when_customers_have_category_affinity() -> None:
    result = evaluate_hit_rate(
        _affinity_history(), customer="customer", item="item", date="date", k=5
    )
    assert result.n_customers > 200
    assert result.hit_rate > result.baseline_hit_rate + 0.15


def test_recommender_on_demo_purchases_beats_popularity() -> None:
    sales = generate(seed=42, size="small").transactions
    purchases = sales[sales["kind"] == "purchase"]
    result = evaluate_hit_rate(
        purchases, customer="customer_id", item="product", date="occurred_at", k=3
    )
    assert result.n_customers > 250
    assert result.n_items == 15
    # Demo customers favour one category (company.TASTE): history tells.
    assert result.hit_rate > result.baseline_hit_rate + 0.05
