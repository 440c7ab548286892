"""Undo a merge (split), inside a transaction the caller holds.

A split reads the ``moved`` JSON its merge wrote (see :mod:`cxloop.customers.moves`):
it moves back the listed rows that the kept customer still holds, restores the
segment memberships, deletes the identities the merge added, clears the fields it
filled where they still hold the filled value, points the customers it re-pointed back
and clears ``merged_into_id``. Rows deleted or moved to another customer since are
skipped and reported. The deleted ``customer_profile`` row is not restored: the next
scoring recomputes it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table, delete, insert, select, update

from cxloop.customers.moves import (
    OWNED,
    TABLES,
    MergeRecord,
    customer,
    live_merge_of,
    locked_customers,
    members,
    merges,
    record_of,
)
from cxloop.domain.errors import Conflict, NotFound
from cxloop.store.types import utcnow

#: Rows per ``IN (...)`` list when rows are moved back.
CHUNK = 5_000


def _move_back(
    connection: Connection, table: Table, ids: list[int], kept: int, merged: int
) -> list[int]:
    """Move rows ``ids`` still held by ``kept`` back; returns the ids not moved."""
    back: set[int] = set()
    for start in range(0, len(ids), CHUNK):
        statement = (
            update(table)
            .where(table.c.id.in_(ids[start : start + CHUNK]))
            .where(table.c.customer_id == kept)
            .values(customer_id=merged)
            .returning(table.c.id)
        )
        back.update(connection.execute(statement).scalars())
    return sorted(set(ids) - back)


def _segments_back(
    connection: Connection, audit: dict[str, Any], kept: int, merged: int
) -> list[int]:
    """Move memberships back and restore dropped ones; returns the segments skipped."""
    held = select(members.c.segment_id).where(members.c.customer_id == merged)
    moved = audit["rows"].get("segment_member", [])
    statement = (
        update(members)
        .where(members.c.customer_id == kept, members.c.segment_id.in_(moved))
        .where(members.c.segment_id.not_in(held))
        .values(customer_id=merged)
        .returning(members.c.segment_id)
    )
    back = set(connection.execute(statement).scalars())
    dropped = audit.get("dropped_segments", [])
    segment = TABLES["segment"]
    alive = select(segment.c.id).where(segment.c.id.in_(dropped))
    for segment_id in connection.execute(alive.where(segment.c.id.not_in(held))):
        row = {"segment_id": segment_id[0], "customer_id": merged}
        connection.execute(insert(members).values(**row))
        back.add(segment_id[0])
    return sorted((set(moved) | set(dropped)) - back)


def _unfill(connection: Connection, kept: Any, filled: dict[str, Any]) -> None:
    """Clear the fields the merge filled that still hold the filled value."""
    values = {
        name: None
        for name, value in filled.items()
        if name != "attributes" and getattr(kept, name) == value
    }
    attributes = dict(kept.attributes or {})
    for key, value in filled.get("attributes", {}).items():
        if key in attributes and attributes[key] == value:
            del attributes[key]
    connection.execute(
        update(customer)
        .where(customer.c.id == kept.id)
        .values(**values, attributes=attributes, updated_at=utcnow())
    )


def _locked_merge(connection: Connection, merge_id: int) -> Any:
    query = select(merges).where(merges.c.id == merge_id).with_for_update()
    row = connection.execute(query).first()
    if row is None:
        raise NotFound(f"merge #{merge_id} does not exist")
    if row.undone_at is not None:
        when = row.undone_at.strftime("%Y-%m-%d %H:%M UTC")
        raise Conflict(f"merge #{merge_id} was already split on {when}")
    return row


def _check_splittable(
    connection: Connection, row: Any, customers: dict[int, Any]
) -> None:
    kept, merged = row.kept_customer_id, row.merged_customer_id
    if merged not in customers or kept not in customers:
        msg = f"merge #{row.id}: customer {merged if kept in customers else kept} was deleted"
        raise Conflict(f"{msg}; the merge cannot be split")
    later = customers[kept].merged_into_id
    if later is not None:
        number = live_merge_of(connection, kept)
        msg = (
            f"merge #{row.id} cannot be split: customer {kept} was merged into "
            f"customer {later} later (merge #{number}); split merge #{number} first"
        )
        raise Conflict(msg)
    if customers[merged].merged_into_id != kept:
        msg = f"merge #{row.id}: customer {merged} is no longer merged into {kept}"
        raise Conflict(msg)


def split_on(
    connection: Connection, *, merge_id: int, actor: str | None = None
) -> MergeRecord:
    """Undo merge ``merge_id`` inside the caller's transaction.

    Raises
    ------
    NotFound
        There is no such merge.
    Conflict
        The merge was already split, or the kept customer was merged on since.
    """
    row = _locked_merge(connection, merge_id)
    kept, merged = row.kept_customer_id, row.merged_customer_id
    customers = locked_customers(connection, [kept, merged])
    _check_splittable(connection, row, customers)
    audit: dict[str, Any] = dict(row.moved or {})
    skipped = {
        table.name: _move_back(
            connection, table, audit["rows"].get(table.name, []), kept, merged
        )
        for table in OWNED
    }
    skipped["segment_member"] = _segments_back(connection, audit, kept, merged)
    identity = TABLES["identity"]
    connection.execute(
        delete(identity)
        .where(identity.c.id.in_(audit.get("added_identities", [])))
        .where(identity.c.customer_id == kept)
    )
    _unfill(connection, customers[kept], audit.get("filled", {}))
    connection.execute(
        update(customer)
        .where(customer.c.id.in_(audit.get("repointed", [])))
        .where(customer.c.merged_into_id == kept)
        .values(merged_into_id=merged)
    )
    now = utcnow()
    connection.execute(
        update(customer)
        .where(customer.c.id == merged)
        .values(merged_into_id=None, updated_at=now)
    )
    audit.update(undone_by=actor, skipped={k: v for k, v in skipped.items() if v})
    statement = update(merges).where(merges.c.id == merge_id)
    connection.execute(statement.values(undone_at=now, moved=audit))
    return record_of(
        connection.execute(select(merges).where(merges.c.id == merge_id)).one()
    )
