"""Accounts service on SQLite and PostgreSQL: users, passwords, API keys."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cxloop.accounts import service as accounts
from cxloop.config import Settings
from cxloop.domain.errors import Conflict, InvalidInput
from cxloop.store import tables
from cxloop.store.engine import engine_for

PASSWORD = "s3cret-enough"


def _create(
    settings: Settings, email: str = "Lin@Example.com", **kw: str
) -> accounts.UserInfo:
    return accounts.create_user(
        settings=settings, email=email, password=kw.pop("password", PASSWORD),
        role=kw.pop("role", "analyst"), **kw,
    )  # fmt: skip


def test_create_user_normalises_email_and_hashes_password(settings: Settings) -> None:
    user = _create(settings, name="林美玲", language="zh-TW")
    assert (user.email, user.role, user.name, user.language) == (
        "lin@example.com", "analyst", "林美玲", "zh-TW"
    )  # fmt: skip
    with engine_for(settings.database_url).connect() as connection:
        stored = connection.scalar(select(tables.User.password_hash))
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_authenticate_with_right_password_returns_user(settings: Settings) -> None:
    created = _create(settings)
    found = accounts.authenticate(
        settings=settings, email=" LIN@example.com ", password=PASSWORD
    )
    assert found == created


@pytest.mark.parametrize(
    ("email", "password"),
    [("lin@example.com", "wrong-password"), ("nobody@example.com", PASSWORD)],
)
def test_authenticate_with_wrong_credentials_returns_none(
    settings: Settings, email: str, password: str
) -> None:
    _create(settings)
    assert (
        accounts.authenticate(settings=settings, email=email, password=password) is None
    )


def test_create_user_with_taken_email_is_conflict(settings: Settings) -> None:
    _create(settings)
    with pytest.raises(Conflict, match="already exists"):
        _create(settings, email="lin@EXAMPLE.com")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "not-an-email"}, "not a valid e-mail"),
        ({"email": "a@b"}, "not a valid e-mail"),
        ({"password": "short"}, "at least 8 characters"),
        ({"role": "owner"}, "role 'owner' is unknown"),
        ({"language": "fr"}, "not supported"),
    ],
)
def test_create_user_with_bad_input_is_refused(
    settings: Settings, fields: dict[str, str], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        _create(settings, **fields)


def test_get_user_and_set_language(settings: Settings) -> None:
    user = _create(settings)
    accounts.set_language(settings=settings, user_id=user.id, language="en")
    found = accounts.get_user(settings=settings, user_id=user.id)
    assert found is not None
    assert found.language == "en"
    assert accounts.get_user(settings=settings, user_id=user.id + 100) is None


def test_api_key_round_trip_stores_only_a_hash(settings: Settings) -> None:
    key = accounts.create_api_key(settings=settings, name="BI export", role="analyst")
    assert key.startswith("cxl_")
    found = accounts.verify_api_key(settings=settings, key=key)
    assert found is not None
    assert (found.role, found.name) == ("analyst", "BI export")
    assert found.id < 0
    with engine_for(settings.database_url).connect() as connection:
        row = connection.execute(select(tables.ApiKey)).one()
    assert key.split("_", 2)[2] not in row.key_hash
    assert row.last_used_at is not None


@pytest.mark.parametrize(
    "mangle",
    [lambda k: k[:-1] + ("A" if k[-1] != "A" else "B"), lambda k: "cxl_ffffffffffff_x",
     lambda k: k.replace("cxl_", "abc_"), lambda k: ""],
)  # fmt: skip
def test_verify_wrong_api_key_returns_none(settings: Settings, mangle) -> None:  # type: ignore[no-untyped-def]
    key = accounts.create_api_key(settings=settings, name="k")
    assert accounts.verify_api_key(settings=settings, key=mangle(key)) is None


def test_create_api_key_with_unknown_role_is_refused(settings: Settings) -> None:
    with pytest.raises(InvalidInput, match="unknown"):
        accounts.create_api_key(settings=settings, name="k", role="root")


def test_database_is_current_after_upgrade(settings: Settings) -> None:
    assert accounts.database_is_current(settings=settings) is True
    accounts.ping_database(settings=settings)


def test_database_is_not_current_when_never_migrated(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'new.db'}")
    assert accounts.database_is_current(settings=settings) is False
