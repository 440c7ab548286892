"""Rebuild the shipped text models from the public corpora.

Runs ``build(data_dir, out_dir) -> dict`` of every module in ``scripts/text_models/``
(except ``corpora``) or only the ones named with ``--only``, and prints what each
reports (held-out figures, sizes). Seeds are fixed, so a rebuild gives the same models.

Usage::

    .venv/bin/python scripts/train_text_models.py                  # every part
    .venv/bin/python scripts/train_text_models.py --only sentiment
    .venv/bin/python scripts/train_text_models.py --data-dir ../shared/data --out-dir /tmp/m
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data"
DEFAULT_OUT = ROOT / "src" / "cxloop" / "text" / "models"
NOT_PARTS = {"__init__", "corpora"}


def parts() -> list[str]:
    """The model builders found in ``scripts/text_models/``, in name order."""
    folder = ROOT / "scripts" / "text_models"
    return sorted(
        p.stem
        for p in folder.glob("*.py")
        if p.stem not in NOT_PARTS and not p.stem.startswith("_")
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", action="append", help="build only this part (repeatable)"
    )
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    available = parts()
    chosen = args.only or available
    unknown = sorted(set(chosen) - set(available))
    if unknown:
        parser.error(
            f"unknown part(s) {', '.join(unknown)}; found: {', '.join(available)}"
        )
    if not args.data_dir.is_dir():
        parser.error(f"data folder {args.data_dir} does not exist")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name in chosen:
        started = time.perf_counter()
        module = importlib.import_module(f"scripts.text_models.{name}")
        report = module.build(args.data_dir, args.out_dir)
        print(f"== {name} ({time.perf_counter() - started:.0f} s)")  # noqa: T201
        print(json.dumps(report, ensure_ascii=False, indent=2))  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
