"""Survey responses (NPS, CSAT, CES and a comment) with the planted patterns.

Each response has a hidden satisfaction ``s`` (standard normal plus effects); the scores
and the comment follow from it. The effects are the planted patterns of docs/en/demo.md:
late home deliveries, the store with rude staff, the month of the price rise and the new
app login. The relationship survey goes to customers a few days after another response,
and its answer remembers the peak and the end of the customer's recent touchpoints
(pattern 6, peak-end).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from cxloop.demo import company as co
from cxloop.demo import texts
from cxloop.demo import timeline as tl
from cxloop.demo.people import Ints, Population, Strs
from cxloop.demo.sales import Orders
from cxloop.domain.peak_end import WINDOW_DAYS, journey_moments, touchpoint_scores

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

#: Survey programmes and their share of responses.
SURVEYS: tuple[tuple[str, float], ...] = (
    ("delivery", 0.30),
    ("store_visit", 0.30),
    ("digital", 0.15),
    ("support", 0.12),
    ("relationship", 0.13),
)

#: Share of responses of each survey that answer NPS, CSAT and CES.
ASKED: dict[str, tuple[float, float, float]] = {
    "delivery": (0.95, 0.80, 0.0),
    "store_visit": (0.90, 0.95, 0.0),
    "digital": (0.30, 0.60, 1.0),
    "support": (0.20, 1.00, 0.8),
    "relationship": (1.00, 0.40, 0.0),
}

# Effects on the hidden satisfaction (in standard deviations) and on effort.
LATE_EFFECT = -1.2
RUDE_EFFECT = -1.0
PRICE_EFFECT = -0.75
LOGIN_EFFECT = -0.5
LOGIN_EFFORT = 1.5
TIER_EFFECT = {"鑽石": 0.3, "金卡": 0.15, "銀卡": 0.05, "一般": 0.0}
#: Weight of the remembered peak and end in a relationship answer's satisfaction
#: (the rest of its noise is scaled down to keep the variance).
MEMORY_WEIGHT = 0.75
#: The relationship survey arrives this many days (uniform) after the response it follows.
RELATIONSHIP_DELAY_DAYS = (1.0, 21.0)

#: Comment topics when no planted pattern speaks, by survey and tone.
BACKGROUND: dict[str, dict[str, tuple[str, ...]]] = {
    "delivery": {
        "pos": ("delivery_fast", "delivery_fast", "product_good"),
        "neutral": ("neutral", "product_good"),
        "neg": ("product_defect", "support_slow"),
    },
    "store_visit": {
        "pos": ("staff_friendly", "staff_friendly", "product_good"),
        "neutral": ("neutral",),
        "neg": ("product_defect", "neutral"),
    },
    "digital": {
        "pos": ("app_easy", "app_easy", "product_good"),
        "neutral": ("neutral", "app_easy"),
        "neg": ("product_defect", "support_slow", "app_login"),
    },
    "support": {
        "pos": ("support_good",),
        "neutral": ("neutral", "support_good"),
        "neg": ("support_slow", "product_defect"),
    },
    "relationship": {
        "pos": ("product_good", "staff_friendly", "delivery_fast", "app_easy"),
        "neutral": ("neutral",),
        "neg": ("product_defect", "support_slow", "delivery_late"),
    },
}


@dataclass(frozen=True)
class Responses:
    """Survey responses before scoring; one array entry per response."""

    survey: Strs
    customer: Ints
    at: tl.Times
    channel: Strs
    touchpoint: Strs
    stage: Strs
    product: Strs
    order_id: Strs
    delivery_days: Ints


def _after_orders(
    rng: np.random.Generator, orders: Orders, survey: str, n: int
) -> Responses:
    online = survey == "delivery"
    pool = np.flatnonzero((orders.channel != "store") == online)
    chosen = np.sort(rng.choice(pool, size=min(n, len(pool)), replace=False))
    days = orders.delivery_days[chosen]
    if online:  # after the parcel arrives
        wait = days * 1440 + rng.uniform(120, 2880, len(chosen))
    else:  # after the store visit
        wait = rng.uniform(30, 1800, len(chosen))
    at = tl.later(orders.at[chosen], wait)
    return Responses(
        survey=np.full(len(chosen), survey),
        customer=orders.customer[chosen],
        at=at,
        channel=orders.channel[chosen],
        touchpoint=orders.fulfilment[chosen] if online else orders.touchpoint[chosen],
        stage=np.full(len(chosen), "delivery" if online else "purchase"),
        product=orders.product[chosen],
        order_id=orders.ids[chosen],
        delivery_days=days,
    )


def _standalone(
    rng: np.random.Generator, people: Population, survey: str, n: int
) -> Responses:
    u = rng.random(n)
    if survey == "digital":
        at = tl.sample_times(rng, n, "online")
        channel = np.where(u < 0.65, "app", "web")
        touchpoint = np.where(u < 0.65, co.APP, co.WEB_SHOP)
        stage = np.where(rng.random(n) < 0.6, "purchase", "use")
    elif survey == "support":
        at = tl.sample_times(rng, n, "office")
        channel = np.where(u < 0.45, "phone", np.where(u < 0.85, "chat", "email"))
        chat = np.where(rng.random(n) < 0.6, co.LIVE_CHAT, co.LINE_CHAT)
        touchpoint = np.where(
            u < 0.45, co.CALL_CENTRE, np.where(u < 0.85, chat, co.SERVICE_MAIL)
        )
        stage = np.full(n, "support")
    else:
        msg = f"{survey} responses are not standalone"
        raise ValueError(msg)
    products = np.array([p.name for p in co.PRODUCTS])
    return Responses(
        survey=np.full(n, survey),
        customer=people.pick(rng, n),
        at=at,
        channel=channel,
        touchpoint=touchpoint,
        stage=stage,
        product=products[rng.integers(0, len(products), n)],
        order_id=np.full(n, ""),
        delivery_days=np.zeros(n, dtype=np.int64),
    )


def _relational(rng: np.random.Generator, others: list[Responses], n: int) -> Responses:
    """Relationship surveys, each sent a few days after another response."""
    customer = np.concatenate([p.customer for p in others])
    at = np.concatenate([p.at for p in others])
    anchor = rng.integers(0, len(at), n)
    low, high = RELATIONSHIP_DELAY_DAYS
    products = np.array([p.name for p in co.PRODUCTS])
    return Responses(
        survey=np.full(n, "relationship"),
        customer=customer[anchor],
        at=tl.later(at[anchor], rng.uniform(low * 1440, high * 1440, n)),
        channel=np.full(n, "email"),
        touchpoint=np.full(n, co.MEMBER_SURVEY),
        stage=np.full(n, "use"),
        product=products[rng.integers(0, len(products), n)],
        order_id=np.full(n, ""),
        delivery_days=np.zeros(n, dtype=np.int64),
    )


def _concat(parts: list[Responses]) -> Responses:
    joined = {
        name: np.concatenate([getattr(p, name) for p in parts])
        for name in Responses.__dataclass_fields__
    }
    at = joined["at"]
    keep = at <= tl.LAST_MINUTE
    order = np.argsort(np.where(keep, at, tl.LAST_MINUTE), kind="stable")[
        : int(keep.sum())
    ]
    return Responses(**{name: values[order] for name, values in joined.items()})


@dataclass(frozen=True)
class Drivers:
    """Which planted pattern touches each response."""

    late: Bools
    rude: Bools
    price: Bools
    login: Bools


def drivers_of(r: Responses) -> Drivers:
    """The planted-pattern flags of each response."""
    return Drivers(
        late=(r.survey == "delivery") & (r.delivery_days > co.LATE_AFTER_DAYS),
        rude=r.touchpoint == co.RUDE_STORE,
        price=tl.months(r.at) == co.PRICE_CHANGE_MONTH,
        login=(r.survey == "digital")
        & (r.channel == "app")
        & tl.on_or_after(r.at, co.APP_LOGIN_ISSUE_FROM),
    )


@dataclass(frozen=True)
class Hidden:
    """The hidden satisfaction of each response: planted effects plus noise."""

    effect: Floats
    noise: Floats

    @property
    def total(self) -> Floats:
        """The satisfaction the scores and comments follow."""
        return np.asarray(self.effect + self.noise)


def satisfaction(
    rng: np.random.Generator, r: Responses, d: Drivers, tier: Strs
) -> Hidden:
    """The hidden satisfaction of each response."""
    month_index = r.at.astype("datetime64[M]") - tl.FIRST_DAY.astype("datetime64[M]")
    drift = rng.normal(0.0, 0.06, size=24)[month_index.astype(np.int64).clip(0, 23)]
    tiers = np.array([TIER_EFFECT[t] for t in tier])
    effects = (
        LATE_EFFECT * d.late
        + RUDE_EFFECT * d.rude
        + PRICE_EFFECT * d.price
        + LOGIN_EFFECT * d.login
        - 0.2 * (r.survey == "support")
    )
    noise = rng.normal(0.0, 1.0, len(r.at))
    return Hidden(effect=np.asarray(drift + tiers + effects), noise=noise)


@dataclass(frozen=True)
class ScoreNoise:
    """The random part of scoring: CSAT and effort noise, which questions are asked."""

    csat: Floats
    effort: Floats
    asked: Bools


def score_noise(rng: np.random.Generator, r: Responses) -> ScoreNoise:
    """Draw the noise of :func:`scores` (kept apart so that scores can be redone)."""
    n = len(r.at)
    csat = rng.normal(0, 0.35, n)
    effort = rng.normal(0, 0.6, n)
    asked = np.array([ASKED[k] for k in r.survey]) > rng.random((n, 3))
    asked[:, 0] |= ~asked.any(axis=1)
    return ScoreNoise(csat=csat, effort=effort, asked=asked)


def scores(s: Floats, d: Drivers, noise: ScoreNoise) -> pd.DataFrame:
    """NPS 0-10, CSAT 1-5 and CES 1-7 (1 = easy), each asked only on some surveys."""
    nps = np.clip(np.rint(8.1 + 1.9 * s), 0, 10)
    csat = np.clip(np.rint(3.9 + 0.95 * s + noise.csat), 1, 5)
    effort = 2.7 - 0.7 * s + noise.effort + LOGIN_EFFORT * d.login
    ces = np.clip(np.rint(effort), 1, 7)
    frame = pd.DataFrame({"nps": nps, "csat": csat, "ces": ces}).astype("Int64")
    return frame.mask(~noise.asked)


def remembered(r: Responses, hidden: Hidden, answers: pd.DataFrame) -> Floats:
    """Satisfaction with relationship answers that follow the peak and the end.

    A relationship answer's journey is the customer's other scored responses in the
    :data:`~cxloop.domain.peak_end.WINDOW_DAYS` before it (the definition
    ``cxloop journey peak-end`` uses). Where there is one, the answer's satisfaction
    is its planted effects plus :data:`MEMORY_WEIGHT` times the standardised mean of
    the journey's peak and end, plus the rest of its noise.
    """
    s = hidden.total
    journey, rows = _journeys(r, answers)
    if not len(journey):
        return s
    score = touchpoint_scores(
        *(
            answers[m].to_numpy("float64", na_value=np.nan)[rows]
            for m in ("nps", "csat", "ces")
        )
    )
    moments = journey_moments(journey, score)
    memory = moments.peak_end
    z = (memory - memory.mean()) / max(float(memory.std()), 1e-9)
    who = moments.journey
    rest = np.sqrt(1.0 - MEMORY_WEIGHT**2)
    s = s.copy()
    s[who] = hidden.effect[who] + rest * hidden.noise[who] + MEMORY_WEIGHT * z
    return s


def _journeys(r: Responses, answers: pd.DataFrame) -> tuple[Ints, Ints]:
    """(relationship row, touchpoint row) pairs in the window, in time order."""
    relational = np.flatnonzero(r.survey == "relationship")
    scored = np.flatnonzero((r.survey != "relationship") & answers.notna().any(axis=1))
    left = pd.DataFrame({"rel": relational, "customer": r.customer[relational]})
    right = pd.DataFrame({"row": scored, "customer": r.customer[scored]})
    pairs = left.merge(right, on="customer")
    gap = r.at[pairs["rel"].to_numpy()] - r.at[pairs["row"].to_numpy()]
    window = np.timedelta64(WINDOW_DAYS, "D").astype("m8[m]")
    inside = (gap > np.timedelta64(0, "m")) & (gap <= window)
    pairs = pairs[inside].sort_values(["rel", "row"])
    return pairs["rel"].to_numpy(np.int64), pairs["row"].to_numpy(np.int64)


def tones(s: Floats) -> Strs:
    """``neg``, ``neutral`` or ``pos`` from the hidden satisfaction."""
    return np.where(s < -0.8, "neg", np.where(s > 0.5, "pos", "neutral"))


def _topic(
    rng: np.random.Generator, survey: str, tone: str, flags: tuple[bool, ...]
) -> str:
    late, rude, price, login = flags
    u = rng.random()
    if tone != "pos":
        if late and u < 0.8:
            return "delivery_late"
        if rude and u < 0.75:
            return "staff_rude"
        if price and u < 0.6:
            return "price_rise"
        if login and u < 0.75:
            return "app_login"
    options = BACKGROUND[survey][tone]
    return options[int(rng.integers(len(options)))]


def comments(
    rng: np.random.Generator, r: Responses, d: Drivers, s: Floats, people: Population
) -> tuple[list[str], list[str]]:
    """The comment of each response (empty for about a third) and its topic."""
    tone = tones(s)
    blank = rng.random(len(s)) < np.select(
        [tone == "neg", tone == "pos"], [0.2, 0.45], 0.35
    )
    stores = np.array([st.name for st in co.STORES])
    home = stores[people.home_store[r.customer]]
    store = np.where(
        np.char.endswith(r.touchpoint.astype(str), "店"), r.touchpoint, home
    )
    language = texts.pick_languages(rng, people.language[r.customer])
    text, topic = [], []
    for i in range(len(s)):
        if blank[i]:
            text.append("")
            topic.append("")
            continue
        flags = (bool(d.late[i]), bool(d.rude[i]), bool(d.price[i]), bool(d.login[i]))
        t = _topic(rng, str(r.survey[i]), str(tone[i]), flags)
        topic.append(t)
        text.append(
            texts.sentence(
                rng,
                t,
                str(language[i]),
                days=int(r.delivery_days[i]),
                store=str(store[i]),
                product=str(r.product[i]),
            )
        )
    return text, topic


@dataclass(frozen=True)
class Feedback:
    """The feedback frame and what the cases stage needs to know about each row."""

    frame: pd.DataFrame
    responses: Responses
    topic: Strs
    satisfaction: Floats


def make_feedback(
    rng: np.random.Generator, people: Population, orders: Orders, n: int
) -> Feedback:
    """About ``n`` survey responses in time order, ids ``S0000001``..."""
    names = [name for name, _ in SURVEYS]
    counts = dict(
        zip(names, rng.multinomial(n, [share for _, share in SURVEYS]), strict=True)
    )
    parts = [
        _after_orders(rng, orders, name, int(counts[name]))
        if name in ("delivery", "store_visit")
        else _standalone(rng, people, name, int(counts[name]))
        for name in names
        if name != "relationship"
    ]
    parts.append(_relational(rng, parts, int(counts["relationship"])))
    r = _concat(parts)
    d = drivers_of(r)
    hidden = satisfaction(rng, r, d, people.tier[r.customer])
    noise = score_noise(rng, r)
    s = remembered(r, hidden, scores(hidden.total, d, noise))
    answers = scores(s, d, noise)
    text, topic = comments(rng, r, d, s, people)
    frame = pd.DataFrame(
        {
            "response_id": [f"S{i + 1:07d}" for i in range(len(s))],
            "customer_id": people.ids[r.customer],
            "submitted_at": tl.as_text(r.at),
            "channel": r.channel,
            "touchpoint": r.touchpoint,
            "journey_stage": r.stage,
            "nps": answers["nps"],
            "csat": answers["csat"],
            "ces": answers["ces"],
            "comment": text,
            "survey": r.survey,
            "order_id": r.order_id,
            "delivery_days": pd.array(
                np.where(r.survey == "delivery", r.delivery_days, -1), dtype="Int64"
            ),
        }
    )
    frame["delivery_days"] = frame["delivery_days"].mask(frame["delivery_days"] < 0)
    return Feedback(frame, r, np.array(topic), s)
