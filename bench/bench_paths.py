"""Path analysis over the interaction stream: cxloop (DuckDB) against pandas.

Builds (or reuses) an SQLite store in ``bench/out/`` migrated with cxloop's own
migrations and holding N interactions (default 10,000,000) of 1,000,000 customers on
the demo company's channels and touchpoints, each customer moving roughly along the
journey stages with detours. Then, on the same file and the default retail journey:

- cxloop ``journey_paths`` (top 10 sequences of 3 steps, drop-offs, median and p90
  time between steps, Sankey links): the first call (which copies the stream into its
  DuckDB cache once) and warm calls (cache up to date, median of 3);
- pandas: the same columns loaded once (timed apart, read with DuckDB's SQLite
  scanner, which is faster than ``pd.read_sql``), then placement (a merge on the rule
  fields), sort, ``shift`` to collapse repeats, ``groupby().cumcount()`` for steps,
  ``value_counts`` for sequences, ``groupby`` for drop-offs and time quantiles.

Both must agree on the path count, the top sequences and the drop-offs before the
figures are printed and written to the "Journeys" section of ``bench/README.md``.
Run: ``.venv/bin/python bench/bench_paths.py [--rows N]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sqlite3
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from cxloop.analytics.mirror import extension_path
from cxloop.config import Settings
from cxloop.journeys.definitions import default_journey
from cxloop.journeys.paths import PathOptions
from cxloop.journeys.service import journey_paths
from cxloop.store.migrate import upgrade

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
README = HERE / "README.md"
ZONE = "Asia/Taipei"
CUSTOMERS = 1_000_000
CHUNK = 1_000_000
STORES = [f"門市{i:02d}" for i in range(12)]
#: (channel, touchpoint, journey_stage, kind) per stage, in journey order.
STAGES: list[list[tuple[str, str, str, str]]] = [
    [("store", s, "discover", "visit") for s in STORES]
    + [("web", "網路商店", "discover", "visit"), ("app", "App", "discover", "visit")],
    [("store", s, "evaluate", "visit") for s in STORES]
    + [("web", "網路商店", "evaluate", "visit"), ("app", "App", "evaluate", "visit")],
    [("store", s, "purchase", "survey_response") for s in STORES]
    + [("web", "網路商店", "purchase", "survey_response"),
       ("app", "App", "purchase", "survey_response"),
       ("review_site", "Google 地圖評論", "purchase", "review")],
    [("web", "宅配", "delivery", "survey_response"),
     ("app", "超商取貨", "delivery", "survey_response")],
    [("app", "App", "use", "survey_response"),
     ("social", "Instagram", "use", "social_post"),
     ("social", "Threads", "use", "social_post")],
    [("phone", "客服中心", "support", "call"), ("chat", "線上客服", "support", "chat"),
     ("chat", "LINE 官方帳號", "support", "chat"), ("email", "客服信箱", "support", "ticket")],
    [("email", "會員滿意度調查", "use", "survey_response")],
]  # fmt: skip
COMBOS = [combo for stage in STAGES for combo in stage]
FIRST = np.cumsum([0] + [len(stage) for stage in STAGES])
START = np.datetime64("2024-01-01T00:00:00", "s")
K, TOP = 3, 10


def _sequence(rng: np.random.Generator, rows: int) -> tuple[np.ndarray, ...]:
    """Customer, time and combo index of every interaction, in time order."""
    customer = np.sort(rng.integers(1, CUSTOMERS + 1, rows))
    starts = np.r_[0, np.flatnonzero(np.diff(customer)) + 1]
    step = np.arange(rows) - np.repeat(starts, np.diff(np.r_[starts, rows]))
    offset = rng.integers(0, 3, CUSTOMERS + 1)[customer]
    detour = rng.choice([0, 0, 0, 0, 1, -1, 3], rows)
    stage = (offset + step + detour) % len(STAGES)
    sizes = np.diff(FIRST)[stage]
    combo = FIRST[stage] + (rng.random(rows) * sizes).astype(np.int64)
    gaps = rng.exponential(3 * 86400, rows).astype(np.int64)
    first = rng.integers(0, 365 * 86400, CUSTOMERS + 1)[customer]
    cumulative = np.cumsum(gaps) - np.repeat(
        np.cumsum(gaps)[starts] - gaps[starts], np.diff(np.r_[starts, rows])
    )
    seconds = first + cumulative
    order = np.argsort(seconds, kind="stable")
    return customer[order], seconds[order], combo[order]


def build_store(path: Path, rows: int) -> None:
    """An SQLite store with ``rows`` interactions, made with cxloop's migrations."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    upgrade(f"sqlite:///{path}")
    rng = np.random.default_rng(20251107)
    customer, seconds, combo = _sequence(rng, rows)
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    con = sqlite3.connect(path)
    for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-1000000"):
        con.execute(f"PRAGMA {pragma}")
    con.execute("DROP INDEX ix_interaction_customer_id")
    con.executemany(
        "INSERT INTO customer (id, created_at, updated_at, attributes) "
        "VALUES (?, ?, ?, '{}')",
        ((i, now, now) for i in range(1, CUSTOMERS + 1)),
    )
    stamps = (START + seconds.astype("timedelta64[s]")).astype(str)
    for first in range(0, rows, CHUNK):
        last = min(first + CHUNK, rows)
        con.executemany(
            "INSERT INTO interaction (id, customer_id, occurred_at, channel, touchpoint, "
            "journey_stage, kind, source, external_id, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 'bench', ?, ?)",
            (
                (k + 1, int(customer[k]), stamps[k].replace("T", " "), *COMBOS[combo[k]],
                 f"b{k + 1:010d}", now)
                for k in range(first, last)
            ),
        )  # fmt: skip
        con.commit()
        print(f"  {last:,} interactions", flush=True)
    con.execute("CREATE INDEX ix_interaction_customer_id ON interaction (customer_id)")
    con.commit()
    con.execute("PRAGMA journal_mode=WAL")
    con.close()


def interaction_count(path: Path) -> int:
    if not path.exists():
        return -1
    con = sqlite3.connect(path)
    try:
        return int(con.execute("SELECT count(*) FROM interaction").fetchone()[0])
    except sqlite3.Error:
        return -1
    finally:
        con.close()


def load_frame(path: Path) -> pd.DataFrame:
    """The interaction columns pandas needs, read with DuckDB's SQLite scanner."""
    con = duckdb.connect()
    con.execute(f"LOAD '{extension_path()}'")
    con.execute(f"ATTACH '{path}' AS s (TYPE sqlite, READ_ONLY)")
    frame = con.execute(
        "SELECT id, customer_id, timezone(?, timezone('UTC', "
        "CAST(occurred_at AS TIMESTAMP))) AS at, channel, touchpoint, journey_stage, "
        "kind FROM s.interaction",
        [ZONE],
    ).df()
    con.close()
    for column in ("channel", "touchpoint", "journey_stage", "kind"):
        frame[column] = frame[column].astype("category")
    return frame


def _node_table() -> pd.DataFrame:
    """Placement of every (channel, touchpoint, stage, kind) combination by the journey."""
    journey = default_journey()
    rows = []
    for channel, touchpoint, stage, kind in COMBOS:
        fields = {"channel": channel, "touchpoint": touchpoint,
                  "journey_stage": stage, "kind": kind}  # fmt: skip
        placed = journey.place(fields)
        if placed is None:
            continue
        key = f"{placed[0].key}/{placed[1].key}"
        rows.append(
            {**fields, "node": f"{key}/{touchpoint}" if placed[1].split else key}
        )
    return pd.DataFrame(rows)


def pandas_paths(frame: pd.DataFrame) -> dict[str, object]:
    """The same analysis as cxloop's, with groupby/shift."""
    keys = ["channel", "touchpoint", "journey_stage", "kind"]
    nodes = _node_table()
    for column in keys:
        nodes[column] = nodes[column].astype(frame[column].dtype)
    df = frame.merge(nodes, on=keys, how="inner")
    df = df[df.customer_id.notna()].sort_values(["customer_id", "at", "id"])
    same = (df.customer_id == df.customer_id.shift()) & (df.node == df.node.shift())
    df = df[~same]
    grouped = df.groupby("customer_id", sort=False)
    df = df.assign(step=grouped.cumcount() + 1)
    ahead = {f"n{j}": grouped.node.shift(-j) for j in range(1, K)}
    df = df.assign(**ahead, next_at=grouped["at"].shift(-1))
    windows = df.dropna(subset=[f"n{K - 1}"])
    sequences = (
        windows.groupby(["node", "n1", "n2"]).size().sort_values(ascending=False)
    )
    visits = df.groupby("node").size()
    exits = df[df.n1.isna()].groupby("node").size()
    moves = df.dropna(subset=["n1"])
    hours = (moves.next_at - moves["at"]).dt.total_seconds() / 3600
    times = hours.groupby([moves.node, moves.n1]).quantile([0.5, 0.9])
    return {
        "paths": int((df.step == 1).sum()),
        "top": [(tuple(k), int(v)) for k, v in sequences.head(TOP).items()],
        "exits": exits.reindex(visits.index, fill_value=0).to_dict(),
        "times": len(times),
    }


def _median_run(settings: Settings, runs: int) -> tuple[float, object]:
    times, report = [], None
    for _ in range(runs):
        started = time.perf_counter()
        report = journey_paths(
            settings=settings, name="retail", options=PathOptions(k=K, top=TOP)
        )
        times.append(time.perf_counter() - started)
    return statistics.median(times), report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    args = parser.parse_args()
    path = OUT / f"paths-{args.rows}.db"
    if interaction_count(path) != args.rows:
        print(f"building {path.name} ({args.rows:,} interactions)", flush=True)
        build_store(path, args.rows)
    settings = Settings(
        database_url=f"sqlite:///{path}", analytics_dir=str(OUT / f"paths-{args.rows}"),
        journey_dir=str(OUT / "journeys"), timezone=ZONE,
    )  # fmt: skip
    from cxloop.journeys.service import rebuild_stream

    started = time.perf_counter()
    rebuild_stream(settings=settings)
    first = time.perf_counter() - started
    warm, report = _median_run(settings, 3)
    started = time.perf_counter()
    frame = load_frame(path)
    load = time.perf_counter() - started
    started = time.perf_counter()
    peer = pandas_paths(frame)
    compute = time.perf_counter() - started
    _check(report, peer)
    _report(args.rows, first, warm, load, compute, report)


def _check(report: object, peer: dict[str, object]) -> None:
    ours = [(s.nodes, s.count) for s in report.sequences]  # type: ignore[attr-defined]
    assert report.paths == peer["paths"], (report.paths, peer["paths"])  # type: ignore[attr-defined]
    assert [c for _, c in ours] == [c for _, c in peer["top"]], (ours, peer["top"])  # type: ignore[index]
    exits = {d.node: d.exits for d in report.node_dropoffs}  # type: ignore[attr-defined]
    assert exits == peer["exits"], "drop-offs differ"


def _report(
    rows: int, first: float, warm: float, load: float, compute: float, report: object
) -> None:
    load_avg = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    cpu = platform.processor() or platform.machine()
    lines = [
        f"Path analysis (top {TOP} sequences of {K} steps, drop-offs, median and p90 "
        f"time between steps, Sankey links) over {rows:,} interactions of "
        f"{report.customers:,} customers ({report.steps:,} steps after collapsing "  # type: ignore[attr-defined]
        f"repeats), SQLite store, default retail journey.",
        f"Machine: {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, "
        f"measured {datetime.now(UTC):%Y-%m-%d}; load average {load_avg} after the run "
        "(other work shared the cores).",
        "",
        "| what | seconds | cxloop warm is faster by |",
        "| --- | ---: | ---: |",
        f"| cxloop `journey_paths`, warm (stream cache up to date, median of 3) | {warm:.2f} | 1.0x |",
        f"| cxloop first call (copies the stream into its DuckDB cache once) | {first:.2f} | |",
        f"| pandas compute (merge, sort, shift, groupby, quantiles) | {compute:.2f} | {compute / warm:.1f}x |",
        f"| pandas load (DuckDB's SQLite scanner into a DataFrame) | {load:.2f} | |",
        f"| pandas load + compute | {load + compute:.2f} | {(load + compute) / warm:.1f}x |",
        "",
        f"Target: under 10 s warm: {'met' if warm < 10 else 'NOT met'}.",
    ]  # fmt: skip
    text = "\n".join(lines)
    print(text)
    _write_section(text)


def _write_section(figures: str) -> None:
    readme = README.read_text(encoding="utf-8")
    marker = "<!-- journeys figures -->"
    block = f"{marker}\n{figures}\n{marker}"
    if marker in readme:
        readme = re.sub(f"{marker}.*?{marker}", lambda _m: block, readme, flags=re.S)
    else:
        readme = readme.rstrip() + "\n\n## Journeys\n\n" + block + "\n"
    README.write_text(readme, encoding="utf-8")


if __name__ == "__main__":
    main()
