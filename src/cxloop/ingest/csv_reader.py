"""CSV files: UTF-8 (with or without BOM) or Big5, parsed by pyarrow into strings.

Every cell is kept as text (``""`` when empty: never ``NA`` or ``null`` guessed from the
content). Line numbers are physical lines, counting newlines inside quoted values; a
malformed record is located with Python's :mod:`csv` so the message names its line.
"""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from cxloop.domain.errors import InvalidInput
from cxloop.ingest.readers import RawTable, check_header

#: Encodings tried, in order, after strict UTF-8.
FALLBACK_ENCODINGS = ("cp950", "big5hkscs")


class _NotUTF8(Exception):
    """The bytes are not UTF-8: transcode and parse again."""


def read_csv_file(path: Path, *, delimiter: str = ",") -> RawTable:
    """Read a CSV file; every column comes back as a string array."""
    data = path.read_bytes()
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    if not data[: 1 << 16].strip() and not data.strip():
        raise InvalidInput(f"{path}: the file is empty")
    try:
        table = _parse(path, data, delimiter)
    except _NotUTF8:
        data = _transcode(path, data)
        table = _parse(path, data, delimiter)
    columns = list(table.column_names)
    values = {name: table.column(name).combine_chunks() for name in columns}
    lines = _line_numbers(path, data, values, delimiter)
    return RawTable(path, columns, values, lines)


def _transcode(path: Path, data: bytes) -> bytes:
    """Big5 bytes as UTF-8, or InvalidInput naming the first line that is not UTF-8."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as utf8_error:
        for encoding in FALLBACK_ENCODINGS:
            try:
                return data.decode(encoding).encode("utf-8")
            except UnicodeDecodeError:
                continue
        line = data.count(b"\n", 0, utf8_error.start) + 1
        msg = (
            f"{path} line {line}: the file is neither UTF-8 nor Big5 text; "
            "save it as UTF-8 CSV"
        )
        raise InvalidInput(msg) from utf8_error
    return data


def _head_text(data: bytes) -> str:
    """The first megabyte as text; raises _NotUTF8 when it is not UTF-8."""
    head = data[: 1 << 20]
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if len(data) > len(head) and exc.start >= len(head) - 3:
            return head[: exc.start].decode("utf-8")
        raise _NotUTF8 from exc


def _header(path: Path, data: bytes, delimiter: str) -> list[str]:
    try:
        first = next(csv.reader(io.StringIO(_head_text(data)), delimiter=delimiter), [])
    except csv.Error as exc:
        raise InvalidInput(f"{path} line 1: malformed header ({exc})") from exc
    return check_header(path, first)


def _parse(path: Path, data: bytes, delimiter: str) -> pa.Table:
    """Parse with pyarrow; raises _NotUTF8 when the bytes are not UTF-8."""
    columns = _header(path, data, delimiter)
    # One thread: a 16 MiB block is one parse task anyway (a 15 MB file parsed no slower
    # here), and an idle Arrow thread pool can abort the interpreter at exit with
    # "terminate called without an active exception" (apache/arrow#34314).
    read = pacsv.ReadOptions(
        column_names=columns, skip_rows=1, block_size=1 << 24, use_threads=False
    )
    parse = pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True)
    convert = pacsv.ConvertOptions(
        column_types=dict.fromkeys(columns, pa.string()),
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    try:
        table = pacsv.read_csv(pa.BufferReader(data), read, parse, convert)
    except pa.ArrowInvalid as exc:
        if "UTF8" in str(exc):
            raise _NotUTF8 from exc
        raise _locate_malformed(path, data, delimiter, len(columns), exc) from exc
    if data.count(b'"') % 2:
        reason = ValueError("a quoted value is never closed")
        raise _locate_malformed(path, data, delimiter, len(columns), reason)
    return table


def _locate_malformed(
    path: Path, data: bytes, delimiter: str, width: int, exc: Exception
) -> InvalidInput:
    """The first malformed record, found with Python's csv module."""
    text = io.StringIO(data.decode("utf-8"))
    reader = csv.reader(text, delimiter=delimiter, strict=True)
    start = 1
    try:
        for record in reader:
            if record and len(record) != width:
                msg = f"{path} line {start}: expected {width} columns, found {len(record)}"
                return InvalidInput(msg)
            start = reader.line_num + 1
    except csv.Error as error:
        return InvalidInput(f"{path} line {start}: malformed CSV ({error})")
    return InvalidInput(f"{path}: malformed CSV ({exc})")


def _line_numbers(
    path: Path, data: bytes, values: dict[str, pa.Array], delimiter: str
) -> npt.NDArray[np.int64]:
    """Each row's first physical line, counting newlines inside quoted values."""
    n_rows = len(next(iter(values.values())))
    physical = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    if physical == n_rows + 1:
        return np.arange(2, n_rows + 2, dtype=np.int64)
    embedded = np.zeros(n_rows, dtype=np.int64)
    for column in values.values():
        embedded += pc.count_substring(column, "\n").to_numpy(zero_copy_only=False)
    spans = 1 + embedded
    lines = 2 + np.concatenate(([0], np.cumsum(spans)[:-1]))
    if n_rows and lines[-1] + spans[-1] - 1 == physical:
        return lines.astype(np.int64)
    return _python_line_numbers(path, data, delimiter, n_rows)


def _python_line_numbers(
    path: Path, data: bytes, delimiter: str, n_rows: int
) -> npt.NDArray[np.int64]:
    """Exact start lines with Python's csv (blank lines, CR line ends, odd headers)."""
    reader = csv.reader(io.StringIO(data.decode("utf-8")), delimiter=delimiter)
    starts: list[int] = []
    start = 1
    for record in reader:
        if record:
            starts.append(start)
        start = reader.line_num + 1
    if len(starts) - 1 != n_rows:
        msg = f"{path}: {len(starts) - 1} records by Python's csv, {n_rows} by pyarrow"
        raise InvalidInput(f"{msg}; check the quoting of the file")
    return np.asarray(starts[1:], dtype=np.int64)
