"""``text rescore --spark`` against the single-process ``text rescore`` on one store.

Builds an SQLite store (migrated with Alembic) holding the deterministic short-text
corpus of ``bench/text_speed.py`` as interactions, then scores every stored text again:

- single process: :func:`cxloop.text.pipeline.rescore`, models warm (a first pass warms
  them and is not counted);
- Spark ``local[N]``: :func:`cxloop.text.spark_rescore.rescore_on_spark` on a session
  already started, the first run warming the Python workers (reported) and the median
  of the next two;
- and checks that both leave the same scores in the store.

With ``--pg URL`` (a PostgreSQL server database the bench may fill) the store is
PostgreSQL instead. Run: ``.venv/bin/python bench/text_rescore_spark.py [--rows N]
[--cores N] [--pg URL]``; it prints a Markdown table for bench/README.md ("Rescoring the
store on Spark").
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.text_speed import corpus  # noqa: E402
from cxloop.config import Settings  # noqa: E402
from cxloop.spark import spark_session  # noqa: E402
from cxloop.store.engine import engine_for  # noqa: E402
from cxloop.store.migrate import upgrade  # noqa: E402
from cxloop.store.tables import Interaction  # noqa: E402
from cxloop.text.pipeline import rescore  # noqa: E402
from cxloop.text.spark_rescore import rescore_on_spark  # noqa: E402

COLUMNS = ("language", "sentiment", "sentiment_score", "emotion", "topics", "intent",
           "keywords", "text_version")  # fmt: skip


def _fill(url: str, texts: list[str]) -> None:
    upgrade(url)
    when = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [{"occurred_at": when, "kind": "feedback", "source": "bench",
             "external_id": f"b{i}", "text": text} for i, text in enumerate(texts)]  # fmt: skip
    with engine_for(url).begin() as conn:
        conn.execute(insert(Interaction), rows)


def _scores(url: str) -> list[tuple[Any, ...]]:
    query = select(*(getattr(Interaction, n) for n in COLUMNS)).order_by(Interaction.id)
    with engine_for(url).connect() as conn:
        return [tuple(row) for row in conn.execute(query)]


def _timed(run: Any) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 2)
    parser.add_argument(
        "--pg", help="a PostgreSQL database URL to fill (emptied first)"
    )
    args = parser.parse_args()
    texts, _ = corpus(args.rows)
    with tempfile.TemporaryDirectory() as folder:
        url = args.pg or f"sqlite:///{folder}/bench.db"
        if args.pg:
            from sqlalchemy import delete

            upgrade(url)
            with engine_for(url).begin() as conn:
                conn.execute(delete(Interaction))
        _fill(url, texts)
        settings = Settings(database_url=url, secret_key="bench-secret-key-0123456789",
                            analytics_dir=f"{folder}/analytics")  # fmt: skip
        rescore(settings=settings)  # warm the models
        single = [_timed(lambda: rescore(settings=settings)) for _ in range(2)]
        expected = _scores(url)
        start = time.perf_counter()
        spark = spark_session(f"local[{args.cores}]", app_name="cxloop bench")
        spark.sparkContext.setLogLevel("ERROR")
        started = time.perf_counter() - start
        first = _timed(lambda: rescore_on_spark(spark, settings=settings))
        runs = [_timed(lambda: rescore_on_spark(spark, settings=settings)) for _ in range(2)]  # fmt: skip
        same = _scores(url) == expected
        spark.stop()
    one, many = statistics.median(single), statistics.median(runs)
    store = "PostgreSQL" if args.pg else "SQLite"
    print(f"{args.rows:,} stored short texts ({store}); {args.cores} cores, "
          f"{platform.machine()}, Python {platform.python_version()}; load average "
          f"{' / '.join(f'{x:.1f}' for x in os.getloadavg())}; Spark started in "
          f"{started:.1f} s, first Spark run (workers warming) {first:.1f} s; "
          f"same scores in the store: {same}\n")  # fmt: skip
    print("| how | seconds | texts/s | vs one process |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| `text rescore`, one process (median of 2) | {one:.2f} | {args.rows / one:,.0f} | 1.00x |")  # fmt: skip
    print(f"| `text rescore --spark`, local[{args.cores}] (median of 2) | {many:.2f} | "
          f"{args.rows / many:,.0f} | {one / many:.2f}x |")  # fmt: skip
    if not same:
        raise SystemExit("the Spark pass left different scores in the store")


if __name__ == "__main__":
    main()
