"""The customer pages in a real browser: search, the 360 page, English, a phone, outreach.

The demo company (small) is loaded and scored through the same services the CLI runs
(``cxloop demo``, ``cxloop customers score``), into the store of the running server.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from e2e_pages import sign_in_at, watch
from e2e_server import Server, running_server
from playwright.sync_api import Page, expect

from cxloop.config import Settings
from cxloop.customers.outreach import outreach_list
from cxloop.customers.profiles import score_customers
from cxloop.demo.service import load_demo

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class ScoredServer:
    """A running server whose store holds the small demo company, scored."""

    server: Server
    settings: Settings


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScoredServer]:
    """One server for this module: loading and scoring the demo takes seconds."""
    folder = tmp_path_factory.mktemp("customers")
    with running_server(folder) as server:
        settings = Settings(
            database_url=f"sqlite:///{folder / 'cxloop.db'}",
            analytics_dir=str(folder / "an"),
        )
        assert load_demo(settings=settings, size="small").rejected == 0
        summary = score_customers(settings=settings, language="zh-TW")
        assert summary.churn_auc is not None, summary.notes
        yield ScoredServer(server, settings)


def _riskiest(settings: Settings) -> tuple[str, str]:
    """Name and member id of the first customer on the outreach list."""
    top = outreach_list(settings=settings, min_risk=0.0, limit=1).iloc[0]
    return str(top["name"]), str(top["external_id"])


def test_customer_search_360_and_english(
    page: Page, scored: ScoredServer, artifacts: Path
) -> None:
    server = scored.server
    problems = watch(page, server.url)
    name, member = _riskiest(scored.settings)
    sign_in_at(page, server, "/customers")
    expect(page.get_by_role("heading", level=1)).to_have_text("顧客")
    expect(page.get_by_test_id("value-pyramid")).to_contain_text("頂級顧客")
    page.screenshot(path=artifacts / "customers.png", full_page=True)

    page.get_by_label("姓名、會員編號、電子郵件、電話或顧客編號").fill(name)
    page.get_by_role("button", name="搜尋").click()
    expect(page).to_have_url(re.compile(r"/customers\?q="))
    row = page.get_by_test_id("customer-hits").locator("tr", has_text=member)
    row.get_by_role("link").click()

    expect(page.get_by_test_id("customer-name")).to_have_text(name)
    churn = page.get_by_test_id("customer-churn")
    expect(churn.get_by_role("heading", level=2)).to_have_text("流失風險")
    expect(page.get_by_test_id("churn-risk")).to_have_text(re.compile(r"^\d+%$"))
    expect(page.get_by_test_id("churn-reasons").locator("li").first).to_be_visible()
    events = page.get_by_test_id("timeline").locator("li.event")
    expect(events.first).to_be_visible()
    assert events.count() > 1
    page.screenshot(path=artifacts / "customer360.png", full_page=True)

    page.get_by_role("link", name="English").click()
    expect(churn.get_by_role("heading", level=2)).to_have_text("Churn risk")
    expect(page.get_by_test_id("timeline").get_by_role("heading")).to_have_text(
        "Timeline"
    )
    expect(page.get_by_test_id("churn-reasons")).to_contain_text("risk by")
    page.screenshot(path=artifacts / "customer360-en.png", full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(page.get_by_test_id("customer-churn")).to_be_visible()
    page.screenshot(path=artifacts / "customer360-phone.png", full_page=True)
    assert problems == [], "\n".join(problems)


def _counts(text: str) -> tuple[int, int, int]:
    found = re.search(r"已開立 (\d+) 件.*；(\d+) 位.*共列出 (\d+) 位", text)
    assert found is not None, text
    opened, already, listed = (int(group) for group in found.groups())
    return opened, already, listed


def test_outreach_button_opens_cases(
    page: Page, scored: ScoredServer, artifacts: Path
) -> None:
    server = scored.server
    problems = watch(page, server.url)
    sign_in_at(page, server, "/customers")
    page.goto(f"{server.url}/customers?lang=zh-TW")  # the other test chose English
    page.get_by_label("最低流失風險（0–1）").fill("0.3")
    page.get_by_role("button", name="套用").click()
    listed = page.get_by_test_id("outreach-list").locator("tbody tr").count()
    assert listed > 0
    page.get_by_role("button", name="開立關懷案件").click()
    result = page.get_by_test_id("outreach-result")
    expect(result).to_be_visible()
    opened, already, shown = _counts(result.inner_text())
    assert (opened + already, shown) == (listed, listed)
    assert opened > 0
    page.screenshot(path=artifacts / "customers-outreach.png", full_page=True)
    page.get_by_role("button", name="開立關懷案件").click()
    expect(result).to_contain_text("已開立 0 件關懷案件")
    assert _counts(result.inner_text()) == (0, listed, listed)
    assert problems == [], "\n".join(problems)
