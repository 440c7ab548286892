"""NPS by channel and by month x channel: the same definitions on DuckDB and on Spark.

Builds (or reuses) the SQLite store of ``bench_metrics.py`` in ``bench/out/`` with N
NPS answers, exports it with ``cxloop analytics export`` (Parquet, timed), then times
on the same answers:

- cxloop ``metric_frame`` on the embedded engine (the DuckDB mirror, warm);
- cxloop ``metric_frame`` with ``analytics_engine="spark"`` on a local Spark session
  (``local[2]``) reading the export: the first call (JIT warm-up) and warm calls;
- pandas reading the exported ``answer_fact`` Parquet (load) and grouping (compute).

Checks that the three agree, prints the figures, the ratios, n and the machine, and
writes them to the "Metrics on Spark" section of ``bench/README.md``.
Run: ``.venv/bin/python bench/bench_metrics_spark.py [--rows N]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from bench_metrics import OUT, README, ZONE, answer_count, build_store, cpu_name

from cxloop.analytics.exports import export_tables
from cxloop.analytics.service import metric_frame
from cxloop.config import Settings
from cxloop.domain.metrics import Z_95
from cxloop.spark import spark_session
from cxloop.store.migrate import upgrade

MASTER = "local[2]"
#: The two requests timed: NPS per channel, and per month x channel.
REQUESTS: dict[str, dict[str, Any]] = {
    "by channel": {"by": ["channel"]},
    "by month x channel": {"by": ["channel"], "period": "month"},
}


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def pandas_compute(facts: pd.DataFrame, monthly: bool) -> pd.DataFrame:
    nps = facts[facts["metric"] == "nps"]
    keys = ["channel", "month_start"] if monthly else ["channel"]
    stats = (
        nps.assign(promoter=nps["value"] >= 9, detractor=nps["value"] <= 6)
        .groupby(keys, observed=True, dropna=False)
        .agg(
            n=("promoter", "size"),
            promoters=("promoter", "sum"),
            detractors=("detractor", "sum"),
        )
        .reset_index()
    )
    p, d = stats["promoters"] / stats["n"], stats["detractors"] / stats["n"]
    stats["value"] = 100 * (p - d)
    stats["moe"] = Z_95 * np.sqrt((p + d - (p - d) ** 2) / stats["n"]) * 100
    return stats


def _check(ours: pd.DataFrame, spark: pd.DataFrame, peer: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(spark, ours, check_dtype=False, rtol=1e-9)
    assert len(ours) == len(peer)
    assert np.allclose(
        ours.sort_values(list(ours.columns[: ours.columns.get_loc("value")]))["value"],
        peer.sort_values(list(peer.columns[: peer.columns.get_loc("n")]))["value"],
    )


def _settings(path: Path, export: Path) -> tuple[Settings, Settings]:
    embedded = Settings(
        database_url=f"sqlite:///{path}", analytics_dir=str(OUT), timezone=ZONE
    )
    spark = embedded.model_copy(
        update={
            "analytics_engine": "spark",
            "spark_data_dir": str(export),
            "spark_master": MASTER,
        }
    )
    return embedded, spark


def run(rows: int, repeats: int) -> dict[str, Any]:
    path = OUT / f"metrics_{rows}.db"
    if answer_count(path) != rows:
        print(f"building {path} with {rows:,} NPS answers ...", flush=True)
        build_store(path, rows)
    upgrade(f"sqlite:///{path}")
    export = OUT / f"metrics_{rows}.parquet"
    embedded, on_spark = _settings(path, export)
    metric_frame(settings=embedded, metric="nps")  # the DuckDB mirror, built once
    figures: dict[str, Any] = {"rows": rows}
    figures["export"], _ = timed(lambda: export_tables(settings=embedded, to=export))
    figures["spark_start"], session = timed(lambda: spark_session(MASTER))
    session.sparkContext.setLogLevel("ERROR")
    figures["load"], facts = timed(
        lambda: pq.read_table(export / "answer_fact").to_pandas()
    )
    for name, request in REQUESTS.items():
        figures[name] = _measure(embedded, on_spark, facts, request, repeats)
        print(f"  {name}: {figures[name]}", flush=True)
    figures["load_average"] = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    session.stop()
    return figures


def _measure(
    embedded: Settings,
    on_spark: Settings,
    facts: pd.DataFrame,
    request: dict[str, Any],
    repeats: int,
) -> dict[str, float]:
    def ours() -> pd.DataFrame:
        return metric_frame(settings=embedded, metric="nps", **request)

    def spark() -> pd.DataFrame:
        return metric_frame(settings=on_spark, metric="nps", **request)

    def peer() -> pd.DataFrame:
        return pandas_compute(facts, "period" in request)

    spark_first, spark_frame = timed(spark)
    duck = [timed(ours) for _ in range(repeats)]
    warm = [timed(spark)[0] for _ in range(repeats)]
    compute = [timed(peer) for _ in range(repeats)]
    _check(duck[0][1], spark_frame, compute[0][1])
    return {
        "groups": len(spark_frame),
        "duckdb": statistics.median(t for t, _ in duck),
        "spark_first": spark_first,
        "spark": statistics.median(warm),
        "pandas": statistics.median(t for t, _ in compute),
    }


def report(f: dict[str, Any]) -> str:
    lines = [
        f"NPS over {f['rows']:,} answers (Parquet export of the SQLite store), "
        f"business zone {ZONE}; Spark {MASTER} on this machine.",
        f"Machine: {os.cpu_count()} cores, {cpu_name()}, Python "
        f"{platform.python_version()}, measured {datetime.now(UTC):%Y-%m-%d}; load "
        f"average {f['load_average']} after the run (other work shared the cores).",
        "",
        "| request | groups | DuckDB mirror s | Spark s (warm) | Spark first call s "
        "| pandas compute s | Spark time ÷ DuckDB | Spark time ÷ pandas |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name in REQUESTS:
        r = f[name]
        lines.append(
            f"| NPS {name} | {r['groups']} | {r['duckdb']:.3f} | {r['spark']:.3f} | "
            f"{r['spark_first']:.2f} | {r['pandas']:.3f} | "
            f"{r['spark'] / r['duckdb']:.1f}x | {r['spark'] / r['pandas']:.1f}x |"
        )
    lines += [
        "",
        f"- `cxloop analytics export` of the store: {f['export']:.2f} s; Spark session "
        f"start: {f['spark_start']:.2f} s; pandas load of the Parquet facts: "
        f"{f['load']:.2f} s.",
        "- Warm figures are medians of the repeats; each cxloop call opens the engine "
        "(Spark: registers the Parquet views) and runs one aggregate.",
    ]
    return "\n".join(lines)


METHOD = """\
`bench/bench_metrics_spark.py` (`--rows N`) reuses the store of `bench_metrics.py`,
exports it with `cxloop analytics export` and computes NPS with n, margin and change by
channel and by month x channel with the same Ibis definitions on the embedded DuckDB
mirror and on a local Spark session (`local[2]`, reading the Parquet export), and with
pandas on the exported facts. It checks that the three agree before printing. Spark is
the scale path for stores past one machine; on one small machine it pays for its
planning and JVM round trips, which this measures. The machine is shared, so figures
move between runs."""


def write_readme(text: str) -> None:
    body = README.read_text(encoding="utf-8") if README.exists() else "# Benchmarks\n"
    section = f"## Metrics on Spark\n\n{METHOD}\n\n{text}\n"
    pattern = re.compile(r"^## Metrics on Spark\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(body):
        body = pattern.sub(lambda _: section + "\n", body, count=1)
    elif "\n## Import\n" in body:
        body = body.replace("\n## Import\n", f"\n{section}\n## Import\n", 1)
    else:
        body = body.rstrip() + "\n\n" + section
    README.write_text(body.rstrip() + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="NPS answers")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats")
    parser.add_argument("--no-readme", action="store_true", help="do not update README")
    args = parser.parse_args()
    text = report(run(args.rows, args.repeats))
    print(text)
    if not args.no_readme:
        write_readme(text)


if __name__ == "__main__":
    main()
