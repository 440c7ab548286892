"""The text stage of the store: score_pending (the worker step) and rescore."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.loop.worker import run_pass
from cxloop.store.engine import engine_for
from cxloop.store.tables import Interaction
from cxloop.text.pipeline import rescore, score_backlog, score_pending

NOW = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
TEXTS = {
    "hant": "外送慢了一個多小時，餐點都冷掉了，客服態度又很差，非常失望",
    "en": "The staff were friendly and the room was spotless. Great value!",
    "emoji": "👍👍👍",
    "none": None,
}
TAXONOMY = """\
use_model: false
topics:
  - key: parking
    name: {zh-TW: 停車, en: Parking}
    keywords:
      zh: [停車場]
      en: [room]
"""


def _insert(settings: Settings, texts: dict[str, str | None]) -> None:
    with Session(engine_for(settings.database_url)) as session:
        session.add_all(
            Interaction(occurred_at=NOW, kind="feedback", source="test",
                        external_id=key, text=text)
            for key, text in texts.items()
        )  # fmt: skip
        session.commit()


def _rows(settings: Settings) -> dict[str, Interaction]:
    with Session(engine_for(settings.database_url)) as session:
        rows = session.scalars(select(Interaction)).all()
        return {row.external_id: row for row in rows}


def test_score_pending_fills_the_columns_and_sets_text_scored_at(
    settings: Settings,
) -> None:
    _insert(settings, TEXTS)
    done = score_pending(settings=settings, now=NOW)
    assert (done.scored, done.unsupported, done.remaining) == (3, 1, 0)
    rows = _rows(settings)
    hant, en, emoji = rows["hant"], rows["en"], rows["emoji"]
    assert (hant.language, hant.sentiment) == ("zh-Hant", "negative")
    assert hant.sentiment_score is not None
    assert hant.sentiment_score < 0
    assert hant.topics
    assert "delivery" in {hit["topic"] for hit in hant.topics}
    assert isinstance(hant.keywords, list)
    assert hant.keywords
    assert hant.intent is not None
    assert (en.language, en.sentiment) == ("en", "positive")
    assert (emoji.language, emoji.sentiment, emoji.topics) == ("und", None, None)
    for row in (hant, en, emoji):
        assert row.text_scored_at == NOW
        assert row.text_version == done.text_version
    assert rows["none"].text_scored_at is None


def test_score_pending_does_nothing_on_a_second_pass(settings: Settings) -> None:
    _insert(settings, TEXTS)
    score_pending(settings=settings, now=NOW)
    later = datetime(2025, 3, 5, tzinfo=UTC)
    again = score_pending(settings=settings, now=later)
    assert (again.scored, again.remaining) == (0, 0)
    assert {row.text_scored_at for row in _rows(settings).values()} == {NOW, None}


def test_score_pending_stops_at_the_limit_and_counts_the_rest(
    settings: Settings,
) -> None:
    _insert(settings, TEXTS)
    first = score_pending(settings=settings, limit=2, now=NOW)
    assert (first.scored, first.remaining) == (2, 1)
    second = score_pending(settings=settings, limit=2, now=NOW)
    assert (second.scored, second.remaining) == (1, 0)


def test_score_backlog_scores_every_new_text_with_progress(settings: Settings) -> None:
    _insert(settings, TEXTS)
    seen: list[tuple[int, int]] = []
    done = score_backlog(settings=settings, progress=lambda n, t: seen.append((n, t)))
    assert (done.scored, done.remaining) == (3, 0)
    assert seen[-1] == (3, 3)
    assert score_backlog(settings=settings).scored == 0


def test_rescore_scores_everything_again_with_a_new_taxonomy(
    settings: Settings, tmp_path: Path
) -> None:
    _insert(settings, TEXTS)
    first = score_pending(settings=settings, now=NOW)
    path = tmp_path / "taxonomy.yaml"
    path.write_text(TAXONOMY, encoding="utf-8")
    changed = settings.model_copy(update={"taxonomy_path": str(path)})
    seen: list[tuple[int, int]] = []
    done = rescore(settings=changed, progress=lambda n, total: seen.append((n, total)))
    assert (done.scored, done.remaining) == (3, 0)
    assert seen[-1] == (3, 3)
    assert done.text_version != first.text_version
    rows = _rows(settings)
    assert rows["en"].topics is not None
    assert [hit["topic"] for hit in rows["en"].topics] == ["parking"]
    assert rows["hant"].topics == []
    assert {rows[k].text_version for k in ("hant", "en", "emoji")} == {
        done.text_version
    }
    assert rows["en"].text_scored_at is not None
    assert rows["en"].text_scored_at > NOW


def test_worker_pass_scores_new_texts_first(sqlite_settings: Settings) -> None:
    _insert(sqlite_settings, {"a": "客服回覆很快，謝謝", "b": "great support"})
    done = run_pass(settings=sqlite_settings, now=NOW)
    assert "text" not in done.errors
    assert done.results["text"].scored == 2
    assert all(row.text_scored_at == NOW for row in _rows(sqlite_settings).values())
