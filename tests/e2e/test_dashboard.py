"""The dashboard in a real browser: sign in, read NPS, switch to English, filter."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from e2e_server import EMAIL, PASSWORD, Answer, Server
from playwright.sync_api import ConsoleMessage, Page, Request, expect

from cxloop.domain import metrics
from cxloop.web.i18n import Formatter

pytestmark = pytest.mark.e2e


def _nps_text(answers: list[Answer], language: str, channel: str | None = None) -> str:
    scores = [a.score for a in answers
              if a.metric == "nps" and (channel is None or a.channel == channel)]  # fmt: skip
    return Formatter(language).number(metrics.nps(scores).value, 1)


class Watcher:
    """Collects console errors, page errors and requests that leave the server."""

    def __init__(self, page: Page, base_url: str) -> None:
        self.problems: list[str] = []
        self.base_url = base_url
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("request", self._request)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            self.problems.append(f"console {message.type}: {message.text}")

    def _request(self, request: Request) -> None:
        if not request.url.startswith((self.base_url, "data:")):
            self.problems.append(f"request outside the server: {request.url}")


def _sign_in(page: Page, server: Server, screenshot: Path | None = None) -> None:
    page.goto(f"{server.url}/")
    expect(page).to_have_url(f"{server.url}/login?next=%2F")
    if screenshot is not None:
        page.screenshot(path=screenshot, full_page=True)
    page.get_by_label("電子郵件").fill(EMAIL)
    page.get_by_label("密碼").fill(PASSWORD)
    page.get_by_role("button", name="登入").click()
    expect(page).to_have_url(f"{server.url}/")


def test_dashboard_sign_in_language_and_channel_filter(
    page: Page, cxloop_server: Server, artifacts: Path
) -> None:
    server = cxloop_server
    watcher = Watcher(page, server.url)
    _sign_in(page, server, screenshot=artifacts / "login-zh-TW.png")

    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("顧客體驗總覽")
    nps_value = page.get_by_test_id("card-nps-value")
    expect(nps_value).to_have_text(_nps_text(server.answers, "zh-TW"))
    expect(page.get_by_test_id("card-nps")).to_contain_text("淨推薦值")
    expect(page.locator("#trend-chart canvas")).to_have_count(1)
    page.screenshot(path=artifacts / "overview-zh-TW.png", full_page=True)

    page.get_by_role("link", name="English").click()
    expect(heading).to_have_text("Customer experience overview")
    expect(page.get_by_test_id("card-nps")).to_contain_text("Net Promoter Score")

    page.get_by_label("Channel", exact=True).select_option("store")
    first, last = min(a.day for a in server.answers), max(a.day for a in server.answers)
    expect(page).to_have_url(f"{server.url}/?from={first}&to={last}&channel=store")
    expect(nps_value).to_have_text(_nps_text(server.answers, "en", "store"))
    expect(page.get_by_test_id("window")).to_contain_text("Store")
    expect(page.locator("#trend-chart canvas")).to_have_count(1)
    page.screenshot(path=artifacts / "overview-en-store.png", full_page=True)

    page.reload()
    expect(heading).to_have_text("Customer experience overview")
    expect(nps_value).to_have_text(_nps_text(server.answers, "en", "store"))
    assert watcher.problems == [], "\n".join(watcher.problems)


def test_dashboard_on_a_phone_and_api_docs(
    page: Page, cxloop_server: Server, artifacts: Path
) -> None:
    server = cxloop_server
    watcher = Watcher(page, server.url)
    page.set_viewport_size({"width": 390, "height": 844})
    _sign_in(page, server)
    expect(page.get_by_test_id("card-ces")).to_be_visible()
    page.screenshot(path=artifacts / "overview-phone.png", full_page=True)

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{server.url}/?from=2025-08-01&to=2025-09-27")
    expect(page.get_by_test_id("card-nps-change")).to_contain_text("較前期")
    expect(page.get_by_test_id("card-nps-change").locator(".badge")).to_have_text(
        re.compile("^(顯著|不顯著)$")
    )
    page.screenshot(path=artifacts / "overview-window.png", full_page=True)

    page.get_by_role("link", name="API").click()
    expect(page.locator(".swagger-ui .opblock-summary-path").first).to_be_visible()
    expect(page.get_by_text("/api/v1/metrics/{name}")).to_be_visible()
    page.screenshot(path=artifacts / "api-docs.png", full_page=True)
    assert watcher.problems == [], "\n".join(watcher.problems)
