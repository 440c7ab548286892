"""Alert rules over a real store (SQLite and PostgreSQL): rule to case end to end."""

from __future__ import annotations

import hashlib
import hmac
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alert_seeding import (
    apply_rules,
    count,
    import_feedback,
    rows,
    smtp_sink,
    webhook_receiver,
)
from sqlalchemy import select, update

from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput
from cxloop.loop.alerts import list_events, list_rules, run_alert_rules
from cxloop.loop.teams import save_routing_rules
from cxloop.store.engine import engine_for
from cxloop.store.tables import AlertEvent, Case, CaseEvent, Team

NOW = datetime(2024, 3, 20, 4, 0, tzinfo=UTC)
DETRACTOR_RULE = """
rules:
  - key: store-detractor
    name: 門市貶損者
    kind: detractor
    touchpoints: [台北信義店]
    actions:
      - {type: case, priority: high, kind: detractor}
"""
SINCE = "    since: 2024-01-01\n"


def _detractor_rule(extra: str = "") -> str:
    return DETRACTOR_RULE.replace("    actions:\n", SINCE + extra + "    actions:\n")


def test_detractor_import_opens_one_routed_case_end_to_end(
    settings: Settings, tmp_path: Path
) -> None:
    save_routing_rules(settings=settings, document={
        "teams": [{"key": "store-care", "name": "門市關懷組", "assignment": "manual"}],
        "rules": [{"name": "門市", "team": "store-care", "when": {"touchpoint": "台北信義店"}}],
    })  # fmt: skip
    apply_rules(settings, tmp_path, DETRACTOR_RULE)
    import_feedback(settings, tmp_path, [
        ["R1", "amy@example.com", "2024-03-18 10:00", "store", "台北信義店", "3", "等了四十分鐘"],
        ["R2", "bob@example.com", "2024-03-18 11:00", "store", "台北信義店", "10", "很棒"],
        ["R3", "cat@example.com", "2024-03-18 12:00", "store", "台中店", "1", "太慢"],
    ])  # fmt: skip
    first = run_alert_rules(settings=settings, now=NOW)
    second = run_alert_rules(settings=settings, now=NOW)
    assert (first.fired, first.cases_opened, first.failures) == (1, 1, [])
    assert (second.fired, second.cases_opened) == (0, 0)
    found = rows(settings, select(Case.kind, Case.priority, Case.title, Case.description,
                                  Team.key).join(Team, Case.team_id == Team.id))  # fmt: skip
    assert found == [
        ("detractor", "high", "門市貶損者: NPS 3", "等了四十分鐘", "store-care")
    ]
    (event,) = list_events(settings=settings)
    assert (event.rule_key, event.summary, event.case_id) == (
        "store-detractor", "NPS 3", rows(settings, select(Case.id))[0][0],
    )  # fmt: skip


def test_second_detractor_of_a_customer_comments_on_the_open_case(
    settings: Settings, tmp_path: Path
) -> None:
    apply_rules(settings, tmp_path, DETRACTOR_RULE)
    row = [
        "R1",
        "amy@example.com",
        "2024-03-18 10:00",
        "store",
        "台北信義店",
        "2",
        "很差",
    ]
    import_feedback(settings, tmp_path, [row], "a")
    import_feedback(settings, tmp_path, [["R2", *row[1:5], "4", "還是很差"]], "b")
    summary = run_alert_rules(settings=settings, now=NOW)
    assert (summary.fired, summary.cases_opened, summary.cases_updated) == (2, 1, 1)
    comments = rows(settings, select(CaseEvent.body, CaseEvent.actor).where(
        CaseEvent.kind == "comment"))  # fmt: skip
    assert comments == [("NPS 4\n\n還是很差", "alert:store-detractor")]
    with engine_for(settings.database_url).begin() as connection:
        connection.execute(update(Case).values(status="resolved"))
    import_feedback(settings, tmp_path, [["R3", *row[1:5], "0", "第三次"]], "c")
    again = run_alert_rules(settings=settings, now=NOW)
    assert (again.cases_opened, count(settings, Case)) == (1, 2)


def test_rule_saved_after_the_feedback_waits_for_new_feedback_unless_since(
    settings: Settings, tmp_path: Path
) -> None:
    import_feedback(settings, tmp_path, [
        ["R1", "amy@example.com", "2023-12-30 10:00", "store", "台北信義店", "3", ""],
        ["R2", "bob@example.com", "2024-01-02 10:00", "store", "台北信義店", "5", ""],
    ])  # fmt: skip
    apply_rules(settings, tmp_path, DETRACTOR_RULE)
    assert run_alert_rules(settings=settings, now=NOW).fired == 0
    apply_rules(settings, tmp_path, _detractor_rule())
    assert run_alert_rules(settings=settings, now=NOW).fired == 1  # R2 only
    (rule,) = list_rules(settings=settings)
    assert (rule.events, rule.last_run_at) == (1, NOW)


def test_keyword_rule_matches_words_in_zh_and_en_case_insensitively(
    settings: Settings, tmp_path: Path
) -> None:
    apply_rules(settings, tmp_path, """
- key: refund
  name: Refund words
  kind: keyword
  words: [退款, refund]
  actions: [{type: case, kind: request}]
""")  # fmt: skip
    import_feedback(settings, tmp_path, [
        ["R1", "a@example.com", "2024-03-18 10:00", "web", "", "", "我要退款！"],
        ["R2", "b@example.com", "2024-03-18 10:00", "email", "", "", "REFUND please"],
        ["R3", "c@example.com", "2024-03-18 10:00", "web", "", "", "refunded, thanks"],
    ])  # fmt: skip
    summary = run_alert_rules(settings=settings, now=NOW)
    assert (summary.looked_at, summary.fired, summary.cases_opened) == (3, 2, 2)
    titles = sorted(t for (t,) in rows(settings, select(Case.title)))
    assert titles == ["Refund words: keywords: refund", "Refund words: keywords: 退款"]


def _week(
    start_day: int, touchpoint: str, scores: list[int], tag: str
) -> list[list[str]]:
    return [
        [f"{tag}{n}", f"{tag}{n}@example.com", f"2024-03-{start_day + n % 5:02d} 10:00",
         "store", touchpoint, str(score), ""]
        for n, score in enumerate(scores)
    ]  # fmt: skip


def test_metric_drop_fires_once_per_touchpoint_and_week(
    settings: Settings, tmp_path: Path
) -> None:
    apply_rules(settings, tmp_path, """
- key: nps-drop
  name: NPS drop
  kind: metric_drop
  actions: [{type: case, priority: urgent}]
""")  # fmt: skip
    steady = [10] * 12 + [7] * 4 + [3] * 4
    import_feedback(settings, tmp_path, [
        *_week(4, "台北信義店", [10] * 16 + [8] * 4, "a"),  # week of Mon 4 March
        *_week(11, "台北信義店", [2] * 12 + [9] * 8, "b"),  # week of Mon 11 March
        *_week(4, "台中店", steady, "c"), *_week(11, "台中店", steady, "d"),
    ])  # fmt: skip
    monday = datetime(2024, 3, 18, 2, 0, tzinfo=UTC)
    first = run_alert_rules(settings=settings, now=monday)
    run_alert_rules(settings=settings, now=monday.replace(minute=10))
    assert list_rules(settings=settings)[0].last_run_at == monday  # once an hour
    again = run_alert_rules(settings=settings, now=monday.replace(hour=9))
    assert (first.fired, first.cases_opened, again.fired) == (1, 1, 0)
    ((ref, summary),) = rows(settings, select(AlertEvent.ref, AlertEvent.summary))
    assert ref == "metric:nps:台北信義店:2024-03-11"
    assert summary.startswith("NPS of 台北信義店 moved from 80.0 to -20.0")
    assert rows(settings, select(Case.priority, Case.customer_id)) == [("urgent", None)]


def test_email_action_reaches_the_smtp_server(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    mail = smtp_sink()
    with mail.running_sink() as sink:
        settings = mail.mail_settings(sqlite_settings, sink)
        apply_rules(settings, tmp_path, _detractor_rule(
            "    channels: [store]\n").replace(
            "      - {type: case, priority: high, kind: detractor}",
            "      - {type: case}\n      - {type: email, to: [lead@example.com]}"))  # fmt: skip
        import_feedback(settings, tmp_path, [
            ["R1", "amy@example.com", "2024-03-18 10:00", "store", "台北信義店", "1", "<b>太慢</b>"],
        ])  # fmt: skip
        summary = run_alert_rules(settings=settings, now=NOW)
        (message,) = sink.wait_for(1)
    assert (summary.emails_sent, summary.failures) == (1, [])
    assert message["Subject"] == "cxloop 警示 Alert: 門市貶損者: NPS 1"
    assert "https://cx.example.test/cases/" in mail.body(message, "plain")
    assert "&lt;b&gt;太慢&lt;/b&gt;" in mail.body(message, "html")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_webhook_failures_are_recorded_and_the_pass_goes_on(
    settings: Settings, tmp_path: Path
) -> None:
    with webhook_receiver() as receiver:
        apply_rules(settings, tmp_path, _detractor_rule().replace(
            "      - {type: case, priority: high, kind: detractor}",
            f"      - {{type: webhook, url: '{receiver.url}/fail'}}\n"
            f"      - {{type: webhook, url: 'http://127.0.0.1:{_closed_port()}/x', timeout: 2}}\n"
            f"      - {{type: webhook, url: '{receiver.url}/ok', secret: s3cret}}\n"
            "      - {type: case}"))  # fmt: skip
        import_feedback(settings, tmp_path, [
            ["R1", "amy@example.com", "2024-03-18 10:00", "store", "台北信義店", "2", "很差"],
        ])  # fmt: skip
        summary = run_alert_rules(settings=settings, now=NOW)
    assert (summary.fired, summary.cases_opened, summary.webhooks_called) == (1, 1, 1)
    assert len(summary.failures) == 2
    (event,) = list_events(settings=settings, rule="store-detractor")
    case, failed, refused, ok = event.results  # the case first: the others link it
    assert (failed["ok"], failed["status"], failed["error"]) == (False, 500, "HTTP 500")
    assert (refused["ok"], refused["error"].split(":")[0]) == (False, "ConnectError")
    assert (ok["ok"], ok["status"], case["opened"]) == (True, 204, True)
    ((_path, headers, raw),) = [c for c in receiver.calls if c[0] == "/ok"]
    stamp = headers["X-Cxloop-Timestamp"].encode()
    digest = hmac.new(b"s3cret", stamp + b"." + raw, hashlib.sha256).hexdigest()
    assert headers["X-Cxloop-Signature"] == f"sha256={digest}"
    payload = receiver.bodies("/ok")[0]
    assert (payload["rule"], payload["summary"], payload["text"]) == (
        "store-detractor", "NPS 2", "很差",
    )  # fmt: skip


def test_rule_file_errors_name_the_file_and_field(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    with pytest.raises(InvalidInput, match=r"rules\[0\]\.actions\[0\]\.url"):
        apply_rules(sqlite_settings, tmp_path, DETRACTOR_RULE.replace(
            "{type: case, priority: high, kind: detractor}", "{type: webhook, url: ftp://x}"))  # fmt: skip
    with pytest.raises(InvalidInput, match=r"rules\.yaml: not valid YAML"):
        apply_rules(sqlite_settings, tmp_path, "rules: [")
    with pytest.raises(InvalidInput, match="no alert rule with key 'nope'"):
        list_events(settings=sqlite_settings, rule="nope")
