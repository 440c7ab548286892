"""The survey builder in a real browser: build a zh-TW NPS survey with a conditional
follow-up, see it listed, and read its results page (charts drawn, text escaped)."""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e_pages import sign_in_at, watch
from e2e_server import Server
from playwright.sync_api import Page, expect

from cxloop.config import Settings
from cxloop.surveys.definitions import get_survey
from cxloop.surveys.responses import new_submission_key, submit_response

pytestmark = pytest.mark.e2e
HOSTILE = "<img src=x onerror=alert(1)>排隊太久"


def _build(page: Page) -> None:
    page.get_by_test_id("new-survey").click()
    page.get_by_label("問卷代碼").fill("store-nps")
    page.get_by_label("名稱（繁體中文）").fill("門市關係型 NPS")
    page.get_by_label("名稱（英文）").fill("Store NPS")
    first = page.get_by_test_id("question-0")
    first.get_by_label("題目（繁體中文）").fill("您有多大可能向親友推薦我們的門市？")
    first.get_by_label("必答").check()
    expect(first.get_by_label("選項，每行一個", exact=False)).to_be_hidden()
    page.get_by_label("新題目的題型").select_option("text")
    page.get_by_test_id("add-question").click()
    second = page.get_by_test_id("question-1")
    expect(second).to_be_visible()
    expect(first.get_by_label("題目（繁體中文）")).to_have_value(
        "您有多大可能向親友推薦我們的門市？"
    )
    second.get_by_label("題目代碼").fill("improve")
    second.get_by_label("題目（繁體中文）").fill("我們該改進什麼？")
    second.get_by_text("只在前面的回答符合條件時顯示").click()
    second.get_by_label("前面題目的代碼").fill("nps")
    second.get_by_label("至多為").fill("6")
    page.get_by_test_id("save-survey").click()


def test_build_a_survey_then_read_its_results(
    page: Page, cxloop_server: Server, tmp_path: Path, artifacts: Path
) -> None:
    problems = watch(page, cxloop_server.url)
    sign_in_at(page, cxloop_server, "/surveys")
    _build(page)
    expect(page).to_have_url(f"{cxloop_server.url}/surveys/store-nps")
    expect(page.get_by_test_id("survey-title")).to_have_text("門市關係型 NPS")

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'cxloop.db'}",
                        analytics_dir=str(tmp_path / "an"))  # fmt: skip
    record = get_survey(settings=settings, key="store-nps")
    assert record.spec.questions[1].show_if is not None
    for score, text in (("3", HOSTILE), ("10", ""), ("9", ""), ("6", "店員很忙")):
        submit_response(settings=settings, answers={"nps": score, "improve": text},
                        submission_key=new_submission_key(),
                        public_token=record.public_token)  # fmt: skip

    page.goto(f"{cxloop_server.url}/surveys")
    expect(page.get_by_test_id("survey-store-nps")).to_contain_text("門市關係型 NPS")
    page.get_by_test_id("survey-store-nps").get_by_role("link", name="結果").click()
    expect(page.get_by_test_id("public-link")).to_have_value(
        f"http://127.0.0.1:8000/s/{record.public_token}"
    )
    expect(page.get_by_test_id("score-nps")).to_have_text("0.0")
    expect(page.get_by_test_id("completion-rate")).to_have_text("100.0%")
    expect(page.locator("#dist-nps svg")).to_be_visible()
    expect(page.locator("#timeline-chart svg")).to_be_visible()
    expect(page.get_by_test_id("verbatims")).to_contain_text(HOSTILE)
    assert page.locator("img[src=x]").count() == 0
    page.screenshot(path=artifacts / "survey-results.png", full_page=True)
    page.goto(f"{cxloop_server.url}/surveys/store-nps/edit")
    page.screenshot(path=artifacts / "survey-builder.png", full_page=True)
    assert problems == [], "\n".join(problems)
