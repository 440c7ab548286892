"""Alert rules: save them from a file, list them, and run them over new feedback.

:func:`run_alert_rules` is the periodic pass (``cxloop alert run``, and the background
loop of ``cxloop serve``). For each active rule it reads the interactions past the
rule's watermark (:mod:`cxloop.loop.alert_scan`), and for each one the rule fires on
it first records an ``alert_event`` (unique per rule and interaction, so a rule fires
once per interaction however often the pass runs, even in two processes at once), then
runs the rule's actions (:mod:`cxloop.loop.alert_actions`) and stores their results on
the event. ``metric_drop`` rules fire once per (rule, touchpoint, week) and look at
most once an hour (:data:`METRIC_EVERY`). A failing action is recorded on its event;
it never stops the pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from cxloop.config import Settings
from cxloop.domain.alert_rules import (
    CaseAction,
    EmailAction,
    RuleKind,
    RuleSpec,
    action_to_dict,
    conditions_of,
    parse_rules,
    stored_rule,
)
from cxloop.domain.errors import InvalidInput
from cxloop.loop import alert_actions
from cxloop.loop.alert_actions import Alert
from cxloop.loop.alert_scan import interaction_batch, metric_alerts
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import AlertEvent, AlertRule, Interaction
from cxloop.store.types import utcnow
from cxloop.surveys.mailer import Mailer

#: ``metric_drop`` rules query the metrics at most this often (the loop runs each minute).
METRIC_EVERY = timedelta(hours=1)


@dataclass(frozen=True)
class RuleInfo:
    """A stored rule as ``cxloop alert list`` shows it."""

    key: str
    name: str
    kind: str
    active: bool
    actions: tuple[str, ...]
    watermark: int
    last_run_at: datetime | None
    events: int


@dataclass(frozen=True)
class RulesSaved:
    """What :func:`save_rules` did."""

    inserted: tuple[str, ...]
    updated: tuple[str, ...]
    unchanged: tuple[str, ...]


@dataclass(frozen=True)
class AlertEventInfo:
    """A rule that fired and what its actions did."""

    id: int
    rule_key: str
    ref: str
    at: datetime
    summary: str
    customer_id: int | None
    interaction_id: int | None
    case_id: int | None
    results: list[dict[str, Any]]


@dataclass
class AlertRunSummary:
    """What one pass of :func:`run_alert_rules` looked at and did."""

    rules: int = 0
    looked_at: int = 0
    fired: int = 0
    cases_opened: int = 0
    cases_updated: int = 0
    emails_sent: int = 0
    webhooks_called: int = 0
    failures: list[str] = field(default_factory=list)


def _uow(settings: Settings) -> UnitOfWork:
    return UnitOfWork(engine_for(settings.database_url))


def read_rule_file(path: Path) -> list[RuleSpec]:
    """The rules of a YAML or JSON file (errors name the file and the field)."""
    import yaml

    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read the file: {exc.strerror}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: not valid YAML or JSON: {exc}") from None
    return parse_rules(document, origin=str(path))


def save_rules(*, settings: Settings, path: Path) -> RulesSaved:
    """Insert or update the rules of a file by key; rules not in the file stay.

    A new rule watches interactions stored from now on, or from its ``since`` date;
    changing a rule's ``since`` makes it look again from there (it still fires only
    once per interaction).
    """
    return save_rule_specs(settings=settings, rules=read_rule_file(path))


def save_rule_specs(*, settings: Settings, rules: list[RuleSpec]) -> RulesSaved:
    """Insert or update parsed rules by key, in one transaction (see :func:`save_rules`)."""
    done: dict[str, list[str]] = {"inserted": [], "updated": [], "unchanged": []}
    with _uow(settings).session() as session:
        newest = session.scalar(select(func.max(Interaction.id))) or 0
        stored = {r.key: r for r in session.scalars(select(AlertRule))}
        for rule in rules:
            values = {"name": rule.name, "kind": rule.kind.value,
                      "conditions": conditions_of(rule), "active": rule.active,
                      "actions": [action_to_dict(a) for a in rule.actions]}  # fmt: skip
            row = stored.get(rule.key)
            if row is None:
                watermark = 0 if rule.since else newest
                session.add(AlertRule(key=rule.key, watermark=watermark, **values))
                done["inserted"].append(rule.key)
                continue
            old = {name: getattr(row, name) for name in values}
            if old == values:
                done["unchanged"].append(rule.key)
                continue
            if row.conditions.get("since") != conditions_of(rule).get("since"):
                row.watermark = 0 if rule.since else row.watermark
            for name, value in values.items():
                setattr(row, name, value)
            done["updated"].append(rule.key)
    return RulesSaved(*(tuple(keys) for keys in done.values()))


def list_rules(*, settings: Settings) -> list[RuleInfo]:
    """Every stored rule, by key, with how many times it fired."""
    with _uow(settings).session() as session:
        counts = dict(
            session.execute(
                select(AlertEvent.rule_id, func.count()).group_by(AlertEvent.rule_id)
            ).all()
        )
        return [
            RuleInfo(
                r.key,
                r.name,
                r.kind,
                r.active,
                tuple(str(a.get("type")) for a in r.actions),
                r.watermark,
                r.last_run_at,
                int(counts.get(r.id, 0)),
            )
            for r in session.scalars(select(AlertRule).order_by(AlertRule.key))
        ]


def list_events(
    *, settings: Settings, rule: str | None = None, limit: int = 100
) -> list[AlertEventInfo]:
    """The latest alert events, newest first, of one rule (by key) or all."""
    query = select(AlertEvent, AlertRule.key).join(AlertRule)
    if rule is not None:
        query = query.where(AlertRule.key == rule)
    with _uow(settings).session() as session:
        if (
            rule is not None
            and session.scalar(select(AlertRule.id).where(AlertRule.key == rule))
            is None
        ):
            raise InvalidInput(f"no alert rule with key {rule!r}")
        rows = session.execute(query.order_by(AlertEvent.id.desc()).limit(limit))
        return [
            AlertEventInfo(
                e.id,
                key,
                e.ref,
                e.at,
                e.summary,
                e.customer_id,
                e.interaction_id,
                e.case_id,
                list(e.results or []),
            )
            for e, key in rows
        ]


def _claim(settings: Settings, alert: Alert) -> int | None:
    """Record the event; None when this rule already fired on this ref."""
    event = AlertEvent(
        rule_id=alert.rule_id, ref=alert.ref, customer_id=alert.customer_id,
        interaction_id=alert.interaction_id, at=alert.at, summary=alert.summary,
        results=[],
    )  # fmt: skip
    try:
        with _uow(settings).session() as session:
            session.add(event)
    except IntegrityError:
        return None
    return event.id


def _act(
    settings: Settings, mailer: Mailer, alert: Alert, summary: AlertRunSummary
) -> tuple[int | None, list[dict[str, Any]]]:
    results: list[dict[str, Any]] = []
    case_id: int | None = None
    for action in sorted(
        alert.rule.actions, key=lambda a: not isinstance(a, CaseAction)
    ):
        if isinstance(action, CaseAction):
            try:
                result = alert_actions.run_case(settings, alert, action)
            except Exception as exc:  # recorded; the pass goes on
                result = {
                    "action": "case",
                    "ok": False,
                    "error": f"{type(exc).__name__}: {exc}",
                }
            case_id = result.get("case_id", case_id)
            results.append(result)
        elif isinstance(action, EmailAction):
            results += alert_actions.run_email(settings, mailer, alert, action, case_id)
        else:
            results.append(alert_actions.run_webhook(alert, action, case_id))
    _count(results, summary, alert)
    return case_id, results


def _count(
    results: list[dict[str, Any]], summary: AlertRunSummary, alert: Alert
) -> None:
    for result in results:
        kind = result["action"]
        if not result["ok"]:
            summary.failures.append(
                f"{alert.rule.key} {alert.ref} {kind}: {result['error']}"
            )
        elif kind == "case":
            if result["opened"]:
                summary.cases_opened += 1
            else:
                summary.cases_updated += 1
        elif kind == "email":
            summary.emails_sent += 1
        else:
            summary.webhooks_called += 1


def _fire(
    settings: Settings, mailer: Mailer, alert: Alert, summary: AlertRunSummary
) -> None:
    event_id = _claim(settings, alert)
    if event_id is None:
        return
    summary.fired += 1
    case_id, results = _act(settings, mailer, alert, summary)
    with _uow(settings).session() as session:
        event = session.get(AlertEvent, event_id)
        if event is not None:
            event.case_id, event.results = case_id, results


def _run_rule(
    settings: Settings, row: AlertRule, mailer: Mailer, now: datetime,
    summary: AlertRunSummary,
) -> None:  # fmt: skip
    rule = stored_rule(key=row.key, name=row.name, kind=row.kind,
                       conditions=row.conditions, actions=row.actions, active=row.active)  # fmt: skip
    if rule.kind is RuleKind.METRIC_DROP:
        if row.last_run_at is not None and now - row.last_run_at < METRIC_EVERY:
            return
        for alert in metric_alerts(
            settings=settings, rule_id=row.id, rule=rule, now=now
        ):
            _fire(settings, mailer, alert, summary)
        _advance(settings, row.id, None, now)
        return
    after = row.watermark
    while True:
        with _uow(settings).session() as session:
            alerts, last, size = interaction_batch(
                session,
                settings=settings,
                rule_id=row.id,
                rule=rule,
                after=after,
                now=now,
            )
        if last is None:
            break
        summary.looked_at += size
        for alert in alerts:
            _fire(settings, mailer, alert, summary)
        _advance(settings, row.id, last, now)
        after = last
    _advance(settings, row.id, None, now)


def _advance(settings: Settings, rule_id: int, last: int | None, now: datetime) -> None:
    with _uow(settings).session() as session:
        row = session.get(AlertRule, rule_id)
        if row is not None:
            row.last_run_at = now
            if last is not None:
                row.watermark = max(row.watermark, last)


def run_alert_rules(
    *, settings: Settings, now: datetime | None = None
) -> AlertRunSummary:
    """Run every active rule once over what is new; see the module docstring.

    Safe to call often (each rule fires once per interaction, or per touchpoint and
    week for ``metric_drop``); ``now`` stamps the events and cases (default: now).
    """
    moment = now or utcnow()
    summary = AlertRunSummary()
    with _uow(settings).session() as session:
        rows = list(
            session.scalars(
                select(AlertRule)
                .where(AlertRule.active.is_(True))
                .order_by(AlertRule.id)
            )
        )
    with Mailer(settings) as mailer:
        for row in rows:
            summary.rules += 1
            _run_rule(settings, row, mailer, moment, summary)
    return summary
