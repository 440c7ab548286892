"""The text analytics page and its service: topics x sentiment, filters, verbatims.

Scores are written into the store directly, in the documented shape of the text stage
(``interaction.topics`` is a JSON list of ``TopicHit.to_json()`` dicts), so these tests
read what the scoring pipeline writes without running the models.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput
from cxloop.store import tables
from cxloop.store.engine import UnitOfWork, make_engine
from cxloop.text.insights import TextFilters, text_insights
from cxloop.text.pipeline import models_for
from cxloop.text.results import TopicHit
from cxloop.text.scoring import text_version
from cxloop.web.ui.text_page import highlight

HOSTILE = '<script>alert("配送")</script><b>配送</b>很慢 {{7*7}}'


@dataclass(frozen=True)
class Scored:
    """One interaction with text and its scores (None: not scored)."""

    day: str
    channel: str
    customer: str | None
    text: str
    language: str | None = None
    sentiment: str | None = None
    hits: tuple[TopicHit, ...] = ()
    keywords: tuple[str, ...] = ()
    emotion: str | None = None
    intent: str | None = None
    scored: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


SCORE = {"positive": 0.8, "neutral": 0.0, "negative": -0.8}
TEXTS = (
    Scored("2025-03-03", "web", "A", "配送太慢了，等了五天才到", "zh-Hant", "negative",
           (TopicHit("delivery", "negative", -0.9, ("配送",)),
            TopicHit("waiting_time", "negative", -0.7, ("等了五天",))),
           ("配送", "太慢"), "frustration", "complaint"),
    Scored("2025-03-10", "app", "B", "店員很親切", "zh-Hant", "positive",
           (TopicHit("staff_attitude", "positive", 0.9, ("店員",)),),
           ("店員", "親切"), "joy", "praise"),
    Scored("2025-04-02", "web", "A", "Fast delivery but rude staff", "en", "negative",
           (TopicHit("delivery", "positive", 0.6, ("delivery",)),
            TopicHit("staff_attitude", "negative", -0.8, ("staff",))),
           ("delivery", "staff"), "anger", "complaint"),
    Scored("2025-04-20", "store", None, "Where is my refund?", "en", "neutral",
           (), ("refund",), "none", "question"),
    Scored("2025-05-05", "web", "B", HOSTILE, "zh-Hant", "negative",
           (TopicHit("delivery", None, None, ("配送",)),), ("配送",), "anger",
           "complaint"),
    Scored("2025-05-06", "app", "C", "Livraison lente", "fr"),
    Scored("2025-05-07", "web", "C", "還沒評分的留言", scored=False),
)  # fmt: skip
CUSTOMERS = {
    "A": ("north", "vip"),
    "B": ("south", "regular"),
    "C": ("north", "regular"),
}


def seed_texts(settings: Settings, texts: tuple[Scored, ...] = TEXTS) -> None:
    """Customers A, B, C (C in the saved segment ``loyal``), then ``texts``."""
    engine = make_engine(settings.database_url)
    try:
        with UnitOfWork(engine).session() as session:
            ids = _customers(session)
            for n, item in enumerate(texts):
                session.add(_interaction(n, item, ids))
            session.add(tables.Interaction(
                occurred_at=datetime(2025, 3, 4, 4, tzinfo=UTC), kind="purchase",
                source="test", external_id="no-text", channel="web",
            ))  # fmt: skip
    finally:
        engine.dispose()


def _customers(session: Any) -> dict[str, int]:
    ids = {}
    for key, (region, segment) in CUSTOMERS.items():
        customer = tables.Customer(external_id=f"M{key}", name=key, region=region,
                                   segment=segment, attributes={})  # fmt: skip
        session.add(customer)
        session.flush()
        ids[key] = customer.id
    saved = tables.Segment(key="loyal", name="Loyal", definition={})
    session.add(saved)
    session.flush()
    session.add(tables.SegmentMember(segment_id=saved.id, customer_id=ids["C"]))
    return ids


def _interaction(n: int, item: Scored, ids: dict[str, int]) -> tables.Interaction:
    at = datetime.fromisoformat(item.day).replace(hour=4, tzinfo=UTC)
    scores: dict[str, Any] = {}
    if item.scored:
        scores = {
            "language": item.language, "sentiment": item.sentiment,
            "sentiment_score": SCORE.get(item.sentiment or ""),
            "topics": [hit.to_json() for hit in item.hits],
            "keywords": list(item.keywords), "emotion": item.emotion,
            "intent": item.intent, "text_scored_at": at + timedelta(hours=1),
        }  # fmt: skip
    return tables.Interaction(
        occurred_at=at, channel=item.channel, kind="comment", source="test",
        external_id=f"t{n}", text=item.text,
        customer_id=ids[item.customer] if item.customer else None, **scores,
    )  # fmt: skip


@pytest.fixture
def text_store(settings: Settings) -> Settings:
    """SQLite and PostgreSQL, each holding :data:`TEXTS`."""
    seed_texts(settings)
    return settings


def _cells(found: Any) -> dict[tuple[str, str], int]:
    return {(r.topic, k): n for r in found.topics for k, n in r.counts.items() if n}


def test_text_insights_count_topics_by_sentiment_on_both_engines(
    text_store: Settings,
) -> None:
    found = text_insights(settings=text_store)
    assert (found.status.texts, found.status.scored, found.texts) == (7, 6, 6)
    assert found.filters.date_from == date(2025, 3, 3)
    assert found.filters.date_to == date(2025, 5, 6)
    assert _cells(found) == {
        ("delivery", "negative"): 2, ("delivery", "positive"): 1,
        ("staff_attitude", "positive"): 1, ("staff_attitude", "negative"): 1,
        ("waiting_time", "negative"): 1,
    }  # fmt: skip
    assert [r.topic for r in found.topics] == [
        "delivery",
        "staff_attitude",
        "waiting_time",
    ]
    assert found.untagged == 2
    assert dict(found.sentiments) == {"negative": 3, "positive": 1, "neutral": 1,
                                      "unrated": 1}  # fmt: skip
    assert found.keywords[0] == ("配送", 2)
    assert dict(found.intents) == {"complaint": 3, "praise": 1, "question": 1}
    assert dict(found.emotions)["anger"] == 2
    assert dict(found.languages) == {"zh-Hant": 3, "en": 2, "fr": 1}


def test_text_insights_see_a_rescore_at_once_though_windows_are_cached(
    text_store: Settings,
) -> None:
    before = text_insights(settings=text_store)
    again = text_insights(settings=text_store, page=1)
    engine = make_engine(text_store.database_url)
    try:
        with engine.begin() as connection:  # a rescore: new scores, a new scoring time
            connection.execute(
                update(tables.Interaction)
                .where(tables.Interaction.text_scored_at.is_not(None))
                .values(sentiment="positive", text_scored_at=datetime.now(UTC))
            )
    finally:
        engine.dispose()

    after = text_insights(settings=text_store)

    assert again.sentiments == before.sentiments
    assert dict(before.sentiments)["negative"] == 3
    assert dict(after.sentiments) == {"positive": after.texts}
    assert after.texts == before.texts == 6


def _stamp_version(
    settings: Settings, version: str, *, text: str | None = None
) -> None:
    """Mark scored rows (all, or the one with ``text``) as scored by ``version``."""
    rows = tables.Interaction.text_scored_at.is_not(None)
    if text is not None:
        rows = rows & (tables.Interaction.text == text)
    engine = make_engine(settings.database_url)
    try:
        with engine.begin() as connection:  # a rescore writes a new time with it
            connection.execute(update(tables.Interaction).where(rows).values(
                text_version=version, text_scored_at=datetime.now(UTC)))  # fmt: skip
    finally:
        engine.dispose()


def test_text_insights_count_the_texts_scored_by_other_models(
    text_store: Settings,
) -> None:
    before = text_insights(settings=text_store)
    assert before.status.stale == before.status.scored == 6  # no version written
    current = text_version(models_for(text_store))
    _stamp_version(text_store, current, text="Where is my refund?")
    assert text_insights(settings=text_store).status.stale == 5
    _stamp_version(text_store, "text-older")
    assert text_insights(settings=text_store).status.stale == 6
    _stamp_version(text_store, current)
    after = text_insights(settings=text_store)
    assert (after.status.stale, after.status.scored, after.status.pending) == (0, 6, 1)


def test_text_insights_trend_counts_topics_per_month(text_store: Settings) -> None:
    trend = text_insights(settings=text_store, period="month").trend
    assert trend.periods == (date(2025, 3, 1), date(2025, 4, 1), date(2025, 5, 1))
    assert trend.texts == (2, 2, 2)
    assert dict(trend.series)["delivery"] == (1, 1, 1)
    assert dict(trend.series)["waiting_time"] == (1, 0, 0)
    weekly = text_insights(settings=text_store, period="week").trend
    assert weekly.periods[0] == date(2025, 3, 3)
    assert sum(weekly.texts) == 6


@pytest.mark.parametrize(
    ("filters", "texts", "delivery"),
    [
        (TextFilters(where={"channel": "web"}), 3, 3),
        (TextFilters(where={"region": "north"}), 3, 2),
        (TextFilters(where={"segment": "regular", "channel": "app"}), 2, 0),
        (TextFilters(where={"in_segment": "loyal"}), 1, 0),
        (TextFilters(language="en"), 2, 1),
        (TextFilters(date_from=date(2025, 4, 1), date_to=date(2025, 4, 30)), 2, 1),
    ],
)
def test_text_insights_filters_change_the_counts(
    text_store: Settings, filters: TextFilters, texts: int, delivery: int
) -> None:
    found = text_insights(settings=text_store, filters=filters)
    assert found.texts == texts
    assert sum(n for (t, _), n in _cells(found).items() if t == "delivery") == delivery


def test_verbatims_of_a_cell_are_newest_first_with_their_matches(
    text_store: Settings,
) -> None:
    found = text_insights(settings=text_store, topic="delivery", sentiment="negative")
    page = found.verbatims
    assert page.total == 2 == found.topics[0].counts["negative"]
    assert [v.text for v in page.items] == [HOSTILE, "配送太慢了，等了五天才到"]
    assert page.items[0].matches == ("配送",)
    assert page.items[0].customer_ref == "MB"
    assert page.items[1].topics == (("delivery", "negative"),
                                    ("waiting_time", "negative"))  # fmt: skip
    second = text_insights(settings=text_store, page=2, per_page=4).verbatims
    assert (second.page, second.pages, len(second.items)) == (2, 2, 2)
    assert second.items[-1].text == "配送太慢了，等了五天才到"


def test_text_insights_refuse_an_unknown_sentiment_and_reversed_dates(
    text_store: Settings,
) -> None:
    with pytest.raises(InvalidInput, match="unknown sentiment"):
        text_insights(settings=text_store, sentiment="angry")
    with pytest.raises(InvalidInput, match="before"):
        TextFilters(date_from=date(2025, 5, 1), date_to=date(2025, 4, 1))


def test_highlight_escapes_script_before_marking_matches() -> None:
    html = str(highlight('<script>alert("配送")</script>', ["配送", "script"]))
    assert "<script" not in html
    assert html == (
        "&lt;<mark>script</mark>&gt;alert(&#34;<mark>配送</mark>&#34;)"
        "&lt;/<mark>script</mark>&gt;"
    )


def test_highlight_never_splits_a_character_reference() -> None:
    html = str(highlight("<b>lt & amp</b> 34", ["lt", "amp", "34", "b>"]))
    assert html == (
        "&lt;<mark>b&gt;</mark><mark>lt</mark> &amp; <mark>amp</mark>&lt;/"
        "<mark>b&gt;</mark> <mark>34</mark>"
    )
    assert str(highlight("a < b", [])) == "a &lt; b"


def test_highlight_marks_only_the_customers_turns_of_a_transcript() -> None:
    chat = (
        "顧客：換手機後 App 無法登入，客服也說不清楚。\n客服：已為您記錄 <b>App</b>。"
    )
    html = str(highlight(chat, ["客服", "App"]))
    assert html == (
        "顧客：換手機後 <mark>App</mark> 無法登入，<mark>客服</mark>也說不清楚。\n"
        "客服：已為您記錄 &lt;b&gt;App&lt;/b&gt;。"
    )
    review = "客服很親切 & App 好用"  # not a transcript: marked throughout
    assert str(highlight(review, ["客服", "App"])) == (
        "<mark>客服</mark>很親切 &amp; <mark>App</mark> 好用"
    )


@pytest.fixture
def web_settings(sqlite_settings: Settings) -> Settings:
    """The web tests' store: :data:`TEXTS` (replaces the answers of conftest)."""
    seed_texts(sqlite_settings)
    return sqlite_settings


def _count(html: str, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}">([^<]*)<', html)
    assert found is not None, f"no {testid} in the page"
    return found.group(1)


def test_text_page_shows_hostile_text_escaped_with_marks(signed_in: TestClient) -> None:
    response = signed_in.get("/text?topic=delivery&sentiment=negative&lang=en")
    assert response.status_code == 200
    assert response.template.name == "text/text.html"  # type: ignore[attr-defined]
    html = response.text
    assert "<script>alert" not in html
    assert "<b>配送" not in html
    assert "&lt;b&gt;<mark>配送</mark>&lt;/b&gt;" in html
    assert "{{7*7}}" in html
    assert _count(html, "verbatims-total") == "2"
    assert html.count('data-testid="verbatim"') == 2


def test_a_broken_taxonomy_file_leaves_the_text_insights_working(
    text_store: Settings, tmp_path: Path
) -> None:
    bad = tmp_path / "taxonomy.yaml"
    bad.write_text("topics: [\n", encoding="utf-8")
    found = text_insights(settings=text_store.model_copy(update={"taxonomy_path": str(bad)}))  # fmt: skip
    assert (found.status.scored, found.status.stale) == (6, 0)  # no current version
    assert found.texts == 6


def test_text_page_asks_for_a_rescore_after_a_model_or_taxonomy_change(
    signed_in: TestClient, web_settings: Settings
) -> None:
    _stamp_version(web_settings, "text-older")
    html = signed_in.get("/text?lang=en").text
    assert "another taxonomy than the current ones: 6 texts" in " ".join(html.split())
    assert "cxloop text rescore" in html
    _stamp_version(web_settings, text_version(models_for(web_settings)))
    assert 'data-testid="stale"' not in signed_in.get("/text?lang=en").text


def test_text_page_filters_change_the_counts(signed_in: TestClient) -> None:
    assert _count(signed_in.get("/text").text, "texts-count") == "6"
    assert _count(signed_in.get("/text?channel=web").text, "texts-count") == "3"
    assert _count(signed_in.get("/text?region=north").text, "texts-count") == "3"
    html = signed_in.get("/text?text_language=en&lang=en").text
    assert _count(html, "texts-count") == "2"
    assert 'data-testid="cell-delivery-positive">1<' in html


def test_text_page_names_bad_filters_and_keeps_working(signed_in: TestClient) -> None:
    html = signed_in.get("/text?from=someday&period=year&lang=en").text
    assert "The start date is not a valid date." in html
    assert "That period is not known." in html
    assert _count(html, "texts-count") == "6"
    html = signed_in.get("/text?no_such_key=1&lang=en").text
    assert _count(html, "texts-count") == "6"


def test_text_page_in_chinese_has_the_nav_link_and_topic_names(
    signed_in: TestClient,
) -> None:
    html = signed_in.get("/text?lang=zh-TW").text
    assert '<a href="/text" aria-current="page">文字分析</a>' in html
    assert "<h1>文字分析</h1>" in html
    assert "<bdi>配送物流</bdi>" in html
    assert "<bdi>人員態度</bdi>" in html
    assert "負面" in html


def test_text_page_says_how_to_score_when_nothing_is_scored(
    client: TestClient, user: Any, sqlite_settings: Settings
) -> None:
    from web_client import PASSWORD, sign_in

    assert sign_in(client, user.email, PASSWORD).status_code == 303
    engine = make_engine(sqlite_settings.database_url)
    with engine.begin() as connection:
        connection.execute(update(tables.Interaction).values(
            text_scored_at=None, topics=None, sentiment=None))  # fmt: skip
    engine.dispose()
    html = client.get("/text?lang=en").text
    assert "Nothing is scored yet" in html
    assert "waiting to be scored for language, sentiment, topics and intent: 7." in html
    assert "cxloop text rescore" in html
    assert 'id="text-charts"' not in html


def test_text_page_requires_login_when_signed_out(client: TestClient) -> None:
    response = client.get("/text?channel=web", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Ftext%3Fchannel%3Dweb"
