"""What the store knows about each customer, as pandas frames and features at a date.

:func:`read_store_frames` reads the few columns that value, segments and churn need;
:func:`customer_features` turns them into one row per customer as seen on a given day,
using nothing that happened after it, so that the same function gives the training
features (at a past cut-off) and the scoring features (at the end of the data).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, Float, Numeric, String, select, type_coerce

from cxloop.domain.vocab import CaseKind, MetricKind, TransactionKind
from cxloop.store.tables import Answer, Case, Customer, Interaction, Transaction
from cxloop.store.types import UTCDateTime

#: Days of the recent window that trends compare with the window before it.
TREND_DAYS = 90
#: Days of the window in which complaints and slow first responses are counted.
SERVICE_DAYS = 180
#: A first response later than this counts as slow (a missed service promise).
SLOW_RESPONSE = pd.Timedelta(hours=24)

#: The features, with the words that reasons and cluster descriptions use.
FEATURE_LABELS: dict[str, str] = {
    "recency_days": "days since last purchase",
    "frequency": "purchases",
    "monetary": "net spend",
    "tenure_days": "days since first purchase",
    "avg_order_value": "average order value",
    "orders_recent": f"purchases in the last {TREND_DAYS} days",
    "orders_trend": f"change in purchases vs the {TREND_DAYS} days before",
    "spend_trend": f"change in spend vs the {TREND_DAYS} days before",
    "refunds": "refunds",
    "responses": "survey responses",
    "last_nps": "last NPS answer",
    "last_csat": "last CSAT answer",
    "sentiment_trend": "change in sentiment",
    "complaints": f"complaints in the last {SERVICE_DAYS} days",
    "open_cases": "open cases",
    "slow_responses": f"cases answered after 24 h in the last {SERVICE_DAYS} days",
}


@dataclass(frozen=True)
class StoreFrames:
    """The store's customers and their purchases, answers, texts and cases."""

    customers: pd.DataFrame
    purchases: pd.DataFrame
    answers: pd.DataFrame
    sentiments: pd.DataFrame
    cases: pd.DataFrame

    def data_end(self) -> pd.Timestamp | None:
        """The time of the last purchase or interaction (the "now" of the data)."""
        ends = [
            frame[column].max()
            for frame, column in (
                (self.purchases, "occurred_at"),
                (self.answers, "occurred_at"),
            )
            if len(frame)
        ]
        return max(ends) if ends else None


def _raw(column: Any) -> Any:
    """``column`` as the driver returns it: pandas parses times and numbers in bulk."""
    if isinstance(column.type, UTCDateTime):
        return type_coerce(column, String)
    if isinstance(column.type, Numeric):
        return type_coerce(column, Float)
    return column


def _frame(engine: Engine, query: Any, columns: list[str]) -> pd.DataFrame:
    query = query.with_only_columns(
        *(_raw(column) for column in query.selected_columns), maintain_column_froms=True
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    frame = pd.DataFrame(rows, columns=columns)
    for column in columns:
        if column.endswith("_at") and len(frame):
            frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
        elif column.endswith("_at"):
            frame[column] = pd.Series(dtype="datetime64[ns, UTC]")
    return frame


def read_store_frames(engine: Engine) -> StoreFrames:
    """Read live customers and what belongs to them (merged customers are left out)."""
    live = Customer.merged_into_id.is_(None)
    customers = _frame(
        engine,
        select(Customer.id, Customer.created_at).where(live),
        ["customer_id", "created_at"],
    )
    purchases = _frame(
        engine,
        select(
            Transaction.customer_id,
            Transaction.occurred_at,
            Transaction.amount,
            Transaction.kind,
            Transaction.product,
        ).where(Transaction.customer_id.is_not(None)),
        ["customer_id", "occurred_at", "amount", "kind", "product"],
    )
    purchases["amount"] = purchases["amount"].astype(np.float64)
    answers = _frame(
        engine,
        select(
            Interaction.customer_id,
            Interaction.occurred_at,
            Answer.metric,
            Answer.value,
        )
        .join(Interaction, Interaction.id == Answer.interaction_id)
        .where(
            Interaction.customer_id.is_not(None),
            Answer.value.is_not(None),
            Answer.metric.in_([MetricKind.NPS.value, MetricKind.CSAT.value]),
        ),
        ["customer_id", "occurred_at", "metric", "value"],
    )
    sentiments = _frame(
        engine,
        select(
            Interaction.customer_id,
            Interaction.occurred_at,
            Interaction.sentiment_score,
        ).where(
            Interaction.customer_id.is_not(None),
            Interaction.sentiment_score.is_not(None),
        ),
        ["customer_id", "occurred_at", "sentiment_score"],
    )
    cases = _frame(
        engine,
        select(
            Case.customer_id,
            Case.kind,
            Case.opened_at,
            Case.first_response_at,
            Case.resolved_at,
        ).where(Case.customer_id.is_not(None)),
        ["customer_id", "kind", "opened_at", "first_response_at", "resolved_at"],
    )
    return StoreFrames(customers, purchases, answers, sentiments, cases)


def _days(delta: pd.Series) -> pd.Series:
    """Whole days (a reason reads "days since last purchase = 364")."""
    days: pd.Series = (delta.dt.total_seconds() / 86_400.0).round()
    return days


def _purchase_features(purchases: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    seen = purchases[purchases["occurred_at"] <= as_of]
    bought = seen[seen["kind"] == TransactionKind.PURCHASE.value]
    by = bought.groupby("customer_id")
    recent = as_of - pd.Timedelta(days=TREND_DAYS)
    before = recent - pd.Timedelta(days=TREND_DAYS)
    in_recent = bought["occurred_at"] > recent
    in_before = (bought["occurred_at"] > before) & ~in_recent
    orders_recent = bought[in_recent].groupby("customer_id").size()
    orders_before = bought[in_before].groupby("customer_id").size()
    spend_recent = bought[in_recent].groupby("customer_id")["amount"].sum()
    spend_before = bought[in_before].groupby("customer_id")["amount"].sum()
    frame = pd.DataFrame(
        {
            "recency_days": _days(as_of - by["occurred_at"].max()),
            "frequency": by.size(),
            "tenure_days": _days(as_of - by["occurred_at"].min()),
            "monetary": seen.groupby("customer_id")["amount"].sum(),
            "refunds": (seen["kind"] == TransactionKind.REFUND.value)
            .groupby(seen["customer_id"])
            .sum(),
            "orders_recent": orders_recent,
            "orders_trend": orders_recent.sub(orders_before, fill_value=0),
            "spend_trend": spend_recent.sub(spend_before, fill_value=0),
        }
    )
    trends = ["orders_recent", "orders_trend", "spend_trend"]
    frame[trends] = frame[trends].fillna(0.0)
    frame["avg_order_value"] = frame["monetary"] / frame["frequency"]
    return frame[frame["frequency"] > 0]


def _feedback_features(
    answers: pd.DataFrame, sentiments: pd.DataFrame, as_of: pd.Timestamp
) -> pd.DataFrame:
    seen = answers[answers["occurred_at"] <= as_of].sort_values("occurred_at")
    last = seen.groupby(["customer_id", "metric"])["value"].last().unstack()
    frame = pd.DataFrame(
        {
            "responses": seen.groupby("customer_id").size(),
            "last_nps": last.get(MetricKind.NPS.value),
            "last_csat": last.get(MetricKind.CSAT.value),
        }
    )
    texts = sentiments[sentiments["occurred_at"] <= as_of]
    recent = texts["occurred_at"] > as_of - pd.Timedelta(days=TREND_DAYS)
    by_recent = texts[recent].groupby("customer_id")["sentiment_score"].mean()
    by_before = texts[~recent].groupby("customer_id")["sentiment_score"].mean()
    frame["sentiment_trend"] = by_recent - by_before
    return frame


def _service_features(cases: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    seen = cases[cases["opened_at"] <= as_of]
    window = seen[seen["opened_at"] > as_of - pd.Timedelta(days=SERVICE_DAYS)]
    still_open = seen["resolved_at"].isna() | (seen["resolved_at"] > as_of)
    waited = window["first_response_at"].fillna(as_of) - window["opened_at"]
    return pd.DataFrame(
        {
            "complaints": (window["kind"] == CaseKind.COMPLAINT.value)
            .groupby(window["customer_id"])
            .sum(),
            "open_cases": still_open.groupby(seen["customer_id"]).sum(),
            "slow_responses": (waited > SLOW_RESPONSE)
            .groupby(window["customer_id"])
            .sum(),
        }
    )


def customer_features(frames: StoreFrames, as_of: pd.Timestamp) -> pd.DataFrame:
    """One row per customer who had bought by ``as_of``: the features of FEATURE_LABELS.

    Purchase features need at least one purchase; feedback and service features are
    filled with 0 (counts) or left missing (last scores, sentiment trend).
    """
    frame = _purchase_features(frames.purchases, as_of)
    frame = frame.join(_feedback_features(frames.answers, frames.sentiments, as_of))
    frame = frame.join(_service_features(frames.cases, as_of))
    counts = ["refunds", "responses", "complaints", "open_cases", "slow_responses"]
    frame[counts] = frame[counts].fillna(0).astype(np.float64)
    frame.index.name = "customer_id"
    return frame[list(FEATURE_LABELS)].astype(np.float64)
