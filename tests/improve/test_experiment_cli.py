"""``cxloop experiment`` end to end on a real SQLite store."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cxloop.cli import app
from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput
from cxloop.store import tables
from cxloop.store.engine import UnitOfWork, engine_for

runner = CliRunner()


def _customers(settings: Settings, count: int) -> list[int]:
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        rows = [tables.Customer(external_id=f"c{i}") for i in range(count)]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def test_plan_prints_sample_size_without_a_store() -> None:
    args = ["experiment", "plan", "--analysis", "proportion", "--baseline", "0.10"]
    result = runner.invoke(app, [*args, "--mde", "0.02", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["n_per_arm"] == 3841


def test_create_assign_analyse_from_files(
    cli_settings: Settings, tmp_path: Path
) -> None:
    ids = _customers(cli_settings, 40)
    created = runner.invoke(
        app,
        ["experiment", "create", "script", "--name", "跟進話術", "--arms",
         "control,script_b", "--analysis", "proportion", "--baseline", "0.1",
         "--mde", "0.05", "--looks", "2"],
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    assert "z boundaries per look: 2.963, 1.969" in created.output
    id_file = tmp_path / "ids.txt"
    id_file.write_text("\n".join(str(i) for i in ids), encoding="utf-8")
    assigned = runner.invoke(
        app, ["experiment", "assign", "script", "--ids", str(id_file)]
    )
    assert assigned.exit_code == 0, assigned.output
    assert assigned.output.startswith("40 units:")
    outcomes = tmp_path / "outcomes.csv"
    outcomes.write_text(
        "customer,bought\n" + "".join(f"{i},{i % 2}\n" for i in ids), encoding="utf-8"
    )
    result = runner.invoke(
        app,
        ["experiment", "analyse", "script", "--outcomes", str(outcomes),
         "--id-column", "customer", "--outcome-column", "bought", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["decision"] == "too_early"
    assert sum(arm["n"] for arm in payload["arms"]) == 40
    table = runner.invoke(app, ["experiment", "list"])
    assert "script" in table.output
    assert "draft" in table.output


def test_assign_needs_exactly_one_source(cli_settings: Settings) -> None:
    runner.invoke(
        app,
        ["experiment", "create", "x", "--name", "x", "--arms", "a,b", "--analysis",
         "mean", "--baseline", "4", "--mde", "0.2", "--sd", "1"],
    )  # fmt: skip
    result = runner.invoke(app, ["experiment", "assign", "x"])
    assert isinstance(result.exception, InvalidInput)
    assert "exactly one of --segment or --ids" in str(result.exception)
