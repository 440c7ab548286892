"""Store interactions that other systems push: chat, calls, reviews, social posts,
kiosk answers (``POST /api/v1/interactions`` and the webhook receiver call this).

A request holds one item or up to :data:`MAX_ITEMS`. Each item is checked on its own
(:func:`cxloop.ingest.intake_items.check_item`) and gets its own status: ``created``,
``duplicate`` (its ``(source, external_id)`` is stored already, or came earlier in
the same request: nothing changes) or ``rejected`` (with the field and the reason).
A bad item never costs the good ones. The rejected items of a request are recorded as
an ``import_run`` of kind ``intake`` with one ``import_reject`` each, so nothing is
dropped without a trace.

Customers are matched or created the way the file importers do it
(:mod:`cxloop.ingest.customers`): an item naming identifiers held by two customers
merges them, with the reason recorded. Scores (kiosk ``answers``, a review's
``rating``) become ``answer`` rows on the questions of the survey ``intake:<source>``,
so they count in every metric.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput
from cxloop.ingest.customers import (
    REF_KINDS,
    RowOrigin,
    plan_customers,
    record_adopted,
    write_customers,
)
from cxloop.ingest.intake_items import (
    MAX_ITEMS,
    IntakeItem,
    ItemReject,
    check_item,
)
from cxloop.ingest.intake_surveys import ensure_intake_survey
from cxloop.ingest.writers import BulkWriter, transaction
from cxloop.store.engine import engine_for

__all__ = [
    "MAX_ITEMS", "IntakeResult", "ItemResult", "TooManyItems", "intake_interactions",
    "items_of", "store_items",
]  # fmt: skip

#: Attempts of a request that met a concurrent write of the same keys.
ATTEMPTS = 3
#: Longest raw item kept with a reject, as JSON text.
MAX_RAW = 100_000

#: Claims a request inside its transaction; False: it was taken in before.
Claim = Callable[[BulkWriter], bool]
#: Runs last in the transaction of a claimed request, with what it stored.
Done = Callable[[BulkWriter, "IntakeResult"], None]


class TooManyItems(InvalidInput):
    """A request holds more than :data:`MAX_ITEMS` items (HTTP 413)."""


@dataclass(frozen=True)
class ItemResult:
    """What happened to one item: ``created``, ``duplicate`` or ``rejected``."""

    index: int
    status: str
    source: str | None
    external_id: str | None
    interaction_id: int | None = None
    field: str | None = None
    reason: str | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class IntakeResult:
    """The items of one request; ``duplicate_request`` when a webhook delivery was
    taken in before (then nothing was looked at)."""

    items: list[ItemResult] = field(default_factory=list)
    import_run_id: int | None = None
    duplicate_request: bool = False

    def count(self, status: str) -> int:
        """How many items have ``status``."""
        return sum(1 for item in self.items if item.status == status)


def items_of(payload: Any) -> tuple[list[Any], str | None]:
    """The items of a request body: one object, or ``{"items": [...]}`` with an
    optional ``source`` for items that name none. InvalidInput when it is neither or
    holds more than :data:`MAX_ITEMS`."""
    if isinstance(payload, dict) and "items" in payload:
        items = payload["items"]
        unknown = sorted(set(payload) - {"items", "source"})
        if unknown:
            msg = f"a batch has only items and source, not {unknown[0]!r}"
            raise InvalidInput(msg)
        if not isinstance(items, list):
            raise InvalidInput("items must be a list of interaction objects")
        if not items:
            raise InvalidInput("items is empty: send at least one interaction")
        if len(items) > MAX_ITEMS:
            msg = (
                f"a batch holds at most {MAX_ITEMS:,} items; this one has "
                f"{len(items):,}: split it into smaller batches"
            )
            raise TooManyItems(msg)
        source = payload.get("source")
        return items, source if isinstance(source, str) else None
    if isinstance(payload, dict):
        return [payload], None
    raise InvalidInput('the body must be an interaction object or {"items": [...]}')


def intake_interactions(
    *,
    settings: Settings,
    items: Sequence[Any],
    default_source: str | None = None,
    origin: str = "api",
) -> IntakeResult:
    """Check and store pushed interactions (decoded JSON objects).

    Parameters
    ----------
    settings
        The store, and the business time zone of times without an offset.
    items
        Up to :data:`MAX_ITEMS` objects in the intake format (docs/en/intake-api.md).
    default_source
        The source of items that name none.
    origin
        Where the request came from, for the import history (``api``, ``webhook K``).
    """
    if len(items) > MAX_ITEMS:
        raise TooManyItems(f"at most {MAX_ITEMS:,} items per request")
    checked = [
        check_item(raw, index=i, zone=settings.timezone, default_source=default_source)
        for i, raw in enumerate(items)
    ]
    return store_items(engine_for(settings.database_url), checked, origin=origin)


def store_items(
    engine: Engine,
    checked: Sequence[IntakeItem | ItemReject],
    *,
    origin: str,
    claim: Claim | None = None,
    done: Done | None = None,
) -> IntakeResult:
    """Store checked items in one transaction, retried when a concurrent request
    stored the same keys first; ``claim`` runs first in the transaction (False:
    store nothing) and ``done`` last."""
    for attempt in range(ATTEMPTS):
        try:
            with transaction(engine) as writer:
                if claim is not None and not claim(writer):
                    return IntakeResult(duplicate_request=True)
                result = _store(writer, checked, origin)
                if done is not None:
                    done(writer, result)
                return result
        except Exception as exc:
            if attempt == ATTEMPTS - 1 or not _retryable(engine, exc):
                raise
    raise AssertionError("unreachable")  # pragma: no cover


#: PostgreSQL's deadlock and serialization failures: the transaction may be retried.
RETRY_STATES = ("40P01", "40001")


def _retryable(engine: Engine, exc: Exception) -> bool:
    """A unique key (or, on PostgreSQL, a deadlock) met a concurrent request."""
    driver_error = exc.orig if isinstance(exc, DBAPIError) else exc
    if isinstance(driver_error, engine.dialect.loaded_dbapi.IntegrityError):
        return True
    return getattr(driver_error, "sqlstate", None) in RETRY_STATES


def _store(
    writer: BulkWriter, checked: Sequence[IntakeItem | ItemReject], origin: str
) -> IntakeResult:
    good = [item for item in checked if isinstance(item, IntakeItem)]
    stored = _stored_ids(writer, good)
    fresh: dict[tuple[str, str], IntakeItem] = {}
    for item in good:
        key = (item.source, item.external_id)
        if key not in stored and key not in fresh:
            fresh[key] = item
    by_source: dict[str, list[IntakeItem]] = {}
    for item in fresh.values():
        by_source.setdefault(item.source, []).append(item)
    for source, items in by_source.items():
        ids = _write_source(writer, source, items)
        stored.update(
            ((source, item.external_id), new)
            for item, new in zip(items, ids, strict=True)
        )
    results: dict[int, ItemResult] = {}
    for item in good:  # a repeat inside the request is a duplicate of the first
        key = (item.source, item.external_id)
        status = "created" if fresh.get(key) is item else "duplicate"
        results[item.index] = _result(item, status, stored[key])
    rejects = [item for item in checked if isinstance(item, ItemReject)]
    for reject in rejects:
        results[reject.index] = ItemResult(
            reject.index, "rejected", reject.source, reject.external_id,
            field=reject.field, reason=reject.reason,
        )  # fmt: skip
    result = IntakeResult([results[i] for i in sorted(results)])
    if not rejects:
        return result
    run_id = _record_rejects(writer, rejects, result, origin)
    return IntakeResult(result.items, run_id)


def _result(item: IntakeItem, status: str, interaction_id: int | None) -> ItemResult:
    return ItemResult(
        item.index,
        status,
        item.source,
        item.external_id,
        interaction_id,
        warnings=item.warnings,
    )


def _stored_ids(
    writer: BulkWriter, items: Sequence[IntakeItem]
) -> dict[tuple[str, str], int]:
    """The stored interaction of each (source, external id) among ``items``."""
    keys: dict[str, list[str]] = {}
    for item in items:
        keys.setdefault(item.source, []).append(item.external_id)
    sql = "SELECT external_id, id FROM interaction WHERE source = ? AND external_id IN ({values})"
    found: dict[tuple[str, str], int] = {}
    for source, external_ids in keys.items():
        for external_id, interaction_id in writer.lookup(sql, external_ids, source):
            found[(source, external_id)] = int(interaction_id)
    return found


def _write_source(
    writer: BulkWriter, source: str, items: list[IntakeItem]
) -> list[int]:
    """Match or create the customers of ``items``, then insert them; their new ids."""
    refs = {
        name: pa.array([item.refs[name] for item in items], pa.string())
        for name in REF_KINDS
    }
    positions = np.array([item.index + 1 for item in items], dtype=np.int64)
    origin = RowOrigin(f"API items of {source}", positions, np.arange(len(items)))
    plan = plan_customers(writer, refs, origin)
    write_customers(writer, plan, source)
    customers = plan.row_customer.to_pylist()
    ids = writer.next_ids("interaction", len(items)).tolist()
    columns = (
        "id", "customer_id", "occurred_at", "channel", "touchpoint", "journey_stage",
        "kind", "source", "external_id", "text", "language", "attributes", "created_at",
    )  # fmt: skip
    writer.insert(
        "interaction",
        columns,
        (
            (new, customer, _time(writer, item), item.channel, item.touchpoint,
             item.journey_stage, item.kind, source, item.external_id, item.text,
             item.language, _json(item.attributes), writer.now)
            for new, customer, item in zip(ids, customers, items, strict=True)
        ),
    )  # fmt: skip
    _write_answers(writer, source, items, ids)
    if plan.adopted:
        keys = pa.array([item.external_id for item in items], pa.string())
        record_adopted(writer, plan, "interaction", keys, source)
    return [int(new) for new in ids]


def _time(writer: BulkWriter, item: IntakeItem) -> str:
    naive = item.occurred_at.replace(tzinfo=None).isoformat(sep=" ")
    return writer.time_text(naive)


def _json(attributes: dict[str, Any]) -> str | None:
    return json.dumps(attributes, ensure_ascii=False) if attributes else None


def _write_answers(
    writer: BulkWriter, source: str, items: list[IntakeItem], ids: list[int]
) -> None:
    metrics = sorted({metric for item in items for metric in item.answers})
    if not metrics:
        return
    questions = ensure_intake_survey(writer, source, metrics)
    writer.insert(
        "answer",
        ("interaction_id", "question_id", "metric", "value"),
        (
            (new, questions[metric], metric, value)
            for new, item in zip(ids, items, strict=True)
            for metric, value in sorted(item.answers.items())
        ),
    )


def _raw_record(raw: Any) -> str:
    text = json.dumps(raw, ensure_ascii=False, default=str)
    if not isinstance(raw, dict) or len(text) > MAX_RAW:
        return json.dumps({"item": text[:MAX_RAW]}, ensure_ascii=False)
    return text


def _record_rejects(
    writer: BulkWriter, rejects: list[ItemReject], result: IntakeResult, origin: str
) -> int:
    """An ``import_run`` of kind ``intake`` with the rejected items (line = the
    item's number in the request, from 1)."""
    sources = {item.source for item in result.items if item.source}
    source = sources.pop() if len(sources) == 1 else "several"
    run_id = int(writer.next_ids("import_run", 1)[0])
    created, duplicates = result.count("created"), result.count("duplicate")
    columns = (
        "id", "kind", "source", "file_name", "started_at", "finished_at", "rows_read",
        "rows_inserted", "rows_duplicate", "rows_rejected", "status",
    )  # fmt: skip
    row = (
        run_id, "intake", source[:100], origin[:500], writer.now, writer.now,
        len(result.items), created, duplicates, len(rejects),
        "partial" if created or duplicates else "rejected",
    )  # fmt: skip
    writer.insert("import_run", columns, [row])
    writer.insert(
        "import_reject",
        ("import_run_id", "line", "field", "reason", "raw"),
        (
            (run_id, reject.index + 1, reject.field[:100], reject.reason,
             _raw_record(reject.raw))
            for reject in rejects
        ),
    )  # fmt: skip
    return run_id
