"""Import benchmark: a feedback CSV into the embedded store (SQLite) with
``cxloop.ingest.service.import_file``, against pandas ``read_csv`` + ``DataFrame.to_sql``
of the same file in the same run.

    .venv/bin/python bench/bench_import.py            # 1,000,000 rows
    .venv/bin/python bench/bench_import.py --rows 50000

Writes the figures to the "Import" section of bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from bench_report import machine, write_section

from cxloop.config import Settings
from cxloop.ingest.service import import_file
from cxloop.store.engine import dispose_engines
from cxloop.store.migrate import upgrade

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"

CHANNELS = [
    "web",
    "app",
    "store",
    "phone",
    "chat",
    "email",
    "門市",
    "官網",
    "App",
    "線上客服",
]
TOUCHPOINTS = [
    "台北信義店", "台中公益店", "高雄夢時代店", "官網結帳", "App 首頁", "客服專線",
    "LINE 官方帳號", "到府安裝", "退換貨", "會員中心",
]  # fmt: skip
STAGES = ["discover", "evaluate", "purchase", "delivery", "use", "support", ""]
COMMENTS = [
    "店員很親切，結帳也很快", "等太久了，希望改善", "App 常常閃退", "運送速度很快",
    "價格有點貴", "客服電話一直打不通", "商品品質很好，會再回購", "退貨流程太複雜",
    "網站很好用", "包裝破損，很失望", "整體還不錯", "店內太擁擠",
    "Great service, thanks!", "配送人員態度不佳", "優惠活動很吸引人",
]  # fmt: skip


def _blank(rng: np.random.Generator, values: np.ndarray, share: float) -> np.ndarray:
    out = values.astype(object)
    out[rng.random(len(values)) < share] = ""
    return out


def write_feedback_csv(path: Path, rows: int, seed: int = 20240301) -> None:
    """A deterministic feedback export: ~200k customers over two years."""
    rng = np.random.default_rng(seed)
    customers = max(1, rows // 5)
    start = np.datetime64("2023-01-01T00:00:00")
    seconds = np.sort(rng.integers(0, 2 * 365 * 86400, rows))
    when = (start + seconds.astype("timedelta64[s]")).astype(str)
    nps = rng.choice(11, rows, p=[*[0.03] * 7, 0.12, 0.2, 0.24, 0.23]).astype(str)
    first = rng.integers(0, len(COMMENTS), rows)
    second = rng.integers(0, len(COMMENTS), rows)
    comments = np.char.add(
        np.char.add(np.array(COMMENTS)[first], "；"), np.array(COMMENTS)[second]
    )
    ids = rng.integers(0, customers, rows)
    table = pa.table({
        "response_id": [f"R{n:08d}" for n in range(1, rows + 1)],
        "email": _blank(rng, np.char.add(np.char.add("member", ids.astype(str)), "@example.com.tw"), 0.03),
        "submitted_at": np.char.replace(when, "T", " "),
        "channel": np.array(CHANNELS)[rng.integers(0, len(CHANNELS), rows)],
        "touchpoint": np.array(TOUCHPOINTS)[rng.integers(0, len(TOUCHPOINTS), rows)],
        "journey_stage": np.array(STAGES)[rng.integers(0, len(STAGES), rows)],
        "nps": _blank(rng, nps, 0.05),
        "csat": _blank(rng, rng.integers(1, 6, rows).astype(str), 0.4),
        "ces": _blank(rng, rng.integers(1, 8, rows).astype(str), 0.6),
        "comment": _blank(rng, comments, 0.5),
    })  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="needed"))


def run_cxloop(csv_path: Path, db_path: Path) -> tuple[float, dict[str, int]]:
    dispose_engines()  # no pooled connection may outlive the file it was opened on
    for path in (
        db_path,
        *(db_path.with_name(db_path.name + s) for s in ("-wal", "-shm")),
    ):
        path.unlink(missing_ok=True)
    url = f"sqlite:///{db_path}"
    upgrade(url)
    settings = Settings(database_url=url, secret_key="bench")
    began = time.perf_counter()
    summary = import_file(settings=settings, kind="feedback", path=csv_path)
    elapsed = time.perf_counter() - began
    if not summary.committed or summary.rejected:
        raise SystemExit(f"import failed: {summary}")
    with sqlite3.connect(db_path) as connection:
        counts = {
            table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("interaction", "answer", "customer", "identity")
        }
    return elapsed, counts


def run_pandas(csv_path: Path, db_path: Path) -> float:
    db_path.unlink(missing_ok=True)
    began = time.perf_counter()
    frame = pd.read_csv(csv_path)
    with sqlite3.connect(db_path) as connection:
        frame.to_sql("feedback", connection, index=False)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--no-readme", action="store_true", help="print only")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each; the median counts"
    )
    args = parser.parse_args()
    csv_path = OUT / f"feedback_{args.rows}.csv"
    if not csv_path.exists():
        write_feedback_csv(csv_path, args.rows)
    ours_runs, peer_runs = [], []
    for _ in range(args.repeat):  # alternate, so both see the same machine
        ours_run, written = run_cxloop(csv_path, OUT / "cxloop_import.db")
        ours_runs.append(ours_run)
        peer_runs.append(run_pandas(csv_path, OUT / "pandas_to_sql.db"))
    ours, peer = statistics.median(ours_runs), statistics.median(peer_runs)
    ours_rate, peer_rate = args.rows / ours, args.rows / peer
    spread = ", ".join(f"{args.rows / run:,.0f}" for run in sorted(ours_runs))
    lines = [
        f"n = {args.rows:,} feedback rows ({csv_path.stat().st_size / 1e6:.0f} MB CSV)",
        "cxloop wrote "
        + ", ".join(f"{count:,} {table} rows" for table, count in written.items()),
        f"cxloop import_file (validate, resolve customers, interactions + answers), median of {args.repeat}: {ours:.1f} s, {ours_rate:,.0f} rows/s (runs: {spread} rows/s)",
        f"pandas read_csv + to_sql (no validation, one flat table), median of {args.repeat}: {peer:.1f} s, {peer_rate:,.0f} rows/s",
        f"ratio cxloop / pandas: {ours_rate / peer_rate:.2f}x",
        f"target: at least 50,000 rows/s: {'met' if ours_rate >= 50_000 else 'NOT met'}",
        f"machine: {machine(f'SQLite {sqlite3.sqlite_version}')}",
        f"measured {date.today().isoformat()}; load average {' / '.join(f'{v:.1f}' for v in os.getloadavg())} after the run (the cores are shared with other work)",
    ]
    print("\n".join(lines))
    if not args.no_readme:
        body = "\n".join(f"- {line}" for line in lines)
        write_section(
            "Import",
            "## Import\n\n`.venv/bin/python bench/bench_import.py` writes a deterministic feedback "
            "CSV (ids, two years of submitted_at, channel, touchpoint, NPS/CSAT/CES with blanks, "
            "short zh-TW comments, emails of ~n/5 customers) to `bench/out/` and imports it into a "
            "fresh SQLite file; the peer reads the same file with pandas and writes it with "
            "`to_sql` into another SQLite file. The two do different work: cxloop "
            "validates every cell, resolves customers and writes interactions, answers, "
            "customers and identities (about 3.3 rows per file row, into indexed tables "
            "with foreign keys); pandas writes the file as one flat, unindexed table. "
            "The figure that counts is rows of the file per second; the machine is "
            f"shared, so figures move between runs.\n\n{body}\n",
        )


if __name__ == "__main__":
    sys.exit(main())
