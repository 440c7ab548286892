"""`text rescore --spark`: the stored texts scored on Spark, as one process scores them.

The local Spark session (two cores) is the `spark` fixture of tests/conftest.py; the
store is a real SQLite file and a real PostgreSQL database (the `settings` fixture).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cxloop.cli import app
from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput
from cxloop.store.engine import engine_for
from cxloop.store.tables import Interaction
from cxloop.text.pipeline import rescore, score_pending
from cxloop.text.spark_rescore import id_ranges, rescore_on_spark
from scripts.text_models.corpora import load_corpus
from tests.spark_warnings import SPARK_WARNINGS

pytestmark = SPARK_WARNINGS

NOW = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
EXTRA = ["The staff were friendly and the room was spotless.", "👍👍👍", "一般般吧",
         "<script>alert(1)</script> 退款一直沒下來", None]  # fmt: skip
SCORES = ("language", "sentiment", "sentiment_score", "emotion", "emotion_confidence",
          "topics", "intent", "intent_confidence", "keywords", "text_version")  # fmt: skip
runner = CliRunner()


def _insert(settings: Settings, texts: list[str | None]) -> None:
    with Session(engine_for(settings.database_url)) as session:
        session.add_all(
            Interaction(occurred_at=NOW, kind="feedback", source="test",
                        external_id=f"t{i}", text=text)
            for i, text in enumerate(texts)
        )  # fmt: skip
        session.commit()


def _scores(settings: Settings) -> dict[str, tuple[Any, ...]]:
    with Session(engine_for(settings.database_url)) as session:
        rows = session.scalars(select(Interaction)).all()
        return {row.external_id: tuple(getattr(row, n) for n in SCORES) for row in rows}


def _forget_scores(settings: Settings) -> None:
    values = dict.fromkeys(SCORES) | {"text_scored_at": None}
    with engine_for(settings.database_url).begin() as conn:
        conn.execute(update(Interaction).values(values))


def _texts(shared_data: Path, n: int) -> list[str | None]:
    corpus = load_corpus("waimai_10k", shared_data)
    return [*corpus.test_texts[:: len(corpus.test_texts) // n][:n], *EXTRA]


def test_id_ranges_cover_every_id_once() -> None:
    for low, high, pieces in ((1, 10, 3), (5, 5, 4), (1, 1000, 8), (3, 7, 100)):
        ranges = id_ranges(low, high, pieces)
        ids = [i for first, last in ranges for i in range(first, last + 1)]
        assert ids == list(range(low, high + 1))
        assert len(ranges) == min(pieces, high - low + 1)


def test_spark_rescore_gives_every_stored_text_the_scores_one_process_gives(
    spark: Any, settings: Settings, shared_data: Path
) -> None:
    texts = _texts(shared_data, 60)
    _insert(settings, texts)
    local = rescore(settings=settings)
    expected = _scores(settings)
    _forget_scores(settings)
    done = rescore_on_spark(spark, settings=settings, partitions=5)
    assert (done.scored, done.unsupported, done.remaining) == (len(texts) - 1, 1, 0)
    assert done.text_version == local.text_version
    got = _scores(settings)
    assert got == expected
    assert got["t60"][:2] == ("en", "positive")
    assert got["t62"][:2] == ("zh-Hant", "neutral")  # the middling rule runs there too
    assert got["t64"] == (None,) * len(SCORES)  # no text, nothing to score


def test_spark_rescore_only_new_leaves_scored_texts_alone(
    spark: Any, settings: Settings, shared_data: Path
) -> None:
    _insert(settings, _texts(shared_data, 20))
    first = score_pending(settings=settings, limit=8, now=NOW)
    assert (first.scored, first.remaining) == (8, 16)
    done = rescore_on_spark(spark, settings=settings, only_new=True, partitions=3)
    assert (done.scored, done.remaining) == (16, 0)
    with Session(engine_for(settings.database_url)) as session:
        rows = session.scalars(select(Interaction).order_by(Interaction.id)).all()
        stamps = [row.text_scored_at for row in rows if row.text is not None]
    assert [s.replace(tzinfo=UTC) if s.tzinfo is None else s for s in stamps[:8]] == [NOW] * 8  # fmt: skip
    assert all(stamp is not None and stamp.replace(tzinfo=UTC) > NOW for stamp in stamps[8:])  # fmt: skip


def test_spark_rescore_of_an_empty_store_scores_nothing(spark: Any, settings: Settings) -> None:  # fmt: skip
    done = rescore_on_spark(spark, settings=settings)
    assert (done.scored, done.unsupported, done.remaining) == (0, 0, 0)


def test_cli_rescore_spark_prints_what_it_did(spark: Any, cli_settings: Settings) -> None:  # fmt: skip
    _insert(cli_settings, ["外送慢了一個多小時，餐點都冷掉了", "Great value!", "😀"])
    result = runner.invoke(app, ["text", "rescore", "--spark", "--master", "local[2]",
                                 "--partitions", "2", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert (summary["scored"], summary["unsupported"], summary["remaining"]) == (
        3,
        1,
        0,
    )
    assert _scores(cli_settings)["t0"][:2] == ("zh-Hant", "negative")
    result = runner.invoke(app, ["text", "rescore", "--partitions", "2"])
    assert isinstance(result.exception, InvalidInput)
    assert "--master and --partitions need --spark" in str(result.exception)
