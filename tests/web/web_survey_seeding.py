"""Customers with e-mail addresses and a saved segment, for the survey page tests."""

from __future__ import annotations

from cxloop.analytics.segment_rules import SegmentDefinition
from cxloop.config import Settings
from cxloop.customers.segments import save_segments
from cxloop.store import tables
from cxloop.store.engine import UnitOfWork, make_engine


def seed_segment(settings: Settings, *, with_email: int, without_email: int) -> str:
    """Customers in region 北區 (some without an address) and segment ``north``."""
    engine = make_engine(settings.database_url)
    try:
        with UnitOfWork(engine).session() as session:
            for n in range(with_email + without_email):
                email = f"c{n}@example.com" if n < with_email else None
                session.add(tables.Customer(
                    external_id=f"N{n:03d}", name=f"顧客{n}", email=email,
                    region="北區", language="zh-TW", attributes={},
                ))  # fmt: skip
    finally:
        engine.dispose()
    north = SegmentDefinition.model_validate({
        "key": "north", "name": "北區顧客",
        "conditions": [{"field": "region", "op": "eq", "value": "北區"}],
    })  # fmt: skip
    save_segments(settings=settings, definitions=[north])
    return "north"
