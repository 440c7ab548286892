"""The analytics tables of a store written as Parquet, for the Spark engine.

:func:`export_tables` reads ``answer_fact`` and ``customer_dim`` through the embedded
:func:`~cxloop.analytics.engines.connect_store` (the DuckDB mirror of an SQLite store,
or the PostgreSQL views), so the columns are those every metric definition reads, and
writes them under one folder::

    DIR/answer_fact/part-00000.parquet ...
    DIR/customer_dim/part-00000.parquet ...
    DIR/export.json        business zone, row counts, time of the export

The column types are fixed (:data:`FACT_TYPES`, :data:`CUSTOMER_TYPES`) whatever the
store: ``occurred_local`` is a timestamp without zone (Parquet ``isAdjustedToUTC =
false``), the wall-clock time in the business zone, so no reader shifts it. Both tables
are written to temporary folders first and then renamed into place, so a failed export
leaves the previous one whole.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.parquet as pq

from cxloop.analytics.engines import CUSTOMER_COLUMNS, business_zone, connect_store
from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput

#: Ibis type of each ``answer_fact`` column in the export.
FACT_TYPES: Mapping[str, str] = {
    "answer_id": "int64",
    "metric": "string",
    "value": "float64",
    "occurred_local": "timestamp(6)",
    "occurred_on": "date",
    "week_start": "date",
    "month_start": "date",
    "quarter_start": "date",
    "channel": "string",
    "touchpoint": "string",
    "journey_stage": "string",
    "source": "string",
    "customer_id": "int64",
}
#: Ibis type of each ``customer_dim`` column (``attributes`` is JSON text).
CUSTOMER_TYPES: Mapping[str, str] = {
    name: "int64" if name == "customer_id" else "string" for name in CUSTOMER_COLUMNS
}
#: The tables of an export, in the order they are written, with their types.
TABLES: Mapping[str, Mapping[str, str]] = {
    "answer_fact": FACT_TYPES,
    "customer_dim": CUSTOMER_TYPES,
}
#: The file naming the business zone and the row counts of an export.
MANIFEST = "export.json"
FORMAT_VERSION = 1
#: Rows read from the store at a time, and at most in one part file.
BATCH_ROWS = 250_000
ROWS_PER_FILE = 4_000_000

#: Called with the table's name, the rows written so far and its row count.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class ExportSummary:
    """What :func:`export_tables` wrote."""

    folder: Path
    timezone: str
    rows: Mapping[str, int]


def export_tables(
    *, settings: Settings, to: str | Path, progress: Progress | None = None
) -> ExportSummary:
    """Write the answer facts and customers of the configured store under ``to``.

    Parameters
    ----------
    settings
        The store (``database_url``) and its business zone (``timezone``); the export
        always reads the store itself, whatever ``analytics_engine`` says.
    to
        A local folder, created when missing; its ``answer_fact/``, ``customer_dim/``
        and ``export.json`` are replaced, anything else in it is left alone.
    progress
        Told the rows written after each batch.
    """
    folder = _target(to)
    zone = business_zone(settings)
    token = uuid.uuid4().hex[:12]
    staged = {name: folder / f".{name}.tmp-{token}" for name in TABLES}
    try:
        rows = _write_all(settings, staged, progress)
        for name, path in staged.items():
            _swap(path, folder / name, token)
    finally:
        for path in staged.values():
            shutil.rmtree(path, ignore_errors=True)
    _write_manifest(folder, zone, rows)
    return ExportSummary(folder=folder, timezone=zone, rows=rows)


def _target(to: str | Path) -> Path:
    """The export folder, created; InvalidInput when it cannot be one."""
    text = str(to)
    if not text.strip() or "://" in text:
        msg = f"export to a local folder, not {text!r} (copy it elsewhere afterwards)"
        raise InvalidInput(msg)
    folder = Path(text).expanduser().absolute()
    if folder.exists() and not folder.is_dir():
        msg = f"{folder} is a file, not a folder: choose a folder to export to"
        raise InvalidInput(msg)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test-{uuid.uuid4().hex[:8]}"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        msg = f"cannot write to the folder {folder}: {exc.strerror or exc}"
        raise InvalidInput(msg) from exc
    return folder


def _write_all(
    settings: Settings, staged: Mapping[str, Path], progress: Progress | None
) -> dict[str, int]:
    with connect_store(settings) as source:
        tables = {"answer_fact": source.facts, "customer_dim": source.customers}
        return {
            name: _write_table(tables[name], TABLES[name], path, name, progress)
            for name, path in staged.items()
        }


def _write_table(
    table: ir.Table,
    types: Mapping[str, str],
    folder: Path,
    name: str,
    progress: Progress | None,
) -> int:
    """Write ``table`` with ``types`` as part files under ``folder``; returns rows."""
    typed = table.select(
        **{column: table[column].cast(t) for column, t in types.items()}
    )
    schema = typed.schema().to_pyarrow()
    total = int(typed.count().execute())
    folder.mkdir()
    done = 0
    if progress is not None:
        progress(name, done, total)
    parts = _Parts(folder, schema)
    try:
        for batch in typed.to_pyarrow_batches(chunk_size=BATCH_ROWS):
            parts.write(pa.Table.from_batches([batch]).cast(schema))
            done += batch.num_rows
            if progress is not None:
                progress(name, done, total)
        if parts.count == 0:  # readers need one file to learn the columns
            parts.write(schema.empty_table())
    finally:
        parts.close()
    return done


class _Parts:
    """The part files of one table: a new file after :data:`ROWS_PER_FILE` rows."""

    def __init__(self, folder: Path, schema: pa.Schema) -> None:
        self.count = 0
        self._folder = folder
        self._schema = schema
        self._writer: pq.ParquetWriter | None = None
        self._rows = 0

    def write(self, chunk: pa.Table) -> None:
        if self._writer is None or self._rows + chunk.num_rows > ROWS_PER_FILE:
            self.close()
            path = self._folder / f"part-{self.count:05d}.parquet"
            self._writer = pq.ParquetWriter(path, self._schema)
            self.count += 1
            self._rows = 0
        self._writer.write_table(chunk)
        self._rows += chunk.num_rows

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def _swap(staged: Path, final: Path, token: str) -> None:
    """Put the folder ``staged`` in the place of ``final`` (two renames)."""
    old = final.with_name(f".{final.name}.old-{token}")
    if final.exists():
        final.rename(old)
    staged.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def _write_manifest(folder: Path, zone: str, rows: Mapping[str, int]) -> None:
    manifest = {
        "format": FORMAT_VERSION,
        "timezone": zone,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "rows": dict(rows),
    }
    staged = folder / f".{MANIFEST}.tmp"
    staged.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    os.replace(staged, folder / MANIFEST)


def read_manifest(folder: Path) -> dict[str, object] | None:
    """The manifest of the export in ``folder``; None when there is none."""
    path = folder / MANIFEST
    if not path.is_file():
        return None
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        msg = f"cannot read {path}: {exc}: export again"
        raise InvalidInput(msg) from exc
    if not isinstance(found, dict):
        msg = f"{path} is not an export manifest: export again"
        raise InvalidInput(msg)
    return found
