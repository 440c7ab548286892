"""Per-process caches of the response form's hot path: parsed surveys and write locks.

Parsing a survey definition and reading its question ids costs more than storing a
response, so each process keeps the :class:`SurveyRecord` of every survey it served and
re-reads it only when ``survey.updated_at`` changed (every save and status change sets
it). On SQLite, writers in one process take a lock before they write, so threads queue
in Python instead of sleeping in SQLite's busy handler for the file lock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import OperationalError

from cxloop.config import Settings
from cxloop.domain.errors import CxloopError
from cxloop.domain.survey_parse import parse_survey
from cxloop.store.engine import sqlite_path
from cxloop.store.tables import Question, Survey
from cxloop.surveys.definitions import SurveyRecord

#: Surveys kept per process; past this the cache starts again (surveys are few).
MAX_SURVEYS = 1_000

_guard = threading.Lock()


class WriterBusy(CxloopError):
    """Another writer holds the SQLite store longer than the caller wants to wait."""


_surveys: dict[tuple[str, int], SurveyRecord] = {}
_write_locks: dict[str, threading.Lock] = {}


def cached_survey(
    conn: Connection,
    *,
    settings: Settings,
    survey_id: int,
    status: str,
    updated_at: datetime | None,
) -> SurveyRecord:
    """The survey as last read, re-read on ``conn`` when ``updated_at`` moved on.

    ``status`` and ``updated_at`` come from the caller's own query of the survey row,
    so a status change is seen at once even if the cached spec is still current.
    """
    slot = (settings.database_url, survey_id)
    record = _surveys.get(slot)
    if record is None or record.updated_at != updated_at:
        record = _load(conn, survey_id)
        with _guard:
            if len(_surveys) >= MAX_SURVEYS:
                _surveys.clear()
            _surveys[slot] = record
    if record.status != status:
        record = replace(record, status=status)
    return record


def _load(conn: Connection, survey_id: int) -> SurveyRecord:
    row = conn.execute(select(Survey).where(Survey.id == survey_id)).one()
    spec = parse_survey(row.definition or {})
    query = select(Question.key, Question.id).where(Question.survey_id == survey_id)
    ids: dict[str, int] = dict(conn.execute(query).all())
    return SurveyRecord(
        id=row.id,
        key=row.key,
        status=row.status,
        public_token=row.public_token or "",
        spec=spec,
        question_ids={q.key: ids[q.key] for q in spec.questions},
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


@contextmanager
def write_lock(settings: Settings, *, wait: float = -1) -> Iterator[None]:
    """Hold the lock of writers to an SQLite store in this process (no-op elsewhere).

    With ``wait`` (seconds) give up with :class:`WriterBusy` instead of waiting longer.
    """
    url = settings.database_url
    if sqlite_path(url) is None:
        yield
        return
    lock = _write_locks.get(url)
    if lock is None:
        with _guard:
            lock = _write_locks.setdefault(url, threading.Lock())
    if not lock.acquire(timeout=wait):
        raise WriterBusy("another writer holds the store")
    try:
        yield
    finally:
        lock.release()


def forget_surveys() -> None:
    """Empty the survey cache (a test that edits survey rows behind the service's back)."""
    with _guard:
        _surveys.clear()


@contextmanager
def sqlite_wait(conn: Connection, wait: float) -> Iterator[None]:
    """Within the block, SQLite waits at most ``wait`` seconds for its file lock."""
    if wait < 0 or conn.dialect.name != "sqlite":
        yield
        return
    driver: Any = conn.connection.driver_connection
    (before,) = driver.execute("PRAGMA busy_timeout").fetchone()
    driver.execute(f"PRAGMA busy_timeout = {int(wait * 1000)}")
    try:
        yield
    except OperationalError as exc:
        if "locked" not in str(exc):
            raise
        raise WriterBusy("another writer holds the store") from exc
    finally:
        driver.execute(f"PRAGMA busy_timeout = {int(before)}")
