"""What an alert does when its rule fires: open a case, send an e-mail, call a webhook.

Each action returns a JSON-ready result (``action``, ``ok`` and what happened, or
``error``); a failure is recorded on the alert event and never stops the pass. The
case action runs first, so that e-mails and webhooks can name the case.

- **case**: at most one open case per customer and rule. When the customer already has
  an open case from this rule, the alert adds a ``comment`` event to it instead of
  opening another. Cases are opened with :func:`cxloop.loop.cases.open_case`, which
  routes them and sets their SLA clocks. Two passes at the same moment cannot both
  open one: the partial unique index ``uq_support_case_open_alert`` refuses the
  second, whose transaction (``open_case``'s own, rolled back whole) then comments on
  the case the first opened; its result says ``already_open``.
- **email**: one message per address through :class:`cxloop.surveys.mailer.Mailer`
  (SMTP, or ``.eml`` files in the outbox when no SMTP host is set).
- **webhook**: ``POST`` of the alert as JSON with ``httpx`` (no redirects, the rule's
  timeout, one try). With a secret the request carries ``X-Cxloop-Timestamp`` and
  ``X-Cxloop-Signature: sha256=<hex>`` (HMAC-SHA256 of ``"<timestamp>.<body>"``), the
  scheme cxloop's own incoming webhooks check. A status of 400 or more is a failure.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cxloop.config import Settings
from cxloop.domain.alert_rules import CaseAction, EmailAction, RuleSpec, WebhookAction
from cxloop.domain.errors import CxloopError
from cxloop.ingest.webhooks import sign
from cxloop.loop import cases
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import Case, CaseEvent
from cxloop.surveys.mailer import Mailer, MailError, OutgoingMail, escape

#: Case statuses that count as open.
OPEN_STATUSES = ("new", "in_progress", "waiting_on_customer")
#: The index that keeps one open case per customer and rule, and the columns SQLite
#: names when it refuses a row.
OPEN_CASE_INDEX = "uq_support_case_open_alert"
_OPEN_CASE_COLUMNS = "support_case.customer_id, support_case.alert_rule_id"
_TEXT_LIMIT = 2000


@dataclass(frozen=True)
class Alert:
    """One firing of a rule: what it is about and why it fired."""

    rule_id: int
    rule: RuleSpec
    ref: str
    at: datetime
    summary: str
    customer_id: int | None = None
    interaction_id: int | None = None
    channel: str | None = None
    touchpoint: str | None = None
    language: str | None = None
    text: str | None = None
    topics: tuple[str, ...] = ()
    intent: str | None = None

    @property
    def actor(self) -> str:
        return f"alert:{self.rule.key}"


def _open_case_of(settings: Settings, alert: Alert) -> int | None:
    if alert.customer_id is None:
        return None
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        return session.scalar(
            select(Case.id)
            .where(
                Case.alert_rule_id == alert.rule_id,
                Case.customer_id == alert.customer_id,
                Case.status.in_(OPEN_STATUSES),
            )
            .order_by(Case.id)
            .limit(1)
        )


def _comment(settings: Settings, case_id: int, alert: Alert) -> None:
    body = alert.summary + (f"\n\n{alert.text}" if alert.text else "")
    data = {"alert_ref": alert.ref, "interaction_id": alert.interaction_id}
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        session.add(
            CaseEvent(case_id=case_id, at=alert.at, actor=alert.actor, kind="comment",
                      body=body[:_TEXT_LIMIT], data=data)
        )  # fmt: skip


def run_case(settings: Settings, alert: Alert, action: CaseAction) -> dict[str, Any]:
    """Open a case for ``alert``, or comment on the customer's open one.

    When another pass opens the customer's case for this rule between the look-up
    and the insert, the index refuses this one: the alert then comments on that case
    (``already_open`` in the result).
    """
    existing = _open_case_of(settings, alert)
    if existing is not None:
        _comment(settings, existing, alert)
        return {"action": "case", "ok": True, "case_id": existing, "opened": False}
    try:
        case_id = _open(settings, alert, action)
    except IntegrityError as exc:
        existing = _open_case_of(settings, alert) if _open_case_clash(exc) else None
        if existing is None:
            raise
        _comment(settings, existing, alert)
        return {"action": "case", "ok": True, "case_id": existing, "opened": False,
                "already_open": True}  # fmt: skip
    return {"action": "case", "ok": True, "case_id": case_id, "opened": True}


def _open_case_clash(exc: IntegrityError) -> bool:
    """True when ``exc`` is the one-open-case-per-customer-and-rule index refusing."""
    message = str(exc.orig)
    return OPEN_CASE_INDEX in message or _OPEN_CASE_COLUMNS in message


def _open(settings: Settings, alert: Alert, action: CaseAction) -> int:
    info = cases.open_case(
        settings=settings,
        customer_id=alert.customer_id,
        title=f"{alert.rule.name}: {alert.summary}"[:300],
        description=alert.text[:_TEXT_LIMIT] if alert.text else None,
        kind=action.kind,
        priority=action.priority,
        channel=alert.channel,
        touchpoint=alert.touchpoint,
        interaction_id=alert.interaction_id,
        language=alert.language,
        topics=alert.topics,
        intent=alert.intent,
        alert_rule_id=alert.rule_id,
        actor=alert.actor,
        now=alert.at,
    )
    return info.id


def _case_link(settings: Settings, case_id: int | None) -> str | None:
    if case_id is None:
        return None
    return f"{settings.public_url.rstrip('/')}/cases/{case_id}"


def alert_mail(
    settings: Settings, alert: Alert, to: str, case_id: int | None
) -> OutgoingMail:
    """The e-mail about ``alert`` (zh-TW and English lines, text and HTML)."""
    lines = [
        f"警示規則 Rule: {alert.rule.name} ({alert.rule.key})",
        f"原因 Why: {alert.summary}",
    ]
    if alert.customer_id is not None:
        lines.append(f"顧客 Customer: #{alert.customer_id}")
    if alert.touchpoint or alert.channel:
        lines.append(
            f"接觸點 Touchpoint: {alert.touchpoint or '-'} / {alert.channel or '-'}"
        )
    link = _case_link(settings, case_id)
    if link:
        lines.append(f"案件 Case: {link}")
    text = "\n".join(lines) + (f"\n\n{alert.text[:_TEXT_LIMIT]}" if alert.text else "")
    paragraphs = "".join(f"<p>{escape(line)}</p>" for line in text.split("\n") if line)
    html = (
        '<!DOCTYPE html><html lang="zh-Hant-TW"><head><meta charset="utf-8">'
        f"<title>{escape(alert.rule.name)}</title></head><body>{paragraphs}</body></html>"
    )
    subject = f"cxloop 警示 Alert: {alert.rule.name}: {alert.summary}"[:200]
    return OutgoingMail(to, None, subject, text + "\n", html)


def run_email(
    settings: Settings, mailer: Mailer, alert: Alert, action: EmailAction,
    case_id: int | None,
) -> list[dict[str, Any]]:  # fmt: skip
    """Send the alert to each address; one result per address."""
    results: list[dict[str, Any]] = []
    for address in action.to:
        try:
            sent = mailer.send(alert_mail(settings, alert, address, case_id))
        except (MailError, CxloopError) as exc:
            results.append({"action": "email", "ok": False, "to": address,
                            "error": str(exc)})  # fmt: skip
        else:
            results.append({"action": "email", "ok": True, "to": address, "id": sent})
    return results


def webhook_body(alert: Alert, case_id: int | None) -> bytes:
    """The JSON an alert webhook receives."""
    payload = {
        "event": "alert",
        "rule": alert.rule.key,
        "rule_name": alert.rule.name,
        "kind": alert.rule.kind.value,
        "ref": alert.ref,
        "at": alert.at.isoformat(),
        "summary": alert.summary,
        "customer_id": alert.customer_id,
        "interaction_id": alert.interaction_id,
        "case_id": case_id,
        "channel": alert.channel,
        "touchpoint": alert.touchpoint,
        "text": alert.text[:_TEXT_LIMIT] if alert.text else None,
    }
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def run_webhook(
    alert: Alert, action: WebhookAction, case_id: int | None
) -> dict[str, Any]:
    """POST the alert to the action's URL; a failure is returned, never raised."""
    body = webhook_body(alert, case_id)
    headers = {"Content-Type": "application/json; charset=utf-8",
               "X-Cxloop-Delivery": f"{alert.rule.key}:{alert.ref}"}  # fmt: skip
    if action.secret:
        stamp = int(time.time())
        headers["X-Cxloop-Timestamp"] = str(stamp)
        headers["X-Cxloop-Signature"] = sign(
            secret=action.secret, timestamp=stamp, body=body
        )
    result: dict[str, Any] = {"action": "webhook", "url": action.url}
    try:
        response = httpx.post(
            action.url, content=body, headers=headers, timeout=action.timeout,
            follow_redirects=False,
        )  # fmt: skip
    except httpx.HTTPError as exc:
        return result | {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    result["status"] = response.status_code
    if response.status_code >= 400:
        return result | {"ok": False, "error": f"HTTP {response.status_code}"}
    return result | {"ok": True}
