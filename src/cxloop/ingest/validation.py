"""Check a whole file against its kind: columns first (structural), then every row.

Structural problems raise :class:`InvalidInput` before anything is written; row problems
become :class:`RowReject` records naming the line, the column and the reason.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput
from cxloop.ingest.kinds import CUSTOMER_REFS, KindSpec
from cxloop.ingest.parsers import Mask
from cxloop.ingest.readers import RawTable
from cxloop.ingest.summaries import RowReject

Problems = dict[int, list[tuple[str, str]]]


@dataclass(frozen=True)
class Validated:
    """A file checked against its kind.

    ``fields`` holds every field of the kind (all null when the file lacks the column),
    ``headers`` the file column each field came from, ``extras`` the other columns as
    their raw text, ``good`` the rows that passed and ``rejects`` the others.
    """

    raw: RawTable
    fields: dict[str, pa.Array]
    headers: dict[str, str]
    extras: dict[str, pa.Array]
    good: Mask
    rejects: list[RowReject]


def map_columns(
    raw: RawTable, spec: KindSpec, mapping: Mapping[str, str]
) -> tuple[dict[str, str], list[str]]:
    """The file column of each field present (``--map`` applied) and the other columns."""
    renamed = _renames(raw, spec, mapping)
    headers: dict[str, str] = {}
    extras: list[str] = []
    for column in raw.columns:
        field = renamed.get(column, column.lower())
        if field not in spec.field_names:
            extras.append(column)
            continue
        if field in headers:
            msg = f"{raw.path}: columns {headers[field]!r} and {column!r} both give field {field!r}"
            raise InvalidInput(msg)
        headers[field] = column
    _check_required(raw, spec, headers)
    return headers, extras


def _renames(
    raw: RawTable, spec: KindSpec, mapping: Mapping[str, str]
) -> dict[str, str]:
    by_lower = {column.lower(): column for column in raw.columns}
    renamed: dict[str, str] = {}
    for source, field in mapping.items():
        column = (
            source if source in raw.columns else by_lower.get(source.strip().lower())
        )
        if column is None:
            found = ", ".join(raw.columns)
            raise InvalidInput(
                f"--map {source}={field}: {raw.path} has no column {source!r} (columns: {found})"
            )
        if field not in spec.field_names:
            fields = ", ".join(spec.field_names)
            raise InvalidInput(
                f"--map {source}={field}: {spec.name} has no field {field!r} (fields: {fields})"
            )
        renamed[column] = field
    return renamed


def _check_required(raw: RawTable, spec: KindSpec, headers: dict[str, str]) -> None:
    missing = [name for name in spec.required_columns if name not in headers]
    if missing:
        found = ", ".join(raw.columns)
        msg = (
            f"{raw.path} line 1: missing required column {', '.join(missing)} for "
            f"{spec.name} (columns found: {found}; rename with --map COLUMN=FIELD)"
        )
        raise InvalidInput(msg)
    if spec.name == "customers" and not any(ref in headers for ref in CUSTOMER_REFS):
        msg = (
            f"{raw.path} line 1: customers need a customer_id, email, phone or "
            "social_handle column"
        )
        raise InvalidInput(msg)


def validate(
    raw: RawTable, spec: KindSpec, settings: Settings, mapping: Mapping[str, str]
) -> Validated:
    """Parse every field of every row; collect a reason for each bad row."""
    headers, extra_columns = map_columns(raw, spec, mapping)
    problems: Problems = defaultdict(list)
    fields = {}
    for field in spec.fields:
        column = headers.get(field.name)
        if column is None:
            fields[field.name] = pa.nulls(raw.n_rows, pa.string())
            continue
        parsed = field.parser(settings)(raw.values[column])
        for row, reason in parsed.errors.items():
            problems[row].append((column, reason))
        if field.required:
            _require(parsed.values, parsed.errors, column, problems)
        fields[field.name] = parsed.values
    if spec.key is not None:
        _duplicates(raw, fields[spec.key], headers[spec.key], problems)
    if spec.name == "customers":
        _need_reference(fields, headers, problems)
    for row, column, reason in cross_checks(spec.name, fields, headers):
        if row not in problems:
            problems[row].append((column, reason))
    good = np.ones(raw.n_rows, bool)
    good[list(problems)] = False
    extras = {column: raw.values[column] for column in extra_columns}
    return Validated(raw, fields, headers, extras, good, _rejects(raw, problems))


def _require(
    values: pa.Array, errors: dict[int, str], column: str, problems: Problems
) -> None:
    for row in np.flatnonzero(pc.is_null(values).to_numpy(zero_copy_only=False)):
        if int(row) not in errors:
            problems[int(row)].append((column, "a value is required"))


def _duplicates(raw: RawTable, keys: pa.Array, column: str, problems: Problems) -> None:
    if len(pc.unique(keys)) == len(keys) - keys.null_count + (
        1 if keys.null_count else 0
    ):
        return
    series = pd.Series(keys.to_pandas(), dtype="str")
    present = series.notna()
    repeated = np.flatnonzero((series.duplicated(keep="first") & present).to_numpy())
    if not len(repeated):
        return
    first_rows = series[present].drop_duplicates(keep="first")
    first_line = dict(zip(first_rows, raw.lines[first_rows.index], strict=True))
    for row in repeated:
        key = series.iloc[row]
        reason = (
            f"duplicate {column} {key!r} in this file (first on line {first_line[key]})"
        )
        problems[int(row)].append((column, reason))


def _need_reference(
    fields: dict[str, pa.Array], headers: dict[str, str], problems: Problems
) -> None:
    has_ref = np.zeros(len(fields["customer_id"]), bool)
    for ref in CUSTOMER_REFS:
        has_ref |= pc.is_valid(fields[ref]).to_numpy(zero_copy_only=False)
    columns = ", ".join(headers[ref] for ref in CUSTOMER_REFS if ref in headers)
    named = ["customer_id", "email", "phone"]
    if "social_handle" in headers:
        named.append("social_handle")
    reason = f"a {', '.join(named[:-1])} or {named[-1]} is required"
    for row in np.flatnonzero(~has_ref):
        if int(row) not in problems:
            problems[int(row)].append((columns, reason))


def _rejects(raw: RawTable, problems: Problems) -> list[RowReject]:
    rejects = []
    for row in sorted(problems):
        found = problems[row]
        if len(found) == 1:
            field, reason = found[0]
        else:
            field = ", ".join(column for column, _ in found)
            reason = "; ".join(f"{column}: {why}" for column, why in found)
        rejects.append(RowReject(int(raw.lines[row]), field, reason))
    return rejects


def cross_checks(
    kind: str, fields: dict[str, pa.Array], headers: dict[str, str]
) -> list[tuple[int, str, str]]:
    """Rules between fields of one row: a purchase is not negative, a case's clocks
    do not run before it was opened."""
    found: list[tuple[int, str, str]] = []
    if kind == "transactions":
        negative = pc.starts_with(fields["amount"], "-")
        purchase = pc.equal(fields["kind"], "purchase")
        bad = pc.fill_null(pc.and_(negative, purchase), False).to_numpy(
            zero_copy_only=False
        )
        reason = "a purchase cannot have a negative amount; give the row kind refund"
        found += [(int(row), headers["amount"], reason) for row in np.flatnonzero(bad)]
    if kind == "cases":
        for name in ("first_response_at", "resolved_at", "closed_at"):
            if name not in headers:
                continue
            early = pc.fill_null(pc.less(fields[name], fields["opened_at"]), False)
            reason = f"is before opened_at ({headers['opened_at']})"
            rows = np.flatnonzero(early.to_numpy(zero_copy_only=False))
            found += [(int(row), headers[name], reason) for row in rows]
    return found
