"""Importer test helpers: files written in ``tmp_path``, counts read from the store."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from cxloop.store.engine import engine_for
from cxloop.store.tables import Base

FEEDBACK_HEADER = (
    "response_id", "email", "phone", "submitted_at", "channel", "touchpoint",
    "journey_stage", "nps", "csat", "ces", "comment",
)  # fmt: skip


def write_csv(
    path: Path,
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    encoding: str = "utf-8",
) -> Path:
    """A CSV file with ``header`` and ``rows`` in ``encoding``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def count(url: str, table: type[Base]) -> int:
    with engine_for(url).connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(table)) or 0)


def fetch(url: str, statement: Any) -> list[Any]:
    with engine_for(url).connect() as connection:
        return list(connection.execute(statement).all())
