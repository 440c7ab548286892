"""The set-based write path: time text, connection settings, reference checks."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from ingest_files import FEEDBACK_HEADER, count, write_csv
from sqlalchemy import delete, select

from cxloop.config import Settings
from cxloop.domain.errors import Conflict
from cxloop.ingest.kinds import kind_spec
from cxloop.ingest.loaders import EVENT_TABLES, Batch
from cxloop.ingest.readers import read_table
from cxloop.ingest.service import import_file
from cxloop.ingest.surveys import ensure_import_survey
from cxloop.ingest.validation import validate
from cxloop.ingest.writers import format_utc, transaction
from cxloop.store.engine import engine_for
from cxloop.store.tables import Answer, Customer, Identity, Interaction


def test_format_utc_writes_the_column_text_of_utc_datetime() -> None:
    stamps = [
        datetime(2024, 2, 29, 23, 59, 59, 123456, tzinfo=UTC),
        None,
        datetime(1999, 12, 31, tzinfo=UTC),
    ]
    texts = format_utc(pa.array(stamps, type=pa.timestamp("us", tz="UTC")))
    assert texts.to_pylist() == [
        "2024-02-29 23:59:59.123456",
        None,
        "1999-12-31 00:00:00.000000",
    ]


def test_sqlite_import_restores_the_connection_settings(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    rows = [["R1", "", "", "2024-01-01", "", "", "", "9", "", "", ""]]
    import_file(
        settings=sqlite_settings,
        kind="feedback",
        path=write_csv(tmp_path / "f.csv", FEEDBACK_HEADER, rows),
    )
    with engine_for(sqlite_settings.database_url).connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA cache_size").scalar() == -2000


def test_feedback_batch_refuses_a_customer_that_does_not_exist(
    settings: Settings, tmp_path: Path
) -> None:
    rows = [["R1", "", "", "2024-01-01", "", "", "", "9", "", "", ""]]
    raw = read_table(write_csv(tmp_path / "f.csv", FEEDBACK_HEADER, rows))
    spec = kind_spec("feedback")
    assert spec is not None
    checked = validate(raw, spec, settings, {})
    engine = engine_for(settings.database_url)
    with transaction(engine) as writer:
        questions = ensure_import_survey(writer, "f")
    _table, write, _prepare = EVENT_TABLES["feedback"]
    batch = Batch(checked, np.array([0]), [424242], "f", questions)
    with (
        pytest.raises(Exception, match="424242") as raised,
        transaction(engine, foreign_keys=False) as writer,
    ):
        write(writer, batch)
    assert raised.type is Conflict or "foreign key" in str(raised.value).lower()
    assert count(settings.database_url, Interaction) == 0


def test_feedback_import_refuses_a_customer_deleted_between_batches(
    settings: Settings, tmp_path: Path
) -> None:
    rows = [
        [f"R{i}", f"c{i}@example.com", "", "2024-01-01", "", "", "", "9", "", "", ""]
        for i in (1, 2)
    ]
    path = write_csv(tmp_path / "f.csv", FEEDBACK_HEADER, rows)
    engine = engine_for(settings.database_url)

    def delete_second_customer(done: int, _total: int) -> None:
        if done:
            return
        with engine.begin() as connection:
            owner = connection.execute(
                select(Identity.customer_id).where(Identity.value == "c2@example.com")
            ).scalar_one()
            connection.execute(delete(Identity).where(Identity.customer_id == owner))
            connection.execute(delete(Customer).where(Customer.id == owner))
        deleted.append(owner)

    deleted: list[int] = []
    small = settings.model_copy(update={"import_batch_size": 1})
    with pytest.raises(Exception, match="customer") as raised:
        import_file(
            settings=small, kind="feedback", path=path, progress=delete_second_customer
        )
    assert str(deleted[0]) in str(raised.value)
    assert raised.type is Conflict or "foreign key" in str(raised.value).lower()
    assert count(settings.database_url, Interaction) == 1


def test_feedback_writes_twice_in_one_transaction_keep_both_batches(
    settings: Settings, tmp_path: Path
) -> None:
    rows = [
        [f"R{i}", "", "", "2024-01-01", "", "", "", str(i), "", "", ""]
        for i in range(4)
    ]
    raw = read_table(write_csv(tmp_path / "f.csv", FEEDBACK_HEADER, rows))
    spec = kind_spec("feedback")
    assert spec is not None
    checked = validate(raw, spec, settings, {})
    _table, write, prepare = EVENT_TABLES["feedback"]
    with transaction(engine_for(settings.database_url), foreign_keys=False) as writer:
        questions = prepare(writer, "f")
        for part in (np.array([0, 1]), np.array([2, 3])):
            write(writer, Batch(checked, part, [None, None], "f", questions))
    assert count(settings.database_url, Interaction) == 4
    assert count(settings.database_url, Answer) == 4
