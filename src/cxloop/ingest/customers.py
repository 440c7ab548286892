"""Match rows to customers through the ``identity`` table, or create the customers.

Identifiers are trusted in the order member id (``customer_id``), email (lower-cased),
phone (E.164). A row is matched to the customer owning its first known identifier; its
other identifiers, when nobody owns them yet, are added to that customer. A row whose
identifiers are all unknown creates a customer owning them. Two customers are never
merged here: that is identity resolution's work, which keeps an audit of merges.

When a file names customers by one kind of identifier only (the common case), the
matching is set-based over the distinct values; otherwise it walks the distinct
(customer_id, email, phone) triples.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from cxloop.domain.vocab import IdentityKind
from cxloop.ingest.writers import BulkWriter

#: Identity kind of each customer reference column, in order of trust.
REF_KINDS = {
    "customer_id": IdentityKind.MEMBER_ID.value,
    "email": IdentityKind.EMAIL.value,
    "phone": IdentityKind.PHONE.value,
}
SEPARATOR = "\x1f"

Ident = tuple[str, str]
NewCustomer = tuple[int, str | None, str | None, str | None]


@dataclass
class CustomerPlan:
    """Which customer each row belongs to, and what must be written for that.

    ``row_customer`` is an int64 array, null for rows that name no customer;
    ``new_customers`` are (id, external_id, email, phone).
    """

    row_customer: pa.Array
    new_customers: list[NewCustomer] = field(default_factory=list)
    new_identities: list[tuple[int, str, str]] = field(default_factory=list)
    external_ids: dict[int, str] = field(default_factory=dict)


def _owners_of(writer: BulkWriter, kind: str, values: list[str]) -> dict[str, int]:
    """Stored owners of ``values`` of identity ``kind`` (member ids: also external ids)."""
    sql = (
        "SELECT value, customer_id FROM identity WHERE kind = ? AND value IN ({values})"
    )
    owners = dict(writer.lookup(sql, values, kind))
    if kind == IdentityKind.MEMBER_ID.value:
        sql = "SELECT external_id, id FROM customer WHERE external_id IN ({values})"
        for value, owner in writer.lookup(sql, values):
            owners.setdefault(value, owner)
    return owners


def plan_customers(writer: BulkWriter, refs: dict[str, pa.Array]) -> CustomerPlan:
    """Resolve each row of ``refs`` (arrays ``customer_id``, ``email``, ``phone``)."""
    present = [name for name in REF_KINDS if refs[name].null_count < len(refs[name])]
    if len(present) == 0:
        return CustomerPlan(pa.nulls(len(refs["email"]), pa.int64()))
    if len(present) == 1:
        return _plan_one_kind(writer, present[0], refs[present[0]])
    return _plan_triples(writer, refs)


def _plan_one_kind(writer: BulkWriter, name: str, values: pa.Array) -> CustomerPlan:
    """Set-based: the distinct values, their stored owners, new customers for the rest."""
    kind = REF_KINDS[name]
    distinct = pc.unique(pc.drop_null(values))
    stored = _owners_of(writer, kind, distinct.to_pylist())
    is_new = pc.invert(
        pc.is_in(distinct, value_set=pa.array(list(stored), pa.string()))
    )
    unseen = distinct.filter(is_new)
    fresh = unseen.take(pc.array_sort_indices(unseen)).to_pylist()
    ids = writer.next_ids("customer", len(fresh)).tolist()
    keys = pa.array([*stored, *fresh], pa.string())
    owners = pa.array([*stored.values(), *ids], pa.int64())
    plan = CustomerPlan(pc.take(owners, pc.index_in(values, value_set=keys)))
    column = list(REF_KINDS).index(name)
    for customer, value in zip(ids, fresh, strict=True):
        row: list[str | None] = [None, None, None]
        row[column] = value
        plan.new_customers.append((customer, row[0], row[1], row[2]))
        plan.new_identities.append((customer, kind, value))
    return plan


def _plan_triples(writer: BulkWriter, refs: dict[str, pa.Array]) -> CustomerPlan:
    """Walk the distinct (customer_id, email, phone) triples in file order."""
    parts = [pc.fill_null(refs[name], "") for name in REF_KINDS]
    encoded = pc.dictionary_encode(pc.binary_join_element_wise(*parts, SEPARATOR))
    triples = [key.split(SEPARATOR) for key in encoded.dictionary.to_pylist()]
    known: dict[Ident, int] = {}
    for position, kind in enumerate(REF_KINDS.values()):
        values = sorted({triple[position] for triple in triples if triple[position]})
        known.update(
            ((kind, v), o) for v, o in _owners_of(writer, kind, values).items()
        )
    plan = CustomerPlan(pa.nulls(0, pa.int64()))
    provisional: list[int] = []
    owners = [_owner(triple, known, plan, provisional) for triple in triples]
    final = dict(
        zip(
            provisional,
            writer.next_ids("customer", len(provisional)).tolist(),
            strict=True,
        )
    )
    plan.new_customers = [(final[new], *rest) for new, *rest in plan.new_customers]
    plan.new_identities = [
        (final.get(o, o), kind, value) for o, kind, value in plan.new_identities
    ]
    resolved = pa.array([final.get(o, o) if o else None for o in owners], pa.int64())
    plan.row_customer = pc.take(resolved, encoded.indices)
    _member_ids(writer, plan, triples, owners)
    return plan


def _owner(
    triple: list[str],
    known: dict[Ident, int],
    plan: CustomerPlan,
    provisional: list[int],
) -> int | None:
    """The owner of a triple (negative: provisional new customer); records new identities."""
    idents = [
        (kind, value)
        for kind, value in zip(REF_KINDS.values(), triple, strict=True)
        if value
    ]
    if not idents:
        return None
    owner = next((known[ident] for ident in idents if ident in known), None)
    if owner is None:
        owner = -(len(provisional) + 1)
        provisional.append(owner)
        cid, email, phone = (value or None for value in triple)
        plan.new_customers.append((owner, cid, email, phone))
    for ident in idents:
        if ident not in known:
            known[ident] = owner
            plan.new_identities.append((owner, *ident))
    return owner


def _member_ids(
    writer: BulkWriter,
    plan: CustomerPlan,
    triples: list[list[str]],
    owners: list[int | None],
) -> None:
    """Stored customers matched by email or phone get the row's customer_id as external id."""
    wanted: dict[int, str] = {}
    for triple, owner in zip(triples, owners, strict=True):
        if owner is not None and owner > 0 and triple[0]:
            wanted.setdefault(owner, triple[0])
    if not wanted:
        return
    sql = "SELECT id FROM customer WHERE external_id IS NULL AND id IN ({values})"
    empty = {row[0] for row in writer.lookup(sql, sorted(wanted))}
    sql = "SELECT external_id FROM customer WHERE external_id IN ({values})"
    taken = {row[0] for row in writer.lookup(sql, sorted(set(wanted.values())))}
    taken.update(external for _, external, _, _ in plan.new_customers if external)
    for owner, external in wanted.items():
        if owner in empty and external not in taken:
            plan.external_ids[owner] = external
            taken.add(external)


def write_customers(writer: BulkWriter, plan: CustomerPlan, source: str) -> None:
    """Insert the plan's new customers and identities; set external ids."""
    now = writer.now
    columns = (
        "id",
        "external_id",
        "email",
        "phone",
        "source",
        "attributes",
        "created_at",
        "updated_at",
    )
    writer.insert(
        "customer",
        columns,
        ((*customer, source, "{}", now, now) for customer in plan.new_customers),
    )
    writer.insert(
        "identity",
        ("customer_id", "kind", "value", "created_at"),
        ((*identity, now) for identity in plan.new_identities),
    )
    writer.execute_many(
        "UPDATE customer SET external_id = ?, updated_at = ? WHERE id = ?",
        [(external, now, owner) for owner, external in plan.external_ids.items()],
    )
