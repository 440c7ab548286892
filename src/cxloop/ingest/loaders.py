"""Write validated rows of the event kinds (feedback, interactions, transactions, cases).

Rows already stored under the same ``(source, external id)`` are skipped. Customers are
matched or created in a first transaction; the rows then go in, in batches of
``settings.import_batch_size``, each batch its own transaction, all on one connection.

Feedback batches check their customers set-based instead of per row. On SQLite that
check is skipped while the connection's ``data_version`` shows that no other connection
has committed since the customers were written: none can have been deleted meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Engine

from cxloop.domain.errors import Conflict
from cxloop.domain.vocab import InteractionKind
from cxloop.ingest.customers import (
    REF_KINDS,
    RowOrigin,
    plan_customers,
    record_adopted,
    write_customers,
)
from cxloop.ingest.surveys import ensure_import_survey
from cxloop.ingest.validation import Validated
from cxloop.ingest.writers import (
    BulkWriter,
    import_connection,
    json_texts,
    transaction,
)

Progress = Callable[[int, int], None]

#: Rows per write inside a transaction (and per progress report).
ROWS_PER_WRITE = 50_000


@dataclass(frozen=True)
class Loaded:
    """What the writes did."""

    inserted: int
    duplicates: int
    updated: int = 0
    customers_created: int = 0
    customers_merged: int = 0


@dataclass(frozen=True)
class Batch:
    """A slice of the rows to insert, with their customers.

    ``trusted`` is the SQLite ``data_version`` of the import's connection at which all
    customers of the import were known to exist; while it is unchanged no other
    connection has committed since, so they still do. None: check them.
    """

    checked: Validated
    rows: npt.NDArray[np.int64]
    customers: list[int | None]
    source: str
    context: dict[str, int] = field(default_factory=dict)
    trusted: int | None = None

    def __len__(self) -> int:
        return len(self.rows)

    def array(self, name: str) -> pa.Array:
        return self.checked.fields[name].take(pa.array(self.rows, type=pa.int64()))

    def values(self, name: str) -> list[Any]:
        return self.array(name).to_pylist()  # type: ignore[no-any-return]

    def attributes(self) -> list[str | None]:
        return json_texts(self.checked.extras, self.rows)


Writer = Callable[[BulkWriter, Batch], None]
Preparer = Callable[[BulkWriter, str], dict[str, int]]


def origin_of(checked: Validated, rows: npt.NDArray[np.int64]) -> RowOrigin:
    """The file name and the lines of ``rows``, for the reasons of merges."""
    return RowOrigin(checked.raw.path.name, checked.raw.lines, rows)


def new_rows(
    writer: BulkWriter, checked: Validated, table: str, key: str, source: str
) -> npt.NDArray[np.int64]:
    """Good rows whose key is not stored yet under ``source``."""
    rows = np.flatnonzero(checked.good).astype(np.int64)
    if not writer.has_rows(table, source):
        return rows
    keys = checked.fields[key].take(pa.array(rows, type=pa.int64()))
    sql = f"SELECT external_id FROM {table} WHERE source = ? AND external_id IN ({{values}})"
    stored = writer.lookup(sql, keys.to_pylist(), source)
    if not stored:
        return rows
    known = pa.array([row[0] for row in stored], type=pa.string())
    seen = pc.is_in(keys, value_set=known).to_numpy(zero_copy_only=False)
    keep: npt.NDArray[np.int64] = rows[~seen]
    return keep


def load_events(
    engine: Engine,
    checked: Validated,
    *,
    target: tuple[str, str],
    source: str,
    batch_size: int,
    progress: Progress,
) -> Loaded:
    """Insert the new good rows of an event kind; ``target`` is (kind, key field).

    Customers are written in a first transaction, then the rows in transactions of
    ``batch_size`` rows, all on one connection. Each transaction writes its rows
    :data:`ROWS_PER_WRITE` at a time and ``progress`` is called after each write.
    """
    kind, key = target
    table, write, prepare = EVENT_TABLES[kind]
    total = checked.raw.n_rows
    with import_connection(engine) as connection:
        with transaction(connection) as writer:
            rows = new_rows(writer, checked, table, key, source)
            refs = {
                name: checked.fields[name].take(pa.array(rows, type=pa.int64()))
                for name in REF_KINDS
            }
            plan = plan_customers(writer, refs, origin_of(checked, rows))
            merged = write_customers(writer, plan, source)
            context = prepare(writer, source) if len(rows) else {}
            trusted = writer.data_version()
        done = total - len(rows)
        progress(done, total)
        for start in range(0, len(rows), batch_size):
            stop = min(start + batch_size, len(rows))
            with transaction(connection, foreign_keys=write not in SELF_CHECKED) as w:
                for part in range(start, stop, ROWS_PER_WRITE):
                    count = min(ROWS_PER_WRITE, stop - part)
                    customers = plan.row_customer.slice(part, count).to_pylist()
                    batch = Batch(
                        checked, rows[part : part + count], customers, source, context,
                        trusted,
                    )  # fmt: skip
                    write(w, batch)
                    done += count
                    progress(done, total)
        if plan.adopted:
            with transaction(connection) as writer:
                keys = checked.fields[key].take(pa.array(rows, type=pa.int64()))
                record_adopted(writer, plan, table, keys, source)
    duplicates = int(checked.good.sum()) - len(rows)
    return Loaded(
        len(rows),
        duplicates,
        customers_created=len(plan.new_customers),
        customers_merged=merged,
    )


def _nothing(_writer: BulkWriter, _source: str) -> dict[str, int]:
    return {}


#: Staging columns of a feedback batch: the interaction, then its scores.
FEEDBACK_STAGE = (
    ("id", "id"), ("customer_id", "id"), ("occurred_at", "time"), ("channel", "text"),
    ("touchpoint", "text"), ("journey_stage", "text"), ("external_id", "text"),
    ("text", "text"), ("attributes", "json"), ("nps", "real"), ("csat", "real"),
    ("ces", "real"),
)  # fmt: skip
INTERACTION_FROM_STAGE = (
    "INSERT INTO interaction (id, customer_id, occurred_at, channel, touchpoint, "
    "journey_stage, kind, source, external_id, text, attributes, created_at) "
    "SELECT id, customer_id, occurred_at, channel, touchpoint, journey_stage, "
    "'{kind}', ?, external_id, text, attributes, {now} FROM {stage}"
)
#: Every score of the batch as an answer, in (interaction, question) order: the
#: staged rows drive the outer loop (SQLite keeps the CROSS JOIN order), so the
#: unique (interaction_id, question_id) index is appended to, never split in the middle.
ANSWERS_FROM_STAGE = (
    "INSERT INTO answer (interaction_id, question_id, metric, value) "
    "SELECT id, question, metric, value FROM ("
    "SELECT s.id, q.question, q.metric, "
    "CASE q.position WHEN 1 THEN s.nps WHEN 2 THEN s.csat ELSE s.ces END AS value "
    "FROM {stage} AS s CROSS JOIN ("
    "SELECT CAST(? AS INTEGER) AS question, 'nps' AS metric, 1 AS position "
    "UNION ALL SELECT CAST(? AS INTEGER), 'csat', 2 "
    "UNION ALL SELECT CAST(? AS INTEGER), 'ces', 3) AS q"
    ") AS scored WHERE value IS NOT NULL"
)


def _scores(batch: Batch, metric: str) -> list[float | None]:
    return pc.cast(batch.array(metric), pa.float64()).to_pylist()  # type: ignore[no-any-return]


def _write_feedback(writer: BulkWriter, batch: Batch) -> None:
    """Stage the batch once, then derive interactions and answers from it in SQL."""
    ids = writer.next_ids("interaction", len(batch))
    stage = writer.stage(
        FEEDBACK_STAGE,
        zip(
            ids.tolist(),
            batch.customers,
            writer.times(batch.array("submitted_at")),
            *(
                batch.values(name)
                for name in ("channel", "touchpoint", "journey_stage")
            ),
            batch.values("response_id"),
            batch.values("comment"),
            batch.attributes(),
            *(_scores(batch, metric) for metric in ("nps", "csat", "ces")),
            strict=True,
        ),
    )
    kind = InteractionKind.SURVEY_RESPONSE.value
    writer.execute(
        INTERACTION_FROM_STAGE.format(kind=kind, stage=stage, now=writer.typed("time")),
        (batch.source, writer.now),
    )
    trusted = batch.trusted is not None and writer.data_version() == batch.trusted
    _check_references(writer, None if trusted else stage, batch.context)
    questions = tuple(batch.context[metric] for metric in ("nps", "csat", "ces"))
    writer.execute(ANSWERS_FROM_STAGE.format(stage=stage), questions)


MISSING_CUSTOMER = (
    "SELECT s.customer_id FROM (SELECT DISTINCT customer_id FROM {stage} "
    "WHERE customer_id IS NOT NULL) AS s LEFT JOIN customer AS c ON c.id = s.customer_id "
    "WHERE c.id IS NULL LIMIT 1"
)
MISSING_QUESTIONS = (
    "SELECT 1 WHERE (SELECT count(*) FROM question WHERE id IN (?, ?, ?)) < 3"
)


def _check_references(
    writer: BulkWriter, stage: str | None, questions: dict[str, int]
) -> None:
    """The questions and the batch's customers exist (set-based, instead of per row);
    ``stage`` None: the customers are known to exist."""
    missing = (
        None
        if stage is None
        else writer.missing_reference(MISSING_CUSTOMER.format(stage=stage))
    )
    if missing is not None:
        msg = f"customer {missing[0]} was deleted while the import ran; import the file again"
        raise Conflict(msg)
    if (
        writer.missing_reference(MISSING_QUESTIONS, tuple(questions.values()))
        is not None
    ):
        raise Conflict(
            "the import survey was changed while the import ran; import the file again"
        )


def _write_interactions(writer: BulkWriter, batch: Batch) -> None:
    columns = (
        "customer_id", "occurred_at", "channel", "touchpoint", "journey_stage", "kind",
        "source", "external_id", "text", "language", "attributes", "created_at",
    )  # fmt: skip
    rows = zip(
        batch.customers,
        writer.times(batch.array("occurred_at")),
        batch.values("channel"),
        batch.values("touchpoint"),
        batch.values("journey_stage"),
        batch.values("kind"),
        repeat(batch.source),
        batch.values("interaction_id"),
        batch.values("text"),
        batch.values("language"),
        batch.attributes(),
        repeat(writer.now),
    )
    writer.insert("interaction", columns, rows)


def signed_amounts(batch: Batch) -> tuple[pa.Array, pa.Array]:
    """Kinds (refund when negative and not given) and amounts (refunds negative)."""
    amounts = batch.array("amount")
    negative = pc.starts_with(amounts, "-")
    kinds = pc.coalesce(batch.array("kind"), pc.if_else(negative, "refund", "purchase"))
    magnitude = pc.utf8_ltrim(amounts, characters="+-")
    signed = pc.if_else(
        pc.equal(kinds, "refund"),
        pc.binary_join_element_wise("-", magnitude, ""),
        magnitude,
    )
    return kinds, signed


def _write_transactions(writer: BulkWriter, batch: Batch) -> None:
    kinds, amounts = signed_amounts(batch)
    columns = (
        "customer_id", "occurred_at", "kind", "amount", "currency", "channel",
        "touchpoint", "product", "source", "external_id", "attributes", "created_at",
    )  # fmt: skip
    rows = zip(
        batch.customers,
        writer.times(batch.array("occurred_at")),
        kinds.to_pylist(),
        writer.amounts(amounts),
        pc.fill_null(batch.array("currency"), "TWD").to_pylist(),
        batch.values("channel"),
        batch.values("touchpoint"),
        batch.values("product"),
        repeat(batch.source),
        batch.values("transaction_id"),
        batch.attributes(),
        repeat(writer.now),
    )
    writer.insert("purchase", columns, rows)


def _filled(batch: Batch, name: str, default: Any) -> list[Any]:
    values = batch.array(name)
    if values.null_count == len(values):  # also a missing column (typed as text)
        return [default] * len(values)
    return pc.fill_null(values, default).to_pylist()  # type: ignore[no-any-return]


def _write_cases(writer: BulkWriter, batch: Batch) -> None:
    columns = (
        "customer_id", "kind", "title", "description", "status", "priority", "team",
        "owner", "channel", "touchpoint", "root_cause", "resolution", "contacts",
        "handling_seconds", "opened_at", "first_response_at", "resolved_at",
        "closed_at", "source", "external_id", "attributes", "created_at",
    )  # fmt: skip
    plain = ("title", "description")
    middle = ("team", "owner", "channel", "touchpoint", "root_cause", "resolution")
    clocks = ("opened_at", "first_response_at", "resolved_at", "closed_at")
    rows = zip(
        batch.customers,
        _filled(batch, "kind", "complaint"),
        *(batch.values(name) for name in plain),
        _filled(batch, "status", "new"),
        _filled(batch, "priority", "normal"),
        *(batch.values(name) for name in middle),
        _filled(batch, "contacts", 1),
        batch.values("handling_seconds"),
        *(writer.times(batch.array(name)) for name in clocks),
        repeat(batch.source),
        batch.values("case_id"),
        batch.attributes(),
        repeat(writer.now),
    )
    writer.insert("support_case", columns, rows)


#: Row writers that check their references themselves (set-based, per batch).
SELF_CHECKED = (_write_feedback,)

#: Table, row writer and preparation of each event kind.
EVENT_TABLES: dict[str, tuple[str, Writer, Preparer]] = {
    "feedback": ("interaction", _write_feedback, ensure_import_survey),
    "interactions": ("interaction", _write_interactions, _nothing),
    "transactions": ("purchase", _write_transactions, _nothing),
    "cases": ("support_case", _write_cases, _nothing),
}
