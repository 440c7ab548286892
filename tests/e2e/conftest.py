"""Browser tests: a real ``cxloop serve`` on a free loopback port, driven by Playwright
on Debian's chromium (never ``playwright install``)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_server import Server, running_server

ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture
def cxloop_server(tmp_path: Path) -> Iterator[Server]:
    """A seeded SQLite store, an admin, and ``python -m cxloop serve`` on a free port."""
    with running_server(tmp_path) as server:
        yield server


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    """Debian's chromium, headless, with nothing that reaches the network."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("chromium is missing: run `make test` (apt-get install chromium)")
    return {
        "executable_path": executable,
        "headless": True,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"],
    }  # fmt: skip


@pytest.fixture
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """A Taiwanese browser: zh-TW first, Taipei time, a laptop-sized window."""
    return {**browser_context_args, "locale": "zh-TW", "timezone_id": "Asia/Taipei",
            "viewport": {"width": 1280, "height": 900}}  # fmt: skip


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def base_url() -> str | None:
    """No fixed base URL: each test starts its own server (also replaces the plugin's
    fixture, whose instance-method form pytest deprecates)."""
    return None
