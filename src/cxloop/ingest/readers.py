"""Read an input file into a :class:`RawTable`: every cell a string, every row its line.

CSV is read by :mod:`cxloop.ingest.csv_reader`; XLSX (first sheet) and JSON Lines here.
Structural problems (unreadable file, malformed record, duplicate header) raise
:class:`~cxloop.domain.errors.InvalidInput` naming the file and line.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from cxloop.domain.errors import InvalidInput

#: File name endings each reader accepts.
CSV_SUFFIXES = (".csv", ".txt", ".tsv")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
JSONL_SUFFIXES = (".jsonl", ".ndjson")


@dataclass(frozen=True)
class RawTable:
    """The cells of a file as strings (``""`` for an empty cell) and each row's line.

    ``lines`` are physical line numbers for CSV (header = line 1), the line for JSON
    Lines and the sheet row for XLSX.
    """

    path: Path
    columns: list[str]
    values: dict[str, pa.Array]
    lines: npt.NDArray[np.int64]

    @property
    def n_rows(self) -> int:
        return len(self.lines)


def read_table(path: Path) -> RawTable:
    """Read ``path`` by its file name ending (CSV, XLSX or JSON Lines)."""
    from cxloop.ingest.csv_reader import read_csv_file

    suffix = path.suffix.lower()
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file")
    if suffix in CSV_SUFFIXES:
        table = read_csv_file(path, delimiter="\t" if suffix == ".tsv" else ",")
    elif suffix in XLSX_SUFFIXES:
        table = read_xlsx_file(path)
    elif suffix in JSONL_SUFFIXES:
        table = read_jsonl_file(path)
    else:
        known = ", ".join(CSV_SUFFIXES + XLSX_SUFFIXES + JSONL_SUFFIXES)
        raise InvalidInput(f"{path}: unknown file type {suffix!r}; use one of {known}")
    if table.n_rows == 0:
        raise InvalidInput(f"{path}: the file has a header but no data rows")
    return table


def check_header(path: Path, header: Sequence[Any]) -> list[str]:
    """The header's names, stripped; refuses blank or repeated names."""
    names = ["" if name is None else str(name).strip() for name in header]
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        if not name:
            raise InvalidInput(f"{path} line 1: column {position} has no name")
        if name.lower() in seen:
            msg = f"{path} line 1: column {name!r} appears twice (columns {seen[name.lower()]} and {position})"
            raise InvalidInput(msg)
        seen[name.lower()] = position
    return names


def build_table(
    path: Path, columns: list[str], rows: Sequence[Sequence[str]], lines: Iterable[int]
) -> RawTable:
    """A :class:`RawTable` from rows of strings already padded to the header's width."""
    values = {
        name: pa.array([row[index] for row in rows], type=pa.string())
        for index, name in enumerate(columns)
    }
    return RawTable(path, columns, values, np.fromiter(lines, dtype=np.int64))


def cell_text(value: Any) -> str:
    """A spreadsheet or JSON value as the text a CSV export would hold."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return (
            value.isoformat(sep=" ")
            if isinstance(value, datetime)
            else value.isoformat()
        )
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def read_xlsx_file(path: Path) -> RawTable:
    """The first sheet of an XLSX workbook; the first row is the header."""
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise InvalidInput(f"{path}: not a readable XLSX workbook ({exc})") from exc
    try:
        sheet_rows = workbook.worksheets[0].iter_rows(values_only=True)
        header_row = next(sheet_rows, None)
        if header_row is None:
            raise InvalidInput(f"{path}: the file is empty")
        columns = check_header(path, _trim_trailing(header_row))
        rows, lines = _xlsx_rows(path, columns, sheet_rows)
    finally:
        workbook.close()
    return build_table(path, columns, rows, lines)


def _trim_trailing(row: Sequence[Any]) -> list[Any]:
    cells = list(row)
    while cells and (cells[-1] is None or cells[-1] == ""):
        cells.pop()
    return cells


def _xlsx_rows(
    path: Path, columns: list[str], sheet_rows: Iterable[Sequence[Any]]
) -> tuple[list[list[str]], list[int]]:
    rows: list[list[str]] = []
    lines: list[int] = []
    width = len(columns)
    for line, raw in enumerate(sheet_rows, start=2):
        cells = _trim_trailing(raw)
        if not cells:
            continue
        if len(cells) > width:
            msg = f"{path} line {line}: a value in column {len(cells)}, but the header names only {width} columns"
            raise InvalidInput(msg)
        texts = [cell_text(cell) for cell in cells]
        rows.append(texts + [""] * (width - len(texts)))
        lines.append(line)
    return rows, lines


def read_jsonl_file(path: Path) -> RawTable:
    """JSON Lines: one JSON object per line (UTF-8); blank lines are skipped."""
    records: list[dict[str, Any]] = []
    lines: list[int] = []
    with path.open("rb") as handle:
        for line, raw in enumerate(handle, start=1):
            record = _jsonl_record(path, line, raw)
            if record is not None:
                records.append(record)
                lines.append(line)
    if not records:
        raise InvalidInput(f"{path}: the file is empty")
    names: dict[str, None] = {}
    for record in records:
        names.update(dict.fromkeys(record))
    columns = check_header(path, list(names))
    rows = [[cell_text(record.get(name)) for name in names] for record in records]
    return build_table(path, columns, rows, lines)


def _jsonl_record(path: Path, line: int, raw: bytes) -> dict[str, Any] | None:
    try:
        text = raw.decode("utf-8-sig" if line == 1 else "utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"{path} line {line}: not UTF-8 text ({exc.reason})"
        ) from exc
    if not text.strip():
        return None
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"{path} line {line}: not valid JSON ({exc.msg} at column {exc.colno})"
        raise InvalidInput(msg) from exc
    if not isinstance(record, dict):
        raise InvalidInput(
            f"{path} line {line}: expected a JSON object, got {type(record).__name__}"
        )
    return record
