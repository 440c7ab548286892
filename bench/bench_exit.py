"""How often a finished command dies at exit: the `cxloop` program against the plain exit.

A command that reads a CSV with pyarrow's thread pool and then leaves through the
interpreter's ordinary teardown can, under load, die with SIGABRT ("terminate called
without an active exception", apache/arrow#34314) after its work is done. This runs one
short command (``clv fit`` on a small CSV with a column that does not exist: it reads
the file, prints its one-line error and exits 2) many times, several at once, in each
of these ways, and counts the runs whose status is not 2:

- ``peer``: what shipped before, the CSV parsed on pyarrow's threads and ``main()``
  left through the ordinary exit;
- ``one thread``: the CSV on one thread, the ordinary exit;
- ``exit only``: pyarrow's threads, the exit of :func:`cxloop.cli.run`;
- ``cxloop``: ``python -m cxloop`` as it ships (both).

Run: ``.venv/bin/python bench/bench_exit.py [--runs 300] [--parallel 8]``.
"""

from __future__ import annotations

import argparse
import collections
import os
import platform
import random
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

THREADED = (
    "import pyarrow.csv as p; o = p.ReadOptions; "
    "p.ReadOptions = lambda *a, **k: o(*a, **{**k, 'use_threads': True}); "
)


def _commands(sample: Path) -> dict[str, list[str]]:
    args = ["clv", "fit", "--input", str(sample), "--customer-column", "client",
            "--date-column", "date"]  # fmt: skip
    argv = f"import sys; sys.argv = ['cxloop', *{args!r}]; "
    python = [sys.executable, "-c"]
    return {
        "peer": [*python, THREADED + argv + "from cxloop.cli import main; main()"],
        "one thread": [*python, argv + "from cxloop.cli import main; main()"],
        "exit only": [*python, THREADED + argv + "from cxloop.cli import run; run()"],
        "cxloop": [sys.executable, "-m", "cxloop", *args],
    }


def _write_sample(path: Path) -> None:
    rng = random.Random(0)
    rows = [f"C{rng.randint(1, 400)},2025-{rng.randint(1, 12):02d}-"
            f"{rng.randint(1, 28):02d},{rng.randint(5, 500)}" for _ in range(3000)]  # fmt: skip
    path.write_text("customer_id,date,amount\n" + "\n".join(rows) + "\n", "utf-8")


def _status(command: list[str]) -> int:
    done = subprocess.run(command, capture_output=True, timeout=300, check=False)
    return done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300, help="runs of each way")
    parser.add_argument("--parallel", type=int, default=8, help="runs at once")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        sample = Path(folder) / "sales.csv"
        _write_sample(sample)
        print(f"{options.runs} runs of each, {options.parallel} at once "
              f"({os.cpu_count()} cores, Python {platform.python_version()})")  # fmt: skip
        print("| way | runs | exit 2 | other statuses |")
        print("| --- | ---: | ---: | --- |")
        for name, command in _commands(sample).items():
            with ThreadPoolExecutor(options.parallel) as pool:
                statuses = collections.Counter(
                    pool.map(_status, [command] * options.runs)
                )
            others = ", ".join(
                f"{s}: {n}" for s, n in sorted(statuses.items()) if s != 2
            )
            print(f"| {name} | {options.runs} | {statuses[2]} | {others or 'none'} |",
                  flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
