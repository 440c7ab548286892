"""``cxloop survey results`` through Typer's test runner on an SQLite store."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from survey_results_seeding import Seeded, seed_responses
from typer.testing import CliRunner

from cxloop.cli import app
from cxloop.config import Settings
from cxloop.domain.errors import NotFound
from cxloop.surveys.definitions import save_survey

DEFINITION = {
    "key": "cli-nps", "name": {"zh-TW": "命令列 NPS", "en": "CLI NPS"},
    "questions": [
        {"key": "nps", "type": "nps", "text": "推薦？"},
        {"key": "why", "type": "text", "text": "為什麼？"},
    ],
}  # fmt: skip


@pytest.fixture
def seeded(cli_settings: Settings) -> Settings:
    save_survey(settings=cli_settings, definition=DEFINITION)
    at = datetime(2025, 6, 1, 4, tzinfo=UTC)
    seed_responses(cli_settings, "cli-nps", [
        Seeded({"nps": 10.0, "why": "[bold]店員親切[/bold]"}, at),
        Seeded({"nps": 3.0}, at.replace(day=2)),
        Seeded({"nps": 9.0}, at.replace(day=3), status="partial"),
    ])  # fmt: skip
    return cli_settings


def test_results_json_has_rates_and_metrics(seeded: Settings) -> None:
    result = CliRunner().invoke(app, ["survey", "results", "cli-nps", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["responses"] == 3
    assert data["completion_rate"] == pytest.approx(2 / 3)
    nps = data["questions"][0]["score"]
    assert (nps["value"], nps["n"]) == (pytest.approx(100 / 3), 3)
    assert data["verbatims"]["items"][0]["text"] == "[bold]店員親切[/bold]"


def test_results_table_prints_verbatims_as_text(seeded: Settings) -> None:
    result = CliRunner().invoke(
        app, ["survey", "results", "cli-nps", "--from", "2025-06-01", "--to", "2025-06-01"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "completion rate" in result.output
    assert "[10] [bold]店員親切[/bold]" in result.output


def test_results_of_an_unknown_survey_fail(cli_settings: Settings) -> None:
    result = CliRunner().invoke(app, ["survey", "results", "nope"])
    assert isinstance(result.exception, NotFound)
