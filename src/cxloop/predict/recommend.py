"""Next best product from purchase history: item-to-item co-occurrence.

Two items are similar when the same customers bought both. With ``n_i`` the number of
customers who bought item i and ``c_ij`` those who bought both i and j:

- cosine: ``s_ij = c_ij / sqrt(n_i n_j)`` (Sarwar et al. 2001; Linden, Smith and York
  2003, Amazon's item-to-item collaborative filtering);
- lift: ``s_ij = c_ij N / (n_i n_j)`` with N customers (favours rarer items);
- popularity: no similarity; every customer gets the most bought items (the baseline).

A customer's score for item j is ``sum_i s_ij`` over the items i they bought. Items
with a positive score come first (``source = "similar"``); the remaining places go to
the most popular items (``source = "popular"``), which is all a customer with no history
gets. Items the customer already bought are left out unless ``allow_repeat``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, Self

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse

from cxloop.domain.errors import InvalidInput

SIMILARITIES = ("cosine", "lift", "popularity")
#: Share of purchases (in time order) before the default split date.
TRAIN_SHARE = 0.8
#: Cells of the dense score block built at once (customers × items).
BLOCK_CELLS = 4_000_000


def purchase_history(
    frame: pd.DataFrame, *, customer: str, item: str, date: str
) -> pd.DataFrame:
    """Columns ``customer``, ``item`` and ``date`` (UTC, naive) of ``frame``, checked.

    Raises InvalidInput naming a missing column, an empty cell or a value that is not a
    date, with the row's index label.
    """
    missing = [c for c in (customer, item, date) if c not in frame.columns]
    if missing:
        known = ", ".join(str(c) for c in frame.columns)
        raise InvalidInput(
            f"purchase history has no column {missing[0]!r}; columns: {known}"
        )
    for column in (customer, item, date):
        empty = frame[column].isna()
        if empty.any():
            first = frame.index[empty.to_numpy()][0]
            msg = f"purchase history row {first!r}: column {column!r} is empty ({int(empty.sum())} such rows)"
            raise InvalidInput(msg)
    history = pd.DataFrame(
        {"customer": frame[customer], "item": frame[item], "date": _dates(frame[date])},
        index=frame.index,
    )
    if history.empty:
        raise InvalidInput("purchase history has no purchases")
    return history


def _dates(values: pd.Series) -> pd.Series:
    if not pd.api.types.is_datetime64_any_dtype(values):
        parsed = pd.to_datetime(values, errors="coerce", format="ISO8601", utc=True)
        bad = parsed.isna()
        if bad.any():
            first = values.index[bad.to_numpy()][0]
            msg = f"purchase history row {first!r}: {values.loc[first]!r} is not a date"
            raise InvalidInput(msg)
        values = parsed
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    return values.astype("datetime64[ns]")


def as_timestamp(when: dt.date | dt.datetime | str | pd.Timestamp) -> pd.Timestamp:
    """``when`` as a naive UTC timestamp, like the dates of :func:`purchase_history`."""
    try:
        stamp = pd.Timestamp(when)
    except ValueError:
        raise InvalidInput(f"{when!r} is not a date") from None
    return stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo else stamp


class ItemRecommender:
    """Recommend items by item-to-item co-occurrence with a popularity fallback.

    Parameters
    ----------
    similarity
        ``cosine`` (default), ``lift`` or ``popularity`` (no co-occurrence: the
        baseline).
    allow_repeat
        Also recommend items the customer already bought (for consumables).
    """

    def __init__(
        self, *, similarity: str = "cosine", allow_repeat: bool = False
    ) -> None:
        self.similarity = similarity
        self.allow_repeat = allow_repeat

    def fit(
        self,
        frame: pd.DataFrame,
        *,
        customer: str = "customer",
        item: str = "item",
        date: str = "date",
    ) -> Self:
        """Learn item similarities from the purchases in ``frame``; returns self."""
        if self.similarity not in SIMILARITIES:
            msg = f"similarity {self.similarity!r} is unknown: choose one of {', '.join(SIMILARITIES)}"
            raise InvalidInput(msg)
        history = purchase_history(frame, customer=customer, item=item, date=date)
        items, popularity, customers, bought = _matrix(history)
        self.items_ = items
        self.popularity_ = popularity
        self.customers_ = customers
        self.bought_ = bought
        self.similarity_ = _similarity(bought, self.similarity)
        return self

    def recommend(self, customer_ids: Iterable[Any], *, k: int = 5) -> pd.DataFrame:
        """The top ``k`` items for each customer, best first.

        Returns
        -------
        pandas.DataFrame
            ``customer``, ``rank`` (1 = best), ``item``, ``score`` (summed similarity
            for ``similar`` items; the share of customers who bought it for ``popular``
            ones) and ``source``. A customer gets fewer than ``k`` rows only when fewer
            items are left to recommend.
        """
        if not hasattr(self, "similarity_"):
            raise InvalidInput("the recommender is not fitted: call fit first")
        if k < 1:
            raise InvalidInput(f"k must be 1 or more, not {k}")
        wanted = pd.Index(list(customer_ids))
        rows = self.customers_.get_indexer(wanted)
        block = max(1, BLOCK_CELLS // max(len(self.items_), 1))
        parts = [
            self._block(wanted[start : start + block], rows[start : start + block], k)
            for start in range(0, len(wanted), block)
        ]
        if not parts:
            return pd.DataFrame(columns=["customer", "rank", "item", "score", "source"])
        return pd.concat(parts, ignore_index=True)

    def _block(
        self, wanted: pd.Index, rows: npt.NDArray[np.intp], k: int
    ) -> pd.DataFrame:
        known = rows >= 0
        history = sparse.csr_matrix((len(rows), len(self.items_)), dtype=np.float64)
        if known.any():
            mask = sparse.diags(known.astype(np.float64))
            history = mask @ self.bought_[np.where(known, rows, 0)]
        scores = np.asarray((history @ self.similarity_).todense(), dtype=np.float64)
        order_key = np.where(scores > 0, -scores, 0.0)
        if not self.allow_repeat:
            order_key[history.nonzero()] = np.inf
        top = np.argsort(order_key, axis=1, kind="stable")[:, :k]
        keep = np.take_along_axis(order_key, top, axis=1) < np.inf
        top_scores = np.take_along_axis(scores, top, axis=1)
        similar = top_scores > 0
        score = np.where(similar, top_scores, self.popularity_[top])
        n_rows, n_cols = top.shape
        frame = pd.DataFrame(
            {
                "customer": np.repeat(wanted.to_numpy(dtype=object), n_cols),
                "rank": np.tile(np.arange(1, n_cols + 1), n_rows),
                "item": self.items_[top.ravel()],
                "score": score.ravel(),
                "source": np.where(similar.ravel(), "similar", "popular"),
            }
        )
        return frame[keep.ravel()].reset_index(drop=True)


def _matrix(
    history: pd.DataFrame,
) -> tuple[npt.NDArray[Any], npt.NDArray[np.float64], pd.Index, sparse.csr_matrix]:
    """Items (most bought first), their popularity, customers and the 0/1 matrix."""
    customer_codes, customers = pd.factorize(history["customer"], sort=True)
    item_codes, items = pd.factorize(history["item"], sort=True)
    pairs = np.unique(np.column_stack([customer_codes, item_codes]), axis=0)
    buyers = np.bincount(pairs[:, 1], minlength=len(items))
    order = np.lexsort((np.arange(len(items)), -buyers))  # most bought, then by name
    position = np.empty_like(order)
    position[order] = np.arange(len(order))
    bought = sparse.csr_matrix(
        (np.ones(len(pairs)), (pairs[:, 0], position[pairs[:, 1]])),
        shape=(len(customers), len(items)),
    )
    popularity = buyers[order] / len(customers)
    return (
        np.asarray(items)[order],
        popularity.astype(np.float64),
        pd.Index(customers),
        bought,
    )


def _similarity(bought: sparse.csr_matrix, kind: str) -> sparse.csr_matrix:
    n_items = bought.shape[1]
    if kind == "popularity":
        return sparse.csr_matrix((n_items, n_items), dtype=np.float64)
    both = (bought.T @ bought).tocsr()
    both.setdiag(0)
    both.eliminate_zeros()
    buyers = np.asarray(bought.sum(axis=0), dtype=np.float64).ravel()
    if kind == "cosine":
        scale = 1 / np.sqrt(buyers)
        return sparse.csr_matrix(sparse.diags(scale) @ both @ sparse.diags(scale))
    scale = 1 / buyers
    lift = sparse.diags(scale) @ both @ sparse.diags(scale) * bought.shape[0]
    return sparse.csr_matrix(lift)


@dataclass(frozen=True)
class RecommendEvaluation:
    """Hit rate at k on a time split, for the recommender and the popularity baseline.

    ``n_customers`` counts the customers evaluated: those who bought before the split and
    bought at least one item after it that they had not bought before. ``hit_rate`` is
    the share of them for whom one of the top ``k`` is among those new items.
    ``n_new_customers`` bought only after the split (both methods give them the same
    popular items, so they are not counted).
    """

    split_date: str
    k: int
    similarity: str
    n_customers: int
    hit_rate: float
    baseline_hit_rate: float
    n_train_purchases: int
    n_test_purchases: int
    n_items: int
    n_new_customers: int

    def to_dict(self) -> dict[str, Any]:
        """Plain values for JSON."""
        return asdict(self)


def default_split(dates: pd.Series) -> pd.Timestamp:
    """The purchase date at 80 % of the purchases in time order."""
    ordered = np.sort(dates.to_numpy())
    return pd.Timestamp(ordered[int(TRAIN_SHARE * (len(ordered) - 1))])


def evaluate_hit_rate(
    frame: pd.DataFrame,
    *,
    customer: str,
    item: str,
    date: str,
    split_date: dt.date | dt.datetime | str | None = None,
    k: int = 5,
    similarity: str = "cosine",
) -> RecommendEvaluation:
    """Hit rate at ``k`` of recommendations made at ``split_date``.

    The recommender is fitted on the purchases before ``split_date`` (default: the date
    at 80 % of the purchases); it and the popularity baseline are then judged on what
    each customer bought, new to them, on or after it.
    """
    history = purchase_history(frame, customer=customer, item=item, date=date)
    split = (
        default_split(history["date"])
        if split_date is None
        else as_timestamp(split_date)
    )
    before = history[history["date"] < split]
    after = history[history["date"] >= split]
    if before.empty or after.empty:
        first, last = history["date"].min(), history["date"].max()
        msg = f"split date {split.date()} leaves no purchases on one side: purchases run from {first.date()} to {last.date()}"
        raise InvalidInput(msg)
    targets = _new_items(before, after)
    if targets.empty:
        msg = (
            f"no customer who bought before {split.date()} bought something new to them "
            "on or after it: choose another split date"
        )
        raise InvalidInput(msg)
    ours = _hits(ItemRecommender(similarity=similarity).fit(before), targets, k)
    baseline = _hits(ItemRecommender(similarity="popularity").fit(before), targets, k)
    return RecommendEvaluation(
        split_date=split.isoformat(),
        k=k,
        similarity=similarity,
        n_customers=int(targets["customer"].nunique()),
        hit_rate=ours,
        baseline_hit_rate=baseline,
        n_train_purchases=len(before),
        n_test_purchases=len(after),
        n_items=int(history["item"].nunique()),
        n_new_customers=int(
            after.loc[~after["customer"].isin(before["customer"]), "customer"].nunique()
        ),
    )


def _new_items(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """(customer, item) bought after the split by known customers, new to them."""
    pairs = after[["customer", "item"]].drop_duplicates()
    pairs = pairs[pairs["customer"].isin(before["customer"])]
    seen = before[["customer", "item"]].drop_duplicates().assign(seen=True)
    merged = pairs.merge(seen, on=["customer", "item"], how="left")
    return merged[merged["seen"].isna()][["customer", "item"]]


def _hits(model: ItemRecommender, targets: pd.DataFrame, k: int) -> float:
    customers = targets["customer"].drop_duplicates()
    picks = model.recommend(customers, k=k)[["customer", "item"]]
    hit = picks.merge(targets, on=["customer", "item"])["customer"].nunique()
    return hit / len(customers)
