"""The store on SQLite (WAL) and PostgreSQL: migrations, constraints, UTC round trips."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cxloop.store.engine import UnitOfWork, engine_for, make_engine
from cxloop.store.migrate import alembic_config, current_revision
from cxloop.store.tables import Base, Customer, Identity, Interaction

TAIPEI = timezone(timedelta(hours=8))


def test_migrated_store_is_at_head(store_url: str) -> None:
    head = ScriptDirectory.from_config(alembic_config(store_url)).get_current_head()
    assert head is not None
    assert current_revision(engine_for(store_url)) == head


def test_migrations_create_what_the_models_describe(store_url: str) -> None:
    with engine_for(store_url).connect() as connection:
        context = MigrationContext.configure(connection)
        differences = compare_metadata(context, Base.metadata)
    # SQLite adds columns without their foreign keys (see migration 0002).
    if store_url.startswith("sqlite"):
        differences = [d for d in differences if d[0] != "add_fk"]
    assert differences == []


def test_sqlite_store_uses_wal(sqlite_url: str) -> None:
    with make_engine(sqlite_url).connect() as connection:
        mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
    assert mode == "wal"


def test_interaction_is_unique_on_source_and_external_id(store_url: str) -> None:
    uow = UnitOfWork(engine_for(store_url))
    when = datetime(2024, 3, 1, 9, 30, tzinfo=TAIPEI)
    with uow.session() as session:
        session.add(
            Interaction(
                occurred_at=when, kind="survey_response", source="s", external_id="1"
            )
        )
    with pytest.raises(IntegrityError), uow.session() as session:
        session.add(
            Interaction(
                occurred_at=when, kind="survey_response", source="s", external_id="1"
            )
        )


def test_times_come_back_aware_in_utc(store_url: str) -> None:
    uow = UnitOfWork(engine_for(store_url))
    when = datetime(2024, 3, 1, 9, 30, tzinfo=TAIPEI)
    with uow.session() as session:
        session.add(
            Interaction(occurred_at=when, kind="call", source="s", external_id="x")
        )
    with uow.session() as session:
        stored = session.scalars(select(Interaction.occurred_at)).one()
    assert stored == when
    assert stored.tzinfo is not None
    assert stored.utcoffset() == timedelta(0)


def test_naive_time_is_refused(store_url: str) -> None:
    uow = UnitOfWork(engine_for(store_url))
    naive = datetime(2024, 1, 1)  # noqa: DTZ001 - the point of the test
    interaction = Interaction(
        occurred_at=naive, kind="call", source="s", external_id="n"
    )
    with uow.session() as session:
        session.add(interaction)
        with pytest.raises(Exception, match="aware datetime"):
            session.flush()
        session.rollback()


def test_identity_is_unique_per_kind_and_value(store_url: str) -> None:
    uow = UnitOfWork(engine_for(store_url))
    with uow.session() as session:
        customer = Customer(name="王小明", attributes={"region": "北部"})
        session.add(customer)
        session.flush()
        session.add(
            Identity(customer_id=customer.id, kind="email", value="a@example.com")
        )
    with pytest.raises(IntegrityError), uow.session() as session:
        session.add(
            Identity(customer_id=customer.id, kind="email", value="a@example.com")
        )
    with uow.session() as session:
        stored = session.scalars(select(Customer)).one()
    assert stored.attributes == {"region": "北部"}
    assert stored.created_at.tzinfo == UTC
