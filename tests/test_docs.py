"""The docs are part of the product: every setting and command is documented, the
generated reference pages are fresh, both languages have every page, links resolve."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cxloop import docgen
from cxloop.config import Settings

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", list(Settings.model_fields))
def test_settings_page_documents_every_setting(name: str) -> None:
    page = _read(DOCS / "settings.md")
    assert f"`{name}`" in page
    assert f"`CXLOOP_{name.upper()}`" in page


def test_settings_page_is_fresh() -> None:
    assert _read(DOCS / "settings.md") == docgen.settings_reference(), (
        "docs/settings.md is stale: run "
        "`.venv/bin/python -m cxloop.docgen settings > docs/settings.md`"
    )


def test_cli_page_is_fresh() -> None:
    assert _read(DOCS / "cli.md") == docgen.cli_reference(), (
        "docs/cli.md is stale: run `.venv/bin/python -m cxloop.docgen cli > docs/cli.md`"
    )


def test_cli_page_documents_every_command() -> None:
    page = _read(DOCS / "cli.md")
    paths = docgen.command_paths()
    assert {"cxloop", "cxloop demo", "cxloop db upgrade"} <= set(paths)
    missing = [path for path in paths if f"## {path}\n" not in page]
    assert missing == []


def test_cli_page_is_plain_text() -> None:
    page = _read(DOCS / "cli.md")
    assert "\x1b[" not in page
    assert not set("╭╮╰╯│─") & set(page)


def test_readme_shows_make_run_and_make_test_first() -> None:
    readme = _read(ROOT / "README.md")
    first_block = readme.split("```")[1]
    assert "make run" in first_block
    assert "make test" in first_block
    assert "demo@cxloop.local" in readme


def test_every_english_page_has_a_chinese_counterpart() -> None:
    english = sorted(p.name for p in (DOCS / "en").glob("*.md"))
    chinese = sorted(p.name for p in (DOCS / "zh-TW").glob("*.md"))
    assert english == chinese
    assert {"index.md", "getting-started.md", "importing.md", "metrics.md"} <= set(
        english
    )
    assert {"demo.md", "operations.md"} <= set(english)


def _pages() -> list[Path]:
    return [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted(DOCS.rglob("*.md"))]


@pytest.mark.parametrize("page", _pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_point_to_existing_files(page: Path) -> None:
    broken = []
    for target in LINK.findall(_read(page)):
        if target.startswith(("http://", "https://", "#", "mailto:")):
            continue
        path = (page.parent / target.split("#")[0]).resolve()
        if not path.exists():
            broken.append(target)
    assert broken == []


def test_docgen_main_writes_a_page_and_refuses_an_unknown_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert docgen.main(["settings"]) == 0
    assert capsys.readouterr().out == docgen.settings_reference()
    assert docgen.main(["nonsense"]) == 2
    assert "usage" in capsys.readouterr().err
