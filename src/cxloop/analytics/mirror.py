"""The DuckDB analytics mirror of an SQLite store.

The mirror is a DuckDB file next to the SQLite store (or in ``settings.analytics_dir``)
that holds two tables the metric queries read:

- ``answer_fact``: one row per scored answer (nps, csat, ces) with the interaction's
  time converted to a local timestamp in the business zone, its local date and the
  first day of its week, month and quarter, and its channel, touchpoint, journey
  stage, source and customer;
- ``customer_dim``: the customer's region, segment, language and attributes (JSON text).

Scores are kept as ``DECIMAL(18, 6)``, exact for the whole-number scales the importers
accept, and compared about a third faster than doubles; the metric is an ENUM and the
period starts are precomputed dates, so a grouping by month reads two small columns.

It is refreshed when an analytics session opens: answers are copied incrementally (ids above the stored
watermark, after a cheap ``max(id)`` check on the SQLite file; a first build reads the
tables with DuckDB's parallel scanner, later increments run an id-range query inside
SQLite) and customers are copied again when their count or last update changed. A file lock serialises refreshes and
queries across threads and processes; a mirror with another schema version, business
zone or a watermark beyond the store is rebuilt from scratch.
"""

from __future__ import annotations

import fcntl
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

SCHEMA_VERSION = "4"
EXTENSION_VERSION = "v1.5.5"

_CREATE = (
    "CREATE TYPE metric_kind AS ENUM ('nps', 'csat', 'ces')",
    "CREATE TABLE mirror_meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
    "CREATE TABLE answer_fact (answer_id BIGINT, metric metric_kind, "
    "value DECIMAL(18, 6), "
    "occurred_local TIMESTAMP, occurred_on DATE, week_start DATE, month_start DATE, "
    "quarter_start DATE, channel VARCHAR, touchpoint VARCHAR, journey_stage VARCHAR, "
    "source VARCHAR, customer_id BIGINT)",
    "CREATE TABLE customer_dim (customer_id BIGINT, region VARCHAR, segment VARCHAR, "
    "language VARCHAR, attributes VARCHAR, rfm_segment VARCHAR, value_tier VARCHAR, "
    "cluster_label VARCHAR, segments VARCHAR)",
)
_DROP = (
    "DROP TABLE IF EXISTS mirror_meta",
    "DROP TABLE IF EXISTS answer_fact",
    "DROP TABLE IF EXISTS customer_dim",
    "DROP TYPE IF EXISTS metric_kind",
)

#: Answers with ids in (?, ?] joined to their interaction.
_ANSWERS_SQL = (
    "SELECT a.id, a.metric, a.value, i.occurred_at, i.channel, i.touchpoint, "
    "i.journey_stage, i.source, i.customer_id FROM {schema}answer a "
    "JOIN {schema}interaction i ON i.id = a.interaction_id "
    "WHERE a.id > ? AND a.id <= ? AND a.value IS NOT NULL "
    "AND a.metric IN ('nps', 'csat', 'ces')"
)
#: Increments: SQLite runs the query itself and reads only the id range.
_INCREMENT = "sqlite_query('src', '{}', params=row(?::BIGINT, ?::BIGINT))".format(
    _ANSWERS_SQL.format(schema="").replace("'", "''")
)
#: A full build: DuckDB's parallel scanner reads both tables and joins them.
_FULL = "({})".format(_ANSWERS_SQL.format(schema="src."))
_INSERT_ANSWERS = """
INSERT INTO answer_fact
SELECT id, metric, value, local, CAST(local AS DATE),
       CAST(date_trunc('week', local) AS DATE), CAST(date_trunc('month', local) AS DATE),
       CAST(date_trunc('quarter', local) AS DATE),
       channel, touchpoint, journey_stage, source, customer_id
FROM (
  SELECT CAST(id AS BIGINT) AS id, metric, CAST(value AS DECIMAL(18, 6)) AS value,
         timezone(?, timezone('UTC', CAST(occurred_at AS TIMESTAMP))) AS local,
         channel, touchpoint, journey_stage, source,
         CAST(customer_id AS BIGINT) AS customer_id
  FROM {source} AS answers
)
"""
#: Customers with their computed profile and saved segments ("|key|key|").
CUSTOMERS_SQL = (
    "SELECT c.id, c.region, c.segment, c.language, c.attributes, p.rfm_segment, "
    "p.value_tier, p.cluster_label, m.segments FROM customer c "
    "LEFT JOIN customer_profile p ON p.customer_id = c.id "
    "LEFT JOIN (SELECT sm.customer_id, '|' || {concat} || '|' AS segments "
    "FROM segment_member sm JOIN segment s ON s.id = sm.segment_id "
    "GROUP BY sm.customer_id) m ON m.customer_id = c.id"
)
_INSERT_CUSTOMERS = (
    "INSERT INTO customer_dim SELECT CAST(id AS BIGINT), region, segment, language, "
    "attributes, rfm_segment, value_tier, cluster_label, segments "
    "FROM sqlite_query('src', '{}')".format(
        CUSTOMERS_SQL.format(concat="group_concat(s.key, ''|'')").replace("'", "''")
    )
)


_MERGES_SIGNATURE = (
    "SELECT count(*), max(id), count(undone_at), max(undone_at) FROM identity_merge"
)
_CUSTOMERS_SIGNATURE = (
    "SELECT count(*), max(updated_at), max(id), "
    "(SELECT count(*) || '/' || coalesce(max(computed_at), '') FROM customer_profile), "
    "(SELECT count(*) || '/' || coalesce(max(refreshed_at), '') FROM segment) "
    "FROM customer"
)


@dataclass(frozen=True)
class StoreState:
    """What the SQLite store holds now, read cheaply with the sqlite3 module."""

    max_answer_id: int
    customers: str | None
    merges: str


def mirror_path(database: Path, analytics_dir: str) -> Path:
    """Where the mirror of the SQLite file ``database`` lives."""
    folder = Path(analytics_dir) if analytics_dir else database.parent
    return folder / f"{database.stem}.analytics.duckdb"


def extension_path() -> Path:
    """The sqlite_scanner extension file shipped in the PyPI wheel (never downloaded)."""
    import duckdb_extension_sqlite_scanner as wheel

    return (
        Path(wheel.__file__).parent
        / "extensions"
        / EXTENSION_VERSION
        / "sqlite_scanner.duckdb_extension"
    )


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def read_store_state(database: Path, *, customers: bool) -> StoreState:
    """The highest answer id, a signature of merges and, when asked, of customers.

    The answer check reads one index entry; the customer signature (count, last
    update, highest id of customers, profiles and segments) scans the customer table,
    so it is read only when needed. Merges move answers between customers, so a new
    or undone merge makes the mirror rebuild.
    """
    uri = f"{database.resolve().as_uri()}?mode=ro"
    signature = None
    with closing(sqlite3.connect(uri, uri=True, timeout=30)) as con:
        (max_id,) = con.execute("SELECT coalesce(max(id), 0) FROM answer").fetchone()
        merges = "|".join(map(str, con.execute(_MERGES_SIGNATURE).fetchone()))
        if customers:
            row = con.execute(_CUSTOMERS_SIGNATURE).fetchone()
            signature = "|".join(map(str, row))
    return StoreState(max_answer_id=int(max_id), customers=signature, merges=merges)


@contextmanager
def open_mirror(
    database: Path, *, timezone: str, analytics_dir: str, customers: bool = True
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection on the mirror of ``database``, refreshed and locked.

    ``customers=False`` skips the customer refresh for queries that do not read
    customers. The lock is held until the ``with`` block ends, so queries see a
    stable mirror.
    """
    path = mirror_path(database, analytics_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path.with_name(path.name + ".lock")):
        con = _connect(path)
        try:
            refresh(con, database, timezone=timezone, customers=customers)
            yield con
        finally:
            con.close()


def _connect(path: Path) -> duckdb.DuckDBPyConnection:
    """Open the mirror; one that cannot be opened is a cache, so it is made again."""
    try:
        return duckdb.connect(str(path))
    except duckdb.Error:
        for broken in (path, path.with_name(path.name + ".wal")):
            broken.unlink(missing_ok=True)
        return duckdb.connect(str(path))


def _meta(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    tables = {row[0] for row in con.execute("SHOW TABLES").fetchall()}
    if "mirror_meta" not in tables:
        return {}
    return dict(con.execute("SELECT key, value FROM mirror_meta").fetchall())


def _reset(con: duckdb.DuckDBPyConnection, database: Path, timezone: str) -> None:
    for statement in (*_DROP, *_CREATE):
        con.execute(statement)
    meta = {
        "schema_version": SCHEMA_VERSION,
        "timezone": timezone,
        "source": str(database.resolve()),
        "answer_watermark": "0",
        "customers": "",
        "merges": "",
    }
    con.executemany("INSERT INTO mirror_meta VALUES (?, ?)", list(meta.items()))


def _stale(
    meta: dict[str, str], database: Path, timezone: str, state: StoreState
) -> bool:
    return (
        meta.get("schema_version") != SCHEMA_VERSION
        or meta.get("timezone") != timezone
        or meta.get("source") != str(database.resolve())
        or int(meta.get("answer_watermark", "0")) > state.max_answer_id
        or meta.get("merges", "") != state.merges
    )


def refresh(
    con: duckdb.DuckDBPyConnection,
    database: Path,
    *,
    timezone: str,
    customers: bool = True,
) -> None:
    """Bring the mirror up to date with the SQLite file ``database`` (one transaction)."""
    state = read_store_state(database, customers=customers)
    meta = _meta(con)
    rebuild = _stale(meta, database, timezone, state)
    watermark = 0 if rebuild else int(meta["answer_watermark"])
    new_customers = state.customers is not None and (
        rebuild or meta.get("customers") != state.customers
    )
    if not rebuild and watermark == state.max_answer_id and not new_customers:
        return
    con.execute("BEGIN TRANSACTION")
    try:
        if rebuild:
            _reset(con, database, timezone)
        _attach(con, database)
        if state.max_answer_id > watermark:
            _copy_answers(con, timezone, watermark, state.max_answer_id)
        if rebuild:
            _set(con, "merges", state.merges)
        if new_customers:
            con.execute("DELETE FROM customer_dim")
            con.execute(_INSERT_CUSTOMERS)
            _set(con, "customers", state.customers or "")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.execute("DETACH DATABASE IF EXISTS src")


def _copy_answers(
    con: duckdb.DuckDBPyConnection, timezone: str, after: int, upto: int
) -> None:
    """Copy the answers with ids in ``(after, upto]`` and move the watermark."""
    source = _FULL if after == 0 else _INCREMENT
    con.execute(_INSERT_ANSWERS.format(source=source), [timezone, after, upto])
    _set(con, "answer_watermark", str(upto))


def _attach(con: duckdb.DuckDBPyConnection, database: Path) -> None:
    extension = str(extension_path()).replace("'", "''")
    source = str(database.resolve()).replace("'", "''")
    con.execute(f"LOAD '{extension}'")
    con.execute(f"ATTACH '{source}' AS src (TYPE sqlite, READ_ONLY)")


def _set(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    con.execute("UPDATE mirror_meta SET value = ? WHERE key = ?", [value, key])


def rebuild(database: Path, *, timezone: str, analytics_dir: str) -> int:
    """Build the mirror of ``database`` again from scratch; returns the answers copied.

    The incremental refresh sees appended answers and changed customers only; after
    answers or interactions already copied were edited or deleted, rebuild.
    """
    path = mirror_path(database, analytics_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path.with_name(path.name + ".lock")):
        con = _connect(path)
        try:
            con.execute("BEGIN TRANSACTION")
            _reset(con, database, timezone)
            con.execute("COMMIT")
            refresh(con, database, timezone=timezone)
            row = con.execute("SELECT count(*) FROM answer_fact").fetchone()
        finally:
            con.close()
    return int(row[0]) if row else 0
