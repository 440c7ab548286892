"""Checking metric requests and turning their fields into Ibis expressions.

A field (for ``by`` cuts and ``where`` filters) is one of the interaction's columns
(``channel``, ``touchpoint``, ``journey_stage``, ``source``), one of the customer's
columns (``region``, ``segment``, ``language``), one of the computed profile columns
(``rfm_segment``, ``value_tier``, ``cluster_label``), or any other name, which is read as
a key of the customer's JSON ``attributes``. The filter ``in_segment=KEY`` keeps the
customers of a saved segment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta

import ibis
import ibis.expr.types as ir

from cxloop.analytics.definitions import PERIOD_COLUMNS
from cxloop.analytics.engines import Source
from cxloop.domain.errors import InvalidInput
from cxloop.domain.metrics import SCORED_METRICS
from cxloop.domain.vocab import MetricKind

FACT_FIELDS = ("channel", "touchpoint", "journey_stage", "source")
CUSTOMER_FIELDS = (
    "region",
    "segment",
    "language",
    "rfm_segment",
    "value_tier",
    "cluster_label",
)
#: The filter on saved-segment membership (a filter only: a customer is in many).
MEMBERSHIP_FIELD = "in_segment"
PERIODS = tuple(PERIOD_COLUMNS)
#: Names a field may not take: they are columns of the facts or of the result.
RESERVED = frozenset(
    {"answer_id", "metric", "value", "customer_id", "attributes"}
    | {"occurred_local", "occurred_on", "week_start", "month_start", "quarter_start"}
    | {"period", "window", "n", "moe", "previous_value", "change", "p_value"}
    | {"significant", "segments"}
)
_ATTRIBUTE_KEY = re.compile(r"^\w[\w-]{0,99}$")


def parse_metric(name: str) -> MetricKind:
    """The scored metric called ``name`` (nps, csat, ces)."""
    names = [kind.value for kind in SCORED_METRICS]
    if name not in names:
        msg = f"unknown metric {name!r}: choose one of {', '.join(names)}"
        raise InvalidInput(msg)
    return MetricKind(name)


def parse_period(period: str | None) -> str | None:
    """``period`` checked against day, week, month, quarter (None stays None)."""
    if period is not None and period not in PERIOD_COLUMNS:
        msg = f"unknown period {period!r}: choose one of {', '.join(PERIODS)}"
        raise InvalidInput(msg)
    return period


def check_field(name: str) -> str:
    """``name`` if it can be a field, else InvalidInput naming it."""
    if name in FACT_FIELDS or name in CUSTOMER_FIELDS or name == MEMBERSHIP_FIELD:
        return name
    if name in RESERVED or not _ATTRIBUTE_KEY.match(name):
        known = ", ".join(FACT_FIELDS + CUSTOMER_FIELDS)
        msg = (
            f"field {name!r} cannot be used: choose one of {known} "
            "or a key of the customer attributes"
        )
        raise InvalidInput(msg)
    return name


def check_fields(names: Iterable[str]) -> tuple[str, ...]:
    """The fields, each checked, without duplicates, in the order given."""
    return tuple(dict.fromkeys(check_field(name) for name in names))


def needs_customers(fields: Iterable[str]) -> bool:
    """Whether any of ``fields`` is read from the customer table."""
    return any(field not in FACT_FIELDS for field in fields)


def parse_where(items: Iterable[str]) -> dict[str, str]:
    """``FIELD=VALUE`` filters as a dict; an item without ``=`` is refused."""
    where: dict[str, str] = {}
    for item in items:
        field, sep, value = item.partition("=")
        if not sep or not field.strip():
            msg = f"filter {item!r} must look like FIELD=VALUE"
            raise InvalidInput(msg)
        where[check_field(field.strip())] = value.strip()
    return where


def check_cuts(names: Iterable[str]) -> None:
    """Refuse ``in_segment`` as a cut: it can only filter."""
    if MEMBERSHIP_FIELD in names:
        msg = f"{MEMBERSHIP_FIELD} is a filter (--where {MEMBERSHIP_FIELD}=KEY), not a cut"
        raise InvalidInput(msg)


def check_dates(date_from: date | None, date_to: date | None) -> None:
    """Refuse a window that ends before it starts."""
    if date_from is not None and date_to is not None and date_to < date_from:
        msg = f"--to {date_to} is before --from {date_from}"
        raise InvalidInput(msg)


def customer_column(source: Source, field: str) -> ir.Value:
    """The customer column or attribute ``field`` of the source's customer table."""
    if field in CUSTOMER_FIELDS:
        return source.customers[field]
    if field == MEMBERSHIP_FIELD:
        return source.customers["segments"]
    return source.attribute(source.customers, field)


def missing_attributes(source: Source, fields: Iterable[str]) -> list[str]:
    """The attribute keys among ``fields`` that no customer has (runs a query each)."""
    missing = []
    for field in fields:
        if (
            field in FACT_FIELDS
            or field in CUSTOMER_FIELDS
            or field == MEMBERSHIP_FIELD
        ):
            continue
        customers = source.customers
        value = source.attribute(customers, field)
        if int(customers.filter(value.notnull()).count().execute()) == 0:
            missing.append(field)
    return missing


def annotate(source: Source, fields: Sequence[str]) -> ir.Table:
    """The answer facts with a column for each customer field, joined when needed."""
    facts = source.facts
    wanted = [field for field in fields if field not in FACT_FIELDS]
    if not wanted:
        return facts
    customers = source.customers
    dim = customers.select(
        customers.customer_id.name("dim_customer_id"),
        **{field: customer_column(source, field) for field in wanted},
    )
    return facts.left_join(dim, facts.customer_id == dim.dim_customer_id)


def filter_where(table: ir.Table, where: Mapping[str, str]) -> ir.Table:
    """Keep the rows whose fields equal the given values."""
    conditions = [
        table[field].contains(f"|{value}|")
        if field == MEMBERSHIP_FIELD
        else table[field] == value
        for field, value in where.items()
    ]
    return table.filter(*conditions) if conditions else table


def in_days(
    day: ir.DateValue, first: date | None, last: date | None
) -> ir.BooleanValue:
    """``first <= day <= last`` (business-zone dates); a missing bound is open."""
    condition: ir.BooleanValue = ibis.literal(True)
    if first is not None:
        condition &= day >= ibis.literal(first, type="date")
    if last is not None:
        condition &= day <= ibis.literal(last, type="date")
    return condition


def period_floor(day: date, period: str) -> date:
    """The first day of the period holding ``day``."""
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    months = 3 if period == "quarter" else 1
    return day.replace(month=(day.month - 1) // months * months + 1, day=1)


def previous_period(start: date, period: str) -> date:
    """The first day of the period before the one starting on ``start``."""
    if period == "day":
        return start - timedelta(days=1)
    if period == "week":
        return start - timedelta(days=7)
    months = 3 if period == "quarter" else 1
    index = start.year * 12 + start.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)
