"""Service metrics in ``GET /api/v1/metrics/{name}`` and ``cxloop metrics`` (cuts, CSV)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner
from web_service_seeding import HOSTILE_AGENT, seed_cases

from cxloop.accounts import service as accounts
from cxloop.cli import app as cli_app
from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput
from cxloop.web.app import create_app

URL = "/api/v1/metrics"


@pytest.fixture
def api(settings: Settings) -> Iterator[TestClient]:
    """A client with a viewer key over the ten seeded cases (SQLite and PostgreSQL)."""
    seed_cases(settings)
    key = accounts.create_api_key(settings=settings, name="bi", role="viewer")
    with TestClient(create_app(settings)) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        yield client


def test_sla_compliance_by_team_and_week_pools_both_clocks(api: TestClient) -> None:
    response = api.get(f"{URL}/sla_compliance", params={"by": "team", "period": "week"})

    assert response.status_code == 200, response.text
    rows = response.json()
    assert [(r["team"], r["period"], r["cases"], r["n"]) for r in rows] == [
        ("support", "2025-03-03", 7, 14),
        ("support", "2025-03-10", 3, 6),
    ]
    assert rows[0]["value"] == pytest.approx(100 * 13 / 14)
    assert (rows[0]["first_response"], rows[0]["first_response_n"]) == (
        pytest.approx(100 * 6 / 7), 7,
    )  # fmt: skip
    assert (rows[1]["value"], rows[1]["unit"], rows[1]["resolution"]) == (
        100.0, "%", 100.0,
    )  # fmt: skip


def test_service_metrics_overall_match_the_service_endpoint(api: TestClient) -> None:
    service = api.get("/api/v1/service/metrics").json()[0]

    got = {
        name: api.get(f"{URL}/{name}").json()
        for name in ("fcr", "aht", "first_response_time", "followup_csat")
    }

    assert [(r["value"], r["n"]) for r in got["fcr"]] == [(50.0, 10)]
    assert got["fcr"][0]["value"] == service["fcr"]
    assert (got["aht"][0]["value"], got["aht"][0]["unit"]) == (600.0, "seconds")
    first = got["first_response_time"][0]
    assert (first["value"], first["mean"]) == (
        service["first_response_median"], service["first_response_mean"],
    )  # fmt: skip
    assert (got["followup_csat"][0]["value"], got["followup_csat"][0]["mean"]) == (
        50.0, 4.0,
    )  # fmt: skip


def test_service_metric_by_agent_as_csv(api: TestClient) -> None:
    response = api.get(f"{URL}/fcr", params={"by": "agent", "format": "csv"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == ["agent", "value", "n", "unit", "cases"]
    assert [(r["agent"], r["value"], r["n"]) for r in rows] == [
        (HOSTILE_AGENT, "60.0", "5"),
        ("美華", "40.0", "5"),
    ]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"by": "region"}, "fcr cannot be cut by 'region'"),
        ({"by": "team,agent"}, "one field at a time"),
        ({"where": "region=北部"}, "cannot be filtered with where"),
        ({"period": "year"}, "period 'year'"),
    ],
)
def test_service_metric_refuses_cuts_it_does_not_support(
    api: TestClient, params: dict[str, str], message: str
) -> None:
    response = api.get(f"{URL}/fcr", params=params)

    assert response.status_code == 422
    assert message in response.json()["detail"]


def test_unknown_metric_name_is_refused(api: TestClient) -> None:
    assert api.get(f"{URL}/csat_of_agents").status_code == 422


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli_app, ["metrics", *args])
    return result.exit_code, result.output


def test_metrics_cli_serves_service_metrics_as_json_csv_and_table(
    cli_settings: Settings,
) -> None:
    seed_cases(cli_settings)

    code, text = _run("fcr", "--by", "agent", "--format", "json")
    assert code == 0, text
    assert [(r["agent"], r["value"]) for r in json.loads(text)] == [
        (HOSTILE_AGENT, 60.0), ("美華", 40.0),
    ]  # fmt: skip
    code, text = _run("resolution-time", "--period", "month", "--format", "csv")
    assert code == 0, text
    assert text.splitlines() == [
        "period,value,n,unit,cases,mean,mean_n",
        "2025-03-01,18000.0,10,seconds,10,18000.0,10",
    ]
    code, text = _run("sla_compliance", "--by", "channel")
    assert code == 0, text
    assert "95.0 %" in text
    assert "email" in text


def test_metrics_cli_names_the_cuts_a_service_metric_takes(
    cli_settings: Settings,
) -> None:
    result = CliRunner().invoke(cli_app, ["metrics", "aht", "--by", "region"])

    assert isinstance(result.exception, InvalidInput)
    assert "aht cannot be cut by 'region'" in str(result.exception)
    assert "team, agent, channel" in str(result.exception)
