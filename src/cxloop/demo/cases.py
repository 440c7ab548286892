"""Follow-up cases: detractors called back, complaints from calls, chats and reviews.

A case's status follows from its clocks: work that would finish after the last day of
the data is still open (new, in progress or waiting on the customer).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cxloop.demo import company as co
from cxloop.demo import timeline as tl
from cxloop.demo.contacts import Contacts
from cxloop.demo.feedback import Feedback
from cxloop.demo.people import Ints, Population, Strs


@dataclass(frozen=True)
class Route:
    team: str
    root_cause: str
    label: str
    resolutions: tuple[str, ...]


ROUTES: dict[str, Route] = {
    "delivery_late": Route(
        "物流配送組",
        "system",
        "配送延遲",
        (
            "致電致歉並補發 100 元購物金；已要求物流商改善轉運排班。",
            "確認包裹位置並安排隔日優先配送，另贈運費抵用券。",
        ),
    ),
    "staff_rude": Route(
        "門市營運組",
        "people",
        "門市服務態度",
        (
            "店長致電致歉，安排當班人員服務訓練。",
            "已與門市主管檢討排班與服務流程，並回覆顧客。",
        ),
    ),
    "price_rise": Route(
        "價格與會員組",
        "value",
        "價格調漲反映",
        (
            "說明調價原因並提供會員加碼點數。",
            "提供本月會員專屬折扣碼，並記錄顧客意見。",
        ),
    ),
    "app_login": Route(
        "數位服務組",
        "system",
        "App 登入問題",
        (
            "協助重設登入並改用 Email 驗證；已回報簡訊供應商。",
            "引導更新 App 版本後可正常登入。",
        ),
    ),
    "support_slow": Route(
        "客服中心",
        "people",
        "客服回應太慢",
        ("主管回電致歉並直接處理原問題。", "已調整尖峰時段人力並回覆顧客。"),
    ),
    "product_defect": Route(
        "客服中心",
        "value",
        "商品瑕疵",
        ("安排退換貨並補償運費。", "寄送替換品並回收瑕疵品。"),
    ),
    "neutral": Route(
        "客服中心",
        "value",
        "一般詢問",
        ("已回覆顧客問題。", "提供發票補寄與訂單查詢。"),
    ),
}


@dataclass(frozen=True)
class Sources:
    """What each case was opened about."""

    customer: Ints
    at: tl.Times
    channel: Strs
    touchpoint: Strs
    topic: Strs
    kind: Strs
    priority: Strs
    related: Strs
    description: Strs


def _from_feedback(rng: np.random.Generator, fb: Feedback, tier: Strs) -> Sources:
    f = fb.frame
    nps = f["nps"].fillna(10).to_numpy(dtype=np.int64)
    csat = f["csat"].fillna(5).to_numpy(dtype=np.int64)
    unhappy = ((nps <= 6) | (csat <= 2)) & np.isin(fb.topic, list(ROUTES))
    chosen = np.flatnonzero(unhappy & (rng.random(len(f)) < 0.2))
    r = fb.responses
    valued = np.isin(tier[r.customer[chosen]], ["鑽石", "金卡"]) & (nps[chosen] <= 4)
    urgent = (nps[chosen] <= 2) | (r.delivery_days[chosen] >= 7) | valued
    return Sources(
        customer=r.customer[chosen],
        at=r.at[chosen],
        channel=r.channel[chosen],
        touchpoint=r.touchpoint[chosen],
        topic=fb.topic[chosen],
        kind=np.where(valued, "at_risk", "detractor"),
        priority=np.where(urgent, "high", "normal"),
        related=f["response_id"].to_numpy(dtype=str)[chosen],
        description=f["comment"].to_numpy(dtype=str)[chosen],
    )


def _from_contacts(rng: np.random.Generator, c: Contacts) -> Sources:
    kind = c.frame["kind"].to_numpy(dtype=str)
    service = np.isin(kind, ["call", "chat", "ticket"])
    negative = np.isin(c.topic, list(ROUTES)) & (c.topic != "neutral")
    u = rng.random(len(kind))
    complaint = negative & ((service & (u < 0.1)) | ((kind == "review") & (u < 0.05)))
    request = service & (c.topic == "neutral") & (u < 0.03)
    chosen = np.flatnonzero(complaint | request)
    high = rng.random(len(chosen)) < 0.15
    return Sources(
        customer=c.customer[chosen],
        at=c.at[chosen],
        channel=c.frame["channel"].to_numpy(dtype=str)[chosen],
        touchpoint=c.frame["touchpoint"].to_numpy(dtype=str)[chosen],
        topic=c.topic[chosen],
        kind=np.where(complaint[chosen], "complaint", "request"),
        priority=np.where(request[chosen], "low", np.where(high, "high", "normal")),
        related=c.frame["interaction_id"].to_numpy(dtype=str)[chosen],
        description=c.frame["text"].to_numpy(dtype=str)[chosen],
    )


def _clocks(
    rng: np.random.Generator, opened: tl.Times, high: np.ndarray
) -> pd.DataFrame:
    """First response, resolution and closing times, contacts and handling time."""
    n = len(opened)
    speed = np.where(high, 0.5, 1.0)
    first = tl.later(opened, rng.lognormal(np.log(150), 1.0, n) * speed)
    stuck = np.where(rng.random(n) < 0.1, 20.0, 1.0)  # the backlog: parts on order...
    resolved = tl.later(first, rng.lognormal(np.log(2880), 1.3, n) * speed * stuck)
    closed = tl.later(resolved, rng.uniform(60, 4320, n))
    contacts = np.minimum(rng.geometric(0.62, n), 6)
    handling = np.rint(rng.lognormal(np.log(540), 0.5, n) * contacts).astype(np.int64)
    waiting = rng.random(n) < 0.3
    end = tl.LAST_MINUTE
    status = np.select(
        [first > end, resolved > end, closed > end],
        ["new", np.where(waiting, "waiting_on_customer", "in_progress"), "resolved"],
        "closed",
    )
    nat = np.datetime64("NaT", "m")
    return pd.DataFrame(
        {
            "status": status,
            "contacts": contacts,
            "handling_seconds": pd.Series(handling, dtype="Int64").mask(first > end),
            "first_response_at": tl.as_text(np.where(first > end, nat, first)),
            "resolved_at": tl.as_text(np.where(resolved > end, nat, resolved)),
            "closed_at": tl.as_text(np.where(closed > end, nat, closed)),
        }
    )


def _join(parts: list[Sources], rng: np.random.Generator) -> tuple[Sources, tl.Times]:
    joined = {
        name: np.concatenate([getattr(p, name) for p in parts])
        for name in Sources.__dataclass_fields__
    }
    opened = tl.later(joined["at"], rng.uniform(20, 36 * 60, len(joined["at"])))
    keep = np.flatnonzero(opened <= tl.LAST_MINUTE)
    order = keep[np.argsort(opened[keep], kind="stable")]
    return Sources(**{k: v[order] for k, v in joined.items()}), opened[order]


def _routing(rng: np.random.Generator, topic: Strs, status: Strs) -> pd.DataFrame:
    """Team and owner of each case; root cause and resolution once it is done."""
    routes = [ROUTES[t] for t in topic]
    pick = rng.integers(0, 1000, size=len(routes))
    owners = [
        co.TEAMS[r.team][k % len(co.TEAMS[r.team])]
        for r, k in zip(routes, pick, strict=True)
    ]
    answers = [
        r.resolutions[k % len(r.resolutions)] for r, k in zip(routes, pick, strict=True)
    ]
    done = np.isin(status, ["resolved", "closed"])
    return pd.DataFrame(
        {
            "team": [r.team for r in routes],
            "owner": np.where(status == "new", "", owners),
            "root_cause": np.where(done, [r.root_cause for r in routes], ""),
            "resolution": np.where(done, answers, ""),
        }
    )


def make_cases(
    rng: np.random.Generator, people: Population, fb: Feedback, contacts: Contacts
) -> pd.DataFrame:
    """The cases frame, ids ``CS000001``... in the order they were opened."""
    parts = [_from_feedback(rng, fb, people.tier), _from_contacts(rng, contacts)]
    s, opened = _join(parts, rng)
    clocks = _clocks(rng, opened, s.priority == "high")
    status = clocks["status"].to_numpy(dtype=str)
    routing = _routing(rng, s.topic, status)
    labels = [ROUTES[t].label for t in s.topic]
    frame = pd.DataFrame(
        {
            "case_id": [f"CS{i + 1:06d}" for i in range(len(opened))],
            "customer_id": people.ids[s.customer],
            "opened_at": tl.as_text(opened),
            "title": [f"{a}：{b}" for a, b in zip(labels, s.touchpoint, strict=True)],
            "description": s.description,
            "status": status,
            "priority": s.priority,
            "kind": s.kind,
        }
    )
    frame = pd.concat([frame, routing], axis=1)
    frame["channel"] = s.channel
    frame["touchpoint"] = s.touchpoint
    frame = pd.concat([frame, clocks.drop(columns="status")], axis=1)
    frame["related_id"] = s.related
    return frame
