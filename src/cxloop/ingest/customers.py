"""Match rows to customers through the ``identity`` table, or create the customers.

Identifiers are trusted in the order member id (``customer_id``), email (lower-cased),
phone (E.164), social handle (``social_handle``: lower-cased, without ``@``, with its
``platform:`` when given). A row is matched to the customer owning its first known
identifier; its other identifiers, when nobody owns them yet, are added to that
customer. A row whose identifiers are all unknown creates a customer owning them.

When one row names identifiers held by different customers (member id M1 held by
customer 3, the e-mail by customer 7), those customers are one person: they are
merged, over every such link in the file (union-find), into the oldest of them, and
each merge is recorded in ``identity_merge`` with a reason naming the file, the line
and the identifiers (``import feedback.csv line 12: member id M1 and email a@x.tw``);
``cxloop customers split`` undoes one. A customer the same file would have created
is not created when a later row links it to another: its identifiers and rows go to
that customer.

When a file names customers by one kind of identifier only (the common case), the
matching is set-based over the distinct values and cannot link two customers;
otherwise it walks the distinct combinations of (customer_id, email, phone,
social_handle).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from cxloop.customers.identity import CustomerGroups, describe
from cxloop.customers.moves import add_moved_rows, merge_on
from cxloop.domain.vocab import IdentityKind
from cxloop.ingest.writers import BulkWriter

#: Identity kind of each customer reference column, in order of trust.
REF_KINDS = {
    "customer_id": IdentityKind.MEMBER_ID.value,
    "email": IdentityKind.EMAIL.value,
    "phone": IdentityKind.PHONE.value,
    "social_handle": IdentityKind.SOCIAL.value,
}
SEPARATOR = "\x1f"

Ident = tuple[str, str]
NewCustomer = tuple[int, str | None, str | None, str | None]
#: Provisional (new) customers sort after every stored one: they are younger.
YOUNGER = 1 << 62
#: Linking rows named in the reason of one merge (the others are counted).
MAX_REASONS = 3


@dataclass(frozen=True)
class RowOrigin:
    """Where the rows being matched come from: the file's name, the file's lines
    and which of the file's rows are matched (``rows[i]`` is matched row ``i``)."""

    file_name: str
    lines: npt.NDArray[np.int64]
    rows: npt.NDArray[np.int64]

    def line(self, row: int) -> int:
        """The file line of matched row ``row``."""
        return int(self.lines[self.rows[row]])


@dataclass(frozen=True)
class Link:
    """A file row (its combination's index) naming identifiers of several customers."""

    index: int
    owners: tuple[int, ...]
    idents: tuple[Ident, ...]


@dataclass
class CustomerPlan:
    """Which customer each row belongs to, and what must be written for that.

    ``row_customer`` is an int64 array, null for rows that name no customer;
    ``new_customers`` are (id, external_id, email, phone); ``merges`` are the stored
    customers the file links, as (kept, merged, reason); ``adopted`` the rows (of
    ``refs``) each merged customer held before its merge, written for the kept one;
    ``merge_ids`` the merge recorded for each merged customer.
    """

    row_customer: pa.Array
    new_customers: list[NewCustomer] = field(default_factory=list)
    new_identities: list[tuple[int, str, str]] = field(default_factory=list)
    external_ids: dict[int, str] = field(default_factory=dict)
    merges: list[tuple[int, int, str]] = field(default_factory=list)
    adopted: dict[int, npt.NDArray[np.int64]] = field(default_factory=dict)
    merge_ids: dict[int, int] = field(default_factory=dict)


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


def plan_customers(
    writer: BulkWriter, refs: dict[str, pa.Array], origin: RowOrigin | None = None
) -> CustomerPlan:
    """Resolve each row of ``refs`` (an array per name of :data:`REF_KINDS`).

    ``origin`` names the file and the line of each row for the reasons of merges.
    """
    present = [name for name in REF_KINDS if refs[name].null_count < len(refs[name])]
    if len(present) == 0:
        return CustomerPlan(pa.nulls(len(refs["email"]), pa.int64()))
    if len(present) == 1:
        return _plan_one_kind(writer, present[0], refs[present[0]])
    return _plan_combinations(writer, refs, origin)


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
        row: list[str | None] = [None] * len(REF_KINDS)
        row[column] = value
        plan.new_customers.append((customer, row[0], row[1], row[2]))
        plan.new_identities.append((customer, kind, value))
    return plan


def _plan_combinations(
    writer: BulkWriter, refs: dict[str, pa.Array], origin: RowOrigin | None
) -> CustomerPlan:
    """Walk the distinct combinations of identifiers in file order."""
    parts = [pc.fill_null(refs[name], "") for name in REF_KINDS]
    encoded = pc.dictionary_encode(pc.binary_join_element_wise(*parts, SEPARATOR))
    combos = [key.split(SEPARATOR) for key in encoded.dictionary.to_pylist()]
    known: dict[Ident, int] = {}
    for position, kind in enumerate(REF_KINDS.values()):
        values = sorted({combo[position] for combo in combos if combo[position]})
        known.update(
            ((kind, v), o) for v, o in _owners_of(writer, kind, values).items()
        )
    plan = CustomerPlan(pa.nulls(0, pa.int64()))
    provisional: list[int] = []
    links: list[Link] = []
    owners = [
        _owner(index, combo, known, plan, provisional, links)
        for index, combo in enumerate(combos)
    ]
    if links:
        lines = _first_lines(encoded.indices, origin)
        label = f"import {origin.file_name}" if origin else "import"
        before, owners = owners, _join_linked(plan, owners, links, lines, label)
        merged = {customer for _, customer, _ in plan.merges}
        plan.adopted = _adopted(encoded.indices, before, merged)
        provisional = [new for new, *_ in plan.new_customers]
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
    _member_ids(writer, plan, combos, owners)
    return plan


def _owner(
    index: int,
    combo: list[str],
    known: dict[Ident, int],
    plan: CustomerPlan,
    provisional: list[int],
    links: list[Link],
) -> int | None:
    """The owner of a combination (negative: provisional new customer); records new
    identities, and a link when its identifiers are held by several customers."""
    idents = [
        (kind, value)
        for kind, value in zip(REF_KINDS.values(), combo, strict=True)
        if value
    ]
    if not idents:
        return None
    holders = {ident: known[ident] for ident in idents if ident in known}
    distinct = tuple(dict.fromkeys(holders.values()))
    if len(distinct) > 1:
        links.append(Link(index, distinct, tuple(holders)))
    owner = distinct[0] if distinct else None
    if owner is None:
        owner = -(len(provisional) + 1)
        provisional.append(owner)
        cid, email, phone = (value or None for value in combo[:3])
        plan.new_customers.append((owner, cid, email, phone))
    for ident in idents:
        if ident not in known:
            known[ident] = owner
            plan.new_identities.append((owner, *ident))
    return owner


def _first_lines(indices: pa.Array, origin: RowOrigin | None) -> dict[int, str]:
    """Where each combination first occurs: ``line N`` (``row N`` without origin)."""
    codes = indices.to_numpy(zero_copy_only=False)
    combos, first = np.unique(codes, return_index=True)
    if origin is None:
        return {int(c): f"row {int(r) + 1}" for c, r in zip(combos, first, strict=True)}
    return {
        int(c): f"line {origin.line(int(r))}"
        for c, r in zip(combos, first, strict=True)
    }


def _reasons(
    links: list[Link], merged: set[int], where: dict[int, str], label: str
) -> dict[int, str]:
    """Why each merged customer is merged: the rows that link it, in file order."""
    parts: dict[int, list[str]] = {owner: [] for owner in merged}
    for link in links:  # combinations are numbered in order of first appearance
        for owner in set(link.owners) & merged:
            parts[owner].append(f"{where[link.index]}: {describe(link.idents)}")
    reasons = {}
    for owner, found in parts.items():
        more = (
            f"; and {len(found) - MAX_REASONS} more rows"
            if len(found) > MAX_REASONS
            else ""
        )
        reasons[owner] = f"{label} {'; '.join(found[:MAX_REASONS])}{more}"
    return reasons


def _age(owner: int) -> int:
    """A sort key: stored customers by id, then provisional ones in creation order."""
    return owner if owner > 0 else YOUNGER - owner


def _owner_of(age: int) -> int:
    return age if age < YOUNGER else YOUNGER - age


def _join_linked(
    plan: CustomerPlan,
    owners: list[int | None],
    links: list[Link],
    where: dict[int, str],
    label: str,
) -> list[int | None]:
    """Union the linked customers into their oldest; stored ones become merges,
    provisional ones are never created. Returns the owners remapped."""
    groups = CustomerGroups()
    for link in links:
        for other in link.owners[1:]:
            groups.union(_age(link.owners[0]), _age(other))
    root = {
        owner: _owner_of(groups.find(_age(owner)))
        for link in links
        for owner in link.owners
    }
    merged = {owner for owner in root if owner > 0 and root[owner] != owner}
    reasons = _reasons(links, merged, where, label)
    plan.merges = [(root[owner], owner, reasons[owner]) for owner in sorted(reasons)]
    plan.new_customers = [
        new for new in plan.new_customers if root.get(new[0], new[0]) == new[0]
    ]
    plan.new_identities = [
        (root.get(owner, owner), kind, value)
        for owner, kind, value in plan.new_identities
    ]
    return [None if owner is None else root.get(owner, owner) for owner in owners]


def _adopted(
    indices: pa.Array, owners: list[int | None], merged: set[int]
) -> dict[int, npt.NDArray[np.int64]]:
    """The rows whose combination a merged customer held before the merge."""
    codes = indices.to_numpy(zero_copy_only=False)
    found = {}
    for customer in merged:
        held = [code for code, owner in enumerate(owners) if owner == customer]
        found[customer] = np.flatnonzero(np.isin(codes, held)).astype(np.int64)
    return found


def _member_ids(
    writer: BulkWriter,
    plan: CustomerPlan,
    combos: list[list[str]],
    owners: list[int | None],
) -> None:
    """Stored customers matched by another identifier get the row's customer_id as
    external id."""
    wanted: dict[int, str] = {}
    for combo, owner in zip(combos, owners, strict=True):
        if owner is not None and owner > 0 and combo[0]:
            wanted.setdefault(owner, combo[0])
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


def write_customers(writer: BulkWriter, plan: CustomerPlan, source: str) -> int:
    """Insert the plan's new customers and identities, set external ids, then merge
    the customers the file links; returns how many customers were merged away."""
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
    for kept, merged, reason in plan.merges:
        record = merge_on(
            writer.connection,
            kept=kept,
            merged=merged,
            reason=reason,
            actor=f"import {source}",
        )
        plan.merge_ids[merged] = record.id
    return len(plan.merges)


def record_adopted(
    writer: BulkWriter, plan: CustomerPlan, table: str, keys: pa.Array, source: str
) -> None:
    """Add the rows written for the kept customers on behalf of merged ones (``keys``:
    the external id of each row of the plan) to their merges, so that a split moves
    them back too."""
    sql = f"SELECT id FROM {table} WHERE source = ? AND external_id IN ({{values}})"
    for merged, positions in plan.adopted.items():
        wanted = keys.take(pa.array(positions, pa.int64())).to_pylist()
        ids = [row[0] for row in writer.lookup(sql, wanted, source)]
        add_moved_rows(
            writer.connection, merge_id=plan.merge_ids[merged], table=table, ids=ids
        )
