"""``cxloop metrics nps|csat|ces`` through Typer's test runner, on both stores."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from analytics_seeding import Seeder
from click.testing import Result
from typer.testing import CliRunner

from cxloop.cli import app
from cxloop.config import Settings, get_settings
from cxloop.domain import metrics
from cxloop.domain.errors import InvalidInput

TAIPEI = ZoneInfo("Asia/Taipei")
APP_FEB = [10] * 80 + [8] * 10 + [2] * 10
APP_MAR = [10] * 30 + [8] * 20 + [2] * 50
WEB_MAR = [10, 9, 3]
Invoke = Callable[..., Result]


@pytest.fixture
def run(settings: Settings, seeder: Seeder) -> Iterator[Invoke]:
    feb, mar = (
        datetime(2024, 2, 10, tzinfo=TAIPEI),
        datetime(2024, 3, 10, tzinfo=TAIPEI),
    )
    seeder.answers("nps", APP_FEB, at=feb, channel="app")
    seeder.answers("nps", APP_MAR, at=mar, channel="app")
    seeder.answers("nps", WEB_MAR, at=mar, channel="web")
    env = {
        "CXLOOP_DATABASE_URL": settings.database_url,
        "CXLOOP_ANALYTICS_DIR": settings.analytics_dir,
        "CXLOOP_TIMEZONE": "Asia/Taipei",
    }
    get_settings.cache_clear()

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(app, ["metrics", *args], env=env)

    yield invoke
    get_settings.cache_clear()


def test_json_lists_fields_period_and_values_when_format_json(run: Invoke) -> None:
    result = run("nps", "--by", "channel", "--period", "month", "--format", "json")

    assert result.exit_code == 0, result.output
    records = json.loads(result.output)
    assert [(r["channel"], r["period"]) for r in records] == [
        ("app", "2024-02-01"),
        ("app", "2024-03-01"),
        ("web", "2024-03-01"),
    ]
    assert set(records[0]) == {
        "channel", "period", "value", "n", "moe",
        "previous_value", "change", "p_value", "significant",
    }  # fmt: skip
    expected = metrics.compare(metrics.nps(APP_MAR), metrics.nps(APP_FEB))
    app_march = records[1]
    assert app_march["value"] == pytest.approx(-20.0)
    assert app_march["n"] == 100
    assert app_march["moe"] == pytest.approx(expected.current.moe)
    assert app_march["previous_value"] == pytest.approx(70.0)
    assert app_march["p_value"] == pytest.approx(expected.p_value)
    assert app_march["significant"] is True
    assert records[0]["previous_value"] is None
    assert records[2]["change"] is None


def test_json_has_no_period_key_when_no_period(run: Invoke) -> None:
    result = run("nps", "--by", "channel", "--where", "channel=web", "--format", "json")

    assert result.exit_code == 0, result.output
    records = json.loads(result.output)
    assert len(records) == 1
    assert "period" not in records[0]
    assert (records[0]["channel"], records[0]["n"]) == ("web", 3)
    assert records[0]["value"] == pytest.approx(metrics.nps(WEB_MAR).value)


def test_csv_has_header_and_one_line_per_group_when_format_csv(run: Invoke) -> None:
    result = run("nps", "--by", "channel", "--from", "2024-03-01", "--format", "csv")

    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [(r["channel"], r["n"]) for r in rows] == [("app", "100"), ("web", "3")]
    assert float(rows[0]["value"]) == pytest.approx(-20.0)


def test_table_shows_values_margins_and_significant_change(run: Invoke) -> None:
    result = run("nps", "--by", "channel,journey_stage", "--period", "month")

    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "app" in line]
    assert len(lines) == 2
    assert "70.0" in lines[0]
    assert "-20.0" in lines[1]
    assert "-90.0 ↓" in lines[1]
    assert "journey_stage" in result.output


def test_csat_and_ces_commands_run_when_no_answers_of_that_metric(run: Invoke) -> None:
    for metric in ("csat", "ces"):
        result = run(metric, "--format", "json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.output) == []


def test_invalid_where_is_refused_with_clear_message(run: Invoke) -> None:
    result = run("nps", "--where", "channel")

    assert isinstance(result.exception, InvalidInput)
    assert "must look like FIELD=VALUE" in str(result.exception)


def test_invalid_date_is_refused_by_option_parser(run: Invoke) -> None:
    result = run("nps", "--from", "2024-13-01")

    assert result.exit_code == 2
    assert "--from" in result.output
