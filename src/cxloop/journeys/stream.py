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
SQLite file itself. A PostgreSQL store is read in place.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import duckdb
import ibis.expr.types as ir

from cxloop.analytics.engines import Source, business_zone, connect
from cxloop.analytics.mirror import extension_path, mirror_path
from cxloop.config import Settings
from cxloop.store.engine import sqlite_path

CACHE_VERSION = "1"
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
    """The analytics source of a store plus its interaction stream."""

    def __init__(
        self,
        source: Source,
        interactions: ir.Table,
        enriched: Callable[[], ir.Table],
    ) -> None:
        self.source = source
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
    with connect(settings) as source:
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
    interactions = backend.sql("SELECT * FROM jstream.stream")
    columns = _COLUMNS.format(local=_DUCK_LOCAL.format(zone=zone))
    enriched_sql = (
        f"SELECT {columns}, CAST(sentiment_score AS DOUBLE) AS sentiment_score, "
        f"CAST(topics AS VARCHAR) AS topics FROM jsrc.interaction {_ENRICHED}"
    )
    return Stream(source, interactions, lambda: backend.sql(enriched_sql))


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
    if ("stream_meta",) not in tables or ("stream",) not in tables:
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
            _reset(con, zone)
        _copy(con, zone, watermark, max_id)
        values = {**wanted, "merges": merges, "watermark": str(max_id)}
        con.execute("DELETE FROM jstream.stream_meta")
        con.executemany(
            "INSERT INTO jstream.stream_meta VALUES (?, ?)", list(values.items())
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _reset(con: duckdb.DuckDBPyConnection, zone: str) -> None:
    con.execute("DROP TABLE IF EXISTS jstream.stream")
    con.execute("DROP TABLE IF EXISTS jstream.stream_meta")
    con.execute("CREATE TABLE jstream.stream_meta (key VARCHAR, value VARCHAR)")
    columns = _COLUMNS.format(local=_DUCK_LOCAL.format(zone=zone))
    con.execute(
        f"CREATE TABLE jstream.stream AS SELECT {columns} FROM jsrc.interaction LIMIT 0"
    )


def _copy(con: duckdb.DuckDBPyConnection, zone: str, after: int, upto: int) -> None:
    columns = _COLUMNS.format(local=_DUCK_LOCAL.format(zone=zone))
    if after == 0:
        con.execute(
            f"INSERT INTO jstream.stream SELECT {columns} FROM jsrc.interaction "
            "WHERE id <= ?",
            [upto],
        )
        return
    query = "SELECT * FROM interaction WHERE id > ? AND id <= ?".replace("'", "''")
    con.execute(
        f"INSERT INTO jstream.stream SELECT {columns} FROM "
        f"sqlite_query('jsrc', '{query}', params=row(?::BIGINT, ?::BIGINT))",
        [after, upto],
    )


def describe(stream: Stream) -> dict[str, Any]:
    """How many interactions the stream holds (for the CLI's status lines)."""
    return {"interactions": int(stream.interactions.count().execute())}
