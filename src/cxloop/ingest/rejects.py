"""Rejected rows: ``FILE.rejects.csv`` beside the input, and the import history tables."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pyarrow as pa

from cxloop.ingest.summaries import RowReject
from cxloop.ingest.validation import Validated
from cxloop.ingest.writers import BulkWriter

#: Leading columns of a rejects file; the file's own columns follow.
REJECT_COLUMNS = ("line", "field", "reason")


def rejects_path_for(path: Path) -> Path:
    """``FILE.rejects.csv`` next to ``FILE``."""
    return path.with_name(path.name + ".rejects.csv")


def _raw_rows(checked: Validated) -> dict[int, list[str]]:
    """The original cells of each rejected row, by line."""
    raw = checked.raw
    positions = [int(row) for row in (~checked.good).nonzero()[0]]
    index = pa.array(positions, type=pa.int64())
    cells = [raw.values[name].take(index).to_pylist() for name in raw.columns]
    lines = raw.lines[positions].tolist()
    return {line: [column[i] for column in cells] for i, line in enumerate(lines)}


def write_rejects_file(checked: Validated) -> Path | None:
    """Write the rejected rows (UTF-8 with BOM, for spreadsheet programs).

    A rejects file left by an earlier run of the same file is removed when nothing is
    rejected now, so a rejects file always describes the latest run.
    """
    path = rejects_path_for(checked.raw.path)
    if not checked.rejects:
        path.unlink(missing_ok=True)
        return None
    originals = _raw_rows(checked)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*REJECT_COLUMNS, *checked.raw.columns])
        for reject in checked.rejects:
            writer.writerow(
                [reject.line, reject.field, reject.reason, *originals[reject.line]]
            )
    return path


def file_sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def start_run(
    writer: BulkWriter, *, kind: str, source: str, path: Path, rows_read: int
) -> int:
    """Record the start of an import; returns the ``import_run`` id."""
    run_id = int(writer.next_ids("import_run", 1)[0])
    columns = (
        "id", "kind", "source", "file_name", "file_sha256", "started_at", "rows_read",
        "rows_inserted", "rows_duplicate", "rows_rejected", "status",
    )  # fmt: skip
    row = (
        run_id,
        kind,
        source,
        str(path)[-500:],
        file_sha256(path),
        writer.now,
        rows_read,
        0,
        0,
        0,
        "running",
    )
    writer.insert("import_run", columns, [row])
    return run_id


def finish_run(
    writer: BulkWriter,
    run_id: int,
    *,
    counts: tuple[int, int],
    checked: Validated,
) -> None:
    """Store the counts of a finished import and its rejected rows."""
    inserted, duplicates = counts
    rejected = len(checked.rejects)
    status = "done" if not rejected else "partial"
    writer.execute_many(
        "UPDATE import_run SET finished_at = ?, rows_inserted = ?, rows_duplicate = ?, "
        "rows_rejected = ?, status = ? WHERE id = ?",
        [(writer.now, inserted, duplicates, rejected, status, run_id)],
    )
    originals = _raw_rows(checked)
    columns = checked.raw.columns
    writer.insert(
        "import_reject",
        ("import_run_id", "line", "field", "reason", "raw"),
        (
            (
                run_id,
                reject.line,
                reject.field[:100],
                reject.reason,
                _raw_json(columns, originals[reject.line]),
            )
            for reject in checked.rejects
        ),
    )


def _raw_json(columns: list[str], cells: list[str]) -> str:
    return json.dumps(dict(zip(columns, cells, strict=True)), ensure_ascii=False)


def first_rejects(rejects: list[RowReject], limit: int = 20) -> tuple[RowReject, ...]:
    """The first ``limit`` rejects, for messages."""
    return tuple(rejects[:limit])
