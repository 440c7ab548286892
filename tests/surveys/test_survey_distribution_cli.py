"""``cxloop survey send|dispatch|trigger|invitations|unsubscribe`` over real SMTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from distribution_seeding import add_customer, add_purchase, invitations, make_surveys
from smtp_sink import PUBLIC_URL, Sink, running_sink
from typer.testing import CliRunner

from cxloop.cli import app
from cxloop.commands.survey_distribution import parse_delay, parse_time
from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput

runner = CliRunner()


@pytest.fixture
def sink(cli_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sink]:
    with running_sink() as server:
        for name, value in {"SMTP_HOST": server.host, "SMTP_PORT": str(server.port),
                            "SMTP_SECURITY": "none", "PUBLIC_URL": PUBLIC_URL}.items():  # fmt: skip
            monkeypatch.setenv(f"CXLOOP_{name}", value)
        yield server


def test_send_file_of_member_ids_now_delivers_and_reports_skips(
    cli_settings: Settings, sink: Sink, tmp_path: Path
) -> None:
    make_surveys(cli_settings)
    add_customer(cli_settings, "陳美玲", "mei@example.com", external_id="M001")
    add_customer(cli_settings, "王小明", None, external_id="M002")
    listing = tmp_path / "whom.csv"
    listing.write_text("member\nM001\nM002\n", encoding="utf-8")
    result = runner.invoke(app, ["survey", "send", "relational", "--customers",
                                 str(listing), "--customer-column", "member",
                                 "--now", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["queued"], report["skipped"]) == (1, {"no e-mail address": 1})
    assert report["dispatch"]["sent"] == 1
    [message] = sink.wait_for(1)
    assert f"{PUBLIC_URL}/r/" in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_send_unknown_member_names_the_file_line_and_column(
    cli_settings: Settings, tmp_path: Path
) -> None:
    make_surveys(cli_settings)
    listing = tmp_path / "whom.csv"
    listing.write_text("customer_id\nM404\n", encoding="utf-8")
    result = runner.invoke(app, ["survey", "send", "relational",
                                 "--customers", str(listing)])  # fmt: skip
    assert result.exit_code != 0
    assert f"{listing} line 2 column customer_id" in str(result.exception)


def test_send_at_a_later_time_then_dispatch_and_count(
    cli_settings: Settings, sink: Sink
) -> None:
    make_surveys(cli_settings)
    ids = [
        add_customer(cli_settings, f"顧客{i}", f"c{i}@example.com") for i in range(2)
    ]
    later = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    result = runner.invoke(app, ["survey", "send", "relational", "--customers",
                                 ",".join(map(str, ids)), "--at", later])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "queued" in result.output
    dispatched = runner.invoke(app, ["survey", "dispatch", "--json"])
    assert json.loads(dispatched.output)["sent"] == 0
    counts = runner.invoke(app, ["survey", "invitations", "relational", "--json"])
    assert json.loads(counts.output) == {"queued": 2, "reminders": 0}
    assert sink.messages == []


def test_trigger_add_list_and_dispatch_sends_after_purchase(
    cli_settings: Settings, sink: Sink
) -> None:
    make_surveys(cli_settings)
    customer = add_customer(cli_settings, "林志豪", "hao@example.com")
    result = runner.invoke(app, ["survey", "trigger", "add", "after-purchase",
                                 "--event", "purchase", "--channel", "web"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "send after-purchase at each purchase (channel=['web'])" in result.output
    listed = json.loads(
        runner.invoke(app, ["survey", "trigger", "list", "--json"]).output
    )
    assert [(t["event"], t["conditions"]) for t in listed] == [
        ("purchase", {"channel": ["web"]})
    ]
    add_purchase(cli_settings, customer, datetime.now(UTC) - timedelta(seconds=5),
                 ref="W1", channel="web")  # fmt: skip
    dispatched = runner.invoke(app, ["survey", "dispatch"])
    assert dispatched.exit_code == 0, dispatched.output
    assert len(sink.wait_for(1)) == 1
    assert invitations(cli_settings)[0].status == "sent"
    assert runner.invoke(app, ["survey", "trigger", "disable", "1"]).exit_code == 0


def test_unsubscribe_by_email_then_send_skips_the_customer(
    cli_settings: Settings,
) -> None:
    make_surveys(cli_settings)
    customer = add_customer(cli_settings, "蔡依林", "jolin@example.com")
    first = runner.invoke(app, ["survey", "unsubscribe", "--customer",
                                "jolin@example.com"])  # fmt: skip
    assert first.exit_code == 0, first.output
    assert f"customer {customer} is unsubscribed" in first.output
    again = runner.invoke(app, ["survey", "unsubscribe", "--customer", str(customer)])
    assert "was already unsubscribed" in again.output
    sent = runner.invoke(app, ["survey", "send", "relational", "--customers",
                               str(customer), "--json"])  # fmt: skip
    assert json.loads(sent.output)["skipped"] == {"unsubscribed": 1}


@pytest.mark.parametrize(
    ("text", "minutes"), [("90", 90), ("30m", 30), ("2h", 120), ("3d", 4320)]
)
def test_parse_delay_reads_minutes_hours_and_days(text: str, minutes: int) -> None:
    assert parse_delay(text) == minutes


def test_parse_delay_and_time_refuse_nonsense() -> None:
    with pytest.raises(InvalidInput, match="30m, 2h, 3d"):
        parse_delay("soon")
    with pytest.raises(InvalidInput, match="ISO 8601"):
        parse_time("next tuesday", "Asia/Taipei")
    taipei = parse_time("2026-03-02 09:00", "Asia/Taipei")
    assert taipei == datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
