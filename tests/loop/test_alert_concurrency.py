"""Two alert passes at once open one case per customer and rule (SQLite, PostgreSQL)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alert_seeding import apply_rules, import_feedback, rows
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.domain.alert_rules import CaseAction
from cxloop.loop.alert_actions import Alert, run_case
from cxloop.loop.alerts import AlertRunSummary, read_rule_file, run_alert_rules
from cxloop.store.engine import engine_for, make_engine
from cxloop.store.tables import AlertEvent, AlertRule, Case, CaseEvent, Customer

NOW = datetime(2024, 3, 20, 4, 0, tzinfo=UTC)
RULE = """
rules:
  - key: store-detractor
    name: 門市貶損者
    kind: detractor
    since: 2024-01-01
    actions:
      - {type: case, priority: high, kind: detractor}
"""


def _feedback(settings: Settings, folder: Path) -> None:
    """Six detractor answers each from two customers."""
    answers = [
        [f"R{who}{i}", f"{who}@example.com", f"2024-03-18 1{i}:00", "store",
         "台北信義店", "2", f"第 {i} 次等太久"]
        for who in ("amy", "bob") for i in range(6)
    ]  # fmt: skip
    import_feedback(settings, folder, answers)


def test_two_alert_passes_at_once_open_one_case_per_customer(
    settings: Settings, tmp_path: Path
) -> None:
    apply_rules(settings, tmp_path, RULE)
    _feedback(settings, tmp_path)
    start = threading.Barrier(2)
    summaries: list[AlertRunSummary] = []

    def one_pass() -> None:
        start.wait()
        summaries.append(run_alert_rules(settings=settings, now=NOW))

    threads = [threading.Thread(target=one_pass) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert len(summaries) == 2
    assert [f for s in summaries for f in s.failures] == []
    assert sum(s.fired for s in summaries) == 12
    assert sum(s.cases_opened for s in summaries) == 2
    assert sum(s.cases_updated for s in summaries) == 10
    opened = rows(
        settings, select(Case.customer_id, Case.id).where(Case.status == "new")
    )
    assert len(opened) == 2
    assert len({customer for customer, _ in opened}) == 2
    events = rows(settings, select(AlertEvent.customer_id, AlertEvent.case_id))
    assert Counter(events) == Counter(dict.fromkeys(opened, 6))


def _alert(
    settings: Settings, folder: Path, customer_id: int
) -> tuple[Alert, CaseAction]:
    path = folder / "rules.yaml"
    path.write_text(RULE, encoding="utf-8")
    [rule] = read_rule_file(path)
    [(rule_id,)] = rows(settings, select(AlertRule.id))
    action = rule.actions[0]
    assert isinstance(action, CaseAction)
    alert = Alert(rule_id=rule_id, rule=rule, ref="interaction:1", at=NOW,
                  summary="NPS 2", customer_id=customer_id)  # fmt: skip
    return alert, action


def test_case_opened_by_another_pass_meanwhile_gets_the_alert_as_comment(
    settings: Settings, tmp_path: Path
) -> None:
    apply_rules(settings, tmp_path, RULE)
    other = make_engine(settings.database_url)
    with Session(other) as session:
        customer = Customer(name="林美華", email="amy@example.com")
        session.add(customer)
        session.commit()
        alert, action = _alert(settings, tmp_path, customer.id)
        # Another pass has inserted the customer's case and not committed yet.
        held = Case(customer_id=customer.id, alert_rule_id=alert.rule_id, title="先開的",
                    status="new", opened_at=NOW, source="alert", external_id="first")  # fmt: skip
        session.add(held)
        session.flush()
        inserting = threading.Event()

        def spot(_c: Any, _cur: Any, statement: str, *_rest: Any) -> None:
            if statement.lstrip().upper().startswith("INSERT INTO SUPPORT_CASE"):
                inserting.set()

        shared = engine_for(settings.database_url)
        event.listen(shared, "before_cursor_execute", spot)
        results: list[dict[str, Any]] = []
        thread = threading.Thread(
            target=lambda: results.append(run_case(settings, alert, action))
        )
        thread.start()
        try:
            assert inserting.wait(30), "the pass never tried to open its case"
            time.sleep(0.3)  # let its insert wait on the uncommitted case
            session.commit()
            thread.join(60)
        finally:
            event.remove(shared, "before_cursor_execute", spot)
        held_id = held.id
    other.dispose()

    assert results == [{"action": "case", "ok": True, "case_id": held_id,
                        "opened": False, "already_open": True}]  # fmt: skip
    assert rows(settings, select(Case.id)) == [(held_id,)]
    comments = rows(
        settings, select(CaseEvent.case_id, CaseEvent.kind, CaseEvent.actor)
    )
    assert comments == [(held_id, "comment", "alert:store-detractor")]
