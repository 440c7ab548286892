"""Web tests: a seeded SQLite store, the app in process, a signed-in client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from web_client import PASSWORD, sign_in
from web_seeding import BATCHES, seed

from cxloop.accounts import service as accounts
from cxloop.accounts.service import UserInfo
from cxloop.config import Settings
from cxloop.web.app import create_app


@pytest.fixture
def web_settings(sqlite_settings: Settings) -> Settings:
    """A fresh SQLite store holding the answers of ``seeding.BATCHES``."""
    seed(sqlite_settings, BATCHES)
    return sqlite_settings


@pytest.fixture
def app(web_settings: Settings) -> FastAPI:
    return create_app(web_settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def user(web_settings: Settings) -> UserInfo:
    return accounts.create_user(
        settings=web_settings,
        email="analyst@example.com",
        password=PASSWORD,
        role="analyst",
        name="王小明",
    )


@pytest.fixture
def signed_in(client: TestClient, user: UserInfo) -> TestClient:
    response = sign_in(client, user.email, PASSWORD)
    assert response.status_code == 303, response.text
    return client
