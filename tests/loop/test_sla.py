"""SLAs on a real store: due times, pauses, escalation by e-mail, the SLA report."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from routing_seeding import (
    add_agents,
    add_case,
    change_status,
    events,
    get_case,
    open_routed_case,
    smtp_sink,
    uow,
)
from typer.testing import CliRunner

from cxloop.cli import app
from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput
from cxloop.loop import sla, teams
from cxloop.loop.calendars import CALENDARS_DIR
from cxloop.store.tables import Case

TPE = ZoneInfo("Asia/Taipei")
MON = datetime(2026, 3, 9, 10, 0, tzinfo=TPE)  # Monday 10:00, an ordinary week


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=TPE)


def _desk(settings: Settings, **team: object) -> list[int]:
    ids = add_agents(settings, "agent@heguang.example", "lead@heguang.example")
    teams.save_routing_rules(settings=settings, document={
        "teams": [{"key": "desk", "name": "客服中心", "lead": "lead@heguang.example",
                   "members": ["agent@heguang.example"], **team}],
        "rules": [{"name": "all", "team": "desk"}],
    })  # fmt: skip
    return ids


def _clocks(settings: Settings, case_id: int, now: datetime) -> sla.CaseSla:
    with uow(settings).session() as session:
        return sla.case_sla(session, session.get_one(Case, case_id), now=now)


def test_due_times_follow_default_policy_and_taiwan_holidays(
    settings: Settings,
) -> None:
    lunar = datetime(2026, 2, 13, 17, 0, tzinfo=TPE)  # Friday before Lunar New Year
    normal = get_case(settings, open_routed_case(settings, now=lunar))
    assert normal.first_response_due_at == datetime(2026, 2, 23, 16, 0, tzinfo=TPE)
    assert normal.resolution_due_at == datetime(2026, 3, 2, 12, 0, tzinfo=TPE)
    urgent = get_case(settings, open_routed_case(
        settings, now=_at(9, 17, 30), priority="urgent"))  # fmt: skip
    assert urgent.first_response_due_at == _at(10, 9, 30)
    assert urgent.resolution_due_at == _at(10, 16, 30)


def test_due_times_use_configured_policy_and_team_calendar(
    settings: Settings, tmp_path: Path
) -> None:
    (tmp_path / "always.yaml").write_text("name: always\nhours: 24x7\n", "utf-8")
    _desk(settings, calendar=str(tmp_path / "always.yaml"))
    teams.save_routing_rules(settings=settings, document={
        "teams": [{"key": "desk", "name": "Desk", "calendar": "always.yaml",
                   "members": ["agent@heguang.example"]}],
        "rules": [{"name": "all", "team": "desk"}],
        "sla": {"high": {"first_response": "30m", "resolution": "2h"}},
    }, base_dir=tmp_path)  # fmt: skip
    sunday = datetime(2026, 3, 8, 23, 0, tzinfo=TPE)
    case = get_case(settings, open_routed_case(settings, now=sunday, priority="high"))
    assert case.first_response_due_at == datetime(2026, 3, 8, 23, 30, tzinfo=TPE)
    assert case.resolution_due_at == datetime(2026, 3, 9, 1, 0, tzinfo=TPE)
    policies = {p.priority: p for p in sla.list_policies(settings=settings)}
    assert (policies["high"].first_response_minutes, policies["high"].configured) == (
        30,
        True,
    )
    assert (policies["low"].resolution_minutes, policies["low"].configured) == (
        4800,
        False,
    )


def test_clock_pauses_while_waiting_on_customer(settings: Settings) -> None:
    case_id = open_routed_case(settings, now=MON)
    assert get_case(settings, case_id).first_response_due_at == _at(10, 9)
    change_status(settings, case_id, _at(9, 11), "waiting_on_customer")
    waiting = _clocks(settings, case_id, _at(9, 16)).first_response
    assert waiting is not None
    assert (waiting.paused, waiting.elapsed_seconds) == (True, 3600.0)
    change_status(settings, case_id, _at(9, 15), "in_progress")
    clocks = _clocks(settings, case_id, _at(10, 12))
    assert clocks.first_response is not None
    assert clocks.first_response.elapsed_seconds == 7 * 3600
    assert clocks.first_response.due_at == _at(10, 13)
    with uow(settings).session() as session:
        sla.apply_policy(session, session.get_one(Case, case_id), now=_at(10, 12))
    assert get_case(settings, case_id).first_response_due_at == _at(10, 13)


def test_escalation_raises_priority_mails_lead_once_per_clock(
    settings: Settings,
) -> None:
    sink_module = smtp_sink()
    _desk(settings)
    late = open_routed_case(settings, now=MON)
    answered = open_routed_case(settings, now=MON)
    waiting = open_routed_case(settings, now=MON)
    with uow(settings).session() as session:
        session.get_one(Case, answered).first_response_at = _at(9, 11)
    change_status(settings, waiting, _at(9, 11), "waiting_on_customer")
    with sink_module.running_sink() as sink:
        mail = sink_module.mail_settings(settings, sink)
        first = sla.escalate_breaches(settings=mail, now=_at(10, 10))
        again = sla.escalate_breaches(settings=mail, now=_at(10, 11))
        messages = sink.wait_for(1)
        later = sla.escalate_breaches(settings=mail, now=_at(13, 15))
        messages = sink.wait_for(3)
    assert (first.checked, first.breaches, first.escalated, first.mailed) == (
        2,
        1,
        (late,),
        1,
    )
    assert (again.breaches, again.mailed) == (0, 0)
    # Friday 15:00: the resolution clocks (normal: 40 h, not high's 24 h) ran out.
    assert (later.escalated, later.mailed) == ((late, answered), 2)
    case = get_case(settings, late)
    assert (case.priority, case.escalated_at) == ("urgent", _at(10, 10))
    breached = [e["clock"] for e in events(settings, late, "sla_breached")]
    assert breached == ["first_response", "resolution"]
    escalated = events(settings, late, "escalated")
    assert [(e["from"], e["to"]) for e in escalated] == [
        ("normal", "high"), ("high", "urgent")]  # fmt: skip
    assert escalated[0]["notified"] == "lead@heguang.example"
    assert messages[0]["To"].addresses[0].addr_spec == "lead@heguang.example"
    assert (
        messages[0]["Subject"] == f"SLA 逾時：案件 #{late}「退款還沒收到」已升級為 high"
    )
    text = sink_module.body(messages[0], "plain")
    assert "首次回覆" in text
    assert f"{sink_module.PUBLIC_URL}/cases/{late}" in text
    assert [e["clock"] for e in events(settings, answered, "sla_breached")] == [
        "resolution"]  # fmt: skip
    assert get_case(settings, waiting).escalated_at is None


def test_escalation_without_team_lead_still_raises_priority(settings: Settings) -> None:
    case_id = add_case(settings, opened_at=MON, priority="low",
                       first_response_due_at=_at(9, 11))  # fmt: skip
    summary = sla.escalate_breaches(settings=settings, now=_at(12, 10))
    assert (summary.breaches, summary.mailed) == (1, 0)
    assert get_case(settings, case_id).priority == "normal"
    assert events(settings, case_id, "escalated")[0]["notified"] is None


def test_escalation_keeps_targets_until_a_person_sets_the_priority(
    settings: Settings,
) -> None:
    case_id = open_routed_case(settings, now=MON)
    sla.escalate_breaches(settings=settings, now=_at(10, 10))
    with uow(settings).session() as session:
        case = session.get_one(Case, case_id)
        assert case.priority == "high"
        sla.apply_policy(session, case, now=_at(10, 10))
        assert case.first_response_due_at == _at(10, 9)  # still normal's 8 h
        case.priority = "low"  # a person's choice, its event written afterwards
        sla.apply_policy(session, case, now=_at(10, 11))
        assert case.first_response_due_at == _at(10, 17)  # low: 16 h


def _report_cases(settings: Settings) -> list[int]:
    ids = _desk(settings)
    met = open_routed_case(settings, now=MON)
    late = open_routed_case(settings, now=MON)
    silent = open_routed_case(settings, now=MON)
    open_routed_case(
        settings, now=datetime(2026, 2, 2, 10, tzinfo=TPE)
    )  # before --from
    add_case(settings, opened_at=MON, team="物流配送組", owner="林佩君",
             first_response_at=_at(9, 11), resolved_at=_at(9, 12))  # fmt: skip
    with uow(settings).session() as session:
        first = session.get_one(Case, met)
        first.first_response_at, first.resolved_at = _at(9, 12), _at(10, 12)
        session.get_one(Case, late).first_response_at = _at(10, 11)
    assert silent
    return ids


def test_sla_report_counts_met_targets_per_team_and_agent(settings: Settings) -> None:
    _report_cases(settings)
    rows = sla.sla_report(settings=settings, date_from=date(2026, 3, 1),
                          date_to=date(2026, 3, 31), by="team", now=_at(11, 10))  # fmt: skip
    by_group = {row.group: row for row in rows}
    desk = by_group["desk"]
    assert (desk.cases, desk.first_response_measured, desk.first_response_met) == (
        3,
        3,
        1,
    )
    assert desk.first_response_pct == pytest.approx(33.3)
    assert (desk.resolution_measured, desk.resolution_met, desk.resolution_pct) == (
        1,
        1,
        100.0,
    )
    assert desk.median_first_response_minutes == pytest.approx((120 + 600) / 2)
    assert desk.median_resolution_minutes == 11 * 60
    legacy = by_group["物流配送組"]
    assert (legacy.cases, legacy.first_response_pct, legacy.resolution_pct) == (
        1,
        100.0,
        100.0,
    )
    agents = sla.sla_report(settings=settings, by="agent", now=_at(11, 10))
    assert {row.group: row.cases for row in agents} == {
        "agent@heguang.example": 4, "林佩君": 1}  # fmt: skip


def test_sla_report_refuses_reversed_dates(settings: Settings) -> None:
    with pytest.raises(InvalidInput, match="before --from"):
        sla.sla_report(
            settings=settings, date_from=date(2026, 3, 2), date_to=date(2026, 3, 1)
        )


def test_sla_cli_reports_escalates_and_checks_calendars(
    cli_settings: Settings, tmp_path: Path
) -> None:
    _report_cases(cli_settings)
    runner = CliRunner()
    result = runner.invoke(app, ["sla", "report", "--by", "team", "--from", "2026-03-01",
                                 "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert {row["group"]: row["cases"] for row in json.loads(result.stdout)} == {
        "desk": 3, "物流配送組": 1}  # fmt: skip
    result = runner.invoke(app, ["sla", "escalate"])
    assert result.exit_code == 0, result.output
    assert "new breaches" in result.output
    result = runner.invoke(
        app, ["sla", "check-calendar", str(CALENDARS_DIR / "tw.yaml")]
    )
    assert result.exit_code == 0, result.output
    assert "fri 09:00-18:00" in result.output
    assert "45 open hours in a regular week" in result.output
    bad = tmp_path / "desk.yaml"
    bad.write_text('hours:\n  mon: "09:00-12:00"\n  tue: "18:00-09:00"\n', "utf-8")
    result = runner.invoke(app, ["sla", "check-calendar", str(bad)])
    assert result.exit_code != 0
    assert "line 3: hours.tue" in str(result.exception)
    result = runner.invoke(app, ["sla", "policies"])
    assert result.exit_code == 0, result.output
    assert "urgent" in result.output
