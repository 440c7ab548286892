"""One pass of the periodic work runs every step, and a broken step spares the others."""

from __future__ import annotations

from pathlib import Path

import pytest
from distribution_seeding import add_customer, invitations, make_surveys
from typer.testing import CliRunner

from cxloop.cli import app
from cxloop.config import Settings
from cxloop.loop import worker
from cxloop.surveys.invitations import invite_customers


def _outbox(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(
        update={"smtp_host": "", "outbox_dir": str(tmp_path / "outbox")}
    )


def test_run_pass_sends_queued_invitations_and_runs_every_step(
    settings: Settings, tmp_path: Path
) -> None:
    settings = _outbox(settings, tmp_path)
    make_surveys(settings)
    customer = add_customer(settings, "張家豪", "chia@example.com")
    invite_customers(
        settings=settings, survey_key="relational", customer_ids=[customer]
    )
    done = worker.run_pass(settings=settings)
    assert done.errors == {}
    assert set(done.results) == {
        "text", "surveys", "followups", "alerts", "replies", "escalations"
    }  # fmt: skip
    assert done.results["surveys"].sent == 1
    assert [i.status for i in invitations(settings)] == ["sent"]


def test_run_pass_reports_a_failing_step_and_runs_the_rest(
    sqlite_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _outbox(sqlite_settings, tmp_path)
    make_surveys(settings)
    customer = add_customer(settings, "王小明", "ming@example.com")
    invite_customers(
        settings=settings, survey_key="relational", customer_ids=[customer]
    )

    def broken(**_kwargs: object) -> None:
        raise RuntimeError("rules table unreadable")

    monkeypatch.setattr("cxloop.loop.alerts.run_alert_rules", broken)
    done = worker.run_pass(settings=settings)
    assert done.errors == {"alerts": "RuntimeError: rules table unreadable"}
    assert done.results["surveys"].sent == 1
    assert "escalations" in done.results


def test_cli_worker_runs_one_pass(cli_settings: Settings) -> None:
    result = CliRunner().invoke(app, ["worker"])
    assert result.exit_code == 0, result.output
    for step in ("surveys", "followups", "alerts", "escalations"):
        assert f"{step}:" in result.output
