"""Text scoring on Spark against the single-process ``text score`` on the same texts.

Builds the deterministic short-text corpus of ``bench/text_speed.py`` (half Chinese,
half English, 1 % empty or emoji-only), written once as Parquet, then scores it:

- single process: :func:`cxloop.text.score_file.score_file` (Parquet in, Parquet out),
  models warm, every part and the speed target's parts;
- Spark ``local[N]``: :func:`cxloop.text.spark_files.score_spark_file` with the same
  parts, Parquet in and out, on a session already started (start-up reported apart),
  the first run warming the Python workers (reported) and the median of the next two;
- and checks that both outputs hold the same scores.

Run: ``.venv/bin/python bench/text_speed_spark.py [--rows N] [--cores N]``; it prints a
Markdown table for bench/README.md ("Text scoring on Spark").
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.text_speed import corpus  # noqa: E402
from cxloop.spark import spark_session  # noqa: E402
from cxloop.text.score_file import OUTPUT_COLUMNS, score_file  # noqa: E402
from cxloop.text.scoring import ALL_PARTS, CORE_PARTS, default_models  # noqa: E402
from cxloop.text.spark_files import score_spark_file  # noqa: E402

OUT = ROOT / "bench" / "out"


def _single(source: Path, parts: frozenset[str]) -> tuple[float, Path]:
    output = OUT / "spark_bench_single.parquet"
    seconds = []
    for _ in range(3):
        start = time.perf_counter()
        score_file(input=source, text_column="comment", id_column="id",
                   output=output, parts=parts)  # fmt: skip
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), output


def _spark(spark: object, source: Path, parts: frozenset[str]) -> tuple[float, float, Path]:  # fmt: skip
    output = OUT / "spark_bench_spark"
    seconds = []
    for _ in range(3):
        start = time.perf_counter()
        score_spark_file(spark=spark, input=str(source), text_column="comment",  # type: ignore[arg-type]
                         output=output, parts=parts)  # fmt: skip
        seconds.append(time.perf_counter() - start)
    return seconds[0], statistics.median(seconds[1:]), output


def _same(single: Path, spark: Path) -> int:
    """Rows whose scores differ between the two outputs (0 expected)."""
    one = pq.read_table(single).sort_by("id")
    two = pq.read_table(spark).sort_by("id")
    differ = 0
    for name in OUTPUT_COLUMNS:
        left, right = one.column(name).to_pylist(), two.column(name).to_pylist()
        differ += sum(a != b for a, b in zip(left, right, strict=True))
    return differ


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    texts, _ = corpus(args.rows)
    source = OUT / "spark_bench.parquet"
    pq.write_table(pa.table({"id": [f"r{i}" for i in range(len(texts))],
                             "comment": texts}), source, row_group_size=10_000)  # fmt: skip
    default_models()
    started = time.perf_counter()
    spark = spark_session(f"local[{args.cores}]", app_name="cxloop bench")
    spark.sparkContext.setLogLevel("ERROR")
    start_seconds = time.perf_counter() - started
    rows = []
    for label, parts in (("language + sentiment + topics", CORE_PARTS),
                         ("every part", ALL_PARTS)):  # fmt: skip
        single, single_out = _single(source, parts)
        first, warm, spark_out = _spark(spark, source, parts)
        rows.append((label, single, first, warm, _same(single_out, spark_out)))
    spark.stop()
    shutil.rmtree(OUT / "spark_bench_spark", ignore_errors=True)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{args.rows:,} texts; {platform.python_version()}, {os.cpu_count()} cores, "
          f"Spark local[{args.cores}]; load average {load}; Spark start {start_seconds:.1f} s")  # fmt: skip
    print()
    print(
        "| parts | single process (texts/s) | Spark first run (texts/s) | Spark warm, median of 2 (texts/s) | Spark / single | rows that differ |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for label, single, first, warm, differ in rows:
        n = args.rows
        print(f"| {label} | {n / single:,.0f} | {n / first:,.0f} | {n / warm:,.0f} | "
              f"{single / warm:.2f}x | {differ} |")  # fmt: skip


if __name__ == "__main__":
    main()
