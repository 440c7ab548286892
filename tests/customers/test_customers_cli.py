"""``cxloop customers merge|split|resolve|merges`` and the import summary's merges."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from merge_seeding import bare_customers, load, seed_pair, write_csv
from typer.testing import CliRunner

from cxloop.cli import app, main
from cxloop.config import Settings
from cxloop.customers.merging import list_merges

runner = CliRunner()


def test_merge_then_split_by_member_id_and_email(
    cli_settings: Settings, tmp_path: Path
) -> None:
    first, second = seed_pair(cli_settings, tmp_path)
    result = runner.invoke(
        app, ["customers", "merge", "M1", "email:chen.work@example.com",
              "--reason", "same phone", "--actor", "agent 7"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"merged customer {second} into customer {first} (merge #1)" in result.output
    assert "interactions" in result.output
    assert "filled on the kept customer: attributes, language, phone" in result.output
    (record,) = list_merges(settings=cli_settings)
    assert (record.reason, record.actor) == ("same phone", "agent 7")

    result = runner.invoke(app, ["customers", "split", "1"])
    assert result.exit_code == 0, result.output
    assert f"customer {second} is apart from customer {first} again" in result.output
    assert list_merges(settings=cli_settings)[0].undone_at is not None


def test_merges_json_lists_counts_and_filters_by_customer(
    cli_settings: Settings, tmp_path: Path
) -> None:
    first, second = seed_pair(cli_settings, tmp_path)
    assert runner.invoke(app, ["customers", "merges"]).output.strip() == (
        "no merges recorded"
    )
    runner.invoke(app, ["customers", "merge", "M1", "M2", "--reason", "dup"])
    result = runner.invoke(app, ["customers", "merges", "--customer", "M2", "--json"])
    assert result.exit_code == 0, result.output
    (found,) = json.loads(result.stdout)
    assert (found["kept_customer_id"], found["merged_customer_id"]) == (first, second)
    assert found["moved"] == {
        "identity": 3, "interaction": 2, "purchase": 2, "support_case": 1,
        "invitation": 1, "segment_member": 1,
    }  # fmt: skip
    assert found["actor"] == "cli"
    assert found["undone_at"] is None
    table = runner.invoke(app, ["customers", "merges"])
    assert "dup" in table.output


def test_resolve_dry_run_lists_groups_then_resolve_merges_them(
    cli_settings: Settings, tmp_path: Path
) -> None:
    load(
        cli_settings,
        "customers",
        write_csv(tmp_path / "a.csv", ["email"], [["a@x.tw"]]),
    )
    (late,) = bare_customers(cli_settings, {"email": "A@x.TW"})
    dry = runner.invoke(app, ["customers", "resolve", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "shared identity: email a@x.tw" in dry.output
    assert "dry run: 1 customers would be merged; none was" in dry.output
    assert list_merges(settings=cli_settings) == []
    result = runner.invoke(app, ["customers", "resolve", "--reason-prefix", "same"])
    assert result.exit_code == 0, result.output
    assert "1 customers merged" in result.output
    (record,) = list_merges(settings=cli_settings)
    assert (record.merged_customer_id, record.reason) == (late, "same: email a@x.tw")
    again = runner.invoke(app, ["customers", "resolve"])
    assert "0 customers merged" in again.output


def test_import_summary_counts_customers_merged(
    cli_settings: Settings, tmp_path: Path
) -> None:
    header = ["customer_id", "phone"]
    people = write_csv(tmp_path / "a.csv", header, [["M1", "0912-345-678"], ["M2", ""]])
    load(cli_settings, "customers", people)
    linking = write_csv(tmp_path / "b.csv", header, [["M2", "0912345678"]])
    result = runner.invoke(app, ["import", "customers", str(linking)])
    assert result.exit_code == 0, result.output
    assert "customers merged │     1" in result.output
    (record,) = list_merges(settings=cli_settings)
    assert record.reason == "import b.csv line 2: member id M2 and phone +886912345678"


def test_merge_into_itself_exits_2_with_one_line(
    cli_settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    seed_pair(cli_settings, tmp_path)
    argv = ["cxloop", "customers", "merge", "M1", "M1", "--reason", "x"]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as stopped:
        main()
    assert stopped.value.code == 2
    error = capsys.readouterr().err.strip()
    assert error.splitlines() == [f"error: {error.removeprefix('error: ')}"]
    assert "cannot be merged into itself" in error


def test_split_of_an_unknown_merge_exits_2(
    cli_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(sys, "argv", ["cxloop", "customers", "split", "42"])
    with pytest.raises(SystemExit) as stopped:
        main()
    assert stopped.value.code == 2
    assert capsys.readouterr().err.strip() == "error: merge #42 does not exist"
