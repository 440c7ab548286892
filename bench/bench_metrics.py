"""NPS by month x channel: cxloop (DuckDB mirror) against pandas and plain SQLite SQL.

Builds (or reuses) an SQLite store in ``bench/out/`` migrated with cxloop's own
migrations and holding N NPS answers (three per interaction, spread over two years and
seven channels), then times on the same file:

- cxloop ``metric_frame(metric="nps", by=["channel"], period="month")``: the one-time
  mirror build (first call) and warm calls (mirror up to date);
- pandas: ``pd.read_sql`` of the same facts (load), then group by month x channel (compute);
- plain SQLite: one ``GROUP BY`` statement on the file.

Prints the figures, the ratios, n and the machine, and writes them to the "Metrics"
section of ``bench/README.md``. Run: ``.venv/bin/python bench/bench_metrics.py [--rows N]``.
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

import numpy as np
import pandas as pd

from cxloop.analytics.mirror import mirror_path
from cxloop.analytics.service import metric_frame
from cxloop.config import Settings
from cxloop.domain.metrics import Z_95
from cxloop.store.migrate import upgrade

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
README = HERE / "README.md"
ZONE = "Asia/Taipei"
CHANNELS = ["web", "app", "email", "phone", "chat", "store", "social"]
WEIGHTS = [0.30, 0.25, 0.10, 0.12, 0.10, 0.08, 0.05]
STAGES = [
    "discover",
    "evaluate",
    "purchase",
    "delivery",
    "use",
    "support",
    "renew_leave",
]
ANSWERS_PER_INTERACTION = 3
CUSTOMERS = 200_000
CHUNK = 500_000
START = np.datetime64("2023-01-01T00:00:00", "us")
SPAN_US = int(np.timedelta64(730, "D") / np.timedelta64(1, "us"))

FACTS_SQL = (
    "SELECT a.value, i.occurred_at, i.channel FROM answer a "
    "JOIN interaction i ON i.id = a.interaction_id WHERE a.metric = 'nps'"
)
SQLITE_SQL = (
    "SELECT strftime('%Y-%m', i.occurred_at, '+8 hours') AS month, i.channel, "
    "count(*) AS n, sum(a.value >= 9) AS promoters, sum(a.value <= 6) AS detractors "
    "FROM answer a JOIN interaction i ON i.id = a.interaction_id "
    "WHERE a.metric = 'nps' GROUP BY 1, 2"
)


def _timestamps(values: np.ndarray) -> list[str]:
    text = np.datetime_as_string(values, unit="us")
    return [t.replace("T", " ") for t in text.tolist()]


def _customers(con: sqlite3.Connection, rng: np.random.Generator, now: str) -> None:
    regions = rng.choice(["north", "central", "south", "east"], CUSTOMERS)
    tiers = rng.choice(["gold", "silver", "bronze"], CUSTOMERS, p=[0.1, 0.3, 0.6])
    con.executemany(
        "INSERT INTO customer (id, external_id, region, segment, language, attributes, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, 'zh-TW', ?, ?, ?)",
        (
            (
                i + 1,
                f"c{i + 1:07d}",
                regions[i],
                "consumer",
                f'{{"tier": "{tiers[i]}"}}',
                now,
                now,
            )
            for i in range(CUSTOMERS)
        ),
    )


def _survey(con: sqlite3.Connection, now: str) -> None:
    con.execute(
        "INSERT INTO survey (id, key, name, created_at) VALUES (1, 'bench', 'bench', ?)",
        (now,),
    )
    con.executemany(
        "INSERT INTO question (id, survey_id, key, metric, position, required) "
        "VALUES (?, 1, ?, 'nps', ?, 0)",
        [(q, f"nps_{q}", q) for q in range(1, ANSWERS_PER_INTERACTION + 1)],
    )


def _chunk(
    con: sqlite3.Connection,
    rng: np.random.Generator,
    first: int,
    count: int,
    times: np.ndarray,
    now: str,
) -> None:
    ids = np.arange(first, first + count)
    channel = rng.choice(len(CHANNELS), count, p=WEIGHTS)
    customer = rng.integers(1, CUSTOMERS + 1, count)
    stage = rng.integers(0, len(STAGES), count)
    stamps = _timestamps(times)
    con.executemany(
        "INSERT INTO interaction (id, customer_id, occurred_at, channel, touchpoint, "
        "journey_stage, kind, source, external_id, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, 'survey_response', 'bench', ?, ?)",
        (
            (
                int(ids[k]),
                int(customer[k]),
                stamps[k],
                CHANNELS[channel[k]],
                f"{CHANNELS[channel[k]]}-{stage[k]}",
                STAGES[stage[k]],
                f"b{ids[k]:010d}",
                now,
            )
            for k in range(count)
        ),
    )
    # Channel-dependent score distributions: 0-10, skewed towards 7-10.
    base = rng.normal(7.6 - 0.25 * channel, 2.2, (ANSWERS_PER_INTERACTION, count))
    scores = np.clip(np.rint(base), 0, 10)
    con.executemany(
        "INSERT INTO answer (id, interaction_id, question_id, metric, value) "
        "VALUES (?, ?, ?, 'nps', ?)",
        (
            (
                (int(ids[k]) - 1) * ANSWERS_PER_INTERACTION + q + 1,
                int(ids[k]),
                q + 1,
                float(scores[q, k]),
            )
            for k in range(count)
            for q in range(ANSWERS_PER_INTERACTION)
        ),
    )


def build_store(path: Path, rows: int) -> None:
    """An SQLite store with ``rows`` NPS answers, made with cxloop's migrations."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    upgrade(f"sqlite:///{path}")
    interactions = -(-rows // ANSWERS_PER_INTERACTION)
    rng = np.random.default_rng(20240331)
    offsets = np.sort(rng.integers(0, SPAN_US, interactions))
    times = START + offsets.astype("timedelta64[us]")
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-1000000")
    _customers(con, rng, now)
    _survey(con, now)
    for first in range(0, interactions, CHUNK):
        count = min(CHUNK, interactions - first)
        _chunk(con, rng, first + 1, count, times[first : first + count], now)
        con.commit()
        print(
            f"  {min(first + count, interactions) * ANSWERS_PER_INTERACTION:,} answers",
            flush=True,
        )
    extra = interactions * ANSWERS_PER_INTERACTION - rows
    if extra:
        con.execute("DELETE FROM answer WHERE id > ?", (rows,))
    con.commit()
    con.execute("PRAGMA journal_mode=WAL")
    con.close()


def answer_count(path: Path) -> int:
    if not path.exists():
        return -1
    con = sqlite3.connect(path)
    try:
        return int(con.execute("SELECT count(*) FROM answer").fetchone()[0])
    except sqlite3.Error:
        return -1
    finally:
        con.close()


def pandas_load(path: Path) -> pd.DataFrame:
    con = sqlite3.connect(path)
    try:
        return pd.read_sql(FACTS_SQL, con, parse_dates=["occurred_at"])
    finally:
        con.close()


def pandas_compute(facts: pd.DataFrame) -> pd.DataFrame:
    local = (
        facts["occurred_at"]
        .dt.tz_localize("UTC")
        .dt.tz_convert(ZONE)
        .dt.tz_localize(None)
    )
    frame = pd.DataFrame(
        {
            "month": local.dt.to_period("M"),
            "channel": facts["channel"],
            "promoter": facts["value"] >= 9,
            "detractor": facts["value"] <= 6,
        }
    )
    stats = (
        frame.groupby(["month", "channel"], observed=True)
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


def sqlite_group_by(path: Path) -> list[tuple[object, ...]]:
    con = sqlite3.connect(path)
    try:
        return con.execute(SQLITE_SQL).fetchall()
    finally:
        con.close()


def timed(fn, *args):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def run(rows: int, repeats: int) -> dict[str, object]:
    path = OUT / f"metrics_{rows}.db"
    if answer_count(path) != rows:
        print(f"building {path} with {rows:,} NPS answers ...", flush=True)
        seconds, _ = timed(build_store, path, rows)
        print(f"  built in {seconds:.1f} s")
    upgrade(f"sqlite:///{path}")  # a store cached by an older cxloop gets new columns
    settings = Settings(
        database_url=f"sqlite:///{path}", analytics_dir=str(OUT), timezone=ZONE
    )
    mirror = mirror_path(path, str(OUT))
    mirror.unlink(missing_ok=True)
    Path(f"{mirror}.wal").unlink(missing_ok=True)

    def ours() -> pd.DataFrame:
        return metric_frame(
            settings=settings, metric="nps", by=["channel"], period="month"
        )

    first, frame = timed(ours)
    ours()  # one untimed call: the build's checkpoint and the page cache settle
    warm = [timed(ours)[0] for _ in range(repeats)]
    busy = os.getloadavg()
    print("  cxloop warm runs:", " ".join(f"{x:.3f}" for x in warm), flush=True)
    load, facts = timed(pandas_load, path)
    compute = [timed(pandas_compute, facts)[0] for _ in range(repeats)]
    print("  pandas compute runs:", " ".join(f"{x:.3f}" for x in compute), flush=True)
    peer = pandas_compute(facts)
    del facts
    sql, sql_rows = timed(sqlite_group_by, path)
    _check(frame, peer, sql_rows, rows)
    return {
        "load_average": " / ".join(f"{x:.1f}" for x in busy),
        "rows": rows,
        "groups": len(frame),
        "first": first,
        "warm": statistics.median(warm),
        "load": load,
        "compute": statistics.median(compute),
        "sqlite": sql,
    }


def _check(
    frame: pd.DataFrame,
    peer: pd.DataFrame,
    sql_rows: list[tuple[object, ...]],
    rows: int,
) -> None:
    assert int(frame["n"].sum()) == rows == int(peer["n"].sum())
    assert sum(int(r[2]) for r in sql_rows) == rows  # type: ignore[call-overload]
    ours = frame.set_index(["period", "channel"])["value"]
    theirs = peer.assign(period=peer["month"].dt.start_time.dt.strftime("%Y-%m-%d"))
    theirs = theirs.set_index(["period", "channel"])["value"]
    assert len(ours) == len(theirs) == len(sql_rows)
    assert np.allclose(ours.sort_index().to_numpy(), theirs.sort_index().to_numpy())


def report(figures: dict[str, object]) -> str:
    f = figures
    warm, compute, load = float(f["warm"]), float(f["compute"]), float(f["load"])  # type: ignore[arg-type]
    lines = [
        f"NPS by month x channel over {int(f['rows']):,} answers ({f['groups']} groups), "  # type: ignore[call-overload]
        f"SQLite store, business zone {ZONE}.",
        f"Machine: {os.cpu_count()} cores, {cpu_name()}, Python {platform.python_version()}, "
        f"measured {datetime.now(UTC):%Y-%m-%d}; load average {f['load_average']} "
        "while it ran (other work shared the cores).",
        "",
        "| what | seconds | cxloop warm is faster by |",
        "| --- | ---: | ---: |",
        f"| cxloop `metric_frame`, warm (mirror up to date, median) | {warm:.3f} | 1.0x |",
        f"| cxloop first call (builds the DuckDB mirror once) | {float(f['first']):.2f} | |",  # type: ignore[arg-type]
        f"| pandas compute (group by month x channel, median) | {compute:.3f} | {compute / warm:.1f}x |",
        f"| pandas load (`pd.read_sql` from the same SQLite file) | {load:.2f} | |",
        f"| pandas load + compute | {load + compute:.2f} | {(load + compute) / warm:.1f}x |",
        f"| plain SQLite `GROUP BY` on the same file | {float(f['sqlite']):.2f} | {float(f['sqlite']) / warm:.1f}x |",  # type: ignore[arg-type]
    ]
    return "\n".join(lines)


METHOD = """\
`bench/bench_metrics.py` (`--rows N` for a quick run) builds an SQLite store with
cxloop's migrations in `bench/out/` (three NPS answers per interaction, two years,
seven channels, 200,000 customers) and computes NPS with n and margin of error by
month (Asia/Taipei) x channel three ways on the same file: cxloop's `metric_frame`
(Ibis definitions on the DuckDB analytics mirror, refreshed incrementally before each
call), pandas after `pd.read_sql` (load and compute timed apart), and one plain SQLite
`GROUP BY`. It checks that the three agree before printing. The machine is shared,
so figures move between runs; the load average is printed with them."""


def write_readme(text: str) -> None:
    body = README.read_text(encoding="utf-8") if README.exists() else "# Benchmarks\n"
    section = f"## Metrics\n\n{METHOD}\n\n{text}\n"
    pattern = re.compile(r"^## Metrics\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(body):
        body = pattern.sub(lambda _: section + "\n", body, count=1).rstrip() + "\n"
    else:
        body = body.rstrip() + "\n\n" + section
    README.write_text(body, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="NPS answers")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats")
    parser.add_argument("--no-readme", action="store_true", help="do not update README")
    args = parser.parse_args()
    text = report(run(args.rows, args.repeats))
    print(text)
    if not args.no_readme:
        write_readme(text)


if __name__ == "__main__":
    main()
