"""The text analytics page in a real browser: charts drawn, filters, hostile verbatims.

Scored texts are written into the running server's store in the documented shape of
the text stage (``interaction.topics`` holds ``TopicHit.to_json()`` dicts).
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from e2e_pages import sign_in_at, watch
from e2e_server import Server, running_server
from playwright.sync_api import Dialog, Page, expect

from cxloop.config import Settings
from cxloop.store import tables
from cxloop.store.engine import UnitOfWork, make_engine
from cxloop.text.results import TopicHit

pytestmark = pytest.mark.e2e

HOSTILE = '<script>alert("配送")</script><img src=x onerror=alert(1)>配送太慢'
#: (topic, sentiment, text, matched words, channel)
SAMPLES = (
    ("delivery", "negative", "配送遲到了三天，等了好久才收到。", ("配送",), "web"),
    ("delivery", "positive", "隔天就到貨，配送很快。", ("到貨", "配送"), "app"),
    ("staff_attitude", "negative", "店員態度很差，問問題愛理不理。", ("店員",), "store"),
    ("staff_attitude", "positive", "Friendly staff, they helped me a lot.", ("staff",), "store"),
    ("price_value", "negative", "最近漲價太多了，不划算。", ("漲價",), "web"),
    ("app_website", "negative", "App 一直閃退，無法登入。", ("App", "登入"), "app"),
    ("waiting_time", "neutral", "排隊大約十分鐘。", ("排隊",), "store"),
)  # fmt: skip
SCORES = {"positive": 0.8, "neutral": 0.0, "negative": -0.8}


def seed_scored_texts(settings: Settings, count: int = 240) -> None:
    """``count`` scored texts over six months (deterministic) and one hostile text."""
    draw = random.Random(7)  # noqa: S311 - reproducible test data
    first = datetime(2025, 4, 1, 4, tzinfo=UTC)
    ids = itertools.count(1)
    engine = make_engine(settings.database_url)
    try:
        with UnitOfWork(engine).session() as session:
            for _ in range(count):
                topic, sentiment, text, words, channel = draw.choice(SAMPLES)
                at = first + timedelta(
                    days=draw.randrange(180), hours=draw.randrange(10)
                )
                session.add(_scored(next(ids), at, channel, text, sentiment,
                                    TopicHit(topic, sentiment, SCORES[sentiment], words)))  # fmt: skip
            hostile = TopicHit("delivery", "negative", -0.9, ("配送",))
            session.add(_scored(next(ids), first + timedelta(days=179, hours=12),
                                "web", HOSTILE, "negative", hostile))  # fmt: skip
    finally:
        engine.dispose()


def _scored(
    n: int, at: datetime, channel: str, text: str, sentiment: str, hit: TopicHit
) -> tables.Interaction:
    language = "en" if text.isascii() else "zh-Hant"
    return tables.Interaction(
        occurred_at=at, channel=channel, kind="comment", source="e2e-text",
        external_id=f"text{n}", text=text, language=language, sentiment=sentiment,
        sentiment_score=SCORES[sentiment], topics=[hit.to_json()],
        keywords=list(hit.matches), emotion="anger" if sentiment == "negative" else "joy",
        intent="complaint" if sentiment == "negative" else "praise",
        text_scored_at=at + timedelta(minutes=5),
    )  # fmt: skip


@pytest.fixture
def text_server(tmp_path: Path) -> Iterator[Server]:
    with running_server(tmp_path) as server:
        seed_scored_texts(
            Settings(database_url=f"sqlite:///{tmp_path / 'cxloop.db'}",
                     analytics_dir=str(tmp_path / "an"))
        )  # fmt: skip
        yield server


def test_text_page_draws_charts_filters_and_escapes_verbatims(
    page: Page, text_server: Server, artifacts: Path
) -> None:
    problems = watch(page, text_server.url)
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    sign_in_at(page, text_server, "/text")
    expect(page.get_by_role("heading", level=1)).to_have_text("文字分析")
    expect(page.locator("#topics-chart canvas")).to_have_count(1)
    expect(page.locator("#topic-trend-chart canvas")).to_have_count(1)
    expect(page.get_by_test_id("texts-count")).to_have_text("241")
    page.screenshot(path=artifacts / "text-page-zh-TW.png", full_page=True)

    page.get_by_test_id("cell-delivery-negative").click()
    first = page.get_by_test_id("verbatim-text").first
    expect(first).to_contain_text('<script>alert("配送")</script>')
    expect(first.locator("mark").first).to_have_text("配送")
    expect(page.locator(".verbatim-text img")).to_have_count(0)
    page.screenshot(path=artifacts / "text-page-verbatims.png", full_page=True)

    page.get_by_role("link", name="English").click()
    page.get_by_label("Channel", exact=True).select_option("store")
    expect(page).to_have_url(re.compile(r"channel=store"))
    expect(page.locator("#topics-chart canvas")).to_have_count(1)
    count = int(page.get_by_test_id("texts-count").inner_text().replace(",", ""))
    assert 0 < count < 241
    page.screenshot(path=artifacts / "text-page-en-store.png", full_page=True)
    assert dialogs == []
    assert problems == [], "\n".join(problems)
