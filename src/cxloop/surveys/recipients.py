"""Whom to invite: customer references from the command line or a file.

A reference is a customer id, member id, e-mail or phone (see
:mod:`cxloop.customers.lookup`); a file is CSV, XLSX or JSON Lines with a column of
references. Every reference must match exactly one customer, or the message names the
file, line and column.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cxloop.config import Settings
from cxloop.customers.lookup import find_customer
from cxloop.domain.errors import InvalidInput, NotFound
from cxloop.store.engine import UnitOfWork, engine_for


def resolve_customers(*, settings: Settings, refs: Sequence[str]) -> list[int]:
    """Customer ids for references (id, member id, e-mail, phone), in order.

    Raises
    ------
    NotFound, InvalidInput
        A reference matches nobody, or is ambiguous; the message names it.
    """
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        connection = session.connection()
        return [find_customer(connection, ref) for ref in refs]


def customers_from(
    *, settings: Settings, source: str, column: str = "customer_id"
) -> list[int]:
    """Customer ids from a file (CSV, XLSX, JSON Lines) column, or ``12,M0034,...``.

    ``source`` is read as a file when a file of that name exists; otherwise as
    comma-separated references (id, member id, e-mail or phone).

    Raises
    ------
    InvalidInput, NotFound
        A missing column, an empty list, or a reference that matches nobody; the
        message names the file, line and column.
    """
    from cxloop.ingest.readers import read_table

    path = Path(source)
    if not path.is_file():
        refs = [part.strip() for part in source.split(",") if part.strip()]
        if not refs:
            raise InvalidInput(f"no customers in {source!r}")
        return resolve_customers(settings=settings, refs=refs)
    table = read_table(path)
    if column not in table.columns:
        shown = ", ".join(table.columns)
        raise InvalidInput(f"{path}: no column {column!r} (columns: {shown})")
    values = table.values[column].to_pylist()
    ids = []
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        connection = session.connection()
        for line, value in zip(table.lines.tolist(), values, strict=True):
            try:
                ids.append(find_customer(connection, str(value or "")))
            except (InvalidInput, NotFound) as exc:
                raise type(exc)(f"{path} line {line} column {column}: {exc}") from None
    return ids
