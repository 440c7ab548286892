"""What every benchmark script shares: the machine line and its section of README.md.

Each ``bench_*.py`` prints its figures and writes them to its own ``## Title`` section
of ``bench/README.md`` (replacing the section, or appending it the first time).
"""

from __future__ import annotations

import os
import platform
import re
from pathlib import Path

README = Path(__file__).resolve().parent / "README.md"


def machine(*versions: str) -> str:
    """Cores, CPU model and Python version, then any ``versions`` given."""
    model = platform.processor() or "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        model = found.group(1).strip() if found else model
    parts = [f"{os.cpu_count()} cores", model, f"Python {platform.python_version()}"]
    return ", ".join([*parts, *versions])


def write_section(title: str, section: str) -> None:
    """Put ``section`` (which starts with ``## title``) into bench/README.md."""
    text = README.read_text(encoding="utf-8") if README.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    README.write_text(text, encoding="utf-8")
