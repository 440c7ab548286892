"""Find what alert rules fire on: new interactions past a watermark, weekly metric drops.

Interaction rules look at interactions with an id above the rule's watermark, in id
order and batches, with their NPS answers and the customer's value tier and churn
risk (from ``customer_profile``). A rule saved without ``since`` starts at the newest
interaction stored when it was saved: it watches new feedback only.

``metric_drop`` rules compare the last complete week (Monday to Sunday in the business
time zone) before ``now`` with the week before it, per touchpoint, with
:func:`cxloop.analytics.service.metric_frame`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.domain.alert_rules import (
    Facts,
    RuleSpec,
    match,
    metric_drop,
    weekly_result,
)
from cxloop.loop.alert_actions import Alert
from cxloop.store.tables import Answer, CustomerProfile, Interaction

#: Interactions read per batch.
BATCH = 500


def _interactions(
    rule: RuleSpec, after: int, settings: Settings
) -> Select[Interaction]:
    query = select(Interaction).where(Interaction.id > after)
    if rule.touchpoints:
        query = query.where(Interaction.touchpoint.in_(rule.touchpoints))
    if rule.channels:
        query = query.where(Interaction.channel.in_(rule.channels))
    if rule.since is not None:
        start = datetime.combine(rule.since, datetime.min.time())
        query = query.where(
            Interaction.occurred_at >= start.replace(tzinfo=ZoneInfo(settings.timezone))
        )
    return query.order_by(Interaction.id).limit(BATCH)


def _nps_scores(session: Session, ids: Sequence[int]) -> dict[int, list[float]]:
    scores: dict[int, list[float]] = {}
    rows = session.execute(
        select(Answer.interaction_id, Answer.value).where(
            Answer.interaction_id.in_(ids),
            Answer.metric == "nps",
            Answer.value.is_not(None),
        )
    )
    for interaction_id, value in rows:
        if value is not None:
            scores.setdefault(interaction_id, []).append(float(value))
    return scores


def _profiles(
    session: Session, customer_ids: set[int]
) -> dict[int, tuple[str | None, float | None]]:
    if not customer_ids:
        return {}
    rows = session.execute(
        select(
            CustomerProfile.customer_id,
            CustomerProfile.value_tier,
            CustomerProfile.churn_risk,
        ).where(CustomerProfile.customer_id.in_(customer_ids))
    )
    return {cid: (tier, risk) for cid, tier, risk in rows}


def _facts(
    row: Interaction,
    scores: dict[int, list[float]],
    profiles: dict[int, tuple[str | None, float | None]],
) -> Facts:
    tier, risk = profiles.get(row.customer_id or -1, (None, None))
    return Facts(
        interaction_id=row.id, customer_id=row.customer_id, channel=row.channel,
        touchpoint=row.touchpoint, text=row.text, sentiment=row.sentiment,
        intent=row.intent, nps_scores=tuple(scores.get(row.id, ())),
        value_tier=tier, churn_risk=risk,
    )  # fmt: skip


def _alert(
    rule_id: int, rule: RuleSpec, row: Interaction, summary: str, now: datetime
) -> Alert:
    topics = tuple(str(t) for t in row.topics or () if isinstance(t, str))
    return Alert(
        rule_id=rule_id, rule=rule, ref=f"interaction:{row.id}", at=now,
        summary=summary, customer_id=row.customer_id, interaction_id=row.id,
        channel=row.channel, touchpoint=row.touchpoint, language=row.language,
        text=row.text, topics=topics, intent=row.intent,
    )  # fmt: skip


def interaction_batch(
    session: Session,
    *,
    settings: Settings,
    rule_id: int,
    rule: RuleSpec,
    after: int,
    now: datetime,
) -> tuple[list[Alert], int | None, int]:
    """The alerts of the next batch past ``after``, its last id (or None) and size."""
    rows = list(session.scalars(_interactions(rule, after, settings)))
    if not rows:
        return [], None, 0
    ids = [row.id for row in rows]
    scores = _nps_scores(session, ids)
    customers = {row.customer_id for row in rows if row.customer_id is not None}
    profiles = _profiles(session, customers)
    alerts = []
    for row in rows:
        summary = match(rule, _facts(row, scores, profiles))
        if summary is not None:
            alerts.append(_alert(rule_id, rule, row, summary, now))
    return alerts, ids[-1], len(rows)


def last_complete_week(now: datetime, zone: str) -> date:
    """The Monday that starts the last full week before ``now`` (business zone)."""
    today = now.astimezone(ZoneInfo(zone)).date()
    return today - timedelta(days=today.weekday() + 7)


def metric_alerts(
    *, settings: Settings, rule_id: int, rule: RuleSpec, now: datetime
) -> list[Alert]:
    """An alert per touchpoint whose weekly metric fell significantly (last full week)."""
    from cxloop.analytics.service import metric_frame

    week = last_complete_week(now, settings.timezone)
    frame = metric_frame(
        settings=settings, metric=rule.metric, by=["touchpoint"], period="week",
        date_from=week - timedelta(days=7), date_to=week + timedelta(days=6),
    )  # fmt: skip
    weeks: dict[str, dict[str, tuple[float, int, float | None]]] = {}
    for record in frame.to_dict("records"):
        touchpoint, value = record["touchpoint"], record["value"]
        if not isinstance(touchpoint, str) or value is None or math.isnan(value):
            continue
        moe = (
            None
            if record["moe"] is None or math.isnan(record["moe"])
            else record["moe"]
        )
        start = str(record["period"])[:10]
        weeks.setdefault(touchpoint, {})[start] = (float(value), int(record["n"]), moe)
    alerts = []
    for touchpoint, by_week in sorted(weeks.items()):
        if rule.touchpoints and touchpoint not in rule.touchpoints:
            continue
        alert = _metric_alert(rule_id, rule, touchpoint, by_week, week, now)
        if alert is not None:
            alerts.append(alert)
    return alerts


def _metric_alert(
    rule_id: int,
    rule: RuleSpec,
    touchpoint: str,
    by_week: dict[str, tuple[float, int, float | None]],
    week: date,
    now: datetime,
) -> Alert | None:
    current = by_week.get(week.isoformat())
    previous = by_week.get((week - timedelta(days=7)).isoformat())
    if current is None or previous is None:
        return None
    change = metric_drop(
        rule,
        weekly_result(rule.metric, *current),
        weekly_result(rule.metric, *previous),
    )
    if change is None or change.difference is None:
        return None
    name = rule.metric.upper()
    summary = (
        f"{name} of {touchpoint} moved from {previous[0]:.1f} to {current[0]:.1f} "
        f"in the week of {week.isoformat()} (n {previous[1]} → {current[1]}, "
        f"p {change.p_value or 0.0:.3f})"
    )
    return Alert(
        rule_id=rule_id, rule=rule, ref=f"metric:{rule.metric}:{touchpoint}:{week}",
        at=now, summary=summary, touchpoint=touchpoint,
    )  # fmt: skip
