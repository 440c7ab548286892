"""Identity resolution services: merge customers, split a merge, find who is one person.

The CLI, the web app and scripts call these; each call is one transaction on SQLite
(taking the write lock at once) or PostgreSQL. What a merge moves and how a split puts
it back is in :mod:`cxloop.customers.moves`; how a customer reference is read is in
:mod:`cxloop.customers.lookup`.

:func:`resolve_identities` finds the live customers that share a normalised identifier,
through the ``identity`` table and through the customers' own ``email``, ``phone`` and
``external_id`` columns (customer 5 whose e-mail column is ``A@x.tw`` and customer 9
who holds the identity ``a@x.tw`` are one person), and merges each group into its
oldest customer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, or_, select

from cxloop.config import Settings
from cxloop.customers.identity import (
    Ident,
    MergeGroup,
    group_by_identity,
    normal_email,
    normal_member_id,
    normal_phone,
    normalise,
)
from cxloop.customers.lookup import find_customer
from cxloop.customers.moves import MergeRecord, merge_on, merges, record_of
from cxloop.customers.splits import split_on
from cxloop.domain.errors import InvalidInput
from cxloop.domain.vocab import IdentityKind
from cxloop.ingest.writers import transaction
from cxloop.store.engine import engine_for
from cxloop.store.tables import Base

__all__ = [
    "MergeGroup", "MergeRecord", "list_merges", "merge_customers", "plan_resolution",
    "resolve_identities", "split_merge",
]  # fmt: skip

customer = Base.metadata.tables["customer"]
identity = Base.metadata.tables["identity"]
#: A phone already stored as E.164 (importers store them so): not parsed again.
E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def merge_customers(
    *,
    settings: Settings,
    keep: str | int,
    merge: str | int,
    reason: str,
    actor: str | None = None,
) -> MergeRecord:
    """Merge the customer ``merge`` into ``keep`` and record why.

    Parameters
    ----------
    settings
        Where the store is.
    keep, merge
        Customer references: an id, a member id, an e-mail, a phone or a social
        handle, optionally prefixed ``id:``, ``member:``, ``email:``, ``phone:``
        or ``social:``.
    reason
        Why the two are one person; kept in the audit.
    actor
        Who asked for the merge; kept in the audit.

    Raises
    ------
    NotFound
        A reference matches no customer.
    InvalidInput
        A reference is ambiguous, or the reason is empty.
    Conflict
        The customers are the same, or one of them is already merged.
    """
    if not reason.strip():
        raise InvalidInput("give a reason for the merge")
    with transaction(engine_for(settings.database_url)) as writer:
        kept = find_customer(writer.connection, keep)
        merged = find_customer(writer.connection, merge)
        return merge_on(
            writer.connection, kept=kept, merged=merged, reason=reason.strip(),
            actor=actor,
        )  # fmt: skip


def split_merge(
    *, settings: Settings, merge_id: int, actor: str | None = None
) -> MergeRecord:
    """Undo merge ``merge_id``: move back the rows it moved and clear what it filled.

    Rows deleted since the merge, or moved to another customer since, stay where they
    are and are listed in the record's ``skipped``.

    Raises
    ------
    NotFound
        There is no such merge.
    Conflict
        The merge was already split, or the kept customer was merged into another
        customer since (split that later merge first).
    """
    with transaction(engine_for(settings.database_url)) as writer:
        return split_on(writer.connection, merge_id=merge_id, actor=actor)


def _shared(pairs: Iterator[tuple[Ident, int]]) -> dict[Ident, set[int]]:
    """The identifiers held by more than one customer, with their holders."""
    first: dict[Ident, int] = {}
    shared: dict[Ident, set[int]] = {}
    for ident, owner in pairs:
        held = first.setdefault(ident, owner)
        if held != owner:
            shared.setdefault(ident, {held}).add(owner)
    return shared


def _identity_pairs(connection: Connection) -> Iterator[tuple[Ident, int]]:
    known = {kind.value for kind in IdentityKind}
    query = (
        select(identity.c.kind, identity.c.value, identity.c.customer_id)
        .join(customer, customer.c.id == identity.c.customer_id)
        .where(customer.c.merged_into_id.is_(None))
    )
    for kind, value, owner in connection.execute(query):
        stored_e164 = kind == IdentityKind.PHONE.value and E164.match(value)
        normal = normalise(kind, value) if kind in known and not stored_e164 else None
        yield (kind, normal or value), owner


def _column_pairs(connection: Connection) -> Iterator[tuple[Ident, int]]:
    query = select(
        customer.c.id, customer.c.email, customer.c.phone, customer.c.external_id
    ).where(customer.c.merged_into_id.is_(None))
    phones: dict[str, str | None] = {}
    for owner, email, phone, external in connection.execute(query):
        if email and (clean := normal_email(email)):
            yield (IdentityKind.EMAIL.value, clean), owner
        if phone:
            if phone not in phones:
                phones[phone] = normal_phone(phone)
            if (e164 := phones[phone]) is not None:
                yield (IdentityKind.PHONE.value, e164), owner
        if external and (member := normal_member_id(external)):
            yield (IdentityKind.MEMBER_ID.value, member), owner


def _groups(connection: Connection, reason_prefix: str) -> list[MergeGroup]:
    def pairs() -> Iterator[tuple[Ident, int]]:
        yield from _identity_pairs(connection)
        yield from _column_pairs(connection)

    return group_by_identity(_shared(pairs()), reason_prefix)


def plan_resolution(
    *, settings: Settings, reason_prefix: str = "shared identity"
) -> list[MergeGroup]:
    """The groups :func:`resolve_identities` would merge now, merging nothing."""
    with engine_for(settings.database_url).connect() as connection:
        return _groups(connection, reason_prefix)


def resolve_identities(
    *,
    settings: Settings,
    reason_prefix: str = "shared identity",
    actor: str | None = None,
) -> list[MergeRecord]:
    """Merge every group of live customers that share a normalised identifier.

    Each group is merged into its oldest customer (the lowest id), one recorded merge
    per other customer, with the reason ``"<reason_prefix>: email a@x.tw"`` naming
    the identifiers it shares. A second run merges nothing.
    """
    with transaction(engine_for(settings.database_url)) as writer:
        connection = writer.connection
        return [
            merge_on(
                connection,
                kept=group.survivor,
                merged=merged,
                reason=group.reasons[merged],
                actor=actor,
            )
            for group in _groups(connection, reason_prefix)
            for merged in group.merged
        ]


def list_merges(
    *, settings: Settings, customer: str | int | None = None
) -> list[MergeRecord]:
    """Every recorded merge, oldest first; with ``customer``, those it took part in."""
    query: Any = select(merges).order_by(merges.c.id)
    with engine_for(settings.database_url).connect() as connection:
        if customer is not None:
            found = find_customer(connection, customer)
            query = query.where(
                or_(
                    merges.c.kept_customer_id == found,
                    merges.c.merged_customer_id == found,
                )
            )
        return [record_of(row) for row in connection.execute(query)]
