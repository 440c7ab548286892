"""Shared fixtures: real SQLite files and a real PostgreSQL server, per test.

``store_url`` runs a test on both engines. The PostgreSQL case needs the server that
``make test`` (scripts/test) starts and names in ``CXLOOP_TEST_PG_URL``; without it the
case fails with a message, it never skips.
"""

from __future__ import annotations

import gc
import os
import shutil
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from cxloop.config import Settings

# Tests send survey e-mail by calling the dispatcher themselves; a web app started by a
# test runs no background dispatcher unless the test asks for one.
os.environ.setdefault("CXLOOP_DISPATCH_INTERVAL_SECONDS", "0")
from cxloop.store.engine import dispose_engines
from cxloop.store.migrate import upgrade

#: Where the public datasets live: ``CXLOOP_SHARED_DATA``, else ``shared/data`` beside
#: the checkout or beside one of its parents (a clone may live deeper than ``../``),
#: else the workspace's own copy.
SHARED_DATA_PLACES = (
    *(
        [Path(os.environ["CXLOOP_SHARED_DATA"])]
        if os.environ.get("CXLOOP_SHARED_DATA")
        else []
    ),
    *(parent / "shared" / "data" for parent in Path(__file__).resolve().parents[1:]),
    Path("/work/shared/data"),
)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The public datasets (``../shared/data``), read in place, never copied."""
    for place in SHARED_DATA_PLACES:
        if place.is_dir():
            return place
    tried = ", ".join(str(place) for place in SHARED_DATA_PLACES)
    pytest.fail(f"the shared datasets are missing: looked in {tried}")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated to head once per session; tests get copies."""
    path = tmp_path_factory.mktemp("tpl") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    url = os.environ.get("CXLOOP_TEST_PG_URL")
    if not url:
        pytest.fail(
            "CXLOOP_TEST_PG_URL is not set: run `make test`, which starts PostgreSQL"
        )
    engine = create_engine(url)
    with engine.connect() as connection:
        connection.execute(text("select 1"))
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def pg_template(pg_admin_url: str, worker_id: str) -> Iterator[str]:
    """A database migrated to head once per worker and process; tests clone it."""
    name = f"cxloop_tpl_{worker_id}_{os.getpid()}"
    _pg_exec(pg_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _pg_exec(pg_admin_url, f'CREATE DATABASE "{name}"')
    url = make_url(pg_admin_url).set(database=name)
    upgrade(url.render_as_string(hide_password=False))
    yield name
    _pg_exec(pg_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _pg_exec(admin_url: str, sql: str) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(sql))
    engine.dispose()


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh, migrated SQLite file in WAL mode for this test."""
    path = tmp_path / "cxloop.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test, dropped afterwards."""
    admin_url: str = request.getfixturevalue("pg_admin_url")
    template: str = request.getfixturevalue("pg_template")
    name = f"cxloop_t_{uuid.uuid4().hex[:12]}"
    _pg_exec(admin_url, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield (
            make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        )
    finally:
        dispose_engines()
        # A connection still referenced by a garbage cycle (a retried transaction's
        # traceback, say) would be finalised at a random moment in a later test, after
        # DROP ... WITH (FORCE) below has cut it: finalise such leftovers now, here.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=ResourceWarning)
            gc.collect()
        _pg_exec(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest) -> str:
    """The URL of a fresh, migrated store: each test runs on SQLite and PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(name)
    return url


def make_settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key="test-secret-key-not-for-production",
        analytics_dir=str(tmp_path / "analytics"),
        timezone="Asia/Taipei",
    )


@pytest.fixture
def settings(store_url: str, tmp_path: Path) -> Settings:
    """Settings for a fresh store on SQLite and on PostgreSQL."""
    return make_settings(store_url, tmp_path)


@pytest.fixture
def sqlite_settings(sqlite_url: str, tmp_path: Path) -> Settings:
    """Settings for a fresh SQLite store only (web and CLI tests)."""
    return make_settings(sqlite_url, tmp_path)


@pytest.fixture
def cli_settings(
    sqlite_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    """The CLI reads CXLOOP_* from the environment: point it at a fresh SQLite store."""
    from cxloop.config import get_settings

    monkeypatch.setenv("CXLOOP_DATABASE_URL", sqlite_settings.database_url)
    monkeypatch.setenv("CXLOOP_SECRET_KEY", sqlite_settings.secret_key)
    monkeypatch.setenv("CXLOOP_ANALYTICS_DIR", sqlite_settings.analytics_dir)
    get_settings.cache_clear()
    yield sqlite_settings
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local Spark session (two cores) per test process, started on first use."""
    from cxloop.spark import spark_session

    session = spark_session("local[2]", app_name="cxloop tests", partitions=2)
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
