"""A user's flat customer table (CSV, XLSX, JSON Lines) as churn features.

Every cell arrives as text (:mod:`cxloop.ingest.readers`). A column whose filled cells
are all numbers becomes a numeric feature, blanks as missing values (so Telco's
``TotalCharges``, with a space in 11 rows, is numeric). Other columns are categories.
Columns that cannot help are left out, each with the reason: all blank, one value
only, or, for text, a different value on every row (an identifier). Nothing is dropped
silently, and a bad cell is reported with its file, line and column.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from cxloop.domain.errors import InvalidInput
from cxloop.predict.churn_matrix import FeatureSchema

#: Target words (compared in lower case) for churned and for active customers.
CHURNED_WORDS = frozenset({"1", "true", "yes", "churned"})
ACTIVE_WORDS = frozenset({"0", "false", "no", "active"})
#: A column this share of whose filled cells are numbers must be numbers throughout.
NUMERIC_SHARE = 0.9


@dataclass(frozen=True)
class CustomerTable:
    """Features and ids read from a file, and the columns left out.

    ``features`` holds float columns (NaN when blank) and string columns (``<NA>``
    when blank); ``lines`` gives each row's line in the file.
    """

    path: Path
    features: pd.DataFrame
    ids: pd.Series[str] | None
    lines: npt.NDArray[np.int64]
    skipped: dict[str, str]


def read_training_table(
    path: Path, *, target: str, id_column: str | None = None
) -> tuple[CustomerTable, pd.Series[int]]:
    """Read ``path`` for training or evaluation: the table and its 0/1 target."""
    frame, lines = _read_text(path)
    _require(path, frame, [target] + ([id_column] if id_column else []))
    labels = parse_target(frame[target], lines, path=path, column=target)
    features: dict[str, pd.Series[Any]] = {}
    skipped: dict[str, str] = {}
    for name in frame.columns:
        if name in (target, id_column):
            continue
        column, reason = _feature(frame[name], lines, path=path)
        if reason is None:
            features[name] = column
        else:
            skipped[name] = reason
    if not features:
        raise InvalidInput(
            f"{path}: no column is usable as a feature ({_listing(skipped)})"
        )
    ids = frame[id_column] if id_column else None
    table = CustomerTable(path, pd.DataFrame(features), ids, lines, skipped)
    return table, pd.Series(labels)


def read_scoring_table(
    path: Path, *, schema: FeatureSchema, id_column: str | None = None
) -> CustomerTable:
    """Read ``path`` with the columns and kinds a model was trained on."""
    frame, lines = _read_text(path)
    _require(path, frame, [*schema.columns] + ([id_column] if id_column else []))
    features: dict[str, pd.Series[Any]] = {}
    for name in schema.columns:
        column = frame[name]
        if name not in schema.categorical:
            column = _numbers(column, lines, path=path, strict=True)
        features[name] = column
    ids = frame[id_column] if id_column else None
    if ids is not None and ids.isna().any():
        line = int(lines[int(np.flatnonzero(ids.isna().to_numpy())[0])])
        raise InvalidInput(f"{path} line {line}: column {id_column!r} is blank")
    return CustomerTable(path, pd.DataFrame(features), ids, lines, {})


def parse_target(
    values: pd.Series[Any], lines: npt.NDArray[np.int64], *, path: Path, column: str
) -> npt.NDArray[np.int64]:
    """1 for churned and 0 for active customers; any other word is refused."""
    words = values.fillna("").str.lower()
    churned = words.isin(CHURNED_WORDS).to_numpy()
    active = words.isin(ACTIVE_WORDS).to_numpy()
    unknown = np.flatnonzero(~(churned | active))
    if len(unknown):
        row = int(unknown[0])
        shown = "is blank" if words.iloc[row] == "" else f"holds {values.iloc[row]!r}"
        msg = (
            f"{path} line {lines[row]}: column {column!r} {shown}; a churn target "
            "is 1/0, true/false, yes/no or churned/active"
        )
        raise InvalidInput(msg)
    return churned.astype(np.int64)


def _read_text(path: Path) -> tuple[pd.DataFrame, npt.NDArray[np.int64]]:
    """The file's cells as stripped strings, ``<NA>`` for blanks, and their lines."""
    from cxloop.ingest.readers import read_table

    raw = read_table(path)
    columns = {}
    for name in raw.columns:
        text = pd.Series(raw.values[name].to_pandas(), dtype="string").str.strip()
        columns[name] = text.mask(text == "")
    return pd.DataFrame(columns), raw.lines


def _require(path: Path, frame: pd.DataFrame, names: list[str]) -> None:
    missing = [name for name in names if name not in frame.columns]
    if missing:
        have = ", ".join(frame.columns)
        msg = f"{path}: no column named {', '.join(map(repr, missing))}; the file has {have}"
        raise InvalidInput(msg)


def _feature(
    column: pd.Series[Any], lines: npt.NDArray[np.int64], *, path: Path
) -> tuple[pd.Series[Any], str | None]:
    """The column as a feature, or the reason it is left out."""
    filled = column.dropna()
    if filled.empty:
        return column, "every value is blank"
    numbers = _numbers(column, lines, path=path, strict=False)
    if numbers is not None:
        column = numbers
    distinct = column.nunique(dropna=True)
    if distinct == 1:
        return column, "one value only"
    if numbers is None and distinct == len(filled):
        return column, "a different value on every row (an identifier?)"
    return column, None


def _numbers(
    column: pd.Series[Any],
    lines: npt.NDArray[np.int64],
    *,
    path: Path,
    strict: bool,
) -> Any:
    """Floats if the column is numeric, ``None`` if it is text.

    A column counts as numeric when at least :data:`NUMERIC_SHARE` of its filled
    cells are numbers; the other cells are then errors. With ``strict``, every filled
    cell must be a number.
    """
    values = pd.to_numeric(column, errors="coerce").astype(float)
    bad = column.notna().to_numpy() & ~np.isfinite(values.to_numpy())
    if not bad.any():
        return values
    share = 1 - bad.sum() / max(int(column.notna().sum()), 1)
    if not strict and share < NUMERIC_SHARE:
        return None
    row = int(np.flatnonzero(bad)[0])
    msg = (
        f"{path} line {lines[row]}: column {column.name!r} holds "
        f"{column.iloc[row]!r}, not a number (the column is {share:.0%} numbers; "
        "fix or blank the cell)"
    )
    raise InvalidInput(msg)


def _listing(skipped: dict[str, str]) -> str:
    return "; ".join(f"{name}: {reason}" for name, reason in skipped.items()) or "none"
