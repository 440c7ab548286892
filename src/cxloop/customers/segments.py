"""Saved segments in the store: define them from rules, refresh who is in them.

A saved segment's rules (:mod:`cxloop.analytics.segment_rules`) are evaluated over
:func:`customer_frame`: every live customer with their columns, their attributes, the
profile that ``cxloop customers score`` computed, and the topics they wrote about.
Members are stored in ``segment_member``, so a segment is a cut for every metric
(``cxloop metrics nps --where in_segment=KEY``) and a target list for outreach.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine, delete, insert, select

from cxloop.analytics.segment_rules import (
    SegmentDefinition,
    load_segment_definitions,
    segment_mask,
)
from cxloop.config import Settings
from cxloop.customers.profiles import PROFILE_COLUMNS
from cxloop.domain.errors import NotFound
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import (
    Customer,
    CustomerProfile,
    Interaction,
    Segment,
    SegmentMember,
)
from cxloop.store.types import utcnow

#: Profile columns a rule may use (``cxloop customers score`` fills them); lists
#: (reasons, recommended products) are for people, not rules.
PROFILE_FIELDS = tuple(
    name for name in PROFILE_COLUMNS if name not in ("churn_reasons", "next_products")
)


@dataclass(frozen=True)
class SegmentInfo:
    """A saved segment and its size at its last refresh."""

    key: str
    name: str
    description: str | None
    members: int
    refreshed_at: datetime | None
    definition: dict[str, Any]


def customer_frame(engine: Engine) -> pd.DataFrame:
    """Every live customer with columns, attributes, profile and topics (index: id)."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                Customer.id,
                Customer.region,
                Customer.segment,
                Customer.language,
                Customer.created_at,
                Customer.attributes,
                *(getattr(CustomerProfile, name) for name in PROFILE_FIELDS),
            )
            .outerjoin(CustomerProfile, CustomerProfile.customer_id == Customer.id)
            .where(Customer.merged_into_id.is_(None))
        ).all()
        topics = connection.execute(
            select(Interaction.customer_id, Interaction.topics).where(
                Interaction.customer_id.is_not(None), Interaction.topics.is_not(None)
            )
        ).all()
    columns = ["id", "region", "segment", "language", "created_at", "attributes"]
    frame = pd.DataFrame(rows, columns=[*columns, *PROFILE_FIELDS]).set_index("id")
    attributes = pd.json_normalize(frame.pop("attributes").fillna({}).tolist())
    attributes.index = frame.index
    extra = [name for name in attributes.columns if name not in frame.columns]
    frame = frame.join(attributes[extra])
    frame["topics"] = _topics(topics).reindex(frame.index)
    return frame


def _topics(rows: Sequence[Any]) -> pd.Series:
    """The topics each customer wrote about, as one text ("delivery, price")."""
    found: dict[int, set[str]] = {}
    for customer_id, topics in rows:
        for topic in topics or []:
            name = topic.get("topic") if isinstance(topic, dict) else topic
            if name:
                found.setdefault(customer_id, set()).add(str(name))
    return pd.Series({c: ", ".join(sorted(t)) for c, t in found.items()}, dtype=object)


def save_segments(
    *, settings: Settings, definitions: list[SegmentDefinition]
) -> list[SegmentInfo]:
    """Create or replace the saved segments (by key) and refresh their members."""
    engine = engine_for(settings.database_url)
    frame = customer_frame(engine)
    for definition in definitions:
        segment_mask(definition, frame)  # refuse unknown fields before writing
    with UnitOfWork(engine).session() as session:
        for definition in definitions:
            row = session.scalar(select(Segment).where(Segment.key == definition.key))
            if row is None:
                row = Segment(key=definition.key, name=definition.name)
                session.add(row)
            row.name = definition.name
            row.description = definition.description
            row.definition = definition.model_dump(mode="json")
    return refresh_segments(
        settings=settings, keys=[d.key for d in definitions], frame=frame
    )


def load_segment_file(*, settings: Settings, path: Path) -> list[SegmentInfo]:
    """Save the segments defined in a YAML or JSON file."""
    return save_segments(settings=settings, definitions=load_segment_definitions(path))


def refresh_segments(
    *,
    settings: Settings,
    keys: list[str] | None = None,
    frame: pd.DataFrame | None = None,
) -> list[SegmentInfo]:
    """Evaluate the rules of the saved segments again and store their members."""
    engine = engine_for(settings.database_url)
    customers = customer_frame(engine) if frame is None else frame
    with UnitOfWork(engine).session() as session:
        query = select(Segment).order_by(Segment.key)
        if keys is not None:
            query = query.where(Segment.key.in_(keys))
        segments = list(session.scalars(query))
        _refuse_unknown(keys, segments)
        now = utcnow()
        for segment in segments:
            definition = SegmentDefinition.model_validate(segment.definition)
            members = customers.index[segment_mask(definition, customers).to_numpy()]
            session.execute(
                delete(SegmentMember).where(SegmentMember.segment_id == segment.id)
            )
            if len(members):
                session.execute(
                    insert(SegmentMember),
                    [
                        {"segment_id": segment.id, "customer_id": int(c)}
                        for c in members
                    ],
                )
            segment.member_count = len(members)
            segment.refreshed_at = now
        return [_info(segment) for segment in segments]


def _refuse_unknown(keys: list[str] | None, segments: list[Segment]) -> None:
    missing = sorted(set(keys or []) - {segment.key for segment in segments})
    if missing:
        raise NotFound(f"no saved segment {', '.join(missing)}")


def _info(segment: Segment) -> SegmentInfo:
    return SegmentInfo(
        key=segment.key,
        name=segment.name,
        description=segment.description,
        members=segment.member_count,
        refreshed_at=segment.refreshed_at,
        definition=dict(segment.definition),
    )


def list_segments(*, settings: Settings) -> list[SegmentInfo]:
    """The saved segments, by key."""
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        segments = session.scalars(select(Segment).order_by(Segment.key))
        return [_info(segment) for segment in segments]


def delete_segment(*, settings: Settings, key: str) -> None:
    """Forget a saved segment and its members."""
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        segment = session.scalar(select(Segment).where(Segment.key == key))
        if segment is None:
            raise NotFound(f"no saved segment {key}")
        session.execute(
            delete(SegmentMember).where(SegmentMember.segment_id == segment.id)
        )
        session.delete(segment)


def segment_members(*, settings: Settings, key: str) -> list[int]:
    """The ids of the customers in a saved segment."""
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        segment = session.scalar(select(Segment).where(Segment.key == key))
        if segment is None:
            raise NotFound(f"no saved segment {key}")
        query = select(SegmentMember.customer_id).where(
            SegmentMember.segment_id == segment.id
        )
        return sorted(session.scalars(query))
