"""The layer rules of DESIGN.md, checked by reading the source (no imports needed)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "cxloop"

DOMAIN_BANNED = {
    "sqlalchemy", "fastapi", "starlette", "typer", "jinja2", "httpx", "ibis", "duckdb",
    "pyspark", "smtplib", "pandas", "psycopg", "alembic", "uvicorn",
}  # fmt: skip


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_domain_imports_no_io_library_and_no_other_layer() -> None:
    offenders = []
    for path in sorted((SRC / "domain").rglob("*.py")):
        for name in _imports(path):
            top = name.split(".")[0]
            other_layer = name.startswith("cxloop.") and not name.startswith(
                "cxloop.domain"
            )
            if top in DOMAIN_BANNED or other_layer:
                offenders.append(f"{path.relative_to(SRC)} imports {name}")
    assert offenders == []


def test_web_and_cli_never_import_the_store() -> None:
    paths = [
        SRC / "cli.py",
        *sorted((SRC / "commands").rglob("*.py")),
        *sorted((SRC / "web").rglob("*.py")),
    ]
    offenders = [
        f"{path.relative_to(SRC)} imports {name}"
        for path in paths
        for name in _imports(path)
        if name.startswith("cxloop.store")
    ]
    assert offenders == []
