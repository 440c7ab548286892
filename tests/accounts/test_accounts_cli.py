"""``cxloop user create``, ``cxloop apikey create`` and the migration check of ``serve``."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cxloop.accounts import service as accounts
from cxloop.cli import app
from cxloop.config import Settings, get_settings

runner = CliRunner()


def test_user_create_with_password_option(cli_settings: Settings) -> None:
    result = runner.invoke(app, ["user", "create", "--email", "Chen@Example.com",
                                 "--role", "viewer", "--password", "long-enough-1"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "chen@example.com" in result.output
    user = accounts.authenticate(
        settings=cli_settings, email="chen@example.com", password="long-enough-1"
    )
    assert user is not None
    assert user.role == "viewer"


def test_user_create_prompts_for_password_twice(cli_settings: Settings) -> None:
    result = runner.invoke(
        app, ["user", "create", "--email", "wu@example.com", "--role", "agent"],
        input="typed-secret-9\ntyped-secret-9\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "typed-secret-9" not in result.output
    assert accounts.authenticate(
        settings=cli_settings, email="wu@example.com", password="typed-secret-9"
    )


def test_user_create_with_unknown_role_fails_with_message(
    cli_settings: Settings,
) -> None:
    result = runner.invoke(app, ["user", "create", "--email", "x@example.com",
                                 "--role", "boss", "--password", "long-enough-1"])  # fmt: skip
    assert result.exit_code != 0
    assert "role 'boss' is unknown" in str(result.exception)


def test_apikey_create_prints_a_working_key_once(cli_settings: Settings) -> None:
    result = runner.invoke(app, ["apikey", "create", "--name", "dashboard export"])
    assert result.exit_code == 0, result.output
    key = result.stdout.strip().splitlines()[-1]
    found = accounts.verify_api_key(settings=cli_settings, key=key)
    assert found is not None
    assert found.role == "viewer"
    assert "shown only once" in result.stderr


def test_serve_refuses_an_unmigrated_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CXLOOP_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["serve", "--port", "1"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code != 0
    assert "run `cxloop db upgrade`" in str(result.exception)
