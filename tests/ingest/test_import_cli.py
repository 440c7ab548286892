"""``cxloop import``: exit codes, the summary table and the re-run sentence."""

from __future__ import annotations

from pathlib import Path

import pytest
from ingest_files import FEEDBACK_HEADER, count, write_csv
from typer.testing import CliRunner

from cxloop.cli import app
from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput
from cxloop.store.tables import Interaction

ROWS = [
    ["R1", "a@example.com", "", "2024-03-01 09:30", "web", "", "", "9", "", "", "<script>x</script>"],
    ["R2", "", "0912345678", "2024-03-01 09:30", "store", "", "", "2", "", "", ""],
]  # fmt: skip


def test_cli_import_prints_summary_then_says_nothing_added_on_rerun(
    cli_settings: Settings, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "Survey.csv", FEEDBACK_HEADER, ROWS)
    runner = CliRunner()
    first = runner.invoke(app, ["import", "feedback", str(path)])
    assert first.exit_code == 0, first.output
    assert "(source 'survey')" in first.output
    assert "inserted" in first.output
    again = runner.invoke(app, ["import", "feedback", str(path)])
    assert again.exit_code == 0, again.output
    assert (
        "2 rows were already imported from source 'survey'; nothing added"
        in again.output
    )
    assert count(cli_settings.database_url, Interaction) == 2


def test_cli_import_exits_2_on_rejects_and_writes_nothing(
    cli_settings: Settings, tmp_path: Path
) -> None:
    bad = [*ROWS, ["R3", "", "", "yesterday", "", "", "", "", "", "", ""]]
    path = write_csv(tmp_path / "bad.csv", FEEDBACK_HEADER, bad)
    result = CliRunner().invoke(app, ["import", "feedback", str(path)])
    assert result.exit_code == 2, result.output
    assert "1 of 3 rows were rejected: nothing was imported" in result.output
    assert "line 4, submitted_at: 'yesterday' is not a date" in result.output
    assert "bad.csv.rejects.csv" in result.output
    assert count(cli_settings.database_url, Interaction) == 0


def test_cli_import_allow_rejects_imports_the_good_rows(
    cli_settings: Settings, tmp_path: Path
) -> None:
    bad = [*ROWS, ["R3", "", "", "yesterday", "", "", "", "", "", "", ""]]
    path = write_csv(tmp_path / "bad.csv", FEEDBACK_HEADER, bad)
    result = CliRunner().invoke(
        app,
        ["import", "feedback", str(path), "--allow-rejects", "--source", "qualtrics"],
    )
    assert result.exit_code == 0, result.output
    assert "1 rows were rejected and not imported" in result.output
    assert count(cli_settings.database_url, Interaction) == 2


def test_cli_import_map_renames_columns(cli_settings: Settings, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "x.csv", ["編號", "時間", "分數"], [["Z1", "2024-01-01", "10"]]
    )
    result = CliRunner().invoke(
        app,
        ["import", "feedback", str(path), "--map", "編號=response_id",
         "--map", "時間=submitted_at", "--map", "分數=nps"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert count(cli_settings.database_url, Interaction) == 1


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["import", "survey", "FILE"], "unknown kind 'survey'"),
        (
            ["import", "feedback", "FILE", "--map", "nps"],
            "--map 'nps': expected SOURCE_COLUMN=FIELD",
        ),
    ],
)
def test_cli_import_refuses_bad_arguments(
    cli_settings: Settings, tmp_path: Path, arguments: list[str], message: str
) -> None:
    path = write_csv(tmp_path / "f.csv", FEEDBACK_HEADER, ROWS)
    result = CliRunner().invoke(
        app, [str(path) if a == "FILE" else a for a in arguments]
    )
    assert isinstance(result.exception, InvalidInput)
    assert message in str(result.exception)
    assert count(cli_settings.database_url, Interaction) == 0


def test_cli_import_shows_a_progress_bar_only_for_big_files(
    cli_settings: Settings, tmp_path: Path
) -> None:
    rows = [
        [f"P{i}", "", "", "2024-03-01", "", "", "", "5", "", "", ""]
        for i in range(6_000)
    ]
    path = write_csv(tmp_path / "big.csv", FEEDBACK_HEADER, rows)
    result = CliRunner().invoke(app, ["import", "feedback", str(path)])
    assert result.exit_code == 0, result.output
    assert "6,000" in result.output
    assert count(cli_settings.database_url, Interaction) == 6_000
