"""Account use cases shared by the CLI and the web app.

Passwords are hashed with Argon2id (argon2-cffi). API keys look like
``cxl_<prefix>_<secret>``: only the prefix and the SHA-256 of the secret are stored, so
a key is shown once, when it is created.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from cxloop.accounts.scopes import check_scopes
from cxloop.config import Settings
from cxloop.domain.errors import Conflict, InvalidInput
from cxloop.domain.vocab import Role
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import ApiKey, User
from cxloop.store.types import utcnow

MIN_PASSWORD_LENGTH = 8
LANGUAGES = ("zh-TW", "en")
KEY_PREFIX = "cxl"
_EMAIL = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"'.]+$")


@dataclass(frozen=True)
class UserInfo:
    """Who is signed in: a person, or an API key acting with a role (``id`` < 0).

    ``scopes``: what a key created with scopes may do (see :mod:`cxloop.accounts.scopes`);
    None acts with the rights of ``role``.
    """

    id: int
    email: str
    name: str | None
    role: str
    language: str | None
    scopes: tuple[str, ...] | None = None


@lru_cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()


@lru_cache
def _dummy_hash() -> str:
    return _hasher().hash(secrets.token_urlsafe(16))


def _uow(settings: Settings) -> UnitOfWork:
    return UnitOfWork(engine_for(settings.database_url))


def _info(user: User) -> UserInfo:
    return UserInfo(user.id, user.email, user.name, user.role, user.language)


def normalise_email(email: str) -> str:
    """The e-mail address trimmed and lower-cased; InvalidInput when it is not one."""
    cleaned = email.strip().lower()
    if len(cleaned) > 320 or not _EMAIL.match(cleaned):
        msg = f"email {email!r} is not a valid e-mail address"
        raise InvalidInput(msg)
    return cleaned


def check_role(role: str) -> Role:
    """The role named ``role``; InvalidInput lists the valid ones otherwise."""
    try:
        return Role(role)
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        msg = f"role {role!r} is unknown: choose one of {choices}"
        raise InvalidInput(msg) from None


def check_language(language: str) -> str:
    """``language`` when the UI speaks it (zh-TW or en); InvalidInput otherwise."""
    if language not in LANGUAGES:
        msg = f"language {language!r} is not supported: choose zh-TW or en"
        raise InvalidInput(msg)
    return language


def create_user(
    *,
    settings: Settings,
    email: str,
    password: str,
    role: str,
    name: str | None = None,
    language: str | None = None,
) -> UserInfo:
    """Create a person who can sign in; Conflict when the e-mail is taken."""
    address = normalise_email(email)
    checked_role = check_role(role)
    if len(password) < MIN_PASSWORD_LENGTH:
        msg = f"password must have at least {MIN_PASSWORD_LENGTH} characters"
        raise InvalidInput(msg)
    if language is not None:
        check_language(language)
    taken = Conflict(f"a user with email {address} already exists")
    try:
        with _uow(settings).session() as session:
            if session.scalar(select(User.id).where(User.email == address)):
                raise taken
            user = User(
                email=address,
                name=name,
                password_hash=_hasher().hash(password),
                role=checked_role.value,
                language=language,
                is_active=True,
            )
            session.add(user)
            session.flush()
            return _info(user)
    except IntegrityError as exc:  # created by someone else since the check
        raise taken from exc


def authenticate(*, settings: Settings, email: str, password: str) -> UserInfo | None:
    """The active user with this e-mail and password, or None.

    A missing user still costs one hash verification, so the answer time does not say
    whether an address is registered.
    """
    address = email.strip().lower()
    with _uow(settings).session() as session:
        user = session.scalar(select(User).where(User.email == address))
        stored = user.password_hash if user is not None else _dummy_hash()
        try:
            _hasher().verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if user is None or not user.is_active:
            return None
        if _hasher().check_needs_rehash(stored):
            user.password_hash = _hasher().hash(password)
        return _info(user)


def get_user(*, settings: Settings, user_id: int) -> UserInfo | None:
    """The active user with this id, or None."""
    with _uow(settings).session() as session:
        user = session.get(User, user_id)
        if user is None or not user.is_active:
            return None
        return _info(user)


def set_language(*, settings: Settings, user_id: int, language: str) -> None:
    """Remember the UI language a user chose (zh-TW or en)."""
    check_language(language)
    with _uow(settings).session() as session:
        user = session.get(User, user_id)
        if user is not None:
            user.language = language


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_api_key(
    *,
    settings: Settings,
    name: str,
    role: str = "viewer",
    scopes: Sequence[str] | None = None,
) -> str:
    """Create an API key acting with ``role``; the full key is returned only here.

    ``scopes`` (such as ``interactions:write``) name what the key may do beyond
    reading; None gives it the rights of ``role``.
    """
    checked_role = check_role(role)
    checked_scopes = None if scopes is None else list(check_scopes(scopes))
    if not name.strip():
        msg = "an API key needs a name"
        raise InvalidInput(msg)
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    with _uow(settings).session() as session:
        session.add(
            ApiKey(
                name=name.strip(),
                prefix=prefix,
                key_hash=_digest(secret),
                role=checked_role.value,
                scopes=checked_scopes,
            )
        )
    return f"{KEY_PREFIX}_{prefix}_{secret}"


def verify_api_key(*, settings: Settings, key: str) -> UserInfo | None:
    """The pseudo-user of a valid, unrevoked key (and note its use), or None."""
    parts = key.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    _, prefix, secret = parts
    with _uow(settings).session() as session:
        row = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
        if row is None or row.revoked_at is not None:
            return None
        if not hmac.compare_digest(row.key_hash, _digest(secret)):
            return None
        row.last_used_at = utcnow()
        scopes = None if row.scopes is None else tuple(map(str, row.scopes))
        return UserInfo(
            -row.id, f"api-key:{row.name}", row.name, row.role, None, scopes
        )


def ping_database(*, settings: Settings) -> None:
    """Run a trivial query; raises when the database cannot be reached."""
    with engine_for(settings.database_url).connect() as connection:
        connection.execute(text("SELECT 1"))


def database_is_current(*, settings: Settings) -> bool:
    """True when the database exists and is migrated to the latest schema."""
    from alembic.script import ScriptDirectory

    from cxloop.store import migrate

    head = ScriptDirectory.from_config(
        migrate.alembic_config(settings.database_url)
    ).get_current_head()
    return migrate.current_revision(engine_for(settings.database_url)) == head
