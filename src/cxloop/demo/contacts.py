"""Interactions that are not survey answers: visits, calls, chats, e-mails, reviews, posts.

Their texts carry the same planted patterns as the survey comments: calls and chats about
the new app login from APP_LOGIN_ISSUE_FROM on, posts about the price rise in its month,
reviews about the staff of RUDE_STORE.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import numpy as np
import pandas as pd

from cxloop.demo import company as co
from cxloop.demo import texts
from cxloop.demo import timeline as tl
from cxloop.demo.people import Ints, Population, Strs

KINDS: tuple[tuple[str, float], ...] = (
    ("visit", 0.35),
    ("call", 0.16),
    ("chat", 0.18),
    ("ticket", 0.08),
    ("review", 0.12),
    ("social_post", 0.11),
)

SERVICE_TOPICS = {
    "neutral": 0.30, "delivery_late": 0.22, "product_defect": 0.18,
    "support_good": 0.08, "support_slow": 0.06, "app_login": 0.04, "price_rise": 0.02,
}  # fmt: skip
REVIEW_TOPICS = {
    "staff_friendly": 0.35, "product_good": 0.22, "neutral": 0.20,
    "product_defect": 0.10, "staff_rude": 0.03,
}  # fmt: skip
SOCIAL_TOPICS = {
    "product_good": 0.30, "neutral": 0.20, "delivery_fast": 0.10, "app_easy": 0.10,
    "product_defect": 0.10, "delivery_late": 0.10,
}  # fmt: skip


@dataclass(frozen=True)
class Contacts:
    """The interactions frame and the topic of each row ("" for visits)."""

    frame: pd.DataFrame
    customer: Ints
    at: tl.Times
    topic: Strs


def _weights(kind: str, price: bool, login: bool, rude: bool) -> dict[str, float]:
    """Topic weights of one kind of contact under the planted patterns."""
    table = {"review": REVIEW_TOPICS, "social_post": SOCIAL_TOPICS}
    weights = dict(table.get(kind, SERVICE_TOPICS))
    if price:
        weights["price_rise"] = weights.get("price_rise", 0.0) + 0.5
    if login and kind != "review":
        weights["app_login"] = weights.get("app_login", 0.0) + 0.3
    if rude:
        weights["staff_rude"] = weights.get("staff_rude", 0.0) + 0.7
    return weights


def _topics(rng: np.random.Generator, kind: Strs, at: tl.Times, store: Strs) -> Strs:
    price = tl.months(at) == co.PRICE_CHANGE_MONTH
    login = tl.on_or_after(at, co.APP_LOGIN_ISSUE_FROM)
    rude = (kind == "review") & (store == co.RUDE_STORE)
    topic = np.full(len(kind), "", dtype=object)
    flags = (False, True)
    for (name, _), p, g, r in product(KINDS[1:], flags, flags, flags):
        rows = np.flatnonzero(
            (kind == name) & (price == p) & (login == g) & (rude == r)
        )
        if len(rows):
            weights = _weights(name, p, g, r)
            w = np.array(list(weights.values()))
            topic[rows] = rng.choice(list(weights), size=len(rows), p=w / w.sum())
    return topic.astype(str)


def _places(
    rng: np.random.Generator, kind: Strs, home: Ints
) -> tuple[Strs, Strs, Strs]:
    """Channel, touchpoint and journey stage of each contact."""
    n = len(kind)
    u = rng.random(n)
    stores = np.array([s.name for s in co.STORES])
    other = rng.integers(0, len(stores), n)
    store = stores[np.where(rng.random(n) < 0.85, home, other)]
    in_store = u < 0.6
    online = np.where(u < 0.8, "web", "app")
    chat_tp = np.where(u < 0.6, co.LIVE_CHAT, co.LINE_CHAT)
    social = np.array(co.SOCIAL_PAGES)[rng.integers(0, len(co.SOCIAL_PAGES), n)]
    visit_tp = np.where(in_store, store, np.where(online == "app", co.APP, co.WEB_SHOP))
    visit_stage = np.where(rng.random(n) < 0.55, "discover", "evaluate")
    table = {
        "visit": (np.where(in_store, "store", online), visit_tp, visit_stage),
        "call": ("phone", co.CALL_CENTRE, "support"),
        "chat": ("chat", chat_tp, "support"),
        "ticket": ("email", co.SERVICE_MAIL, "support"),
        "review": ("review_site", store, "purchase"),
        "social_post": ("social", social, "use"),
    }
    channel, touchpoint, stage = (np.full(n, "", dtype=object) for _ in range(3))
    for name, (c, t, s) in table.items():
        rows = kind == name
        for target, value in ((channel, c), (touchpoint, t), (stage, s)):
            target[rows] = value[rows] if isinstance(value, np.ndarray) else value
    return channel.astype(str), touchpoint.astype(str), stage.astype(str)


def _ratings(rng: np.random.Generator, kind: Strs, topic: Strs) -> pd.Series:
    negative = np.isin(topic, list(texts.NEGATIVE_TOPICS))
    stars = np.where(
        negative,
        rng.choice([1, 2, 3], len(kind), p=[0.5, 0.4, 0.1]),
        np.where(topic == "neutral", 3, rng.choice([4, 5], len(kind), p=[0.4, 0.6])),
    )
    return pd.Series(stars, dtype="Int64").mask(kind != "review")


def _durations(rng: np.random.Generator, kind: Strs) -> pd.Series:
    seconds = np.rint(rng.lognormal(np.log(360), 0.6, len(kind))).astype(np.int64)
    return pd.Series(seconds, dtype="Int64").mask(~np.isin(kind, ["call", "chat"]))


def _texts(
    rng: np.random.Generator, kind: Strs, topic: Strs, store: Strs, language: Strs
) -> list[str]:
    products = [item.name for item in co.PRODUCTS]
    out = []
    for i in range(len(kind)):
        if kind[i] == "visit":
            out.append("")
            continue
        lang = texts.resolve_language(str(topic[i]), str(language[i]))
        body = texts.sentence(
            rng,
            str(topic[i]),
            lang,
            days=int(rng.integers(co.LATE_AFTER_DAYS + 1, 10)),
            store=str(store[i]),
            product=products[int(rng.integers(len(products)))],
        )
        out.append(texts.framed(str(kind[i]), lang, body))
    return out


def make_interactions(rng: np.random.Generator, people: Population, n: int) -> Contacts:
    """``n`` interactions in time order, ids ``I0000001``..."""
    names = np.array([k for k, _ in KINDS])
    p = np.array([w for _, w in KINDS])
    kind = names[rng.choice(len(names), size=n, p=p / p.sum())]
    customer = people.pick(rng, n)
    at = tl.sample_times(rng, n, "online")
    staffed = np.isin(kind, ["call"])
    at[staffed] = tl.sample_times(rng, int(staffed.sum()), "office")
    order = np.argsort(at, kind="stable")
    kind, customer, at = kind[order], customer[order], at[order]
    channel, touchpoint, stage = _places(rng, kind, people.home_store[customer])
    topic = _topics(rng, kind, at, touchpoint)
    language = texts.pick_languages(rng, people.language[customer])
    frame = pd.DataFrame(
        {
            "interaction_id": [f"I{i + 1:07d}" for i in range(n)],
            "customer_id": people.ids[customer],
            "social_handle": np.where(
                kind == "social_post", people.social[customer], ""
            ),
            "occurred_at": tl.as_text(at),
            "kind": kind,
            "channel": channel,
            "touchpoint": touchpoint,
            "journey_stage": stage,
            "text": _texts(rng, kind, topic, touchpoint, language),
            "rating": _ratings(rng, kind, topic),
            "duration_seconds": _durations(rng, kind),
        }
    )
    return Contacts(frame, customer, at, np.where(kind == "visit", "", topic))
