"""``cxloop case``: open, list, take, comment, resolve and show on the command line."""

from __future__ import annotations

import json

from case_seeding import add_customer, seed_team
from typer.testing import CliRunner

from cxloop.cli import app
from cxloop.config import Settings
from cxloop.domain.errors import Conflict

runner = CliRunner()
AMY = "amy@heguang.example"


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_case_commands_work_a_case_from_open_to_resolved(
    cli_settings: Settings,
) -> None:
    seed_team(cli_settings)
    customer = add_customer(cli_settings, "陳小姐", email=None)
    opened = json.loads(_run("case", "open", "--title", "帳單金額錯誤", "--customer",
                             f"id:{customer}", "--priority", "high", "--json"))  # fmt: skip
    case = str(opened["id"])
    assert (opened["team_key"], opened["priority"]) == ("desk", "high")
    listed = json.loads(_run("case", "list", "--view", "unassigned", "--json"))
    assert [c["id"] for c in listed["cases"]] == [opened["id"]]
    assert "taken" in _run("case", "take", case, "--as", AMY)
    _run("case", "comment", case, "--as", "ben@heguang.example", "--body", "金流端")
    _run("case", "reply", case, "--as", AMY, "--body", "已電話說明", "--no-email")
    _run(
        "case", "root-cause", case, "--as", AMY, "--cause", "system", "--topic", "帳單"
    )
    _run(
        "case",
        "status",
        case,
        "--as",
        AMY,
        "--to",
        "resolved",
        "--resolution",
        "已更正",
    )
    shown = json.loads(_run("case", "show", case, "--json"))
    assert shown["info"]["status"] == "resolved"
    assert shown["root_cause_topic"] == "帳單"
    assert "已更正" in _run("case", "show", case)


def test_case_command_refuses_a_skipped_step_with_a_conflict(
    cli_settings: Settings,
) -> None:
    seed_team(cli_settings)
    opened = json.loads(_run("case", "open", "--title", "退款", "--json"))
    result = runner.invoke(app, ["case", "status", str(opened["id"]), "--as", AMY,
                                 "--to", "resolved", "--resolution", "x"])  # fmt: skip
    assert isinstance(result.exception, Conflict)
    assert "can move to in_progress, not resolved" in str(result.exception)
