"""Recommendation use cases shared by the CLI and the web: evaluate on a user's file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from cxloop.domain.errors import InvalidInput
from cxloop.ingest.readers import RawTable, read_table
from cxloop.predict.recommend import RecommendEvaluation, evaluate_hit_rate


def evaluate_file(
    *,
    path: Path,
    customer_column: str,
    item_column: str,
    date_column: str,
    split_date: dt.date | dt.datetime | None = None,
    k: int = 5,
    similarity: str = "cosine",
) -> RecommendEvaluation:
    """Hit rate at ``k`` on a time split of the purchases in a CSV, XLSX or JSONL file.

    One row per purchase (customer, item, date). Empty cells and values that are not
    dates raise :class:`~cxloop.domain.errors.InvalidInput` naming the file, the line and
    the column.
    """
    if k < 1:
        raise InvalidInput(f"k must be 1 or more, not {k}")
    frame = read_purchases(
        path,
        customer_column=customer_column,
        item_column=item_column,
        date_column=date_column,
    )
    return evaluate_hit_rate(
        frame,
        customer="customer",
        item="item",
        date="date",
        split_date=split_date,
        k=k,
        similarity=similarity,
    )


def read_purchases(
    path: Path, *, customer_column: str, item_column: str, date_column: str
) -> pd.DataFrame:
    """Columns ``customer``, ``item`` and ``date`` of a purchases file, every cell checked."""
    table = read_table(path)
    wanted = {"customer": customer_column, "item": item_column, "date": date_column}
    for option, column in wanted.items():
        if column not in table.columns:
            msg = (
                f"{path}: no column {column!r} (the {option} column); "
                f"columns: {', '.join(table.columns)}"
            )
            raise InvalidInput(msg)
    cells = {name: _cells(table, column) for name, column in wanted.items()}
    frame = pd.DataFrame(cells, index=pd.Index(table.lines, name="line"))
    frame["date"] = _dates(table, frame["date"], date_column)
    return frame


def _cells(table: RawTable, column: str) -> pd.Series:
    values = pd.Series(
        table.values[column].to_pylist(), index=table.lines, dtype=object
    )
    values = values.str.strip()
    empty = values.eq("") | values.isna()
    if empty.any():
        line = int(values.index[empty.to_numpy()][0])
        msg = f"{table.path} line {line}: column {column!r} is empty ({int(empty.sum())} such rows)"
        raise InvalidInput(msg)
    return values


def _dates(table: RawTable, values: pd.Series, column: str) -> pd.Series:
    parsed = pd.to_datetime(values, errors="coerce", format="ISO8601", utc=True)
    bad = parsed.isna()
    if bad.any():
        line = int(values.index[bad.to_numpy()][0])
        msg = (
            f"{table.path} line {line}: column {column!r}: {values.loc[line]!r} is not a "
            f"date (use YYYY-MM-DD or YYYY-MM-DD HH:MM)"
        )
        raise InvalidInput(msg)
    return parsed.dt.tz_convert("UTC").dt.tz_localize(None)
