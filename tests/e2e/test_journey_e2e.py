"""The journey page in a real browser: the map of the demo company, its worst
touchpoint (台中公益店, the store with poor staff attitude), the charts, a phone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_pages import sign_in_at, watch
from e2e_server import Server, running_server
from playwright.sync_api import Page, expect

from cxloop.config import Settings
from cxloop.demo.company import RUDE_STORE
from cxloop.demo.service import load_demo

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A running server whose store holds the small demo company."""
    folder = tmp_path_factory.mktemp("journeys")
    with running_server(folder) as server:
        settings = Settings(
            database_url=f"sqlite:///{folder / 'cxloop.db'}",
            analytics_dir=str(folder / "an"),
        )
        assert load_demo(settings=settings, size="small").rejected == 0
        yield server


def test_journey_map_marks_the_rude_store_worst(
    page: Page, demo_server: Server, artifacts: Path
) -> None:
    problems = watch(page, demo_server.url)
    sign_in_at(page, demo_server, "/journeys")
    expect(page.get_by_role("heading", level=1)).to_have_text("零售顧客旅程")
    first = page.get_by_test_id("worst-row").first
    expect(first).to_contain_text(RUDE_STORE)
    worst_cell = page.locator("[data-testid=cell][data-worst='1']")
    expect(worst_cell).to_contain_text(RUDE_STORE)
    expect(worst_cell).to_contain_text("最差第 1 名")
    expect(page.locator("#curve-chart svg")).to_be_visible()
    expect(page.locator("#sankey-chart svg")).to_be_visible()
    expect(page.get_by_test_id("export-png")).to_be_visible()
    page.screenshot(path=artifacts / "journey.png", full_page=True)

    page.get_by_label("通路").select_option("store")
    page.get_by_role("button", name="套用").click()
    expect(page.locator("[data-testid=cell][data-worst='1']")).to_contain_text(
        RUDE_STORE
    )
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Journey map")).to_be_visible()

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{demo_server.url}/journeys?lang=zh-TW")
    expect(page.get_by_test_id("journey-map")).to_be_visible()
    page.screenshot(path=artifacts / "journey-phone.png", full_page=True)
    assert problems == [], "\n".join(problems)


def test_blueprint_edit_is_saved_and_exported(page: Page, demo_server: Server) -> None:
    problems = watch(page, demo_server.url)
    sign_in_at(page, demo_server, "/journeys")
    box = page.get_by_label("前台 · 配送")
    box.fill("出貨簡訊附上預計到貨時間")
    page.get_by_role("button", name="儲存服務藍圖").click()
    expect(page.get_by_text("服務藍圖已儲存。")).to_be_visible()
    expect(page.get_by_label("前台 · 配送")).to_have_value("出貨簡訊附上預計到貨時間")
    with page.expect_download() as info:
        page.get_by_test_id("export-blueprint").click()
    text = Path(info.value.path()).read_text(encoding="utf-8")
    assert "出貨簡訊附上預計到貨時間" in text
    assert problems == [], "\n".join(problems)
