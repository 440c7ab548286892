"""Set-based writes for importers: ids, bulk inserts and look-ups on SQLite and PostgreSQL.

SQLite: the transaction starts with ``BEGIN IMMEDIATE``, so holding the write lock makes
``max(id) + 1 ..`` safe, and rows go in through the driver's ``executemany``.
PostgreSQL: ids come from the table's sequence and rows go in with ``COPY``.
Times are written as the ``UTCDateTime`` column type stores them.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection, Engine, text

from cxloop.store.types import utcnow

#: Page cache of an SQLite import transaction, in KiB.
SQLITE_CACHE_KIB = 262_144

#: Rows per ``IN (...)`` look-up.
LOOKUP_CHUNK = 10_000


class BulkWriter:
    """Writes inside one transaction of ``connection`` (see :func:`transaction`)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.sqlite = connection.dialect.name == "sqlite"
        self.now = self.time_text(utcnow().replace(tzinfo=None).isoformat(sep=" "))

    def time_text(self, naive_utc: str) -> str:
        """A naive UTC ``YYYY-MM-DD HH:MM:SS.ffffff`` as this engine's column text."""
        if "." not in naive_utc:
            naive_utc += ".000000"
        return naive_utc if self.sqlite else naive_utc + "+00"

    def times(self, values: pa.Array) -> list[str | None]:
        """UTC timestamps as column text (None for null)."""
        texts = format_utc(values)
        if not self.sqlite:
            texts = pc.binary_join_element_wise(texts, "+00", "")
        return texts.to_pylist()  # type: ignore[no-any-return]

    def amounts(self, values: pa.Array) -> list[Any]:
        """Decimal strings as the engine stores ``Numeric`` (float on SQLite)."""
        if self.sqlite:
            return pc.cast(values, pa.float64()).to_pylist()  # type: ignore[no-any-return]
        return values.to_pylist()  # type: ignore[no-any-return]

    def next_ids(self, table: str, count: int) -> npt.NDArray[np.int64]:
        """``count`` new primary keys for ``table``, safe inside this transaction."""
        if count == 0:
            return np.zeros(0, np.int64)
        if self.sqlite:
            top = self.connection.exec_driver_sql(
                f"SELECT max(id) FROM {table}"
            ).scalar()
            return np.arange(1, count + 1, dtype=np.int64) + int(top or 0)
        sql = text(
            "SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"
        )
        ids = self.connection.execute(sql, {"t": table, "n": count}).scalars().all()
        return np.asarray(ids, dtype=np.int64)

    def _driver(self) -> Any:
        """The DBAPI connection (sqlite3 or psycopg) under this transaction."""
        driver = self.connection.connection.driver_connection
        if driver is None:  # pragma: no cover - only after the connection is closed
            raise RuntimeError("the import connection is closed")
        return driver

    def insert(
        self, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
    ) -> None:
        """Insert plain tuples in ``columns`` order."""
        driver = self._driver()
        names = ", ".join(columns)
        if self.sqlite:
            _sqlite_insert(
                driver, f"INSERT INTO {table} ({names}) VALUES ", len(columns), rows
            )
            return
        with (
            driver.cursor() as cursor,
            cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)

    def typed(self, kind: str) -> str:
        """A ``?`` placeholder cast to a staging type (``time``, ``json``...) where needed."""
        if self.sqlite:
            return "?"
        return f"CAST(? AS {_STAGE_TYPES['postgresql'][kind]})"

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        """Run one statement with ``?`` placeholders."""
        cursor = self._driver().cursor()
        try:
            cursor.execute(sql if self.sqlite else sql.replace("?", "%s"), params)
        finally:
            cursor.close()

    def execute_many(self, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """Run ``sql`` (with ``?`` placeholders) once per row."""
        if not rows:
            return
        driver = self._driver()
        if self.sqlite:
            driver.executemany(sql, rows)
            return
        with driver.cursor() as cursor:
            cursor.executemany(sql.replace("?", "%s"), rows)

    def lookup(
        self, sql: str, values: Sequence[Any], *params: Any
    ) -> list[tuple[Any, ...]]:
        """Rows of ``sql`` for every chunk of ``values``.

        ``sql`` uses ``?`` for ``params`` and ``IN ({values})`` for the values.
        """
        if not len(values):
            return []
        cursor = self._driver().cursor()
        found: list[tuple[Any, ...]] = []
        try:
            for start in range(0, len(values), LOOKUP_CHUNK):
                chunk = list(values[start : start + LOOKUP_CHUNK])
                if self.sqlite:
                    query = sql.format(values=", ".join("?" * len(chunk)))
                    cursor.execute(query, (*params, *chunk))
                else:
                    query = sql.replace("?", "%s").replace("IN ({values})", "= ANY(%s)")
                    cursor.execute(query, (*params, chunk))
                found.extend(tuple(row) for row in cursor.fetchall())
        finally:
            cursor.close()
        return found

    def missing_reference(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        """The first row of ``sql`` (a query for references that do not exist), or None.

        Used where SQLite's per-row foreign key checks are off (see
        :func:`transaction`); on PostgreSQL the foreign keys are checked anyway.
        """
        if not self.sqlite:
            return None
        cursor = self._driver().cursor()
        try:
            return cursor.execute(sql, params).fetchone()
        finally:
            cursor.close()

    def data_version(self) -> int | None:
        """SQLite's ``data_version``, which changes when another connection commits.

        None on PostgreSQL. Compare only values read on the same connection.
        """
        if not self.sqlite:
            return None
        version = self.connection.exec_driver_sql("PRAGMA data_version").scalar_one()
        return int(version)

    def has_rows(self, table: str, source: str) -> bool:
        """Whether ``table`` holds any row imported from ``source``."""
        sql = text(f"SELECT 1 FROM {table} WHERE source = :source LIMIT 1")
        return self.connection.execute(sql, {"source": source}).first() is not None

    def stage(
        self, columns: Sequence[tuple[str, str]], rows: Iterable[tuple[Any, ...]]
    ) -> str:
        """Load ``rows`` into an empty temporary table (emptied again when a
        transaction stages twice); returns its name.

        ``columns`` are (name, type) with type one of ``id``, ``text``, ``time``,
        ``json``, ``real``. Set-based ``INSERT .. SELECT`` from it then runs in the
        database instead of once per row in Python.
        """
        types = _STAGE_TYPES["sqlite" if self.sqlite else "postgresql"]
        body = ", ".join(f"{name} {types[kind]}" for name, kind in columns)
        if self.sqlite:
            self.connection.exec_driver_sql(
                f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} ({body})"
            )
            self.connection.exec_driver_sql(f"DELETE FROM {STAGE}")
        else:
            self.connection.exec_driver_sql(f"DROP TABLE IF EXISTS pg_temp.{STAGE}")
            self.connection.exec_driver_sql(
                f"CREATE TEMP TABLE {STAGE} ({body}) ON COMMIT DROP"
            )
        self.insert(STAGE, [name for name, _ in columns], rows)
        return STAGE


#: Name of the staging table (temporary, per connection).
STAGE = "cxloop_import_stage"

_STAGE_TYPES = {
    "sqlite": {"id": "INTEGER", "text": "TEXT", "time": "TEXT", "json": "TEXT", "real": "REAL"},
    "postgresql": {
        "id": "BIGINT", "text": "TEXT", "time": "TIMESTAMPTZ", "json": "JSONB", "real": "DOUBLE PRECISION",
    },
}  # fmt: skip


def _sqlite_insert(
    driver: Any, head: str, width: int, rows: Iterable[tuple[Any, ...]]
) -> None:
    """Multi-row ``VALUES`` statements (fewer statement steps than one row each)."""
    limit = 32_766 if sqlite3.sqlite_version_info >= (3, 32) else 999
    per = max(1, min(500, limit // width))
    one = "(" + ", ".join("?" * width) + ")"
    block = head + ", ".join([one] * per)
    rows = list(rows)
    full = len(rows) - len(rows) % per
    cursor = driver.cursor()
    try:
        for start in range(0, full, per):
            cursor.execute(block, list(chain.from_iterable(rows[start : start + per])))
        if full < len(rows):
            cursor.executemany(head + one, rows[full:])
    finally:
        cursor.close()


@contextmanager
def import_connection(engine: Engine) -> Iterator[Connection]:
    """One connection for the transactions of an import.

    On SQLite its page cache is raised to :data:`SQLITE_CACHE_KIB` meanwhile.
    """
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        before = _set_cache(connection, -SQLITE_CACHE_KIB) if sqlite else 0
        try:
            yield connection
        finally:
            if sqlite:
                _set_cache(connection, before)


@contextmanager
def transaction(
    target: Engine | Connection, *, foreign_keys: bool = True
) -> Iterator[BulkWriter]:
    """One write transaction on ``target``; on SQLite it takes the write lock at once.

    An engine lends a connection for the transaction (see :func:`import_connection`).
    ``foreign_keys=False`` turns SQLite's per-row foreign key checks off: the caller
    then checks its references set-based inside the transaction (see
    :meth:`BulkWriter.missing_reference`). The setting is set back afterwards.
    """
    if isinstance(target, Engine):
        with (
            import_connection(target) as connection,
            transaction(connection, foreign_keys=foreign_keys) as writer,
        ):
            yield writer
        return
    sqlite = target.dialect.name == "sqlite"
    if sqlite and not foreign_keys:
        _pragma(target, "foreign_keys=OFF")
    try:
        with target.begin():
            if sqlite:
                target.exec_driver_sql("BEGIN IMMEDIATE")
            yield BulkWriter(target)
    finally:
        if sqlite and not foreign_keys:
            _pragma(target, "foreign_keys=ON")


def _pragma(connection: Connection, setting: str) -> None:
    connection.exec_driver_sql(f"PRAGMA {setting}")
    connection.commit()


def _set_cache(connection: Connection, size: int) -> int:
    """Set SQLite's ``cache_size`` (outside a transaction); returns the old value."""
    before = int(connection.exec_driver_sql("PRAGMA cache_size").scalar() or -2000)
    connection.exec_driver_sql(f"PRAGMA cache_size={int(size)}")
    connection.commit()
    return before


def json_texts(
    columns: dict[str, pa.Array], rows: npt.NDArray[np.int64]
) -> list[str | None]:
    """A JSON object per row of the non-empty cells of ``columns`` (None when none)."""
    if not columns:
        return [None] * len(rows)
    names = list(columns)
    index = pa.array(rows, type=pa.int64())
    cells = [columns[name].take(index).to_pylist() for name in names]
    texts: list[str | None] = []
    for values in zip(*cells, strict=True):
        record = {
            name: value for name, value in zip(names, values, strict=True) if value
        }
        texts.append(json.dumps(record, ensure_ascii=False) if record else None)
    return texts


def format_utc(values: pa.Array) -> pa.Array:
    """Timestamps as ``YYYY-MM-DD HH:MM:SS.ffffff`` strings (null stays null), fast."""
    micros = pc.cast(pc.cast(values, pa.timestamp("us")), pa.int64())
    valid = pc.is_valid(micros)
    stamps = pc.fill_null(micros, 0).to_numpy().astype("datetime64[us]")
    days = stamps.astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    clock = (stamps - days).astype(np.int64)
    seconds = clock // 1_000_000
    fields = (
        (months.astype("datetime64[Y]").astype(np.int64) + 1970, 4, "-"),
        (months.astype(np.int64) % 12 + 1, 2, "-"),
        ((days - months).astype(np.int64) + 1, 2, " "),
        (seconds // 3600, 2, ":"),
        (seconds // 60 % 60, 2, ":"),
        (seconds % 60, 2, "."),
        (clock % 1_000_000, 6, ""),
    )
    chars = np.empty((26, len(stamps)), np.uint8)
    position = 0
    for number, width, separator in fields:
        digits = number.astype(np.int32)
        for place in range(width - 1, -1, -1):
            chars[position + place] = digits % 10 + 48
            digits //= 10
        position += width
        if separator:
            chars[position] = ord(separator)
            position += 1
    buffer = pa.py_buffer(np.ascontiguousarray(chars.T))
    fixed = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(26), len(stamps), [None, buffer]
    )
    return pc.if_else(valid, fixed.cast(pa.string()), None)
