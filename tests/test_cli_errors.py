"""The ``cxloop`` entry point prints a user's mistake as one line and exits 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cxloop.config import Settings


def test_error_message_keeps_its_brackets(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    rules = tmp_path / "bad.yaml"
    rules.write_text("- key: Bad Key\n  name: x\n  conditions: []\n", encoding="utf-8")
    env = {**os.environ, "CXLOOP_DATABASE_URL": sqlite_settings.database_url}
    done = subprocess.run(
        [sys.executable, "-m", "cxloop", "segments", "create", str(rules)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.startswith("error: ")
    assert "[a-z0-9_-]" in done.stderr.replace("\n", "")
