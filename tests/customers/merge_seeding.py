"""Merge test helpers: two customers with rows in every table, and per-table counts."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from cxloop.config import Settings
from cxloop.ingest.service import import_file
from cxloop.store.engine import engine_for
from cxloop.store.tables import (
    Base,
    Customer,
    CustomerProfile,
    Invitation,
    Segment,
    SegmentMember,
    Survey,
)

#: Tables whose rows belong to a customer, counted per customer.
OWNED_TABLES = (
    "identity", "interaction", "purchase", "support_case", "invitation", "segment_member",
)  # fmt: skip
CUSTOMER_FIELDS = (
    "external_id", "name", "email", "phone", "region", "segment", "language",
    "attributes", "merged_into_id",
)  # fmt: skip
WHEN = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def load(settings: Settings, kind: str, path: Path) -> None:
    summary = import_file(settings=settings, kind=kind, path=path)
    assert summary.committed, summary.first_rejects
    assert summary.rejected == 0, summary.first_rejects


def seed_pair(settings: Settings, folder: Path) -> tuple[int, int]:
    """Customer M1 (older, named, in Taipei) and M2 (phone, language, other rows).

    M2 has feedback, transactions, a case, an invitation, a computed profile and two
    segment memberships, one in a segment M1 is also in. Returns their ids.
    """
    customers = write_csv(
        folder / "customers.csv",
        ["customer_id", "email", "phone", "name", "region", "language", "tier", "vip"],
        [
            ["M1", "chen@example.com", "", "陳小明", "台北", "", "gold", ""],
            ["M2", "chen.work@example.com", "0922-000-111", "", "", "zh-TW", "", "yes"],
        ],
    )
    load(settings, "customers", customers)
    header = ["response_id", "customer_id", "submitted_at", "nps", "comment"]
    rows = [["R1", "M1", "2025-03-01 10:00", 9, "好"], ["R2", "M2", "2025-03-02", 3, ""],
            ["R3", "M2", "2025-03-03", 6, "slow"]]  # fmt: skip
    load(settings, "feedback", write_csv(folder / "feedback.csv", header, rows))
    header = ["transaction_id", "customer_id", "occurred_at", "amount"]
    rows = [["T1", "M1", "2025-01-05", "120"], ["T2", "M2", "2025-01-06", "80"],
            ["T3", "M2", "2025-02-06", "99.50"]]  # fmt: skip
    load(settings, "transactions", write_csv(folder / "sales.csv", header, rows))
    header = ["case_id", "customer_id", "opened_at", "title"]
    rows = [["C1", "M2", "2025-03-02 12:00", "退款太慢"]]
    load(settings, "cases", write_csv(folder / "cases.csv", header, rows))
    first, second = customer_ids(settings, "M1", "M2")
    _side_rows(settings, first, second)
    return first, second


def customer_ids(settings: Settings, *members: str) -> list[int]:
    with engine_for(settings.database_url).connect() as connection:
        found = dict(
            connection.execute(
                select(Customer.external_id, Customer.id).where(
                    Customer.external_id.in_(members)
                )
            ).all()
        )
    return [found[member] for member in members]


def _side_rows(settings: Settings, first: int, second: int) -> None:
    """An invitation, a profile and segment memberships (no importer writes them)."""
    with engine_for(settings.database_url).begin() as connection:
        survey = connection.execute(
            insert(Survey).values(key="merge-test", name="merge test", created_at=WHEN)
        ).inserted_primary_key
        assert survey is not None
        connection.execute(
            insert(Invitation).values(
                survey_id=survey[0], customer_id=second, token="tok-2", created_at=WHEN
            )
        )
        connection.execute(
            insert(CustomerProfile).values(customer_id=second, computed_at=WHEN)
        )
        for key in ("both", "second-only"):
            connection.execute(
                insert(Segment).values(
                    key=key, name=key, definition={}, created_at=WHEN
                )
            )
        segments = dict(connection.execute(select(Segment.key, Segment.id)).all())
        for segment, customer in (("both", first), ("both", second),
                                  ("second-only", second)):  # fmt: skip
            connection.execute(
                insert(SegmentMember).values(
                    segment_id=segments[segment], customer_id=customer
                )
            )


def snapshot(settings: Settings) -> dict[str, Any]:
    """Rows per customer in every owned table, and every customer's own fields."""
    tables = Base.metadata.tables
    found: dict[str, Any] = {}
    with engine_for(settings.database_url).connect() as connection:
        for name in OWNED_TABLES:
            table = tables[name]
            query = select(table.c.customer_id, func.count()).group_by(
                table.c.customer_id
            )
            found[name] = dict(connection.execute(query).all())
        fields = [getattr(Customer, name) for name in CUSTOMER_FIELDS]
        found["customer"] = {
            row[0]: tuple(row[1:])
            for row in connection.execute(select(Customer.id, *fields))
        }
        found["segments"] = sorted(
            connection.execute(
                select(SegmentMember.segment_id, SegmentMember.customer_id)
            ).all()
        )
    return found


def profile_count(settings: Settings, customer: int) -> int:
    with engine_for(settings.database_url).connect() as connection:
        query = select(func.count()).where(CustomerProfile.customer_id == customer)
        return int(connection.scalar(query) or 0)


def bare_customers(settings: Settings, *fields: dict[str, str]) -> list[int]:
    """Customers inserted directly, with columns but without identity rows."""
    ids = []
    with engine_for(settings.database_url).begin() as connection:
        for values in fields:
            statement = insert(Customer).values(
                **values, attributes={}, created_at=WHEN, updated_at=WHEN
            )
            key = connection.execute(statement).inserted_primary_key
            assert key is not None
            ids.append(int(key[0]))
    return ids
