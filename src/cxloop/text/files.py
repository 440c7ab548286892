"""Read and write the files ``cxloop text score`` works on (CSV, JSON Lines, Parquet).

Reading keeps every column of the file. A CSV file is UTF-8 (with or without BOM) or
Big5, read by :mod:`cxloop.ingest.csv_reader`; a UTF-8 file with a few lines that are
not UTF-8 is read with Python's :mod:`csv` instead, and each record holding such bytes
becomes a :class:`Reject` naming its line, so the valid rows can still be scored. A JSON
Lines record that is not UTF-8 or not a JSON object is a reject in the same way.

Writing picks the format by the output's suffix: in CSV a list (``topics``,
``keywords``) is JSON text; Parquet and JSON Lines keep native lists.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from cxloop.domain.errors import InvalidInput
from cxloop.ingest.readers import RawTable, cell_text, check_header

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
JSONL_SUFFIXES = (".jsonl", ".ndjson")
PARQUET_SUFFIXES = (".parquet", ".pq")
ALL_SUFFIXES = CSV_SUFFIXES + JSONL_SUFFIXES + PARQUET_SUFFIXES
#: Encodings a CSV file that is not UTF-8 may be in (as in cxloop.ingest).
BIG5_ENCODINGS = ("cp950", "big5hkscs")
_NOT_UTF8 = re.compile("[\udc80-\udcff]")


@dataclass(frozen=True)
class Reject:
    """A record left out of the output, with its line and why."""

    line: int
    reason: str
    text: str


@dataclass(frozen=True)
class InputTable:
    """The readable rows of an input file, each row's line, and the rejected records."""

    path: Path
    table: pa.Table
    lines: list[int]
    rejects: tuple[Reject, ...]

    @property
    def columns(self) -> list[str]:
        return list(self.table.column_names)


def file_kind(path: Path) -> str:
    """``csv``, ``jsonl`` or ``parquet`` by the file name's suffix."""
    suffix = path.suffix.lower()
    for kind, suffixes in (("csv", CSV_SUFFIXES), ("jsonl", JSONL_SUFFIXES),
                           ("parquet", PARQUET_SUFFIXES)):  # fmt: skip
        if suffix in suffixes:
            return kind
    known = ", ".join(ALL_SUFFIXES)
    raise InvalidInput(f"{path}: unknown file type {suffix!r}; use one of {known}")


def read_input(path: Path, *, required: tuple[str, ...]) -> InputTable:
    """Read ``path`` by its suffix; every name in ``required`` must be a column."""
    kind = file_kind(path)
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file")
    if kind == "csv":
        found = _read_csv(path, "\t" if path.suffix.lower() == ".tsv" else ",")
    elif kind == "jsonl":
        found = _read_jsonl(path)
    else:
        found = _read_parquet(path)
    for name in required:
        if name not in found.columns:
            present = ", ".join(repr(column) for column in found.columns)
            raise InvalidInput(f"{path}: no column {name!r}; the columns are {present}")
    return found


def column_texts(table: pa.Table, name: str) -> list[str]:
    """A column's values as texts (``""`` for an empty cell)."""
    column = table.column(name)
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return [value or "" for value in column.to_pylist()]
    return [cell_text(value) for value in column.to_pylist()]


# --- CSV --------------------------------------------------------------------------


def _read_csv(path: Path, delimiter: str) -> InputTable:
    from cxloop.ingest.csv_reader import read_csv_file

    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        if not _mostly_utf8(data) and _is_big5(data):
            return _from_raw(read_csv_file(path, delimiter=delimiter))
        return _read_csv_with_rejects(path, data, delimiter)
    raw = read_csv_file(path, delimiter=delimiter)
    if raw.n_rows == 0:
        raise InvalidInput(f"{path}: the file has a header but no data rows")
    return _from_raw(raw)


def _from_raw(raw: RawTable) -> InputTable:
    table = pa.table({name: raw.values[name] for name in raw.columns})
    return InputTable(raw.path, table, [int(line) for line in raw.lines], ())


def _mostly_utf8(data: bytes) -> bool:
    """Whether most lines with non-ASCII bytes are UTF-8 (a UTF-8 file with bad lines)."""
    good = bad = 0
    for line in data.split(b"\n"):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            good += 1
        except UnicodeDecodeError:
            bad += 1
    return good > bad


def _is_big5(data: bytes) -> bool:
    for encoding in BIG5_ENCODINGS:
        try:
            data.decode(encoding)
            return True
        except UnicodeDecodeError:
            continue
    return False


def _read_csv_with_rejects(path: Path, data: bytes, delimiter: str) -> InputTable:
    """A UTF-8 CSV with some bytes that are not UTF-8: those records become rejects."""
    text = data.decode("utf-8", errors="surrogateescape")
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidInput(f"{path}: the file is empty") from None
    if any(_NOT_UTF8.search(name) for name in header):
        raise InvalidInput(f"{path} line 1: the header is not UTF-8 text")
    columns = check_header(path, header)
    rows: list[list[str]] = []
    lines: list[int] = []
    rejects: list[Reject] = []
    start = reader.line_num + 1
    try:
        for record in reader:
            _take_record(path, record, start, len(columns), rows, lines, rejects)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise InvalidInput(f"{path} line {start}: malformed CSV ({exc})") from exc
    values = {name: pa.array([row[i] for row in rows], pa.string())
              for i, name in enumerate(columns)}  # fmt: skip
    return InputTable(path, pa.table(values), lines, tuple(rejects))


def _take_record(
    path: Path,
    record: list[str],
    line: int,
    width: int,
    rows: list[list[str]],
    lines: list[int],
    rejects: list[Reject],
) -> None:
    if not record:
        return
    if len(record) != width:
        msg = f"{path} line {line}: expected {width} columns, found {len(record)}"
        raise InvalidInput(msg)
    if any(_NOT_UTF8.search(cell) for cell in record):
        shown = _shown(record)
        rejects.append(Reject(line, "not UTF-8 text", shown))
        return
    rows.append(record)
    lines.append(line)


def _shown(record: list[str]) -> str:
    """A record as one line of text, bytes that are not UTF-8 shown as U+FFFD."""
    joined = ",".join(record)
    return joined.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


# --- JSON Lines and Parquet -------------------------------------------------------


def _read_jsonl(path: Path) -> InputTable:
    records: list[dict[str, Any]] = []
    lines: list[int] = []
    rejects: list[Reject] = []
    with path.open("rb") as handle:
        for line, raw in enumerate(handle, start=1):
            record = _jsonl_record(raw, line, rejects)
            if record is not None:
                records.append(record)
                lines.append(line)
    if not records:
        raise InvalidInput(f"{path}: no JSON object in the file")
    names: dict[str, None] = {}
    for record in records:
        names.update(dict.fromkeys(record))
    columns = check_header(path, list(names))
    table = pa.table({name: _arrow_column([r.get(name) for r in records])
                      for name in columns})  # fmt: skip
    return InputTable(path, table, lines, tuple(rejects))


def _jsonl_record(
    raw: bytes, line: int, rejects: list[Reject]
) -> dict[str, Any] | None:
    try:
        text = raw.decode("utf-8-sig" if line == 1 else "utf-8")
    except UnicodeDecodeError as exc:
        shown = raw.decode("utf-8", "replace").rstrip("\r\n")
        rejects.append(Reject(line, f"not UTF-8 text ({exc.reason})", shown))
        return None
    if not text.strip():
        return None
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        reason = f"not valid JSON ({exc.msg} at column {exc.colno})"
        rejects.append(Reject(line, reason, text.rstrip("\r\n")))
        return None
    if not isinstance(record, dict):
        reason = f"expected a JSON object, got {type(record).__name__}"
        rejects.append(Reject(line, reason, text.rstrip("\r\n")))
        return None
    return record


def _arrow_column(values: list[Any]) -> pa.Array:
    """Native types where the values agree, else every value as text."""
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array(
            [None if v is None else cell_text(v) for v in values], pa.string()
        )


def _read_parquet(path: Path) -> InputTable:
    try:
        # One thread, as the CSV reader: an idle Arrow pool can abort at exit.
        table = pq.read_table(path, use_threads=False)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInput(f"{path}: not a readable Parquet file ({exc})") from exc
    if table.num_rows == 0:
        raise InvalidInput(f"{path}: the file has no rows")
    # Parquet has no lines: a row's "line" is its number, counting from 1.
    return InputTable(path, table, list(range(1, table.num_rows + 1)), ())


# --- writing ----------------------------------------------------------------------


def write_output(table: pa.Table, path: Path) -> None:
    """Write ``table`` to ``path`` as CSV, JSON Lines or Parquet (by the suffix)."""
    kind = file_kind(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "parquet":
        pq.write_table(table, path)
    elif kind == "jsonl":
        _write_jsonl(table, path)
    else:
        _write_csv(table, path, "\t" if path.suffix.lower() == ".tsv" else ",")


def _write_jsonl(table: pa.Table, path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for row in table.to_pylist():
            handle.write(json.dumps(row, ensure_ascii=False, default=str))
            handle.write("\n")


def _write_csv(table: pa.Table, path: Path, delimiter: str) -> None:
    """CSV with a BOM (so spreadsheet programs read it as UTF-8); lists as JSON."""
    columns = [_csv_cells(table.column(name)) for name in table.column_names]
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(table.column_names)
        writer.writerows(zip(*columns, strict=True))


def _csv_cells(column: pa.ChunkedArray) -> list[str]:
    values = column.to_pylist()
    kind = column.type
    if pa.types.is_list(kind) or pa.types.is_struct(kind) or pa.types.is_map(kind):
        return ["" if v is None else json.dumps(v, ensure_ascii=False, default=str)
                for v in values]  # fmt: skip
    if pa.types.is_boolean(kind):
        return ["" if v is None else ("true" if v else "false") for v in values]
    return [cell_text(value) for value in values]


def write_rejects(rejects: tuple[Reject, ...], path: Path) -> None:
    """The rejected records as CSV: line, reason, text (bad bytes shown as U+FFFD)."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["line", "reason", "text"])
        writer.writerows([r.line, r.reason, r.text] for r in rejects)
