"""Database lifecycle use cases shared by the CLI and the web app."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from cxloop.config import Settings
from cxloop.store import migrate
from cxloop.store.engine import engine_for
from cxloop.store.tables import Customer, Interaction


def upgrade_database(settings: Settings, revision: str = "head") -> None:
    """Create the database or migrate it to ``revision``."""
    migrate.upgrade(settings.database_url, revision)


def database_is_empty(settings: Settings) -> bool:
    """True when the store holds no customers and no interactions."""
    with engine_for(settings.database_url).connect() as connection:
        customers = connection.scalar(select(func.count()).select_from(Customer))
        interactions = connection.scalar(select(func.count()).select_from(Interaction))
    return not customers and not interactions


def display_url(url: str) -> str:
    """The database URL with any password hidden."""
    return make_url(url).render_as_string(hide_password=True)
