"""The interaction stream of a store as Ibis tables, on DuckDB or PostgreSQL.

Journey maps and paths read every interaction (not only the scored answers that the
metric facts hold). :func:`open_stream` gives, besides the analytics
:class:`~cxloop.analytics.engines.Source` (answer facts and customers):

- ``interactions``: one row per interaction with ``interaction_id``, ``customer_id``,
  ``occurred_local`` (business-zone timestamp), ``occurred_on`` and the rule fields
  ``channel``, ``touchpoint``, ``kind``, ``journey_stage``;
- ``enriched()``: the interactions that carry a ``sentiment_score`` or ``topics``
  (JSON text), read when first asked.

For an SQLite store the stream is cached in a DuckDB file next to the analytics
mirror (``<name>.journeys.duckdb``), copied incrementally by interaction id, and
rebuilt when identity merges change or ids go backwards; enrichment is read from the
SQLite file itself. The cache keeps each distinct (channel, touchpoint, journey_stage,
kind) once in ``combos`` and the events with a ``combo_id`` and a ``seq`` that orders
them by customer, time and id (one integer key for path windows; rows stored in that
order), so that placement runs on a few dozen combinations and path windows on
presorted integers (``Stream.coded``). New interactions later than every cached one
continue the sequence; others (a back-filled import) make the events sort again. A PostgreSQL store is read in place.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import duckdb
import ibis.expr.types as ir

from cxloop.analytics.engines import Source, business_zone, connect_store
from cxloop.analytics.mirror import extension_path, mirror_path
from cxloop.config import Settings
from cxloop.store.engine import sqlite_path

CACHE_VERSION = "3"
#: Rewrite the cached events in order once this share of them was appended after it.
RESORT_SHARE = 0.1
_COLUMNS = (
    "CAST(id AS BIGINT) AS interaction_id, CAST(customer_id AS BIGINT) AS customer_id, "
    "{local} AS occurred_local, channel, touchpoint, journey_stage, kind"
)
_DUCK_LOCAL = "timezone('{zone}', timezone('UTC', CAST(occurred_at AS TIMESTAMP)))"
_PG_LOCAL = "(occurred_at AT TIME ZONE '{zone}')"
_ENRICHED = (
    "WHERE sentiment_score IS NOT NULL OR (topics IS NOT NULL "
    "AND CAST(topics AS VARCHAR) NOT IN ('null', '[]'))"
)
_MERGES = (
    "SELECT count(*), max(id), count(undone_at), max(undone_at) FROM identity_merge"
)


class Stream:
    """The analytics source of a store plus its interaction stream.

    ``coded``, when the engine has it, is ``(events, combos)``: events with
    ``interaction_id``, ``customer_id``, ``occurred_local``, ``occurred_on``,
    ``combo_id`` and ``seq`` (increasing with time within each customer), and the
    rule fields of each ``combo_id``.
    """

    def __init__(
        self,
        source: Source,
        interactions: ir.Table,
        enriched: Callable[[], ir.Table],
        coded: tuple[ir.Table, ir.Table] | None = None,
    ) -> None:
        self.source = source
        self.coded = (
            None
            if coded is None
            else (coded[0].mutate(occurred_on=coded[0].occurred_local.date()), coded[1])
        )
        self.interactions = interactions.mutate(
            occurred_on=interactions.occurred_local.date()
        )
        self._enriched = enriched

    def enriched(self) -> ir.Table:
        """Interactions with a sentiment score or topics (and the rule fields)."""
        table = self._enriched()
        return table.mutate(occurred_on=table.occurred_local.date())


def cache_path(settings: Settings, database: Path) -> Path:
    """Where the interaction stream cache of the SQLite file ``database`` lives."""
    mirror = mirror_path(database, settings.analytics_dir)
    return mirror.with_name(f"{database.stem}.journeys.duckdb")


@contextmanager
def open_stream(settings: Settings, *, rebuild: bool = False) -> Iterator[Stream]:
    """The :class:`Stream` of the configured store, for one ``with`` block."""
    zone = business_zone(settings).replace("'", "''")
    database = sqlite_path(settings.database_url)
    with connect_store(settings) as source:  # interactions: never in an export
        if database is None:
            yield _postgres_stream(source, zone)
            return
        con: duckdb.DuckDBPyConnection = source.backend.con
        _attach(con, database, cache_path(settings, database))
        try:
            _refresh(con, database, zone, rebuild=rebuild)
            yield _duckdb_stream(source, zone)
        finally:
            con.execute("DETACH DATABASE IF EXISTS jsrc")
            con.execute("DETACH DATABASE IF EXISTS jstream")


def _postgres_stream(source: Source, zone: str) -> Stream:
    backend = source.backend
    columns = _COLUMNS.format(local=_PG_LOCAL.format(zone=zone)).replace(
        "VARCHAR", "TEXT"
    )
    interactions = backend.sql(f"SELECT {columns} FROM interaction")
    enriched_sql = (
        f"SELECT {columns}, sentiment_score, CAST(topics AS TEXT) AS topics "
        f"FROM interaction {_ENRICHED.replace('VARCHAR', 'TEXT')}"
    )
    return Stream(source, interactions, lambda: backend.sql(enriched_sql))


def _duckdb_stream(source: Source, zone: str) -> Stream:
    backend = source.backend
    events = backend.sql("SELECT * FROM jstream.events")
    combos = backend.sql("SELECT * FROM jstream.combos")
    interactions = backend.sql(
        "SELECT e.interaction_id, e.customer_id, e.occurred_local, c.channel, "
        "c.touchpoint, c.journey_stage, c.kind FROM jstream.events e "
        "JOIN jstream.combos c USING (combo_id)"
    )
    columns = _COLUMNS.format(local=_DUCK_LOCAL.format(zone=zone))
    enriched_sql = (
        f"SELECT {columns}, CAST(sentiment_score AS DOUBLE) AS sentiment_score, "
        f"CAST(topics AS VARCHAR) AS topics FROM jsrc.interaction {_ENRICHED}"
    )
    return Stream(
        source, interactions, lambda: backend.sql(enriched_sql), (events, combos)
    )


def _attach(con: duckdb.DuckDBPyConnection, database: Path, cache: Path) -> None:
    extension = str(extension_path()).replace("'", "''")
    con.execute(f"LOAD '{extension}'")
    con.execute("DETACH DATABASE IF EXISTS jsrc")
    con.execute("DETACH DATABASE IF EXISTS jstream")
    source = str(database.resolve()).replace("'", "''")
    con.execute(f"ATTACH '{source}' AS jsrc (TYPE sqlite, READ_ONLY)")
    cache.parent.mkdir(parents=True, exist_ok=True)
    try:
        con.execute(f"ATTACH '{_quoted(cache)}' AS jstream")
    except duckdb.Error:
        # The cache is only a copy: one that cannot be opened is made again.
        for broken in (cache, cache.with_name(cache.name + ".wal")):
            broken.unlink(missing_ok=True)
        con.execute(f"ATTACH '{_quoted(cache)}' AS jstream")


def _quoted(path: Path) -> str:
    return str(path.resolve()).replace("'", "''")


def _store_state(database: Path) -> tuple[int, str]:
    uri = f"{database.resolve().as_uri()}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True, timeout=30)) as con:
        (max_id,) = con.execute(
            "SELECT coalesce(max(id), 0) FROM interaction"
        ).fetchone()
        merges = "|".join(map(str, con.execute(_MERGES).fetchone()))
    return int(max_id), merges


def _meta(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    tables = con.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_catalog = 'jstream'"
    ).fetchall()
    if not {("stream_meta",), ("events",), ("combos",)} <= set(tables):
        return {}
    return dict(con.execute("SELECT key, value FROM jstream.stream_meta").fetchall())


def _refresh(
    con: duckdb.DuckDBPyConnection, database: Path, zone: str, *, rebuild: bool
) -> None:
    """Copy new interactions into the cache, or all of them when it is stale."""
    max_id, merges = _store_state(database)
    meta = _meta(con)
    wanted = {"version": CACHE_VERSION, "zone": zone, "source": str(database.resolve())}
    stale = (
        rebuild
        or any(meta.get(key) != value for key, value in wanted.items())
        or meta.get("merges") != merges
        or int(meta.get("watermark", "0")) > max_id
    )
    watermark = 0 if stale else int(meta["watermark"])
    if not stale and watermark == max_id:
        return
    con.execute("BEGIN TRANSACTION")
    try:
        if stale:
            _reset(con)
        added, backfill = _copy(con, zone, watermark, max_id)
        unsorted = 0 if stale else int(meta.get("unsorted", "0")) + added
        if backfill or (unsorted and unsorted > RESORT_SHARE * _count(con)):
            _sort(con)
            unsorted = 0
        values = {**wanted, "merges": merges, "watermark": str(max_id),
                  "unsorted": str(unsorted)}  # fmt: skip
        con.execute("DELETE FROM jstream.stream_meta")
        con.executemany(
            "INSERT INTO jstream.stream_meta VALUES (?, ?)", list(values.items())
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _reset(con: duckdb.DuckDBPyConnection) -> None:
    for table in ("stream", "events", "combos", "stream_meta"):
        con.execute(f"DROP TABLE IF EXISTS jstream.{table}")
    con.execute("CREATE TABLE jstream.stream_meta (key VARCHAR, value VARCHAR)")
    con.execute(
        "CREATE TABLE jstream.combos (combo_id INTEGER, channel VARCHAR, "
        "touchpoint VARCHAR, journey_stage VARCHAR, kind VARCHAR)"
    )
    con.execute(
        "CREATE TABLE jstream.events (interaction_id BIGINT, customer_id BIGINT, "
        "occurred_local TIMESTAMP, combo_id INTEGER, seq BIGINT)"
    )


_NEW_COMBOS = """
INSERT INTO jstream.combos
SELECT (SELECT coalesce(max(combo_id), 0) FROM jstream.combos) + row_number() OVER (),
       channel, touchpoint, journey_stage, kind
FROM (SELECT DISTINCT channel, touchpoint, journey_stage, kind FROM journey_new
      EXCEPT SELECT channel, touchpoint, journey_stage, kind FROM jstream.combos)
"""
_NEW_EVENTS = """
INSERT INTO jstream.events
SELECT n.interaction_id, n.customer_id, n.occurred_local, c.combo_id,
       (SELECT coalesce(max(seq), 0) FROM jstream.events)
       + row_number() OVER (ORDER BY n.customer_id, n.occurred_local, n.interaction_id)
FROM journey_new n JOIN jstream.combos c
  ON n.channel IS NOT DISTINCT FROM c.channel
 AND n.touchpoint IS NOT DISTINCT FROM c.touchpoint
 AND n.journey_stage IS NOT DISTINCT FROM c.journey_stage
 AND n.kind IS NOT DISTINCT FROM c.kind
{order}
"""
_ORDER = "ORDER BY customer_id, occurred_local, interaction_id"
#: New rows that are not all later than the cached ones.
_BACKFILL = (
    "SELECT count(*) FROM journey_new WHERE occurred_local < "
    "(SELECT max(occurred_local) FROM jstream.events)"
)


def _copy(
    con: duckdb.DuckDBPyConnection, zone: str, after: int, upto: int
) -> tuple[int, bool]:
    """Copy the interactions with ids in ``(after, upto]``: how many, and whether
    some are older than cached ones (then the sequence must be made again)."""
    columns = _COLUMNS.format(local=_DUCK_LOCAL.format(zone=zone))
    if after == 0:
        source = f"SELECT {columns} FROM jsrc.interaction WHERE id <= ?"
    else:
        query = "SELECT * FROM interaction WHERE id > ? AND id <= ?"
        source = (
            f"SELECT {columns} FROM "
            f"sqlite_query('jsrc', '{query}', params=row(?::BIGINT, ?::BIGINT))"
        )
    params = [upto] if after == 0 else [after, upto]
    con.execute(f"CREATE OR REPLACE TEMP TABLE journey_new AS {source}", params)
    try:
        backfill = con.execute(_BACKFILL).fetchone()
        con.execute(_NEW_COMBOS)
        con.execute(_NEW_EVENTS.format(order="ORDER BY 5" if after == 0 else ""))
        row = con.execute("SELECT count(*) FROM journey_new").fetchone()
    finally:
        con.execute("DROP TABLE IF EXISTS journey_new")
    return (int(row[0]) if row else 0), bool(backfill and backfill[0])


def _count(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute("SELECT count(*) FROM jstream.events").fetchone()
    return int(row[0]) if row else 0


def _sort(con: duckdb.DuckDBPyConnection) -> None:
    """Rewrite the events in customer and time order, numbering them again."""
    con.execute(
        "CREATE TABLE jstream.events_sorted AS SELECT interaction_id, customer_id, "
        f"occurred_local, combo_id, row_number() OVER ({_ORDER}) AS seq "
        f"FROM jstream.events {_ORDER}"
    )
    con.execute("DROP TABLE jstream.events")
    con.execute("ALTER TABLE jstream.events_sorted RENAME TO events")


def describe(stream: Stream) -> dict[str, Any]:
    """How many interactions the stream holds (for the CLI's status lines)."""
    return {"interactions": int(stream.interactions.count().execute())}
