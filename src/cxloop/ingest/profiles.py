"""The ``customers`` kind: create customers or update the ones already known (upsert).

A row's customer is found as for every kind (:mod:`cxloop.ingest.customers`). A known
customer whose fields the row changes counts as updated; one it leaves as it was counts
as already imported. Empty cells never erase a stored value; other columns are merged
into ``customer.attributes``.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pyarrow as pa
from sqlalchemy import Engine

from cxloop.ingest.customers import REF_KINDS, plan_customers, write_customers
from cxloop.ingest.loaders import Loaded, Progress, origin_of
from cxloop.ingest.validation import Validated
from cxloop.ingest.writers import BulkWriter, transaction

#: Customer columns an import sets, in UPDATE order.
PROFILE_FIELDS = ("name", "email", "phone", "region", "segment", "language")

Profile = dict[str, Any]


def _stored(writer: BulkWriter, ids: list[int]) -> dict[int, Profile]:
    sql = f"SELECT id, {', '.join(PROFILE_FIELDS)}, attributes FROM customer WHERE id IN ({{values}})"
    profiles = {}
    for row in writer.lookup(sql, ids):
        attributes = row[-1]
        if isinstance(attributes, str):
            attributes = json.loads(attributes)
        profile = dict(zip(PROFILE_FIELDS, row[1:-1], strict=True))
        profiles[row[0]] = {**profile, "attributes": attributes or {}}
    return profiles


def _row_profiles(checked: Validated, rows: np.ndarray) -> list[Profile]:
    """Each row's non-empty fields, and its other columns under ``attributes``."""
    index = pa.array(rows, type=pa.int64())
    columns = {
        name: checked.fields[name].take(index).to_pylist() for name in PROFILE_FIELDS
    }
    extras = {
        name: checked.extras[name].take(index).to_pylist() for name in checked.extras
    }
    profiles = []
    for position in range(len(rows)):
        profile: Profile = {
            name: values[position]
            for name, values in columns.items()
            if values[position] is not None
        }
        profile["attributes"] = {
            name: values[position]
            for name, values in extras.items()
            if values[position]
        }
        profiles.append(profile)
    return profiles


def _merge(base: Profile, change: Profile) -> Profile:
    attributes = {**base["attributes"], **change["attributes"]}
    return {**base, **change, "attributes": attributes}


def load_customers(
    engine: Engine,
    checked: Validated,
    *,
    source: str,
    batch_size: int,
    progress: Progress,
) -> Loaded:
    """Upsert the good rows of a customers file."""
    rows = np.flatnonzero(checked.good).astype(np.int64)
    with transaction(engine) as writer:
        index = pa.array(rows, type=pa.int64())
        plan = plan_customers(
            writer,
            {name: checked.fields[name].take(index) for name in REF_KINDS},
            origin_of(checked, rows),
        )
        merges_done = write_customers(writer, plan, source)
        created = {customer[0] for customer in plan.new_customers}
        known = sorted(
            {
                owner
                for owner in plan.row_customer.to_pylist()
                if owner is not None and owner not in created
            }
        )
        state = _stored(writer, known)
    blank: Profile = dict.fromkeys(PROFILE_FIELDS) | {"attributes": {}}
    counts = {"inserted": 0, "updated": 0, "duplicates": 0}
    changed: set[int] = set()
    for owner, change in zip(
        plan.row_customer.to_pylist(), _row_profiles(checked, rows), strict=True
    ):
        if owner is None:  # pragma: no cover - validation requires a reference
            raise RuntimeError("a customers row names no customer")
        base = state.get(owner, blank)
        state[owner] = merged = _merge(base, change)
        outcome = (
            "inserted"
            if owner in created and base is blank
            else "updated"
            if merged != base
            else "duplicates"
        )
        counts[outcome] += 1
        if merged != base:
            changed.add(owner)
    _write_profiles(
        engine, state, sorted(changed), batch_size, progress, checked.raw.n_rows
    )
    return Loaded(
        counts["inserted"],
        counts["duplicates"],
        counts["updated"],
        len(created),
        customers_merged=merges_done,
    )


def _write_profiles(
    engine: Engine,
    state: dict[int, Profile],
    owners: list[int],
    batch_size: int,
    progress: Progress,
    total: int,
) -> None:
    assignments = ", ".join(
        f"{name} = ?" for name in (*PROFILE_FIELDS, "attributes", "updated_at")
    )
    sql = f"UPDATE customer SET {assignments} WHERE id = ?"
    progress(total - len(owners), total)
    for start in range(0, len(owners), batch_size):
        chunk = owners[start : start + batch_size]
        with transaction(engine) as writer:
            writer.execute_many(
                sql,
                [
                    (
                        *(state[owner][name] for name in PROFILE_FIELDS),
                        json.dumps(state[owner]["attributes"], ensure_ascii=False),
                        writer.now,
                        owner,
                    )
                    for owner in chunk
                ],
            )
        progress(total - len(owners) + start + len(chunk), total)
