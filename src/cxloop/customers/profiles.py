"""Score every customer: RFM, value tier, behaviour cluster, CLV and churn risk.

``cxloop customers score`` calls :func:`score_customers`. It reads the store, works as
of the end of the data (the last purchase or answer, so that an imported history is
scored as of its own "now"), and replaces the ``customer_profile`` rows in one
transaction. Churn is learnt from the store itself: the customers who had bought by
``CHURN_WINDOW_DAYS`` before the end are labelled by whether they bought again after
it, a model learns that from their features at that cut-off, and it then scores every
customer's features at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import delete, insert

from cxloop.config import Settings
from cxloop.customers.features import (
    FEATURE_LABELS,
    StoreFrames,
    customer_features,
    read_store_frames,
)
from cxloop.domain.errors import CxloopError
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import CustomerProfile

#: A customer who has not bought for this many days after the cut-off has churned.
CHURN_WINDOW_DAYS = 180
#: The fewest labelled customers (of each outcome) churn is learnt from.
MIN_CHURN_LABELS = 30
#: Months of purchases the predictive CLV looks ahead, and its yearly discount rate.
CLV_MONTHS = 12
CLV_DISCOUNT = 0.10
#: Next best products kept per customer.
RECOMMENDATIONS = 3
#: Features the behaviour clusters are made of.
CLUSTER_FEATURES = ("recency_days", "frequency", "monetary", "tenure_days")

#: Called with the name of each step as scoring goes on.
Progress = Callable[[str], None]


@dataclass
class ScoreSummary:
    """What :func:`score_customers` did."""

    as_of: datetime | None
    customers: int = 0
    with_purchases: int = 0
    clusters: int = 0
    clv_fitted: bool = False
    churn_auc: float | None = None
    churn_rate: float | None = None
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def score_customers(
    *, settings: Settings, language: str = "en", progress: Progress | None = None
) -> ScoreSummary:
    """Compute and store every live customer's profile; returns a summary.

    Parameters
    ----------
    settings
        Names the store; ``value_tier_cuts`` sets the value pyramid.
    language
        Language of the cluster descriptions (``zh-TW`` or ``en``).
    progress
        Told the name of each step.
    """
    import time

    started = time.perf_counter()
    step = progress or (lambda _name: None)
    step("reading the store")
    frames = read_store_frames(engine_for(settings.database_url))
    end = frames.data_end()
    summary = ScoreSummary(as_of=end.to_pydatetime() if end is not None else None)
    summary.customers = len(frames.customers)
    profiles = _empty_profiles(frames)
    if end is not None:
        _fill_profiles(profiles, frames, end, settings, language, summary, step)
    step("writing profiles")
    _write_profiles(settings, profiles)
    summary.seconds = time.perf_counter() - started
    return summary


def _empty_profiles(frames: StoreFrames) -> pd.DataFrame:
    profiles = pd.DataFrame(index=pd.Index(frames.customers["customer_id"], name="id"))
    profiles["orders"] = 0
    profiles["revenue"] = 0.0
    profiles["value_tier"] = "low"
    return profiles


def _fill_profiles(
    profiles: pd.DataFrame,
    frames: StoreFrames,
    end: pd.Timestamp,
    settings: Settings,
    language: str,
    summary: ScoreSummary,
    step: Progress,
) -> None:
    features = customer_features(frames, end)
    features = features[features.index.isin(profiles.index)]
    summary.with_purchases = len(features)
    if features.empty:
        summary.notes.append("no purchases: only identities and feedback are shown")
        return
    _purchase_facts(profiles, frames, features)
    step("RFM segments")
    _rfm(profiles, features)
    step("customer lifetime value")
    _clv(profiles, frames, end, settings.timezone, summary)
    _tiers(profiles, settings)
    step("behaviour clusters")
    _clusters(profiles, features, language, summary)
    step("churn risk")
    _churn(profiles, frames, features, end, summary)
    step("next best products")
    _next_products(profiles, frames)


def _purchase_facts(
    profiles: pd.DataFrame, frames: StoreFrames, features: pd.DataFrame
) -> None:
    bought = frames.purchases[frames.purchases["kind"] == "purchase"]
    by = bought.groupby("customer_id")["occurred_at"]
    profiles["orders"] = features["frequency"].reindex(profiles.index).fillna(0)
    profiles["revenue"] = features["monetary"].reindex(profiles.index).fillna(0.0)
    profiles["first_purchase_at"] = by.min().reindex(profiles.index)
    profiles["last_purchase_at"] = by.max().reindex(profiles.index)
    profiles["recency_days"] = features["recency_days"].round().reindex(profiles.index)
    profiles["last_nps"] = features["last_nps"].reindex(profiles.index)
    profiles["last_csat"] = features["last_csat"].reindex(profiles.index)
    profiles["sentiment_trend"] = features["sentiment_trend"].reindex(profiles.index)


def _rfm(profiles: pd.DataFrame, features: pd.DataFrame) -> None:
    from cxloop.analytics.rfm import rfm_scores

    scores = rfm_scores(features[["recency_days", "frequency", "monetary"]])
    for column in ("r_score", "f_score", "m_score", "rfm_segment"):
        profiles[column] = scores[column].reindex(profiles.index)


def _clv(
    profiles: pd.DataFrame,
    frames: StoreFrames,
    end: pd.Timestamp,
    zone: str,
    summary: ScoreSummary,
) -> None:
    from cxloop.predict.bgnbd import fit_bgnbd
    from cxloop.predict.clv import customer_clv, summarise_transactions
    from cxloop.predict.gamma_gamma import fit_gamma_gamma

    bought = frames.purchases[frames.purchases["kind"] == "purchase"].copy()
    local = bought["occurred_at"].dt.tz_convert(zone).dt.tz_localize(None)
    bought["day"] = local.dt.normalize()
    rfm = summarise_transactions(
        bought,
        customer="customer_id",
        date="day",
        amount="amount",
        observation_end=end.tz_convert(zone).date(),
    )
    try:
        model = fit_bgnbd(rfm["frequency"], rfm["recency"], rfm["T"])
        spend = fit_gamma_gamma(
            rfm["frequency"], rfm["monetary_value"], skip_zero_spend=True
        )
    except (CxloopError, ValueError, FloatingPointError) as exc:
        summary.notes.append(f"CLV was not fitted: {exc}")
        return
    values = customer_clv(
        rfm, model, spend, horizon_months=CLV_MONTHS, annual_discount_rate=CLV_DISCOUNT
    )
    for column in ("p_alive", "expected_purchases", "clv"):
        profiles[column] = values[column].reindex(profiles.index)
    summary.clv_fitted = True


def _tiers(profiles: pd.DataFrame, settings: Settings) -> None:
    from cxloop.analytics.value_tiers import value_tiers

    value = profiles["clv"] if "clv" in profiles else profiles["revenue"]
    value = value.fillna(0.0) + profiles["revenue"].clip(lower=0) * 1e-9
    profiles["value_tier"] = value_tiers(value, cuts=settings.value_tier_cuts)


def _clusters(
    profiles: pd.DataFrame,
    features: pd.DataFrame,
    language: str,
    summary: ScoreSummary,
) -> None:
    from cxloop.analytics.clusters import behaviour_clusters

    if len(features) < 20:
        summary.notes.append("too few customers with purchases for clusters")
        return
    result = behaviour_clusters(features[list(CLUSTER_FEATURES)], seed=0)
    words = result.describe(language)
    profiles["cluster"] = result.labels.reindex(profiles.index)
    profiles["cluster_label"] = profiles["cluster"].map(
        lambda c: words.get(int(c)) if pd.notna(c) else None
    )
    summary.clusters = result.k


def _churn(
    profiles: pd.DataFrame,
    frames: StoreFrames,
    features: pd.DataFrame,
    end: pd.Timestamp,
    summary: ScoreSummary,
) -> None:
    from cxloop.predict.churn import train_churn_model

    cutoff = end - pd.Timedelta(days=CHURN_WINDOW_DAYS)
    past = customer_features(frames, cutoff)
    bought = frames.purchases[
        (frames.purchases["kind"] == "purchase")
        & (frames.purchases["occurred_at"] > cutoff)
    ]
    churned = pd.Series(~past.index.isin(bought["customer_id"]), index=past.index)
    if min(int(churned.sum()), int((~churned).sum())) < MIN_CHURN_LABELS:
        summary.notes.append(
            f"churn risk needs {MIN_CHURN_LABELS} customers who stayed and "
            f"{MIN_CHURN_LABELS} who left in the last {CHURN_WINDOW_DAYS} days"
        )
        return
    usable = [c for c in FEATURE_LABELS if past[c].notna().any()]
    model = train_churn_model(past[usable], churned.astype(int), labels=FEATURE_LABELS)
    summary.churn_rate = float(churned.mean())
    summary.churn_auc = _training_auc(model, past[usable], churned)
    risk = model.predict_proba(features[usable])
    reasons = model.reasons(features[usable], top=3)
    profiles["churn_risk"] = pd.Series(risk, index=features.index).reindex(
        profiles.index
    )
    profiles["churn_reasons"] = pd.Series(
        [[_reason(r) for r in found] for found in reasons], index=features.index
    ).reindex(profiles.index)


def _next_products(profiles: pd.DataFrame, frames: StoreFrames) -> None:
    from cxloop.predict.recommend import ItemRecommender

    bought = frames.purchases[
        (frames.purchases["kind"] == "purchase") & frames.purchases["product"].notna()
    ]
    if bought.empty:
        return
    recommender = ItemRecommender().fit(
        bought, customer="customer_id", item="product", date="occurred_at"
    )
    customers = bought["customer_id"].unique().tolist()
    top = recommender.recommend(customers, k=RECOMMENDATIONS)
    lists = top.sort_values(["customer", "rank"]).groupby("customer")["item"].agg(list)
    profiles["next_products"] = lists.reindex(profiles.index)


def _training_auc(model: Any, features: pd.DataFrame, churned: pd.Series) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(churned, model.predict_proba(features)))


def _reason(reason: Any) -> dict[str, Any]:
    value = reason.value
    if isinstance(value, float | np.floating):
        value = None if np.isnan(value) else round(float(value), 2)
    return {
        "feature": reason.feature,
        "value": value,
        "effect": round(float(reason.effect), 4),
        "text": reason.text,
    }


PROFILE_COLUMNS = (
    "orders",
    "revenue",
    "first_purchase_at",
    "last_purchase_at",
    "recency_days",
    "r_score",
    "f_score",
    "m_score",
    "rfm_segment",
    "value_tier",
    "cluster",
    "cluster_label",
    "p_alive",
    "expected_purchases",
    "clv",
    "churn_risk",
    "churn_reasons",
    "last_nps",
    "last_csat",
    "sentiment_trend",
    "next_products",
)


def _records(profiles: pd.DataFrame, computed_at: datetime) -> list[dict[str, Any]]:
    frame = profiles.reindex(columns=list(PROFILE_COLUMNS))
    records = []
    for customer_id, row in zip(
        frame.index, frame.itertuples(index=False), strict=True
    ):
        record: dict[str, Any] = {"customer_id": int(customer_id)}
        record["computed_at"] = computed_at
        for name, value in zip(PROFILE_COLUMNS, row, strict=True):
            record[name] = _plain(value)
        record["orders"] = int(record["orders"] or 0)
        record["revenue"] = float(record["revenue"] or 0.0)
        records.append(record)
    return records


def _plain(value: Any) -> Any:
    """A value the database driver takes: no NaN, no numpy or pandas scalars."""
    if isinstance(value, list):
        return value
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def _write_profiles(settings: Settings, profiles: pd.DataFrame) -> None:
    from cxloop.store.types import utcnow

    records = _records(profiles, utcnow())
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        session.execute(delete(CustomerProfile))
        for start in range(0, len(records), 5_000):
            session.execute(insert(CustomerProfile), records[start : start + 5_000])
