"""Purchases and refunds of the demo company, with home deliveries and their delays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from cxloop.demo import company as co
from cxloop.demo import timeline as tl
from cxloop.demo.people import Ints, Population, Strs

PAYMENTS = ("信用卡", "LINE Pay", "街口支付", "現金", "Apple Pay")
PRICE_CHANGE_DAY = np.datetime64(f"{co.PRICE_CHANGE_MONTH}-01", "m")


@dataclass(frozen=True)
class Orders:
    """The purchases (not the refunds), for the surveys that follow them."""

    ids: Strs
    customer: Ints
    at: tl.Times
    channel: Strs
    touchpoint: Strs
    product: Strs
    fulfilment: Strs
    delivery_days: Ints  # 0 for store purchases


def _channels(rng: np.random.Generator, at: tl.Times) -> Strs:
    """Store, web or app; the app gains share over the two years."""
    progress = (at - tl.FIRST_DAY).astype("m8[D]").astype(np.float64) / tl.N_DAYS
    app = 0.12 + 0.16 * progress
    web = np.full(len(at), 0.28)
    u = rng.random(len(at))
    return np.where(u < app, "app", np.where(u < app + web, "web", "store"))


def _stores(rng: np.random.Generator, home: Ints) -> Ints:
    """Mostly the customer's home store, sometimes any store."""
    weights = np.array([s.weight for s in co.STORES])
    elsewhere = rng.choice(len(co.STORES), size=len(home), p=weights / weights.sum())
    return np.where(rng.random(len(home)) < 0.85, home, elsewhere)


def _deliveries(
    rng: np.random.Generator, at: tl.Times, online: npt.NDArray[np.bool_]
) -> tuple[Strs, Ints]:
    """Fulfilment and delivery days; home deliveries run late more often in peak months."""
    n = len(at)
    home = rng.random(n) < 0.75
    peak = np.isin(at.astype("datetime64[M]").astype(np.int64) % 12 + 1, (1, 11, 12))
    late = rng.random(n) < np.where(home, np.where(peak, 0.30, 0.16), 0.06)
    on_time = np.where(home, rng.choice([1, 2, 3], n, p=[0.35, 0.45, 0.20]), 0)
    on_time = np.where(home, on_time, rng.choice([2, 3], n, p=[0.6, 0.4]))
    days = np.where(late, rng.integers(co.LATE_AFTER_DAYS + 1, 10, size=n), on_time)
    fulfilment = np.where(home, co.HOME_DELIVERY, co.STORE_PICKUP)
    return np.where(online, fulfilment, ""), np.where(online, days, 0)


def _products(rng: np.random.Generator, customer: Ints) -> Ints:
    """Product of each order: often from the customer's favourite category.

    Each customer favours one category (``TASTE`` of their orders come from it), so
    that what a customer bought says something about what they will buy next.
    """
    weights = np.array([p.weight for p in co.PRODUCTS])
    product = rng.choice(
        len(co.PRODUCTS), size=len(customer), p=weights / weights.sum()
    )
    categories = sorted({p.category for p in co.PRODUCTS})
    favourite = customer % len(categories)
    loyal = rng.random(len(customer)) < co.TASTE
    for number, category in enumerate(categories):
        orders = np.flatnonzero(loyal & (favourite == number))
        own = [i for i, p in enumerate(co.PRODUCTS) if p.category == category]
        w = weights[own] / weights[own].sum()
        product[orders] = np.asarray(own)[rng.choice(len(own), size=len(orders), p=w)]
    return product


def _lapsed(
    rng: np.random.Generator, customer: Ints, at: tl.Times, late: npt.NDArray[np.bool_]
) -> npt.NDArray[np.bool_]:
    """Orders never placed: a share of customers stop buying after a late delivery."""
    frame = pd.DataFrame({"customer": customer, "at": at})
    first_late = frame[late].groupby("customer")["at"].min()
    leaving = first_late[rng.random(len(first_late)) < co.LAPSE_AFTER_LATE]
    cut = frame["customer"].map(leaving)
    return (cut.notna() & (frame["at"] > cut)).to_numpy()


def make_orders(rng: np.random.Generator, people: Population, n: int) -> Orders:
    """About ``n`` purchases in time order, ids ``T0000001``...

    Some customers stop buying after a late home delivery (``LAPSE_AFTER_LATE``): the
    churn that the churn-risk model must find. More orders are drawn to make up for
    the ones they never place.
    """
    customer = people.pick(rng, n)
    at = np.sort(tl.sample_times(rng, n, "online"))
    channel = _channels(rng, at)
    in_store = channel == "store"
    store_at = np.sort(tl.sample_times(rng, int(in_store.sum()), "store", weekend=1.4))
    at[in_store] = store_at
    order = np.argsort(at, kind="stable")
    at, channel, customer = at[order], channel[order], customer[order]
    in_store = channel == "store"
    store_names = np.array([s.name for s in co.STORES])
    touchpoint = np.where(
        in_store,
        store_names[_stores(rng, people.home_store[customer])],
        np.where(channel == "app", co.APP, co.WEB_SHOP),
    )
    fulfilment, days = _deliveries(rng, at, ~in_store)
    product = _products(rng, customer)
    names = np.array([p.name for p in co.PRODUCTS])
    late = (days > co.LATE_AFTER_DAYS) & (fulfilment == co.HOME_DELIVERY)
    kept = ~_lapsed(rng, customer, at, late)
    return Orders(
        ids=np.array([f"T{i + 1:07d}" for i in range(int(kept.sum()))]),
        customer=customer[kept],
        at=at[kept],
        channel=channel[kept],
        touchpoint=touchpoint[kept],
        product=names[product][kept],
        fulfilment=fulfilment[kept],
        delivery_days=days[kept],
    )


def make_transactions(
    rng: np.random.Generator, people: Population, orders: Orders
) -> pd.DataFrame:
    """The transactions frame: every purchase, then refunds of about 3 % of them.

    A refund has kind ``refund``, a negative amount and the id of its purchase in
    ``refund_of``, so that the sum of ``amount`` is net sales. Prices rise by ``PRICE_RISE`` from the first day of ``PRICE_CHANGE_MONTH``; goods
    under NT$1,000 are bought one to three at a time.
    """
    n = len(orders.ids)
    names = [p.name for p in co.PRODUCTS]
    product = np.array([names.index(p) for p in orders.product])
    price = np.array([p.price for p in co.PRODUCTS], dtype=np.float64)[product]
    price = np.where(orders.at >= PRICE_CHANGE_DAY, price * (1 + co.PRICE_RISE), price)
    quantity = np.where(price < 1000, rng.choice([1, 2, 3], n, p=[0.6, 0.3, 0.1]), 1)
    amount = (np.rint(price / 10) * 10).astype(np.int64) * quantity
    purchases = pd.DataFrame(
        {
            "transaction_id": orders.ids,
            "customer_id": people.ids[orders.customer],
            "occurred_at": tl.as_text(orders.at),
            "amount": amount,
            "currency": "TWD",
            "kind": "purchase",
            "channel": orders.channel,
            "touchpoint": orders.touchpoint,
            "product": orders.product,
            "quantity": quantity,
            "payment": rng.choice(PAYMENTS, size=n, p=[0.45, 0.2, 0.1, 0.15, 0.1]),
            "refund_of": "",
        }
    )
    return pd.concat([purchases, _refunds(rng, purchases, orders)], ignore_index=True)


def _refunds(
    rng: np.random.Generator, purchases: pd.DataFrame, orders: Orders
) -> pd.DataFrame:
    late = orders.delivery_days > co.LATE_AFTER_DAYS
    chosen = np.flatnonzero(rng.random(len(purchases)) < np.where(late, 0.08, 0.025))
    at = tl.later(orders.at[chosen], rng.uniform(2 * 1440, 20 * 1440, len(chosen)))
    keep = at <= tl.LAST_MINUTE
    chosen, at = chosen[keep], at[keep]
    refunds = purchases.iloc[chosen].copy()
    refunds["refund_of"] = refunds["transaction_id"]
    refunds["transaction_id"] = [f"RF{i + 1:07d}" for i in range(len(chosen))]
    refunds["occurred_at"] = tl.as_text(at)
    refunds["kind"] = "refund"
    refunds["amount"] = -refunds["amount"]  # money going back: net sales add up
    return refunds
