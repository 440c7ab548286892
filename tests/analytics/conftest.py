"""Fixtures of the analytics tests: a seeder on each test's store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from analytics_seeding import Seeder

from cxloop.config import Settings
from cxloop.store.engine import make_engine


@pytest.fixture
def seeder(settings: Settings) -> Iterator[Seeder]:
    """A seeder on the test's store (SQLite and PostgreSQL)."""
    engine = make_engine(settings.database_url)
    try:
        yield Seeder(engine)
    finally:
        engine.dispose()
