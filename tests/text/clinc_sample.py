"""A few CLINC150 intents read from the shared data, for the training tests."""

from __future__ import annotations

import csv
from pathlib import Path


def clinc(shared_data: Path, name: str, labels: tuple[str, ...], per_label: int) -> tuple[list[str], list[str]]:  # fmt: skip
    """The first ``per_label`` texts of each of ``labels`` in ``clinc150/<name>``."""
    with (shared_data / "clinc150" / name).open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["label"] in labels]
    kept: dict[str, int] = {}
    texts, found = [], []
    for row in rows:
        if kept.get(row["label"], 0) < per_label:
            kept[row["label"]] = kept.get(row["label"], 0) + 1
            texts.append(row["text"])
            found.append(row["label"])
    return texts, found
