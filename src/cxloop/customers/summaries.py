"""Customer base at a glance: the value pyramid, RFM segments and behaviour clusters.

Each function reads the profiles that ``cxloop customers score`` wrote and returns a
small DataFrame for the dashboard, the CLI and the API.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import func, select

from cxloop.analytics.rfm import RFM_SEGMENTS
from cxloop.analytics.value_tiers import TIERS, tier_name
from cxloop.config import Settings
from cxloop.store.engine import engine_for
from cxloop.store.tables import Customer, CustomerProfile

_LIVE = Customer.merged_into_id.is_(None)


def _read(settings: Settings, query: object, columns: list[str]) -> pd.DataFrame:
    with engine_for(settings.database_url).connect() as connection:
        rows = connection.execute(query).all()  # type: ignore[call-overload]
    return pd.DataFrame(rows, columns=columns)


def value_pyramid(*, settings: Settings, language: str = "en") -> pd.DataFrame:
    """Customers, revenue and CLV per value tier, from the top down (every tier shown)."""
    query = (
        select(
            CustomerProfile.value_tier,
            func.count(),
            func.sum(CustomerProfile.revenue),
            func.sum(CustomerProfile.clv),
            func.avg(CustomerProfile.churn_risk),
        )
        .join(Customer, Customer.id == CustomerProfile.customer_id)
        .where(_LIVE)
        .group_by(CustomerProfile.value_tier)
    )
    columns = ["tier", "customers", "revenue", "clv", "churn_risk"]
    frame = _read(settings, query, columns).set_index("tier").reindex(list(TIERS))
    frame[["customers", "revenue", "clv"]] = frame[
        ["customers", "revenue", "clv"]
    ].fillna(0)
    frame["customers"] = frame["customers"].astype("int64")
    frame["customer_share"] = _share(frame["customers"])
    frame["revenue_share"] = _share(frame["revenue"])
    frame["name"] = [tier_name(tier, language) for tier in frame.index]
    return frame.reset_index()


def _share(values: pd.Series) -> pd.Series:
    total = float(values.sum())
    return values / total if total else values * 0.0


def rfm_overview(*, settings: Settings, language: str = "en") -> pd.DataFrame:
    """Customers, revenue, mean recency and churn risk per named RFM segment."""
    query = (
        select(
            CustomerProfile.rfm_segment,
            func.count(),
            func.sum(CustomerProfile.revenue),
            func.avg(CustomerProfile.recency_days),
            func.avg(CustomerProfile.churn_risk),
        )
        .join(Customer, Customer.id == CustomerProfile.customer_id)
        .where(_LIVE, CustomerProfile.rfm_segment.is_not(None))
        .group_by(CustomerProfile.rfm_segment)
    )
    columns = ["segment", "customers", "revenue", "recency_days", "churn_risk"]
    frame = _read(settings, query, columns)
    order = {key: position for position, key in enumerate(RFM_SEGMENTS)}
    frame = frame.sort_values("segment", key=lambda s: s.map(order)).reset_index(
        drop=True
    )
    frame["customer_share"] = _share(frame["customers"])
    frame["revenue_share"] = _share(frame["revenue"])
    frame["name"] = [RFM_SEGMENTS[key].name(language) for key in frame["segment"]]
    frame["action"] = [RFM_SEGMENTS[key].action(language) for key in frame["segment"]]
    return frame


def cluster_overview(*, settings: Settings) -> pd.DataFrame:
    """Size, description, spend, recency and churn risk of each behaviour cluster."""
    query = (
        select(
            CustomerProfile.cluster,
            CustomerProfile.cluster_label,
            func.count(),
            func.avg(CustomerProfile.revenue),
            func.avg(CustomerProfile.orders),
            func.avg(CustomerProfile.recency_days),
            func.avg(CustomerProfile.churn_risk),
        )
        .join(Customer, Customer.id == CustomerProfile.customer_id)
        .where(_LIVE, CustomerProfile.cluster.is_not(None))
        .group_by(CustomerProfile.cluster, CustomerProfile.cluster_label)
        .order_by(CustomerProfile.cluster)
    )
    columns = ["cluster", "label", "customers", "revenue", "orders"]
    columns += ["recency_days", "churn_risk"]
    return _read(settings, query, columns)
