"""The customer 360: one customer's identities, value, risk, segment and timeline.

:func:`customer_360` gathers everything the store knows about a customer into one
:class:`Customer360`, for the dashboard page, ``cxloop customers show`` and the API.
A merged customer is shown as the live customer it was merged into.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, or_, select

from cxloop.config import Settings
from cxloop.customers.lookup import find_customer, survivor_of
from cxloop.store.engine import engine_for
from cxloop.store.tables import (
    Answer,
    Case,
    Customer,
    CustomerProfile,
    Identity,
    IdentityMerge,
    Interaction,
    Segment,
    SegmentMember,
    Transaction,
)

#: Events shown on the timeline of each kind, newest first.
TIMELINE_LIMIT = 200


@dataclass(frozen=True)
class TimelineEvent:
    """One thing that happened between the customer and the business."""

    at: datetime
    kind: str
    channel: str | None
    touchpoint: str | None
    title: str
    text: str | None = None
    scores: dict[str, float] = field(default_factory=dict)
    amount: float | None = None
    status: str | None = None


@dataclass(frozen=True)
class Customer360:
    """Everything about one customer (see :func:`customer_360`)."""

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
    identities: list[tuple[str, str]]
    merges: list[dict[str, Any]]
    profile: dict[str, Any] | None
    saved_segments: list[str]
    timeline: list[TimelineEvent]
    asked_for: str | int = ""


def customer_360(
    *, settings: Settings, ref: str | int, limit: int = TIMELINE_LIMIT
) -> Customer360:
    """The 360 view of the customer ``ref`` names (id, member id, e-mail, phone...)."""
    with engine_for(settings.database_url).connect() as connection:
        customer_id = survivor_of(connection, find_customer(connection, ref))
        row = connection.execute(
            select(Customer).where(Customer.id == customer_id)
        ).one()
        return Customer360(
            id=row.id,
            external_id=row.external_id,
            name=row.name,
            email=row.email,
            phone=row.phone,
            region=row.region,
            segment=row.segment,
            language=row.language,
            attributes=dict(row.attributes or {}),
            created_at=row.created_at,
            identities=_identities(connection, customer_id),
            merges=_merges(connection, customer_id),
            profile=_profile(connection, customer_id),
            saved_segments=_saved_segments(connection, customer_id),
            timeline=timeline(connection, customer_id, limit),
            asked_for=ref,
        )


def _identities(connection: Connection, customer_id: int) -> list[tuple[str, str]]:
    query = (
        select(Identity.kind, Identity.value)
        .where(Identity.customer_id == customer_id)
        .order_by(Identity.kind, Identity.value)
    )
    return [(kind, value) for kind, value in connection.execute(query)]


def _merges(connection: Connection, customer_id: int) -> list[dict[str, Any]]:
    query = (
        select(IdentityMerge)
        .where(
            or_(
                IdentityMerge.kept_customer_id == customer_id,
                IdentityMerge.merged_customer_id == customer_id,
            )
        )
        .order_by(IdentityMerge.id)
    )
    return [
        {
            "id": row.id,
            "kept": row.kept_customer_id,
            "merged": row.merged_customer_id,
            "reason": row.reason,
            "at": row.created_at,
            "undone_at": row.undone_at,
        }
        for row in connection.execute(query)
    ]


def _profile(connection: Connection, customer_id: int) -> dict[str, Any] | None:
    row = connection.execute(
        select(CustomerProfile).where(CustomerProfile.customer_id == customer_id)
    ).first()
    return dict(row._mapping) if row is not None else None


def _saved_segments(connection: Connection, customer_id: int) -> list[str]:
    query = (
        select(Segment.key)
        .join(SegmentMember, SegmentMember.segment_id == Segment.id)
        .where(SegmentMember.customer_id == customer_id)
        .order_by(Segment.key)
    )
    return list(connection.execute(query).scalars())


def timeline(
    connection: Connection, customer_id: int, limit: int = TIMELINE_LIMIT
) -> list[TimelineEvent]:
    """Interactions (with their scores), purchases and cases, newest first."""
    events = [
        *_interaction_events(connection, customer_id, limit),
        *_purchase_events(connection, customer_id, limit),
        *_case_events(connection, customer_id, limit),
    ]
    events.sort(key=lambda event: event.at, reverse=True)
    return events[:limit]


def _latest(
    connection: Connection, table: Any, customer_id: int, limit: int
) -> Sequence[Any]:
    """The customer's ``limit`` newest rows of ``table`` (by its time column)."""
    when = table.opened_at if table is Case else table.occurred_at
    query = select(table).where(table.customer_id == customer_id)
    return connection.execute(query.order_by(when.desc()).limit(limit)).all()


def _interaction_events(
    connection: Connection, customer_id: int, limit: int
) -> list[TimelineEvent]:
    rows = _latest(connection, Interaction, customer_id, limit)
    scores: dict[int, dict[str, float]] = {}
    if rows:
        answers = connection.execute(
            select(Answer.interaction_id, Answer.metric, Answer.value).where(
                Answer.interaction_id.in_([row.id for row in rows]),
                Answer.value.is_not(None),
            )
        )
        for interaction_id, metric, value in answers:
            scores.setdefault(interaction_id, {})[metric] = float(value or 0.0)
    return [
        TimelineEvent(
            at=row.occurred_at,
            kind=row.kind,
            channel=row.channel,
            touchpoint=row.touchpoint,
            title=row.kind,
            text=row.text,
            scores=scores.get(row.id, {}),
        )
        for row in rows
    ]


def _purchase_events(
    connection: Connection, customer_id: int, limit: int
) -> list[TimelineEvent]:
    rows = _latest(connection, Transaction, customer_id, limit)
    return [
        TimelineEvent(
            at=row.occurred_at,
            kind=row.kind,
            channel=row.channel,
            touchpoint=row.touchpoint,
            title=row.product or row.kind,
            amount=float(row.amount or 0),
        )
        for row in rows
    ]


def _case_events(
    connection: Connection, customer_id: int, limit: int
) -> list[TimelineEvent]:
    rows = _latest(connection, Case, customer_id, limit)
    return [
        TimelineEvent(
            at=row.opened_at,
            kind="case",
            channel=row.channel,
            touchpoint=row.touchpoint,
            title=row.title,
            text=row.description,
            status=row.status,
        )
        for row in rows
    ]
