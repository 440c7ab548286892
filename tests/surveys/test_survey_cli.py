"""``cxloop survey create/templates/list/show/export/open/pause/close`` via CliRunner."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner, Result

from cxloop.cli import app
from cxloop.config import Settings, get_settings
from cxloop.domain.errors import Conflict, InvalidInput

PUBLIC_URL = "https://cx.example.com.tw/"
DEFINITION = """\
key: store-visit
name: {zh-TW: 門市體驗, en: Store visit}
questions:
  - key: csat
    type: csat
    required: true
    text: {zh-TW: 您對這次門市體驗滿意嗎？, en: "Were you satisfied with your visit?"}
  - key: why
    type: text
    text: {zh-TW: 哪裡需要改進？, en: "What should we improve?"}
    show_if: {question: csat, max: 3}
"""


@pytest.fixture
def store_cli(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    """The CLI pointed at a fresh SQLite and PostgreSQL store, with a public address."""
    monkeypatch.setenv("CXLOOP_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("CXLOOP_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("CXLOOP_ANALYTICS_DIR", settings.analytics_dir)
    monkeypatch.setenv("CXLOOP_PUBLIC_URL", PUBLIC_URL)
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


def run(*args: str) -> Result:
    return CliRunner().invoke(app, ["survey", *args])


def ok(*args: str) -> Result:
    result = run(*args)
    assert result.exit_code == 0, result.output
    return result


def as_json(*args: str) -> Any:
    return json.loads(ok(*args, "--json").stdout)


def refused(*args: str) -> BaseException:
    result = run(*args)
    assert result.exit_code != 0
    assert result.exception is not None
    return result.exception


def test_create_from_template_gives_the_form_link_and_embed_snippet(
    store_cli: Settings,
) -> None:
    created = as_json("create", "--template", "relational-nps", "--key", "nps-2025",
                      "--name-zh", "2025 年度 NPS")  # fmt: skip
    token = created["public_token"]
    assert created["form_url"] == f"https://cx.example.com.tw/s/{token}"
    assert created["embed_snippet"] == (
        f'<script src="https://cx.example.com.tw/embed/{token}.js" async></script>'
    )
    shown = as_json("show", "nps-2025")
    assert shown["definition"]["name"]["zh-TW"] == "2025 年度 NPS"
    assert shown["definition"]["template"] == "relational-nps"
    assert set(shown["question_ids"]) == {"nps", "reason", "improve", "better", "liked"}
    table = ok("show", "nps-2025").stdout
    assert "nps <= 6" in table
    assert "nps >= 9" in table
    assert created["embed_snippet"] in table
    [row] = as_json("list")
    assert (row["key"], row["status"], row["questions"]) == ("nps-2025", "active", 5)


def test_create_file_then_export_and_replace_round_trips(
    store_cli: Settings, tmp_path: Path
) -> None:
    source = tmp_path / "store-visit.yaml"
    source.write_text(DEFINITION, encoding="utf-8")
    first = as_json("create", str(source), "--status", "draft")
    assert first["status"] == "draft"
    exported = tmp_path / "exported.yaml"
    ok("export", "store-visit", "--output", str(exported))
    assert ok("export", "store-visit").stdout == exported.read_text(encoding="utf-8")
    document = yaml.safe_load(exported.read_text(encoding="utf-8"))
    assert document == first["definition"]
    document["questions"].append({"key": "again", "type": "nps", "text": "再來？"})
    exported.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    assert isinstance(refused("create", str(exported)), Conflict)
    second = as_json("create", str(exported), "--replace")
    assert second["question_ids"]["csat"] == first["question_ids"]["csat"]
    assert second["definition"]["questions"][-1]["key"] == "again"
    assert second["status"] == "active"


def test_open_pause_close_change_the_status(
    store_cli: Settings, tmp_path: Path
) -> None:
    source = tmp_path / "visit.json"
    source.write_text(json.dumps(yaml.safe_load(DEFINITION)), encoding="utf-8")
    ok("create", str(source), "--status", "draft")
    seen = []
    for command in ("open", "pause", "close"):
        assert "survey store-visit is now" in ok(command, "store-visit").stdout
        seen.append(as_json("list")[0]["status"])
    assert seen == ["active", "draft", "closed"]
    assert "no survey 'nope'" in str(refused("close", "nope"))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (DEFINITION.replace("type: text", "type: essay"),
         "questions[1].type: 'essay'; choose nps"),
        (DEFINITION.replace("question: csat", "question: why"),
         "questions[1].show_if.question: 'why' is not an earlier question"),
        (DEFINITION.replace("name: {zh-TW", "name: [zh-TW"), "line 2, column "),
        ("- just\n- a list\n", "a survey definition must be a mapping"),
    ],
)  # fmt: skip
def test_create_error_names_the_file_and_the_place_in_it(
    cli_settings: Settings, tmp_path: Path, content: str, message: str
) -> None:
    source = tmp_path / "bad-survey.yaml"
    source.write_text(content, encoding="utf-8")
    error = refused("create", str(source))
    assert isinstance(error, InvalidInput)
    assert str(error).startswith(f"{source}: ")
    assert message in str(error)


def test_create_error_names_the_line_of_broken_json(
    cli_settings: Settings, tmp_path: Path
) -> None:
    source = tmp_path / "bad.json"
    source.write_text('{"key": "x",\n "name": }', encoding="utf-8")
    assert "bad.json: line 2, column 10" in str(refused("create", str(source)))
    other = tmp_path / "survey.txt"
    other.write_text(DEFINITION, encoding="utf-8")
    assert "must end in .yaml, .yml or .json" in str(refused("create", str(other)))


def test_create_refuses_a_file_with_a_template_or_neither(
    cli_settings: Settings, tmp_path: Path
) -> None:
    source = tmp_path / "s.yaml"
    source.write_text(DEFINITION, encoding="utf-8")
    both = refused("create", str(source), "--template", "servqual")
    assert "give a FILE or --template, not both" in str(both)
    assert "--template NAME with --key" in str(refused("create"))
    assert "--key KEY" in str(refused("create", "--template", "servqual"))
    unknown = refused("create", "--template", "nps", "--key", "x")
    assert "choose one of relational-nps" in str(unknown)


def test_templates_lists_each_template_in_either_language(
    cli_settings: Settings,
) -> None:
    listed = as_json("templates")
    assert [t["name"] for t in listed] == [
        "relational-nps", "csat-purchase", "csat-case", "ces-self-service",
        "servqual", "cx-index",
    ]  # fmt: skip
    assert ok("templates").stdout.count("cx-index") == 1
    english = ok("templates", "--language", "en").stdout
    assert "Relational NPS survey" in english
    assert "關係型" not in english
