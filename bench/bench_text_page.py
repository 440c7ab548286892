"""How fast the text page's numbers come: ``text_insights`` on the full demo company.

Loads the full demo company (``cxloop demo``, seed 42) into an SQLite file under
``bench/out/`` (or reuses it), writes deterministic text scores into every interaction
with text (a rule filler in the documented JSON shape, so the bench does not wait for or
depend on the shipped models), then times:

- cxloop ``text_insights`` (topics x sentiment, trend, keywords, emotions, intents,
  languages and a page of verbatims), median of 5, unfiltered and with a channel and a
  customer cut;
- the peer: topics x sentiment alone, as one plain SQLite ``GROUP BY`` over
  ``json_each(topics)`` on the same file.

Both must agree on the topics x sentiment counts. ``--postgres URL`` runs cxloop on a
PostgreSQL copy too. Run: ``.venv/bin/python bench/bench_text_page.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cxloop.config import Settings
from cxloop.text.insights import TextFilters, text_insights

OUT = Path(__file__).parent / "out" / "text_page"
#: (topic, cue words): a text mentioning a cue is about the topic (the rule filler).
TOPIC_CUES = (
    (
        "delivery",
        ("配送", "宅配", "到貨", "物流", "快递", "delivery", "arrived", "parcel"),
    ),
    ("staff_attitude", ("店員", "服務人員", "门市", "店员", "staff", "cashier")),
    ("price_value", ("價格", "漲價", "貴", "price", "expensive")),
    ("app_website", ("App", "app", "網站", "登入", "website")),
    ("waiting_time", ("等了", "排隊", "wait", "queue")),
)
NEGATIVE = ("差", "慢", "遲", "失望", "貴", "不", "late", "rude", "slow", "expensive")
POSITIVE = ("快", "親切", "很好", "滿意", "專業", "fast", "friendly", "helpful", "well")


def rule_score(text: str) -> dict[str, Any]:
    """Deterministic text scores in the stored shape (a stand-in for the models)."""
    negative = any(cue in text for cue in NEGATIVE)
    positive = any(cue in text for cue in POSITIVE)
    sentiment = "negative" if negative else "positive" if positive else "neutral"
    score = {"negative": -0.7, "positive": 0.7, "neutral": 0.0}[sentiment]
    topics = [
        {"topic": key, "sentiment": sentiment, "score": score,
         "matches": [cue for cue in cues if cue in text][:3], "source": "rule"}
        for key, cues in TOPIC_CUES if any(cue in text for cue in cues)
    ]  # fmt: skip
    han = any("\u4e00" <= ch <= "\u9fff" for ch in text)
    words = [w for w in text.replace("，", " ").replace("。", " ").split() if w][:3]
    return {
        "language": "zh-Hant" if han else "en",
        "sentiment": sentiment,
        "sentiment_score": score,
        "emotion": "anger" if negative else "joy" if positive else "none",
        "intent": "complaint" if negative else "praise" if positive else "other",
        "topics": json.dumps(topics, ensure_ascii=False),
        "keywords": json.dumps(words, ensure_ascii=False),
    }


def fill_scores(database: Path) -> int:
    """Write :func:`rule_score` into every interaction with text; returns how many."""
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    with sqlite3.connect(database) as con:
        rows = con.execute(
            "SELECT id, text FROM interaction WHERE text IS NOT NULL AND text != ''"
        ).fetchall()
        con.executemany(
            "UPDATE interaction SET language=:language, sentiment=:sentiment, "
            "sentiment_score=:sentiment_score, emotion=:emotion, intent=:intent, "
            "topics=:topics, keywords=:keywords, text_scored_at=:now WHERE id=:id",
            [{**rule_score(text), "id": i, "now": now} for i, text in rows],
        )
    return len(rows)


PEER_SQL = """
SELECT json_extract(j.value, '$.topic') AS topic,
       coalesce(json_extract(j.value, '$.sentiment'), i.sentiment, 'unrated') AS s,
       count(DISTINCT i.id)
FROM interaction i, json_each(i.topics) j
WHERE i.text_scored_at IS NOT NULL AND i.occurred_at >= ? AND i.occurred_at < ?
GROUP BY 1, 2
"""


def _median(run: Callable[[], Any], times: int = 5) -> tuple[float, Any]:
    seconds, result = [], None
    for _ in range(times):
        start = time.perf_counter()
        result = run()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), result


def _store() -> tuple[Settings, Path]:
    from cxloop.demo.service import load_demo
    from cxloop.store.migrate import upgrade

    database = OUT / "cxloop.db"
    url = f"sqlite:///{database}"
    settings = Settings(database_url=url, analytics_dir=str(OUT / "analytics"),
                        timezone="Asia/Taipei")  # fmt: skip
    if not database.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        upgrade(url)
        load_demo(settings=settings, size="full")
    return settings, database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    settings, database = _store()
    filled = fill_scores(database)
    cold_start = time.perf_counter()
    found = text_insights(settings=settings)
    cold = time.perf_counter() - cold_start
    warm, found = _median(lambda: text_insights(settings=settings))
    window = (found.filters.date_from, found.filters.date_to)
    cut = TextFilters(where={"channel": "app", "region": found_region(settings)})
    filtered, narrowed = _median(lambda: text_insights(settings=settings, filters=cut))
    peer, peer_rows = _median(lambda: _peer(database, settings, window))
    ours = {(r.topic, s): n for r in found.topics for s, n in r.counts.items() if n}
    agree = ours == peer_rows
    report(filled, found.texts, narrowed.texts, cold, warm, filtered, peer, agree)


def found_region(settings: Settings) -> str:
    from cxloop.analytics.service import available_values

    return available_values(settings=settings, field="region")[0]


def _peer(
    database: Path, settings: Settings, window: tuple[Any, Any]
) -> dict[Any, int]:
    from cxloop.analytics.engines import business_zone
    from cxloop.text.insight_reads import start_of

    zone = business_zone(settings)
    from datetime import timedelta

    bounds = [start_of(window[0], zone), start_of(window[1] + timedelta(days=1), zone)]
    text = [b.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ") for b in bounds]
    with sqlite3.connect(database) as con:
        rows = con.execute(PEER_SQL, text).fetchall()
    return {(t, s): int(n) for t, s, n in rows}


def report(filled: int, texts: int, narrowed: int, cold: float, warm: float,
           filtered: float, peer: float, agree: bool) -> None:  # fmt: skip
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    lines = [
        f"- store: the full demo company, {filled:,} interactions with text; "
        f"window: the last 12 months, {texts:,} scored texts",
        f"- cxloop `text_insights` first call: {cold:.3f} s",
        f"- cxloop `text_insights`, median of 5: {warm:.3f} s",
        f"- cxloop `text_insights` with channel=app and a region "
        f"({narrowed:,} texts), median of 5: {filtered:.3f} s",
        f"- peer: topics x sentiment only, one SQLite `GROUP BY` over "
        f"`json_each(topics)`, median of 5: {peer:.3f} s "
        f"(cxloop / peer: {warm / peer:.1f}x; counts agree: {'yes' if agree else 'NO'})",
        f"- machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}; "
        f"load average {load}; measured {datetime.now(UTC).date()}",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
