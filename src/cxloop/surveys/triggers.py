"""Triggers: send a survey when something happens to a customer, once per event.

A trigger names a survey, an event and a delay:

- ``purchase``: a row of ``purchase`` (kind purchase) with a customer; conditions
  ``channel``, ``touchpoint``, ``product``;
- ``interaction``: an interaction with a customer (never a survey response, so an
  answer does not ask for another); conditions ``channel``, ``touchpoint``, ``kind``;
- ``case_resolved``: a case whose ``resolved_at`` is set; conditions ``channel``,
  ``touchpoint``, ``kind``, ``team``.

Each condition is one value or a list of values. ``max_age_days`` (default 7) leaves
out events older than that when they are first seen, so importing last year's
purchases does not survey anyone about them.

:func:`fire_triggers` turns each new event into one invitation with ``event_ref``
(``purchase:123``) and ``send_after`` = event time + delay. The unique
``(trigger_id, event_ref)`` keeps it to one per event even when two dispatchers run at
once; a customer who is capped, unsubscribed or has no address gets a ``skipped``
invitation with the reason, so the event is never tried again. Purchases and
interactions are read past the trigger's ``watermark`` (the last id looked at; a new
trigger starts at the newest id, so history does not fire); resolved cases are read
from the trigger's creation on, by their ``resolved_at``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput, NotFound
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import (
    Case,
    Customer,
    Interaction,
    Invitation,
    Survey,
    SurveyTrigger,
    Transaction,
)
from cxloop.store.types import utcnow
from cxloop.surveys import invitations as inv

#: Conditions each event understands (besides ``max_age_days``).
CONDITIONS: dict[str, tuple[str, ...]] = {
    "purchase": ("channel", "touchpoint", "product"),
    "interaction": ("channel", "touchpoint", "kind"),
    "case_resolved": ("channel", "touchpoint", "kind", "team"),
}
EVENTS = tuple(CONDITIONS)
DEFAULT_MAX_AGE_DAYS = 7
#: Events read per trigger and pass (the next pass goes on from the watermark).
BATCH = 5_000


@dataclass(frozen=True)
class TriggerInfo:
    """A trigger as the list shows it."""

    id: int
    survey_key: str
    event: str
    delay_minutes: int
    conditions: dict[str, Any]
    active: bool
    watermark: int
    created_at: datetime


@dataclass(frozen=True)
class FireSummary:
    """What one pass over the triggers did."""

    queued: int = 0
    skipped: int = 0
    too_old: int = 0


@dataclass(frozen=True)
class _Event:
    ref: str
    id: int
    customer_id: int
    at: datetime


def _uow(settings: Settings) -> UnitOfWork:
    return UnitOfWork(engine_for(settings.database_url))


def add_trigger(
    *,
    settings: Settings,
    survey_key: str,
    event: str,
    delay_minutes: int = 0,
    conditions: dict[str, Any] | None = None,
) -> TriggerInfo:
    """Send ``survey_key`` ``delay_minutes`` after each new ``event``.

    Raises
    ------
    InvalidInput
        An unknown event or condition, or a negative delay.
    NotFound
        No such survey.
    """
    checked = _check(event, delay_minutes, conditions or {})
    with _uow(settings).session() as session:
        survey = session.scalar(select(Survey).where(Survey.key == survey_key))
        if survey is None or survey.definition is None:
            raise NotFound(f"no survey {survey_key!r}")
        trigger = SurveyTrigger(
            survey_id=survey.id,
            event=event,
            delay_minutes=delay_minutes,
            conditions=checked,
            active=True,
            watermark=_newest_id(session, event),
            created_at=utcnow(),
        )
        session.add(trigger)
        session.flush()
        return _info(trigger, survey_key)


def _check(event: str, delay: int, conditions: dict[str, Any]) -> dict[str, Any]:
    if event not in CONDITIONS:
        raise InvalidInput(f"event {event!r}: choose one of {', '.join(EVENTS)}")
    if delay < 0:
        raise InvalidInput(f"delay {delay} minutes must not be negative")
    allowed = (*CONDITIONS[event], "max_age_days")
    checked: dict[str, Any] = {}
    for name, value in conditions.items():
        if name not in allowed:
            msg = f"condition {name!r} does not apply to {event}: use {', '.join(allowed)}"
            raise InvalidInput(msg)
        if name == "max_age_days":
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise InvalidInput(f"max_age_days {value!r} must be a whole number ≥ 1")
            checked[name] = value
            continue
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(v, str) and v.strip() for v in values):
            raise InvalidInput(f"condition {name!r}: give text values, not {value!r}")
        checked[name] = [v.strip() for v in values]
    return checked


def _newest_id(session: Session, event: str) -> int:
    table = {"purchase": Transaction.id, "interaction": Interaction.id}.get(event)
    return 0 if table is None else int(session.scalar(select(func.max(table))) or 0)


def _info(trigger: SurveyTrigger, survey_key: str) -> TriggerInfo:
    return TriggerInfo(
        id=trigger.id,
        survey_key=survey_key,
        event=trigger.event,
        delay_minutes=trigger.delay_minutes,
        conditions=dict(trigger.conditions or {}),
        active=trigger.active,
        watermark=trigger.watermark,
        created_at=trigger.created_at,
    )


def list_triggers(
    *, settings: Settings, survey_key: str | None = None
) -> list[TriggerInfo]:
    """Every trigger (or those of one survey), oldest first."""
    query = select(SurveyTrigger, Survey.key).join(
        Survey, Survey.id == SurveyTrigger.survey_id
    )
    if survey_key is not None:
        query = query.where(Survey.key == survey_key)
    with _uow(settings).session() as session:
        rows = session.execute(query.order_by(SurveyTrigger.id)).all()
        return [_info(trigger, key) for trigger, key in rows]


def disable_trigger(*, settings: Settings, trigger_id: int) -> None:
    """Stop a trigger (its invitations already queued still go out)."""
    with _uow(settings).session() as session:
        trigger = session.get(SurveyTrigger, trigger_id)
        if trigger is None:
            raise NotFound(f"no trigger {trigger_id}")
        trigger.active = False


def fire_triggers(*, settings: Settings, now: datetime | None = None) -> FireSummary:
    """Queue one invitation per new event of every active trigger (see module doc)."""
    now = now or utcnow()
    total = FireSummary()
    with _uow(settings).session() as session:
        query = (
            select(SurveyTrigger.id)
            .join(Survey, Survey.id == SurveyTrigger.survey_id)
            .where(SurveyTrigger.active.is_(True), Survey.status == "active")
        )
        ids = list(session.scalars(query.order_by(SurveyTrigger.id)))
    for trigger_id in ids:
        with _uow(settings).session() as session:
            trigger = session.get(SurveyTrigger, trigger_id)
            if trigger is not None:
                done = _fire(session, settings, trigger, now)
                total = FireSummary(
                    total.queued + done.queued,
                    total.skipped + done.skipped,
                    total.too_old + done.too_old,
                )
    return total


def _fire(
    session: Session, settings: Settings, trigger: SurveyTrigger, now: datetime
) -> FireSummary:
    events, newest = _new_events(session, trigger, now)
    max_age = timedelta(
        days=trigger.conditions.get("max_age_days", DEFAULT_MAX_AGE_DAYS)
    )
    fresh = [e for e in events if e.at >= now - max_age]
    rows = _rows(session, settings, trigger, fresh)
    inv.insert_ignore(session, Invitation.__table__, rows)  # type: ignore[arg-type]
    if newest > trigger.watermark:
        session.execute(
            update(SurveyTrigger)
            .where(SurveyTrigger.id == trigger.id, SurveyTrigger.watermark < newest)
            .values(watermark=newest)
        )
    skipped = sum(1 for row in rows if row["status"] == "skipped")
    return FireSummary(len(rows) - skipped, skipped, len(events) - len(fresh))


def _new_events(
    session: Session, trigger: SurveyTrigger, now: datetime
) -> tuple[list[_Event], int]:
    """The trigger's unseen events (oldest first) and the newest id read."""
    conditions = trigger.conditions or {}
    if trigger.event == "case_resolved":
        return _resolved_cases(session, trigger, now), trigger.watermark
    table: Any = Transaction if trigger.event == "purchase" else Interaction
    newer = table.id > trigger.watermark
    # Read the ceiling first: rows committed after it wait for the next pass.
    ceiling = int(session.scalar(select(func.max(table.id)).where(newer)) or 0)
    if ceiling == 0:
        return [], trigger.watermark
    kind = (
        Transaction.kind == "purchase"
        if table is Transaction
        else Interaction.kind != "survey_response"
    )
    query = (
        select(table.id, table.customer_id, table.occurred_at)
        .where(newer, table.id <= ceiling, kind, *_filters(table, conditions))
        .order_by(table.id)
        .limit(BATCH)
    )
    rows = session.execute(query).all()
    newest = rows[-1].id if len(rows) == BATCH else ceiling
    events = [
        _Event(f"{trigger.event}:{r.id}", r.id, r.customer_id, r.occurred_at)
        for r in rows
        if r.customer_id is not None
    ]
    return events, newest


def _filters(table: Any, conditions: dict[str, Any]) -> list[ColumnElement[bool]]:
    return [
        getattr(table, name).in_(values)
        for name, values in conditions.items()
        if name != "max_age_days"
    ]


def _resolved_cases(
    session: Session, trigger: SurveyTrigger, now: datetime
) -> list[_Event]:
    max_age = trigger.conditions.get("max_age_days", DEFAULT_MAX_AGE_DAYS)
    since = max(trigger.created_at, now - timedelta(days=max_age))
    query = (
        select(Case.id, Case.customer_id, Case.resolved_at)
        .where(
            Case.resolved_at.is_not(None),
            Case.resolved_at >= since,
            Case.customer_id.is_not(None),
            *_filters(Case, trigger.conditions or {}),
        )
        .order_by(Case.resolved_at, Case.id)
    )
    rows = session.execute(query).all()
    done = set(
        session.scalars(
            select(Invitation.event_ref).where(Invitation.trigger_id == trigger.id)
        )
    )
    events = [_Event(f"case:{r.id}", r.id, r.customer_id, r.resolved_at) for r in rows]
    return [e for e in events if e.ref not in done][:BATCH]


def _rows(
    session: Session, settings: Settings, trigger: SurveyTrigger, events: list[_Event]
) -> list[dict[str, Any]]:
    """One invitation row per event: queued, or skipped with the reason."""
    if not events:
        return []
    delay = timedelta(minutes=trigger.delay_minutes)
    people = _people(session, {e.customer_id for e in events}, settings)
    ids = list(people)
    unsubscribed = inv.suppressed(session, ids)
    taken: dict[int, list[datetime]] = {}
    cap = timedelta(days=settings.contact_cap_days)
    rows = []
    for event in events:
        cid, email, language = people[event.customer_id]
        when = event.at + delay
        reason = _reason(session, settings, cid, email, when, unsubscribed, taken, cap)
        if reason is None:
            taken.setdefault(cid, []).append(when)
        rows.append({
            "survey_id": trigger.survey_id, "customer_id": cid, "token": inv.new_token(),
            "channel": "email", "status": "skipped" if reason else "queued",
            "email": email, "language": language, "send_after": when,
            "trigger_id": trigger.id, "event_ref": event.ref, "error": reason,
            "created_at": utcnow(),
        })  # fmt: skip
    return rows


def _reason(
    session: Session,
    settings: Settings,
    customer_id: int,
    email: str | None,
    when: datetime,
    unsubscribed: set[int],
    taken: dict[int, list[datetime]],
    cap: timedelta,
) -> str | None:
    if not email:
        return inv.NO_EMAIL
    if customer_id in unsubscribed:
        return inv.UNSUBSCRIBED
    if settings.contact_cap_days > 0 and (
        any(abs(when - t) < cap for t in taken.get(customer_id, []))
        or inv.capped(session, [customer_id], when, settings.contact_cap_days)
    ):
        return inv.CONTACT_CAP
    return None


def _people(
    session: Session, ids: set[int], settings: Settings
) -> dict[int, tuple[int, str | None, str]]:
    """Customer id -> (live customer id, e-mail, language); merged ones followed."""
    found: dict[int, tuple[int, str | None, str]] = {}
    rows = session.scalars(select(Customer).where(Customer.id.in_(sorted(ids))))
    for customer in rows:
        live = inv.live_customer(session, customer)
        email = (live.email or "").strip() or None
        language = inv.language_of(live.language, settings.default_language)
        found[customer.id] = (live.id, email, language)
    return found
