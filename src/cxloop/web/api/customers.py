"""Customers over the REST API: search, the 360, the value pyramid, RFM and outreach.

Every route needs a session or an API key. A customer reference is an id, a member
id, an e-mail, a phone number or an ``@handle``, optionally prefixed with its kind
(``id:``, ``member:``, ``email:``, ``phone:``, ``social:``).
"""

from __future__ import annotations

import math
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from cxloop.customers import outreach, summaries
from cxloop.customers.search import MAX_LIMIT, MAX_QUERY, search_customers
from cxloop.customers.view import customer_360
from cxloop.web.deps import CurrentUser, SettingsDep

router = APIRouter(prefix="/api/v1", tags=["customers"])

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No session and no valid API key."},
    422: {"description": "A parameter is not valid (the message says which)."},
}


class Language(StrEnum):
    EN = "en"
    ZH_TW = "zh-TW"


class CustomerHitPublic(BaseModel):
    """A customer found by a search, with the value and risk of its last scoring."""

    id: int
    external_id: str | None
    name: str | None
    email: str | None
    value_tier: str | None
    churn_risk: float | None
    clv: float | None
    revenue: float | None
    matched: str


class CustomersPublic(BaseModel):
    data: list[CustomerHitPublic]
    count: int


class IdentityPublic(BaseModel):
    kind: str
    value: str


class MergePublic(BaseModel):
    """One identity merge that kept ``kept`` and folded ``merged`` into it."""

    id: int
    kept: int
    merged: int
    reason: str
    at: datetime
    undone_at: datetime | None


class ChurnReasonPublic(BaseModel):
    """A feature that moves the churn risk: its value and its effect (+ raises it)."""

    feature: str
    value: float | str | None = None
    effect: float
    text: str


class ProfilePublic(BaseModel):
    """What ``cxloop customers score`` computed; null before the first scoring."""

    computed_at: datetime
    orders: int
    revenue: float
    first_purchase_at: datetime | None
    last_purchase_at: datetime | None
    recency_days: int | None
    r_score: int | None
    f_score: int | None
    m_score: int | None
    rfm_segment: str | None
    value_tier: str | None
    cluster: int | None
    cluster_label: str | None
    p_alive: float | None
    expected_purchases: float | None
    clv: float | None
    churn_risk: float | None
    churn_reasons: list[ChurnReasonPublic] | None
    last_nps: float | None
    last_csat: float | None
    sentiment_trend: float | None
    next_products: list[str] | None = None


class TimelineEventPublic(BaseModel):
    """An interaction (with its scores), a purchase or refund, or a case."""

    at: datetime
    kind: str
    channel: str | None
    touchpoint: str | None
    title: str
    text: str | None
    scores: dict[str, float]
    amount: float | None
    status: str | None


class Customer360Public(BaseModel):
    """One customer: identities, merges, profile, saved segments, timeline (newest first)."""

    id: int
    external_id: str | None
    name: str | None
    email: str | None
    phone: str | None
    region: str | None
    segment: str | None
    language: str | None
    attributes: dict[str, Any]
    created_at: datetime
    identities: list[IdentityPublic]
    merges: list[MergePublic]
    profile: ProfilePublic | None
    saved_segments: list[str]
    timeline: list[TimelineEventPublic]


class ValueTierPublic(BaseModel):
    tier: str
    name: str
    customers: int
    customer_share: float
    revenue: float
    revenue_share: float
    clv: float
    churn_risk: float | None


class ValueTiersPublic(BaseModel):
    data: list[ValueTierPublic]
    count: int


class RFMSegmentPublic(BaseModel):
    segment: str
    name: str
    action: str
    customers: int
    customer_share: float
    revenue: float
    revenue_share: float
    recency_days: float | None
    churn_risk: float | None


class RFMSegmentsPublic(BaseModel):
    data: list[RFMSegmentPublic]
    count: int


class OutreachCustomerPublic(BaseModel):
    customer_id: int
    external_id: str | None
    name: str | None
    email: str | None
    phone: str | None
    value_tier: str
    clv: float | None
    revenue: float
    churn_risk: float
    reasons: str
    reason_items: list[ChurnReasonPublic] = []


class OutreachPublic(BaseModel):
    data: list[OutreachCustomerPublic]
    count: int


def _rows(frame: Any) -> list[dict[str, Any]]:
    """DataFrame rows as plain dicts: NaN is None, numpy scalars are Python ones."""

    def plain(value: Any) -> Any:
        value = value.item() if hasattr(value, "item") else value
        return None if isinstance(value, float) and math.isnan(value) else value

    return [
        {key: plain(value) for key, value in row.items()}
        for row in frame.to_dict(orient="records")
    ]


@router.get(
    "/customers",
    response_model=CustomersPublic,
    summary="Search customers by id, member id, e-mail, phone or part of the name",
    responses=ERRORS,
)
def search(
    settings: SettingsDep,
    user: CurrentUser,  # noqa: ARG001 - signs the request in
    q: Annotated[
        str,
        Query(max_length=MAX_QUERY, description="What to look for; empty: the "
              "most valuable customers (by CLV, then revenue)."),
    ] = "",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
) -> CustomersPublic:  # fmt: skip
    """Live customers (never a merged record), exact identifier matches first."""
    hits = search_customers(settings=settings, query=q, limit=limit)
    data = [CustomerHitPublic.model_validate(hit, from_attributes=True) for hit in hits]
    return CustomersPublic(data=data, count=len(data))


@router.get(
    "/customers/outreach",
    response_model=OutreachPublic,
    summary="High-risk, high-value customers to call, with the reasons",
    responses=ERRORS,
)
def outreach_customers(
    settings: SettingsDep,
    user: CurrentUser,  # noqa: ARG001 - signs the request in
    min_risk: Annotated[float, Query(ge=0, le=1)] = 0.5,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> OutreachPublic:
    """Customers of the top, high and medium value tiers at or above ``min_risk``."""
    frame = outreach.outreach_list(settings=settings, min_risk=min_risk, limit=limit)
    data = [OutreachCustomerPublic.model_validate(row) for row in _rows(frame)]
    return OutreachPublic(data=data, count=len(data))


@router.get(
    "/customers/{ref}",
    response_model=Customer360Public,
    summary="One customer's 360: identities, value, risk, segments and timeline",
    responses={**ERRORS, 404: {"description": "No customer matches `ref`."},
               422: {"description": "`ref` is empty or names more than one "
                     "customer (the message says how to be exact)."}},
)  # fmt: skip
def customer(
    settings: SettingsDep,
    user: CurrentUser,  # noqa: ARG001 - signs the request in
    ref: Annotated[str, Path(description="id, member id, e-mail, phone or @handle.")],
    limit: Annotated[
        int, Query(ge=1, le=1000, description="Timeline events at most.")
    ] = 200,
) -> Customer360Public:
    """A merged customer is answered with the live customer it was merged into."""
    view = customer_360(settings=settings, ref=ref, limit=limit)
    return Customer360Public.model_validate(
        {**vars(view), "identities": [{"kind": k, "value": v} for k, v in view.identities],
         "timeline": [vars(event) for event in view.timeline]}
    )  # fmt: skip


@router.get(
    "/segments/value-pyramid",
    response_model=ValueTiersPublic,
    summary="Customers, revenue and CLV per value tier, from the top down",
    responses=ERRORS,
)
def value_pyramid(
    settings: SettingsDep,
    user: CurrentUser,  # noqa: ARG001 - signs the request in
    lang: Annotated[Language, Query(description="Language of the names.")] = (
        Language.EN
    ),
) -> ValueTiersPublic:
    """Every tier is listed, with zeros before ``cxloop customers score`` has run."""
    frame = summaries.value_pyramid(settings=settings, language=lang.value)
    data = [ValueTierPublic.model_validate(row) for row in _rows(frame)]
    return ValueTiersPublic(data=data, count=len(data))


@router.get(
    "/segments/rfm",
    response_model=RFMSegmentsPublic,
    summary="Named RFM segments: size, revenue, recency, churn risk and an action",
    responses=ERRORS,
)
def rfm(
    settings: SettingsDep,
    user: CurrentUser,  # noqa: ARG001 - signs the request in
    lang: Annotated[Language, Query(description="Language of names, actions.")] = (
        Language.EN
    ),
) -> RFMSegmentsPublic:
    """Segments with customers only, from the best customers to the lost ones."""
    frame = summaries.rfm_overview(settings=settings, language=lang.value)
    data = [RFMSegmentPublic.model_validate(row) for row in _rows(frame)]
    return RFMSegmentsPublic(data=data, count=len(data))
