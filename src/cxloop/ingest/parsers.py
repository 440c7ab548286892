"""Vectorised column parsers: each takes a whole column of strings and returns the typed
values (null where the cell is empty or bad) and a reason for every bad row.

No Python loop runs per row except over the bad rows (to word their reasons) and over
the distinct values of a phone or social handle column.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cxloop.customers.identity import normal_phone, normal_social
from cxloop.ingest.vocabularies import allowed, spellings

Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Parsed:
    """A parsed column: values with nulls where missing or bad, reasons by row index."""

    values: pa.Array
    errors: dict[int, str]


Parser = Callable[[pa.Array], Parsed]

EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
WHOLE = r"^[+-]?\d+(\.0+)?$"
AMOUNT = r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d{1,2})?$"
DATE_TIME = (
    r"^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d{1,9})?)?"
    r"(\s*(Z|z|[+-]\d{2}(:?\d{2})?))?)?$"
)
#: A time with an offset (only tested on values that match DATE_TIME).
AWARE = r"[ T]\d{1,2}:\d{2}.*(Z|z|[+-]\d{2}(:?\d{2})?)$"


def _mask(array: pa.Array) -> Mask:
    """A boolean array as numpy, null counted as False."""
    return np.asarray(pc.fill_null(array, False).to_numpy(zero_copy_only=False), bool)


def _blank_to_null(array: pa.Array, *, trim: bool) -> pa.Array:
    if trim:
        trimmed = pc.utf8_trim_whitespace(array)
        return pc.if_else(pc.equal(trimmed, ""), None, trimmed)
    blank = pc.or_(pc.equal(array, ""), pc.utf8_is_space(array))
    return pc.if_else(blank, None, array)


def _reasons(array: pa.Array, bad: Mask, word: Callable[[str], str]) -> dict[int, str]:
    rows = np.flatnonzero(bad)
    texts = array.take(pa.array(rows, type=pa.int64())).to_pylist()
    return {int(row): word(str(text)) for row, text in zip(rows, texts, strict=True)}


def _too_long(values: pa.Array, max_length: int | None) -> Mask:
    if max_length is None:
        return np.zeros(len(values), bool)
    return _mask(pc.greater(pc.utf8_length(values), max_length))


def text(max_length: int | None = None) -> Parser:
    """Free text kept verbatim (hostile text included); empty or blank is missing."""

    def parse(raw: pa.Array) -> Parsed:
        values = _blank_to_null(raw, trim=False)
        too_long = _too_long(values, max_length)
        errors = _reasons(
            values, too_long, lambda _: f"longer than {max_length} characters"
        )
        return Parsed(pc.if_else(pa.array(too_long), None, values), errors)

    return parse


def code(max_length: int) -> Parser:
    """An identifier or label: surrounding spaces trimmed, at most ``max_length``."""

    def parse(raw: pa.Array) -> Parsed:
        values = _blank_to_null(raw, trim=True)
        too_long = _too_long(values, max_length)
        errors = _reasons(
            values, too_long, lambda _: f"longer than {max_length} characters"
        )
        return Parsed(pc.if_else(pa.array(too_long), None, values), errors)

    return parse


def _matching(raw: pa.Array, pattern: str) -> tuple[pa.Array, Mask]:
    """Trimmed values and the mask of present values that do not match ``pattern``."""
    values = _blank_to_null(raw, trim=True)
    matches = pc.match_substring_regex(values, pattern)
    bad = _mask(pc.and_(pc.is_valid(values), pc.invert(pc.fill_null(matches, False))))
    return pc.if_else(pa.array(bad), None, values), bad


def integer(low: int, high: int) -> Parser:
    """A whole number in ``low..high`` (``9`` or ``9.0``)."""

    def parse(raw: pa.Array) -> Parsed:
        values, bad = _matching(raw, WHOLE)
        numbers = pc.cast(values, pa.float64())
        outside = _mask(pc.or_(pc.less(numbers, low), pc.greater(numbers, high)))
        word = f"must be a whole number from {low} to {high}"
        errors = _reasons(raw, bad | outside, lambda value: f"{value.strip()!r} {word}")
        numbers = pc.if_else(pa.array(outside), None, numbers)
        return Parsed(pc.cast(numbers, pa.int64()), errors)

    return parse


def amount() -> Parser:
    """A money amount with at most two decimals (``1,234.50``, ``-80``), as a string."""

    def parse(raw: pa.Array) -> Parsed:
        values, bad = _matching(raw, AMOUNT)
        values = pc.replace_substring(values, ",", "")
        big = _mask(pc.greater_equal(pc.abs(pc.cast(values, pa.float64())), 1e12))
        errors = _reasons(
            raw,
            bad | big,
            lambda value: f"{value.strip()!r} is not an amount like 1234.50",
        )
        return Parsed(pc.if_else(pa.array(big), None, values), errors)

    return parse


def vocabulary(kind: type[StrEnum], label: str) -> Parser:
    """A value of ``kind``, case-insensitive, or one of its zh-TW aliases."""
    table = spellings(kind)
    keys = pa.array(list(table), type=pa.string())
    canon = pa.array(list(table.values()), type=pa.string())

    def parse(raw: pa.Array) -> Parsed:
        values = pc.utf8_lower(_blank_to_null(raw, trim=True))
        index = pc.index_in(values, value_set=keys)
        bad = _mask(pc.and_(pc.is_valid(values), pc.is_null(index)))
        word = f"is not a valid {label}; allowed: {allowed(kind)}"
        errors = _reasons(raw, bad, lambda value: f"{value.strip()!r} {word}")
        return Parsed(pc.take(canon, index), errors)

    return parse


def email() -> Parser:
    """An email address, lower-cased."""

    def parse(raw: pa.Array) -> Parsed:
        values, bad = _matching(pc.utf8_lower(raw), EMAIL)
        bad |= _too_long(values, 320)
        errors = _reasons(
            raw, bad, lambda value: f"{value.strip()!r} is not an email address"
        )
        return Parsed(pc.if_else(pa.array(bad), None, values), errors)

    return parse


def _by_distinct(normalise: Callable[[str], str | None], word: str) -> Parser:
    """A parser that normalises each distinct trimmed value once (None: bad)."""

    def parse(raw: pa.Array) -> Parsed:
        values = _blank_to_null(raw, trim=True)
        distinct = pc.unique(pc.drop_null(values))
        normal = [normalise(str(value)) for value in distinct.to_pylist()]
        mapped = pc.take(
            pa.array(normal, type=pa.string()), pc.index_in(values, distinct)
        )
        bad = _mask(pc.and_(pc.is_valid(values), pc.is_null(mapped)))
        errors = _reasons(raw, bad, lambda value: f"{value.strip()!r} {word}")
        return Parsed(mapped, errors)

    return parse


def phone(region: str = "TW") -> Parser:
    """A phone number as E.164; local numbers are read as ``region`` (0912-345-678)."""
    return _by_distinct(
        lambda value: normal_phone(value, region), "is not a phone number"
    )


def social() -> Parser:
    """A social handle (``@name`` or ``platform:@name``), lower-cased, without ``@``."""
    return _by_distinct(
        normal_social, "is not a social handle like @name or instagram:@name"
    )


def currency() -> Parser:
    """A three-letter ISO 4217 code, upper-cased."""

    def parse(raw: pa.Array) -> Parsed:
        values, bad = _matching(pc.utf8_upper(raw), r"^[A-Z]{3}$")
        errors = _reasons(
            raw, bad, lambda value: f"{value.strip()!r} is not a currency code like TWD"
        )
        return Parsed(values, errors)

    return parse


def timestamp(zone: str) -> Parser:
    """A date or date and time; times without an offset are in ``zone``. UTC out."""

    def parse(raw: pa.Array) -> Parsed:
        values = _blank_to_null(raw, trim=True)
        if pc.any(pc.match_substring(values, "/")).as_py():
            values = pc.replace_substring(values, "/", "-")
        shaped = _mask(pc.match_substring_regex(values, DATE_TIME))
        aware = shaped & _mask(pc.match_substring_regex(values, AWARE))
        parsed = _to_utc(values, shaped, aware, zone)
        bad = _mask(pc.is_valid(values)) & np.isnat(parsed)
        word = "is not a date and time like 2024-03-01 09:30"
        errors = _reasons(raw, bad, lambda value: f"{value.strip()!r} {word}")
        return Parsed(pa.array(parsed, type=pa.timestamp("us", tz="UTC")), errors)

    return parse


def _to_utc(
    values: pa.Array, shaped: Mask, aware: Mask, zone: str
) -> npt.NDArray[np.datetime64]:
    """UTC times (NaT where missing or unreadable) as naive numpy datetimes."""
    series = pd.Series(values.to_pandas(), dtype="str")
    out = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[us]")
    naive = shaped & ~aware
    if aware.any():
        offsets = series[aware].str.replace(r"\s+(?=[Zz+-]\d*:?\d*$)", "", regex=True)
        stamps = pd.to_datetime(offsets, format="ISO8601", utc=True, errors="coerce")
        out[aware] = stamps.dt.tz_convert(None).to_numpy("datetime64[us]")
    if naive.any():
        local = pd.to_datetime(series[naive], format="ISO8601", errors="coerce")
        local = local.dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
        out[naive] = local.dt.tz_convert(None).to_numpy("datetime64[us]")
    years = out.astype("datetime64[Y]").astype(np.int64) + 1970
    out[(years < 1900) | (years > 2100)] = np.datetime64("NaT")
    return out
