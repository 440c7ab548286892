"""``cxloop service``: metrics, leaderboard, recovery, follow-ups and announcements."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from service_seeding import (
    add_agent,
    add_case,
    add_customer,
    add_nps,
    add_team,
    nps_survey,
    uow,
)
from typer.testing import CliRunner

from cxloop.cli import app
from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput
from cxloop.improve.initiatives import create_initiative
from cxloop.loop.followup import on_case_resolved
from cxloop.store.tables import Case

runner = CliRunner()
T = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)
H = timedelta(hours=1)


def _seed(settings: Settings) -> int:
    agent = add_agent(settings, "alice@heguang.example", "alice")
    team = add_team(settings, "billing", "帳務")
    customer = add_customer(settings, "林美華", "meihua@example.com")
    question = nps_survey(settings)
    add_nps(settings, question, customer, T - H, 2, touchpoint="宅配")
    add_nps(settings, question, customer, T + 48 * H, 9, touchpoint="宅配")
    for hours, contacts in ((1, 1), (5, 2)):
        add_case(settings, T, owner_id=agent, team_id=team, channel="email",
                 customer_id=customer, contacts=contacts, handling_seconds=600,
                 first_response_at=T + H, resolved_at=T + hours * H,
                 first_response_due_at=T + 2 * H, resolution_due_at=T + 4 * H)  # fmt: skip
    return customer


def _json(args: list[str]) -> object:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_service_metrics_json_by_team(cli_settings: Settings) -> None:
    _seed(cli_settings)

    rows = _json(["service", "metrics", "--by", "team", "--from", "2025-03-01",
                  "--to", "2025-03-31", "--json"])  # fmt: skip

    assert isinstance(rows, list)
    [row] = rows
    assert (row["group"], row["cases"], row["resolved"]) == ("billing", 2, 2)
    assert (row["fcr"], row["fcr_n"], row["sla_resolution"]) == (50.0, 2, 50.0)
    assert (row["recovery"], row["recovery_n"]) == (100.0, 1)


def test_service_metrics_table_and_leaderboard(cli_settings: Settings) -> None:
    _seed(cli_settings)

    table = runner.invoke(app, ["service", "metrics"])
    weeks = _json(["service", "metrics", "--period", "week", "--json"])
    board = _json(["service", "leaderboard", "--min-cases", "2", "--json"])

    assert table.exit_code == 0, table.output
    assert "Service metrics" in table.output
    assert isinstance(weeks, list)
    assert [(w["period"], w["first_response_median"]) for w in weeks] == [
        ("2025-03-03", 3600.0)
    ]
    assert isinstance(board, list)
    assert [(r["rank"], r["agent"], r["fcr"]) for r in board] == [(1, "alice", 50.0)]


def test_service_recovery_json(cli_settings: Settings) -> None:
    _seed(cli_settings)

    rows = _json(["service", "recovery", "--by", "agent", "--json"])

    assert rows == [
        {"group": "all", "detractors": 1, "answered_again": 1, "recovered": 1,
         "promoters": 1, "passives": 0, "rate": 100.0, "rate_answered": 100.0},
        {"group": "alice", "detractors": 1, "answered_again": 1, "recovered": 1,
         "promoters": 1, "passives": 0, "rate": 100.0, "rate_answered": 100.0},
    ]  # fmt: skip


def test_service_followups_writes_the_outbox(cli_settings: Settings) -> None:
    _seed(cli_settings)
    with uow(cli_settings).session() as session:
        case = session.get_one(Case, 1)
        on_case_resolved(session, case, now=datetime.now(UTC))

    done = _json(["service", "followups", "--json"])

    assert done == {"sent": 1, "skipped": 0, "failed": 0, "reminded": 0,
                    "reminders_failed": 0, "answered": 0, "errors": []}  # fmt: skip
    outbox = Path(cli_settings.database_url.removeprefix("sqlite:///")).with_suffix(
        ".outbox"
    )
    assert len(list(outbox.glob("*.eml"))) == 1


def test_service_announce_reads_the_body_file(
    cli_settings: Settings, tmp_path: Path
) -> None:
    _seed(cli_settings)
    view = create_initiative(settings=cli_settings, title="宅配", metric="nps",
                             scope={"touchpoint": "宅配"})  # fmt: skip
    text = tmp_path / "news.txt"
    text.write_text("宅配改為隔日到貨。", encoding="utf-8")

    result = runner.invoke(app, ["service", "announce", "--initiative", str(view.id),
                                 "--subject", "宅配變快了", "--body-file", str(text)])  # fmt: skip
    missing = runner.invoke(app, ["service", "announce", "--initiative", str(view.id),
                                  "--subject", "x", "--body-file", "nope.txt"])  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "1 of 1 customers told" in result.output
    assert isinstance(missing.exception, InvalidInput)  # main() turns it into exit 2
    assert "nope.txt: no such file" in str(missing.exception)
