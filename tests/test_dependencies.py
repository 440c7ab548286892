"""What the product imports when it loads is installed by `make run`, not only by `make test`.

`make run` installs the main dependencies; `make test` adds the `dev` extra. A module of
``src/cxloop`` that imports a dev-only package at its top level works in every test and
fails on a fresh machine's `make run` (webhook alerts once imported httpx that way).
"""

from __future__ import annotations

import ast
import re
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "cxloop"


def _name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match.group(0)).lower()


def _module_level_imports(path: Path) -> list[tuple[int, str]]:
    """Top-level packages imported by statements at module level (not in a function,
    an ``if TYPE_CHECKING:`` block or a ``try:``)."""
    found = []
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module.split(".")[0]))
    return found


def test_no_module_imports_a_dev_only_package_at_load_time() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    main = {_name(r) for r in project["project"]["dependencies"]}
    dev_only = {
        _name(r) for r in project["project"]["optional-dependencies"]["dev"]
    } - main
    distributions = packages_distributions()
    offenders = [
        f"{path.relative_to(ROOT)}:{line} imports {top} ({dist}, dev only)"
        for path in sorted(SRC.rglob("*.py"))
        for line, top in _module_level_imports(path)
        for dist in distributions.get(top, [])
        if _name(dist) in dev_only
    ]
    assert offenders == []


def test_the_check_sees_a_dev_only_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "import json\nfrom typing import TYPE_CHECKING\nimport httpx\n"
        "if TYPE_CHECKING:\n    import pytest\n"
        "def f():\n    import aiosmtpd\n",
        encoding="utf-8",
    )
    assert _module_level_imports(module) == [(1, "json"), (2, "typing"), (3, "httpx")]
