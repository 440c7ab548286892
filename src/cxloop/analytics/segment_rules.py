"""Saved segments: rules over any column of a customer frame (attribute, metric, score).

A segment is a key, names, and conditions joined by ``all`` (and) or ``any`` (or)::

    key: unhappy_big_spenders
    name: 高消費但不滿意
    name_en: Unhappy big spenders
    match: all
    conditions:
      - {field: monetary, op: ge, value: 20000}
      - {field: last_nps, op: le, value: 6}

Operators: ``eq ne lt le gt ge`` (one value), ``in not_in`` (a list), ``between`` (a
list ``[low, high]``, both included), ``contains`` (text containing the value, ignoring
case, or a list column holding it), ``is_null`` and ``not_null`` (no value). A missing
value never matches a comparison, ``ne`` and ``not_in`` included.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cxloop.domain.errors import InvalidInput

Op = Literal[
    "eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "contains", "between",
    "is_null", "not_null",
]  # fmt: skip
Scalar = str | int | float | bool | date | datetime
LIST_OPS = frozenset({"in", "not_in", "between"})
NO_VALUE_OPS = frozenset({"is_null", "not_null"})
SLUG = r"^[a-z0-9_-]{1,64}$"
DEFINITION_SUFFIXES = (".yaml", ".yml", ".json")


class Condition(BaseModel):
    """One test on one field of the customer frame."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    field: str = Field(min_length=1)
    op: Op
    value: Scalar | list[Scalar] | None = None

    @model_validator(mode="after")
    def _value_fits_op(self) -> Condition:
        if self.op in NO_VALUE_OPS:
            if self.value is not None:
                raise ValueError(f"{self.op} takes no value")
        elif self.op in LIST_OPS:
            if not isinstance(self.value, list) or not self.value:
                raise ValueError(f"{self.op} needs a non-empty list of values")
            if self.op == "between" and len(self.value) != 2:
                raise ValueError("between needs a list of two values [low, high]")
        elif self.value is None or isinstance(self.value, list):
            raise ValueError(f"{self.op} needs one value")
        return self


class SegmentDefinition(BaseModel):
    """A saved segment: who matches ``all`` or ``any`` of its conditions."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(pattern=SLUG)
    name: str = Field(min_length=1)
    name_en: str | None = None
    description: str | None = None
    match: Literal["all", "any"] = "all"
    conditions: list[Condition] = Field(min_length=1)


def load_segment_definitions(path: Path) -> list[SegmentDefinition]:
    """The segments in a YAML or JSON file: one mapping, a list, or ``segments: [...]``.

    Errors name the file, the entry (position and key) and the field at fault; keys must
    be unique in the file.
    """
    entries = _entries(path, _parsed(path))
    definitions: list[SegmentDefinition] = []
    for number, entry in enumerate(entries, start=1):
        label = _entry_label(number, entry)
        try:
            definitions.append(SegmentDefinition.model_validate(entry))
        except ValidationError as exc:
            problems = "; ".join(_problem(error) for error in exc.errors())
            raise InvalidInput(f"{path}: {label}: {problems}") from None
    keys = [d.key for d in definitions]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise InvalidInput(
            f"{path}: segment keys appear more than once: {', '.join(repeated)}"
        )
    return definitions


def _parsed(path: Path) -> Any:
    suffix = path.suffix.lower()
    if suffix not in DEFINITION_SUFFIXES:
        msg = f"{path}: segment definitions are YAML (.yaml, .yml) or JSON (.json), not {suffix!r}"
        raise InvalidInput(msg)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: cannot read the file: {exc}") from None
    try:
        return json.loads(text) if suffix == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"{path} line {exc.lineno}: not valid JSON: {exc.msg}"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise InvalidInput(f"{path}{where}: not valid YAML: {problem}") from None


def _entries(path: Path, data: Any) -> list[Any]:
    if isinstance(data, dict) and set(data) == {"segments"}:
        data = data["segments"]
    if isinstance(data, dict):
        return [data]
    if isinstance(data, list) and data:
        return data
    msg = f"{path}: expected a segment (a mapping), a list of segments or 'segments: [...]'"
    raise InvalidInput(msg)


def _entry_label(number: int, entry: Any) -> str:
    key = entry.get("key") if isinstance(entry, dict) else None
    return f"segment {number}" + (f" ({key!r})" if isinstance(key, str) else "")


def _problem(error: Any) -> str:
    where = ".".join(str(part) for part in error["loc"]) or "entry"
    return f"{where}: {error['msg']}"


def segment_mask(definition: SegmentDefinition, frame: pd.DataFrame) -> pd.Series:
    """Which customers (rows of ``frame``) belong to the segment.

    Returns
    -------
    pandas.Series
        Booleans with ``frame``'s index, named after the segment key.

    Raises
    ------
    InvalidInput
        A field is not a column of ``frame`` (the message lists the known ones), or a
        value does not fit its column (text against a numeric column, for example).
    """
    known = [str(c) for c in frame.columns]
    unknown = [c.field for c in definition.conditions if c.field not in known]
    if unknown:
        msg = (
            f"segment {definition.key!r}: unknown field {', '.join(map(repr, unknown))}; "
            f"known fields: {', '.join(sorted(known))}"
        )
        raise InvalidInput(msg)
    masks = [
        _condition_mask(frame[c.field], c, f"segment {definition.key!r} condition {n}")
        for n, c in enumerate(definition.conditions, start=1)
    ]
    join = np.logical_and if definition.match == "all" else np.logical_or
    combined = join.reduce(np.vstack(masks), axis=0)
    return pd.Series(combined, index=frame.index, name=definition.key, dtype=bool)


Mask = npt.NDArray[np.bool_]


def _condition_mask(column: pd.Series, condition: Condition, where: str) -> Mask:
    present = column.notna().to_numpy(dtype=bool)
    if condition.op == "is_null":
        return ~present
    if condition.op == "not_null":
        return present
    kind, values = _typed(column, where, condition.field)
    if kind == "empty":
        return np.zeros(len(column), dtype=bool)
    wanted = [_coerced(v, kind, values, f"{where} ({condition.field} {condition.op})")
              for v in _as_list(condition.value)]  # fmt: skip
    _check_op(kind, condition, where)
    return _compare(values, condition.op, wanted, kind) & present


def _as_list(value: Scalar | list[Scalar] | None) -> list[Scalar]:
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


def _typed(column: pd.Series, where: str, field: str) -> tuple[str, pd.Series]:
    """The column's kind (number, bool, time, text, list, empty) and its values."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        column = column.astype(object)
    if pd.api.types.is_bool_dtype(column):
        return "bool", column
    if pd.api.types.is_numeric_dtype(column):
        return "number", column.astype("float64")
    if pd.api.types.is_datetime64_any_dtype(column):
        return "time", column
    inferred = pd.api.types.infer_dtype(column, skipna=True)
    if inferred == "string":
        return "text", column.astype(object)
    if inferred in {"integer", "floating", "mixed-integer-float", "decimal"}:
        return "number", pd.to_numeric(column).astype("float64")
    if inferred == "boolean":
        return "bool", column
    if inferred in {"date", "datetime", "datetime64"}:
        return "time", pd.to_datetime(column)
    if inferred == "empty":
        return "empty", column
    first = column.dropna().iloc[0]
    if isinstance(first, list | tuple | set | frozenset | np.ndarray):
        return "list", column
    msg = f"{where}: field {field!r} mixes kinds of values ({inferred}); clean the column first"
    raise InvalidInput(msg)


KIND_WORDS = {"number": "numbers", "bool": "true/false values", "text": "text",
              "time": "dates and times", "list": "lists"}  # fmt: skip


def _coerced(value: Scalar, kind: str, column: pd.Series, where: str) -> Any:
    """``value`` in the column's kind; InvalidInput when it does not fit."""
    if (
        kind == "number"
        and isinstance(value, int | float)
        and not isinstance(value, bool)
    ):
        return float(value)
    if kind == "time" and isinstance(value, date | str):
        return _timestamp(value, column, where)
    if (kind == "bool" and isinstance(value, bool)) or (
        kind == "text" and isinstance(value, str)
    ):
        return value
    if kind == "list":
        return value
    hint = "; write it in quotes" if kind == "text" else ""
    msg = (
        f"{where}: the field holds {KIND_WORDS[kind]}, so it cannot be compared "
        f"with {value!r} ({type(value).__name__}){hint}"
    )
    raise InvalidInput(msg)


def _timestamp(value: date | str, column: pd.Series, where: str) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(value)
    except ValueError:
        raise InvalidInput(f"{where}: {value!r} is not a date or time") from None
    zone = getattr(column.dt, "tz", None)
    if zone is not None:
        return (
            stamp.tz_localize(zone) if stamp.tzinfo is None else stamp.tz_convert(zone)
        )
    return stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo else stamp


ORDERED_KINDS = frozenset({"number", "text", "time"})


def _check_op(kind: str, condition: Condition, where: str) -> None:
    op = condition.op
    allowed = (
        (op in {"eq", "ne", "in", "not_in"} and kind != "list")
        or (op in {"lt", "le", "gt", "ge", "between"} and kind in ORDERED_KINDS)
        or (op == "contains" and kind in {"text", "list"})
    )
    if not allowed:
        msg = f"{where}: {op} does not apply to {condition.field!r}, which holds {KIND_WORDS[kind]}"
        raise InvalidInput(msg)
    if op == "between" and condition.value is not None:
        low, high = _as_list(condition.value)
        if low > high:  # type: ignore[operator]
            raise InvalidInput(f"{where}: between needs [low, high] with low <= high")


def _compare(values: pd.Series, op: str, wanted: list[Any], kind: str) -> Mask:
    if op == "contains":
        return _contains(values, wanted[0], text=kind == "text")
    first = wanted[0]
    if op == "in":
        result = values.isin(wanted)
    elif op == "not_in":
        result = ~values.isin(wanted)
    elif op == "between":
        result = (values >= first) & (values <= wanted[1])
    else:
        result = {
            "eq": values.eq, "ne": values.ne, "lt": values.lt,
            "le": values.le, "gt": values.gt, "ge": values.ge,
        }[op](first)  # fmt: skip
    return result.fillna(False).to_numpy(dtype=bool)


def _contains(values: pd.Series, wanted: Any, *, text: bool) -> Mask:
    present = values.notna().to_numpy(dtype=bool)
    out = np.zeros(len(values), dtype=bool)
    if text:
        needle = str(wanted).casefold()
        out[present] = [needle in str(v).casefold() for v in values[present]]
    else:
        out[present] = [wanted in v for v in values[present]]
    return out
