"""The overview page: template and context, filters, empty store, escaping."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from web_client import PASSWORD, sign_in
from web_seeding import HOSTILE_CHANNEL, HOSTILE_TOUCHPOINT, scores

from cxloop.accounts import service as accounts
from cxloop.config import Settings
from cxloop.domain import metrics
from cxloop.web.app import create_app
from cxloop.web.i18n import Formatter

CONTEXT_KEYS = {"page", "filters", "cards", "trend", "breakdowns", "channels", "empty",
                "user", "lang", "fmt", "csrf_token", "language_links"}  # fmt: skip


def test_overview_renders_template_with_context(signed_in: TestClient) -> None:
    response = signed_in.get("/")
    assert response.status_code == 200
    assert response.template.name == "pages/overview.html"  # type: ignore[attr-defined]
    context = response.context  # type: ignore[attr-defined]
    assert set(context) >= CONTEXT_KEYS
    assert context["empty"] is False
    assert [card.metric for card in context["cards"]] == ["nps", "csat", "ces"]
    assert [b.field for b in context["breakdowns"]] == ["channel", "touchpoint"]
    assert [p.period.isoformat() for p in context["trend"]] == [
        "2025-01-01", "2025-02-01", "2025-03-01"
    ]  # fmt: skip


@pytest.mark.parametrize(("metric", "digits"), [("nps", 1), ("csat", 1), ("ces", 2)])
def test_overview_cards_show_reference_values(
    signed_in: TestClient, metric: str, digits: int
) -> None:
    response = signed_in.get("/")
    reference = metrics.compute(metric, scores(metric))
    card = {c.metric: c for c in response.context["cards"]}[metric]  # type: ignore[attr-defined]
    assert card.value == pytest.approx(reference.value)
    assert card.n == reference.n
    shown = Formatter("zh-TW").number(reference.value, digits)
    assert f'data-testid="card-{metric}-value">{shown}' in response.text


def test_overview_channel_filter_changes_cards(signed_in: TestClient) -> None:
    response = signed_in.get("/", params={"channel": "web"})
    card = response.context["cards"][0]  # type: ignore[attr-defined]
    reference = metrics.nps(scores("nps", "web"))
    assert (card.value, card.n) == (pytest.approx(reference.value), reference.n)
    assert 'value="web" selected' in response.text


def test_overview_date_window_compares_with_window_before(
    signed_in: TestClient,
) -> None:
    response = signed_in.get("/", params={"from": "2025-03-01", "to": "2025-03-31"})
    card = response.context["cards"][0]  # type: ignore[attr-defined]
    march = metrics.nps(scores("nps", month="2025-03"))
    assert card.value == pytest.approx(march.value)
    assert card.previous is not None
    assert card.difference == pytest.approx(card.value - card.previous)
    assert 'data-testid="card-nps-change"' in response.text
    for each in response.context["cards"]:  # type: ignore[attr-defined]
        css = f'class="card-change {each.direction} {each.tone}"'
        assert css in response.text
        assert each.tone in {"better", "worse", "flat"}


def test_overview_bad_date_shows_message_not_error(signed_in: TestClient) -> None:
    response = signed_in.get("/", params={"from": "2025-13-45"})
    assert response.status_code == 200
    assert "起始日不是有效的日期" in response.text


def test_overview_htmx_request_returns_dashboard_region(signed_in: TestClient) -> None:
    response = signed_in.get(
        "/", params={"channel": "store"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert 'id="dashboard"' in response.text
    assert 'hx-select="#dashboard"' in response.text


def test_overview_of_empty_store_says_how_to_import(
    sqlite_settings: Settings,
) -> None:
    accounts.create_user(
        settings=sqlite_settings,
        email="a@example.com",
        password=PASSWORD,
        role="viewer",
    )
    with TestClient(create_app(sqlite_settings)) as client:
        sign_in(client, "a@example.com", PASSWORD)
        response = client.get("/")
    assert response.status_code == 200
    assert response.context["empty"] is True  # type: ignore[attr-defined]
    assert "cxloop import feedback FILE" in response.text
    assert 'data-testid="empty-state"' in response.text


def test_hostile_names_in_breakdowns_are_escaped(signed_in: TestClient) -> None:
    body = signed_in.get("/").text
    for hostile in (HOSTILE_TOUCHPOINT, HOSTILE_CHANNEL):
        assert hostile not in body
        assert f"<bdi>{escape(hostile)}</bdi>" in body
    assert "<script>alert(1)" not in body
    assert "<img src=x" not in body
    assert "{{7*7}}" in body  # shown as text, never evaluated
    assert "\u202e" in body  # the bidi mark is kept, isolated by <bdi>


def test_hostile_channel_in_filter_is_escaped(signed_in: TestClient) -> None:
    response = signed_in.get("/", params={"channel": HOSTILE_CHANNEL})
    assert response.status_code == 200
    assert HOSTILE_CHANNEL not in response.text
    card = response.context["cards"][0]  # type: ignore[attr-defined]
    assert card.n == len(scores("nps", HOSTILE_CHANNEL))


def test_trend_data_is_json_that_cannot_close_its_script(signed_in: TestClient) -> None:
    body = signed_in.get("/").text
    data = body.split('id="trend-data">')[1].split("</script>")[0]
    assert "<" not in data


def test_overview_with_channel_and_dates_shows_reference_values(
    signed_in: TestClient,
) -> None:
    response = signed_in.get(
        "/", params={"channel": "store", "from": "2025-02-01", "to": "2025-03-31"}
    )
    context = response.context  # type: ignore[attr-defined]

    def store(metric: str, month: str) -> list[float]:
        return scores(metric, "store", month)

    for card in context["cards"]:
        window = store(card.metric, "2025-02") + store(card.metric, "2025-03")
        reference = metrics.compute(card.metric, window)
        assert (card.value, card.n) == (pytest.approx(reference.value), reference.n)
        before = metrics.compute(card.metric, store(card.metric, "2025-01"))
        assert card.previous == pytest.approx(before.value)
    assert [p.period.isoformat() for p in context["trend"]] == [
        "2025-02-01", "2025-03-01"
    ]  # fmt: skip
    march = context["trend"][1]
    assert march.values["nps"] == pytest.approx(
        metrics.nps(store("nps", "2025-03")).value
    )
    assert march.counts["nps"] == len(store("nps", "2025-03"))
    channels, touchpoints = context["breakdowns"]
    assert [row.key for row in channels.rows] == ["store"]
    assert [row.key for row in touchpoints.rows] == [HOSTILE_TOUCHPOINT]
    assert touchpoints.rows[0].counts == {"nps": 8, "csat": 4, "ces": 4}
