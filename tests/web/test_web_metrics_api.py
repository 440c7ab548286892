"""``GET /api/v1/metrics/{name}`` against the plain-Python reference in domain.metrics."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient
from web_seeding import BATCHES, HOSTILE_CHANNEL, scores

from cxloop.accounts import service as accounts
from cxloop.config import Settings
from cxloop.domain import metrics

METRICS = ["nps", "csat", "ces"]


@pytest.fixture
def api(client: TestClient, web_settings: Settings) -> TestClient:
    key = accounts.create_api_key(settings=web_settings, name="tests", role="viewer")
    client.headers["Authorization"] = f"Bearer {key}"
    return client


@pytest.mark.parametrize("metric", METRICS)
def test_metric_json_overall_matches_reference(api: TestClient, metric: str) -> None:
    reference = metrics.compute(metric, scores(metric))
    rows = api.get(f"/api/v1/metrics/{metric}").json()
    assert len(rows) == 1
    assert rows[0]["n"] == reference.n
    assert rows[0]["value"] == pytest.approx(reference.value)
    assert rows[0]["moe"] == pytest.approx(reference.moe)
    assert rows[0]["previous_value"] is None


@pytest.mark.parametrize("metric", METRICS)
def test_metric_json_by_channel_matches_reference(api: TestClient, metric: str) -> None:
    rows = api.get(f"/api/v1/metrics/{metric}", params={"by": "channel"}).json()
    channels = {b.channel for b in BATCHES if b.metric == metric}
    assert {row["channel"] for row in rows} == channels
    for row in rows:
        reference = metrics.compute(metric, scores(metric, row["channel"]))
        assert (row["n"], row["value"]) == (reference.n, pytest.approx(reference.value))
        assert set(row) >= {"channel", "value", "n", "moe"}


def test_metric_json_by_period_has_iso_periods(api: TestClient) -> None:
    rows = api.get(
        "/api/v1/metrics/nps", params={"period": "month", "from": "2025-02-01"}
    ).json()
    assert [row["period"] for row in rows] == ["2025-02-01", "2025-03-01"]
    february = metrics.nps(scores("nps", month="2025-02"))
    assert rows[0]["value"] == pytest.approx(february.value)


def test_metric_where_filter_matches_reference(api: TestClient) -> None:
    rows = api.get(
        "/api/v1/metrics/nps", params={"where": f"channel={HOSTILE_CHANNEL}"}
    ).json()
    reference = metrics.nps(scores("nps", HOSTILE_CHANNEL))
    assert rows[0]["n"] == reference.n
    assert rows[0]["value"] == pytest.approx(reference.value)


def test_metric_csv_has_same_numbers_as_json(api: TestClient) -> None:
    params = {"by": "channel", "format": "csv"}
    response = api.get("/api/v1/metrics/csat", params=params)
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    as_json = api.get("/api/v1/metrics/csat", params={"by": "channel"}).json()
    assert [r["channel"] for r in rows] == [r["channel"] for r in as_json]
    for row, expected in zip(rows, as_json, strict=True):
        assert float(row["value"]) == pytest.approx(expected["value"])
        assert int(row["n"]) == expected["n"]


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"period": "fortnight"}, "fortnight"),
        ({"by": "shoe_size"}, "shoe_size"),
        ({"where": "channel"}, "FIELD=VALUE"),
        ({"from": "2025-03-01", "to": "2025-01-01"}, ""),
    ],
)
def test_metric_bad_parameter_is_422_with_message(
    api: TestClient, params: dict[str, str], fragment: str
) -> None:
    response = api.get("/api/v1/metrics/nps", params=params)
    assert response.status_code == 422
    assert fragment in str(response.json()["detail"])


def test_unknown_metric_is_422(api: TestClient) -> None:
    assert api.get("/api/v1/metrics/clv").status_code == 422


def test_me_with_session_is_the_person(signed_in: TestClient) -> None:
    body = signed_in.get("/api/v1/me").json()
    assert body["email"] == "analyst@example.com"
    assert body["role"] == "analyst"
    assert body["name"] == "王小明"
