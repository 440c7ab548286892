"""The row moves of a merge, inside a transaction the caller holds.

A merge moves every identity, interaction, purchase, case, invitation and segment
membership of the merged customer to the kept one, fills the kept customer's empty
fields from the merged one, adds identities for the two customers' own e-mail, phone
and member id columns that nobody holds yet, marks the merged customer with
``merged_into_id`` (customers merged into it earlier are pointed at the kept one too)
and writes an ``identity_merge`` row. Its ``moved`` JSON says exactly what was done::

    {"actor": ..., "rows": {"identity": [ids], "interaction": [ids], "purchase": [ids],
     "support_case": [ids], "invitation": [ids], "segment_member": [segment ids]},
     "dropped_segments": [segment ids], "added_identities": [identity ids],
     "filled": {"name": ..., "attributes": {...}}, "profile_deleted": bool,
     "repointed": [customer ids]}

so that :func:`cxloop.customers.splits.split_on` can undo it. The merged customer's
computed ``customer_profile`` row is deleted (the next scoring recomputes it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, delete, insert, select, update

from cxloop.customers.identity import normal_email, normal_member_id, normal_phone
from cxloop.customers.lookup import survivor_of
from cxloop.domain.errors import Conflict, NotFound
from cxloop.domain.vocab import IdentityKind
from cxloop.store.tables import Base
from cxloop.store.types import utcnow

TABLES = Base.metadata.tables
#: Tables whose rows belong to a customer through ``customer_id``, keyed by ``id``.
OWNED: tuple[Table, ...] = tuple(
    TABLES[name]
    for name in ("identity", "interaction", "purchase", "support_case", "invitation")
)
#: Customer fields a merge fills on the kept customer when they are empty there.
FILLED_FIELDS = ("name", "email", "phone", "region", "segment", "language")

customer = TABLES["customer"]
merges = TABLES["identity_merge"]
members = TABLES["segment_member"]


@dataclass(frozen=True)
class MergeRecord:
    """One merge as recorded in ``identity_merge``.

    ``moved`` maps a table to the ids of the rows that moved (for ``segment_member``,
    the segment ids); ``filled`` holds the kept customer's fields filled from the
    merged one (``attributes``: the keys added); ``skipped`` the rows a split could
    not move back because they were deleted or belong to another customer since.
    """

    id: int
    kept_customer_id: int
    merged_customer_id: int
    reason: str
    created_at: datetime
    undone_at: datetime | None = None
    actor: str | None = None
    moved: dict[str, list[int]] = field(default_factory=dict)
    filled: dict[str, Any] = field(default_factory=dict)
    skipped: dict[str, list[int]] = field(default_factory=dict)

    @property
    def moved_rows(self) -> int:
        """How many rows moved, all tables together."""
        return sum(len(ids) for ids in self.moved.values())


def record_of(row: Any) -> MergeRecord:
    """A :class:`MergeRecord` from an ``identity_merge`` row."""
    audit: dict[str, Any] = row.moved or {}
    return MergeRecord(
        id=row.id,
        kept_customer_id=row.kept_customer_id,
        merged_customer_id=row.merged_customer_id,
        reason=row.reason,
        created_at=row.created_at,
        undone_at=row.undone_at,
        actor=audit.get("actor"),
        moved={name: list(ids) for name, ids in audit.get("rows", {}).items() if ids},
        filled=dict(audit.get("filled", {})),
        skipped={k: list(v) for k, v in audit.get("skipped", {}).items() if v},
    )


def locked_customers(connection: Connection, ids: Sequence[int]) -> dict[int, Any]:
    """The customer rows of ``ids``, locked for update on PostgreSQL."""
    query = (
        select(customer)
        .where(customer.c.id.in_(sorted(set(ids))))
        .order_by(customer.c.id)
        .with_for_update()
    )
    return {row.id: row for row in connection.execute(query)}


def live_merge_of(connection: Connection, merged: int) -> int | None:
    """The live merge that merged customer ``merged`` away, if any."""
    query = select(merges.c.id).where(
        merges.c.merged_customer_id == merged, merges.c.undone_at.is_(None)
    )
    return connection.execute(query.order_by(merges.c.id.desc())).scalar()


def _check_mergeable(
    connection: Connection, rows: dict[int, Any], kept: int, merged: int
) -> None:
    for customer_id in (kept, merged):
        if customer_id not in rows:
            raise NotFound(f"customer {customer_id} does not exist")
    if kept == merged:
        raise Conflict(f"customer {kept} cannot be merged into itself")
    into = rows[merged].merged_into_id
    if into is not None:
        where = "into it" if into == kept else f"into customer {into}"
        number = live_merge_of(connection, merged)
        msg = f"customer {merged} is already merged {where} (merge #{number})"
        raise Conflict(f"{msg}; split that merge first to merge it elsewhere")
    if rows[kept].merged_into_id is not None:
        live = survivor_of(connection, kept)
        msg = f"customer {kept} was merged into customer {live}: merge into {live} instead"
        raise Conflict(msg)


def _move_owned(connection: Connection, kept: int, merged: int) -> dict[str, list[int]]:
    moved: dict[str, list[int]] = {}
    for table in OWNED:
        statement = (
            update(table)
            .where(table.c.customer_id == merged)
            .values(customer_id=kept)
            .returning(table.c.id)
        )
        moved[table.name] = sorted(connection.execute(statement).scalars())
    return moved


def _move_segments(
    connection: Connection, kept: int, merged: int
) -> tuple[list[int], list[int]]:
    """Memberships moved to ``kept``, and those dropped because it already had them."""
    held = select(members.c.segment_id).where(members.c.customer_id == kept)
    dropped = connection.execute(
        delete(members)
        .where(members.c.customer_id == merged, members.c.segment_id.in_(held))
        .returning(members.c.segment_id)
    )
    dropped_ids = sorted(dropped.scalars())
    moved = connection.execute(
        update(members)
        .where(members.c.customer_id == merged)
        .values(customer_id=kept)
        .returning(members.c.segment_id)
    )
    return sorted(moved.scalars()), dropped_ids


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _fills(kept: Any, merged: Any) -> dict[str, Any]:
    """The kept customer's empty fields and missing attribute keys, from ``merged``."""
    filled: dict[str, Any] = {
        name: getattr(merged, name)
        for name in FILLED_FIELDS
        if _empty(getattr(kept, name)) and not _empty(getattr(merged, name))
    }
    own = kept.attributes or {}
    extra = {k: v for k, v in (merged.attributes or {}).items() if k not in own}
    if extra:
        filled["attributes"] = extra
    return filled


def _column_idents(rows: Sequence[Any]) -> list[tuple[str, str]]:
    """The normalised e-mail, phone and member id columns of ``rows``."""
    found: list[tuple[str, str]] = []
    for row in rows:
        for kind, value, normal in (
            (IdentityKind.EMAIL.value, row.email, normal_email),
            (IdentityKind.PHONE.value, row.phone, normal_phone),
            (IdentityKind.MEMBER_ID.value, row.external_id, normal_member_id),
        ):
            clean = normal(value) if value else None
            if clean is not None:
                found.append((kind, clean))
    return list(dict.fromkeys(found))


def _add_identities(
    connection: Connection, kept: int, rows: Sequence[Any]
) -> list[int]:
    """Identities for the customers' own columns that nobody holds yet, for ``kept``."""
    table = TABLES["identity"]
    added: list[int] = []
    for kind, value in _column_idents(rows):
        query = select(table.c.id).where(table.c.kind == kind, table.c.value == value)
        if connection.execute(query).first() is not None:
            continue
        statement = insert(table).values(
            customer_id=kept, kind=kind, value=value, created_at=utcnow()
        )
        added.append(connection.execute(statement.returning(table.c.id)).scalar_one())
    return added


def _setlocked_customers(
    connection: Connection, kept: Any, merged: int, filled: dict[str, Any]
) -> datetime:
    """Fill the kept customer, mark the merged one; both count as updated now."""
    now = utcnow()
    attributes = {**(kept.attributes or {}), **filled.get("attributes", {})}
    values = {k: v for k, v in filled.items() if k != "attributes"}
    connection.execute(
        update(customer)
        .where(customer.c.id == kept.id)
        .values(**values, attributes=attributes, updated_at=now)
    )
    connection.execute(
        update(customer)
        .where(customer.c.id == merged)
        .values(merged_into_id=kept.id, updated_at=now)
    )
    return now


def merge_on(
    connection: Connection,
    *,
    kept: int,
    merged: int,
    reason: str,
    actor: str | None = None,
) -> MergeRecord:
    """Merge customer ``merged`` into ``kept`` inside the caller's transaction.

    Raises
    ------
    NotFound
        A customer does not exist.
    Conflict
        The two are the same customer, or one of them is already merged.
    """
    rows = locked_customers(connection, [kept, merged])
    _check_mergeable(connection, rows, kept, merged)
    moved = _move_owned(connection, kept, merged)
    moved["segment_member"], dropped = _move_segments(connection, kept, merged)
    profile = TABLES["customer_profile"]
    deleted = connection.execute(delete(profile).where(profile.c.customer_id == merged))
    repointed = connection.execute(
        update(customer)
        .where(customer.c.merged_into_id == merged)
        .values(merged_into_id=kept)
        .returning(customer.c.id)
    )
    filled = _fills(rows[kept], rows[merged])
    audit = {
        "actor": actor, "rows": moved, "dropped_segments": dropped,
        "added_identities": _add_identities(connection, kept, list(rows.values())),
        "filled": filled, "profile_deleted": bool(deleted.rowcount),
        "repointed": sorted(repointed.scalars()),
    }  # fmt: skip
    now = _setlocked_customers(connection, rows[kept], merged, filled)
    statement = insert(merges).values(
        kept_customer_id=kept, merged_customer_id=merged, reason=reason,
        moved=audit, created_at=now,
    )  # fmt: skip
    merge_id = connection.execute(statement.returning(merges.c.id)).scalar_one()
    moved = {name: ids for name, ids in moved.items() if ids}
    return MergeRecord(merge_id, kept, merged, reason, now, None, actor, moved, filled)


def add_moved_rows(
    connection: Connection, *, merge_id: int, table: str, ids: Sequence[int]
) -> None:
    """Count rows of ``table`` written for the kept customer on behalf of the merged
    one (an import that linked them) as moved by merge ``merge_id``, so a split
    moves them to the merged customer too. Nothing happens to a split merge."""
    query = select(merges.c.moved, merges.c.undone_at).where(merges.c.id == merge_id)
    row = connection.execute(query.with_for_update()).one()
    if row.undone_at is not None or not ids:
        return
    audit = dict(row.moved or {})
    rows = dict(audit.get("rows", {}))
    rows[table] = sorted({*rows.get(table, []), *ids})
    audit["rows"] = rows
    statement = update(merges).where(merges.c.id == merge_id).values(moved=audit)
    connection.execute(statement)
