"""Proactive outreach: the valuable customers most likely to leave, and cases for them.

:func:`outreach_list` reads the profiles that ``cxloop customers score`` wrote;
:func:`create_outreach_cases` opens one ``at_risk`` case per listed customer, never a
second while the first is still open, so running it again adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import select

from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput
from cxloop.domain.vocab import CaseKind, CasePriority, CaseStatus
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import Case, Customer, CustomerProfile
from cxloop.store.types import utcnow

#: Tiers worth a call by default (the top of the value pyramid).
DEFAULT_TIERS = ("top", "high", "medium")
#: Source of the cases this module opens (cases are idempotent on source + id).
OUTREACH_SOURCE = "outreach"
OPEN_STATUSES = (
    CaseStatus.NEW.value,
    CaseStatus.IN_PROGRESS.value,
    CaseStatus.WAITING_ON_CUSTOMER.value,
)


@dataclass(frozen=True)
class OutreachResult:
    """What :func:`create_outreach_cases` did."""

    listed: int
    opened: int
    already_open: int


def outreach_list(
    *,
    settings: Settings,
    min_risk: float = 0.5,
    tiers: tuple[str, ...] = DEFAULT_TIERS,
    limit: int = 100,
) -> pd.DataFrame:
    """High-risk, high-value customers, riskiest and most valuable first.

    Columns: ``customer_id``, ``external_id``, ``name``, ``email``, ``phone``,
    ``value_tier``, ``clv``, ``revenue``, ``churn_risk``, ``reasons`` (text) and
    ``reason_items`` (the reasons as dicts: feature, value, effect, text).
    """
    if not 0.0 <= min_risk <= 1.0:
        raise InvalidInput(f"minimum risk {min_risk} must be between 0 and 1")
    if limit < 1:
        raise InvalidInput(f"limit {limit} must be at least 1")
    query = (
        select(
            Customer.id,
            Customer.external_id,
            Customer.name,
            Customer.email,
            Customer.phone,
            CustomerProfile.value_tier,
            CustomerProfile.clv,
            CustomerProfile.revenue,
            CustomerProfile.churn_risk,
            CustomerProfile.churn_reasons,
        )
        .join(CustomerProfile, CustomerProfile.customer_id == Customer.id)
        .where(
            Customer.merged_into_id.is_(None),
            CustomerProfile.churn_risk >= min_risk,
            CustomerProfile.value_tier.in_(tiers),
        )
        .order_by(
            CustomerProfile.churn_risk.desc(),
            CustomerProfile.clv.desc(),
            Customer.id,
        )
        .limit(limit)
    )
    with engine_for(settings.database_url).connect() as connection:
        rows = connection.execute(query).all()
    columns = ["customer_id", "external_id", "name", "email", "phone", "value_tier"]
    columns += ["clv", "revenue", "churn_risk", "reasons"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["reason_items"] = frame["reasons"].map(
        lambda found: [r for r in found or [] if isinstance(r, dict)]
    )
    frame["reasons"] = frame["reasons"].map(_reason_text)
    return frame


def _reason_text(reasons: Any) -> str:
    return "; ".join(
        str(r.get("text", "")) for r in reasons or [] if isinstance(r, dict)
    )


def create_outreach_cases(
    *,
    settings: Settings,
    min_risk: float = 0.5,
    tiers: tuple[str, ...] = DEFAULT_TIERS,
    limit: int = 100,
    team: str | None = None,
) -> OutreachResult:
    """Open an ``at_risk`` case for each customer of :func:`outreach_list`."""
    listed = outreach_list(
        settings=settings, min_risk=min_risk, tiers=tiers, limit=limit
    )
    ids = [int(c) for c in listed["customer_id"]]
    now = utcnow()
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        busy = set(
            session.scalars(
                select(Case.customer_id).where(
                    Case.customer_id.in_(ids),
                    Case.kind == CaseKind.AT_RISK.value,
                    Case.status.in_(OPEN_STATUSES),
                )
            )
        )
        opened = 0
        for row in listed.itertuples(index=False):
            if row.customer_id in busy:
                continue
            session.add(_case(row, team, now))
            opened += 1
    return OutreachResult(listed=len(ids), opened=opened, already_open=len(busy))


def _case(row: Any, team: str | None, now: Any) -> Case:
    risk = round(float(row.churn_risk) * 100)
    return Case(
        customer_id=int(row.customer_id),
        kind=CaseKind.AT_RISK.value,
        title=f"Churn risk {risk}% ({row.value_tier} value): call before they leave",
        description=row.reasons or None,
        status=CaseStatus.NEW.value,
        priority=(
            CasePriority.HIGH.value
            if row.value_tier in ("top", "high")
            else CasePriority.NORMAL.value
        ),
        team=team,
        opened_at=now,
        source=OUTREACH_SOURCE,
        external_id=f"{int(row.customer_id)}-{now:%Y%m%dT%H%M%S%f}",
        attributes={"churn_risk": float(row.churn_risk), "clv": _float(row.clv)},
    )


def _float(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)
