"""The customer pages: search, value pyramid, RFM, clusters, segments, outreach, 360.

``/customers`` shows the customer base at a glance and the outreach list (its button
opens cases, then redirects back with what it did); ``/customers/{ref}`` is one
customer's 360 page. Everything shown comes from the services in
:mod:`cxloop.customers`; customer text is escaped by the templates, never marked safe.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Query, Request
from starlette.responses import RedirectResponse, Response

from cxloop.accounts.service import UserInfo
from cxloop.analytics.rfm import RFM_SEGMENTS
from cxloop.analytics.value_tiers import TIER_NAMES
from cxloop.config import Settings
from cxloop.customers import outreach, segments, summaries
from cxloop.customers.search import MAX_QUERY, CustomerHit, search_customers
from cxloop.customers.view import Customer360, TimelineEvent, customer_360
from cxloop.domain.errors import InvalidInput, NotFound
from cxloop.web.deps import CSRFChecked, CurrentUser, SettingsDep, current_user
from cxloop.web.i18n import N_
from cxloop.web.templating import page_language, render

router = APIRouter(include_in_schema=False)

#: Roles that may open outreach cases (a viewer only reads).
CASE_ROLES = frozenset({"admin", "analyst", "agent"})
OUTREACH_LIMIT = 25
SEARCH_LIMIT = 50
#: Customers listed before anything is searched (the most valuable).
TOP_LIMIT = 10
#: A sentiment trend this far from 0 counts as a change.
SENTIMENT_STEP = 0.05

#: Translated names of the controlled words the customer pages show; any other value
#: is shown as it is (escaped).
VOCABULARY: dict[str, dict[str, str]] = {
    "identity": {"email": N_("E-mail"), "phone": N_("Phone"),
                 "member_id": N_("Member id"), "social": N_("Social handle")},
    "event": {"survey_response": N_("Survey response"), "ticket": N_("Ticket"),
              "purchase": N_("Purchase"), "refund": N_("Refund"), "call": N_("Call"),
              "chat": N_("Chat"), "review": N_("Review"),
              "social_post": N_("Social post"), "visit": N_("Visit"),
              "other": N_("Other"), "case": N_("Case")},
    "status": {"new": N_("New"), "in_progress": N_("In progress"),
               "waiting_on_customer": N_("Waiting on customer"),
               "resolved": N_("Resolved"), "closed": N_("Closed")},
    "score": {"nps": N_("NPS"), "csat": N_("CSAT"), "ces": N_("CES")},
    "feature": {
        "recency_days": N_("days since last purchase"),
        "frequency": N_("purchases"), "monetary": N_("net spend"),
        "tenure_days": N_("days since first purchase"),
        "avg_order_value": N_("average order value"),
        "orders_recent": N_("recent purchases"),
        "orders_trend": N_("change in purchases"),
        "spend_trend": N_("change in spend"), "refunds": N_("refunds"),
        "responses": N_("survey responses"), "last_nps": N_("last NPS answer"),
        "last_csat": N_("last CSAT answer"),
        "sentiment_trend": N_("change in sentiment"),
        "complaints": N_("recent complaints"), "open_cases": N_("open cases"),
        "slow_responses": N_("cases answered after 24 h"),
    },
}  # fmt: skip


def _records(frame: Any) -> list[dict[str, Any]]:
    """DataFrame rows as dicts with NaN turned into None."""
    return [
        {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in r.items()}
        for r in frame.to_dict(orient="records")
    ]


@dataclass(frozen=True)
class OutreachForm:
    """The outreach filter and, after the button, what it did."""

    min_risk: float = 0.5
    limit: int = OUTREACH_LIMIT
    errors: tuple[str, ...] = ()
    result: dict[str, int] | None = None


@dataclass(frozen=True)
class CustomersPage:
    """Everything ``/customers`` shows."""

    query: str
    hits: list[CustomerHit]
    scored: bool
    pyramid: list[dict[str, Any]]
    rfm: list[dict[str, Any]]
    clusters: list[dict[str, Any]]
    segments: list[segments.SegmentInfo]
    outreach: list[dict[str, Any]]
    form: OutreachForm
    search_error: str | None = None
    can_open_cases: bool = False
    totals: dict[str, float] = field(default_factory=dict)


def _number(raw: str | None, default: float, low: float, high: float) -> float | None:
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if low <= value <= high and math.isfinite(value) else None


def parse_outreach(
    raw_risk: str | None, raw_limit: str | None, done: dict[str, str | None]
) -> OutreachForm:
    """Read the outreach filter (bad values fall back to defaults, named in errors)."""
    errors: list[str] = []
    risk = _number(raw_risk, 0.5, 0.0, 1.0)
    if risk is None:
        errors.append(N_("The minimum risk must be a number between 0 and 1."))
    limit = _number(raw_limit, OUTREACH_LIMIT, 1, 500)
    if limit is None or limit != int(limit):
        errors.append(N_("The number of customers must be a whole number, 1 to 500."))
        limit = None
    counts = {k: _number(v, -1, 0, 10**9) for k, v in done.items()}
    result = None
    if all(v is not None and v >= 0 for v in counts.values()):
        result = {k: int(v or 0) for k, v in counts.items()}
    return OutreachForm(
        min_risk=0.5 if risk is None else risk,
        limit=OUTREACH_LIMIT if limit is None else int(limit),
        errors=tuple(errors),
        result=result,
    )


def _hits(settings: Settings, query: str) -> tuple[list[CustomerHit], str | None]:
    if len(query) > MAX_QUERY:
        return [], N_("The search is too long.")
    limit = SEARCH_LIMIT if query else TOP_LIMIT
    return search_customers(settings=settings, query=query, limit=limit), None


def build_customers_page(
    *, settings: Settings, language: str, query: str, form: OutreachForm, user: UserInfo
) -> CustomersPage:
    """Read every section of ``/customers`` from the services."""
    hits, error = _hits(settings, query.strip())
    pyramid = _records(summaries.value_pyramid(settings=settings, language=language))
    listed = outreach.outreach_list(
        settings=settings, min_risk=form.min_risk, limit=form.limit
    )
    return CustomersPage(
        query=query.strip(),
        hits=hits,
        scored=sum(row["customers"] for row in pyramid) > 0,
        pyramid=pyramid,
        rfm=_records(summaries.rfm_overview(settings=settings, language=language)),
        clusters=_records(summaries.cluster_overview(settings=settings)),
        segments=segments.list_segments(settings=settings),
        outreach=_records(listed),
        form=form,
        search_error=error,
        can_open_cases=user.role in CASE_ROLES,
        totals={"customers": sum(row["customers"] for row in pyramid),
                "revenue": sum(row["revenue"] or 0 for row in pyramid)},
    )  # fmt: skip


@router.get("/customers", name="customers")
def customers_page(
    request: Request,
    user: CurrentUser,
    settings: SettingsDep,
    q: str = "",
    min_risk: str | None = None,
    limit: str | None = None,
    listed: str | None = None,
    opened: str | None = None,
    already_open: str | None = None,
) -> Response:
    """Search, value pyramid, RFM segments, clusters, saved segments and outreach."""
    done = {"listed": listed, "opened": opened, "already_open": already_open}
    form = parse_outreach(min_risk, limit, done)
    language = page_language(request, user)
    page = build_customers_page(
        settings=settings, language=language, query=q, form=form, user=user
    )
    return render(
        request, "pages/customers.html",
        {"page": page, "form": form, "hits": page.hits, "names": VOCABULARY},
        user=user,
    )  # fmt: skip


@router.post(
    "/customers/outreach",
    name="open_outreach",
    dependencies=[Depends(current_user), CSRFChecked],
)
def open_outreach(
    request: Request,
    user: CurrentUser,
    settings: SettingsDep,
    min_risk: Annotated[float, Form(ge=0, le=1)] = 0.5,
    limit: Annotated[int, Form(ge=1, le=500)] = OUTREACH_LIMIT,
) -> Response:
    """Open an at-risk case for each listed customer, then show what was done."""
    if user.role not in CASE_ROLES:
        return render(request, "pages/customer.html",
                      {"customer": None, "problem": "forbidden", "detail": ""},
                      user=user, status_code=403)  # fmt: skip
    result = outreach.create_outreach_cases(
        settings=settings, min_risk=min_risk, limit=limit
    )
    query = urlencode({"min_risk": min_risk, "limit": limit, "listed": result.listed,
                       "opened": result.opened, "already_open": result.already_open})  # fmt: skip
    return RedirectResponse(f"/customers?{query}#outreach", status_code=303)


@dataclass(frozen=True)
class Event:
    """A timeline event with its time in the store's time zone."""

    event: TimelineEvent
    local: datetime


@dataclass(frozen=True)
class CustomerPage:
    """The 360 page: the service's view and what the page derives from it."""

    customer: Customer360
    profile: dict[str, Any] | None
    events: list[Event]
    tier_name: str | None
    rfm_name: str | None
    rfm_action: str | None
    last_scores: dict[str, float | None]
    sentiment: str | None
    reasons: list[dict[str, Any]]
    first_purchase: date | None = None


def _last_scores(c: Customer360) -> dict[str, float | None]:
    found: dict[str, float | None] = {"nps": None, "csat": None}
    for metric in found:
        found[metric] = next(
            (e.scores[metric] for e in c.timeline if metric in e.scores),
            (c.profile or {}).get(f"last_{metric}"),
        )
    return found


def _sentiment(profile: dict[str, Any] | None) -> str | None:
    trend = (profile or {}).get("sentiment_trend")
    if trend is None:
        return None
    if trend > SENTIMENT_STEP:
        return "up"
    return "down" if trend < -SENTIMENT_STEP else "flat"


def _reasons(profile: dict[str, Any] | None) -> list[dict[str, Any]]:
    reasons = (profile or {}).get("churn_reasons") or []
    return [r for r in reasons if isinstance(r, dict)]


def build_customer_page(
    *, customer: Customer360, language: str, zone: str
) -> CustomerPage:
    """The 360 page of ``customer`` in ``language``, times in ``zone``."""
    profile = customer.profile
    tier = str((profile or {}).get("value_tier") or "")
    rfm = RFM_SEGMENTS.get((profile or {}).get("rfm_segment") or "")
    tz = ZoneInfo(zone)
    return CustomerPage(
        customer=customer,
        profile=profile,
        events=[Event(e, e.at.astimezone(tz)) for e in customer.timeline],
        tier_name=TIER_NAMES[tier][language] if tier in TIER_NAMES else tier or None,
        rfm_name=rfm.name(language) if rfm else None,
        rfm_action=rfm.action(language) if rfm else None,
        last_scores=_last_scores(customer),
        sentiment=_sentiment(profile),
        reasons=_reasons(profile),
        first_purchase=_local_day((profile or {}).get("first_purchase_at"), tz),
    )


def _local_day(value: datetime | None, tz: ZoneInfo) -> date | None:
    return value.astimezone(tz).date() if value is not None else None


@router.get("/customers/{ref}", name="customer")
def customer_page(
    request: Request,
    user: CurrentUser,
    settings: SettingsDep,
    ref: str,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> Response:
    """One customer's 360 page; 404 for no such customer, 400 for an ambiguous one."""
    try:
        customer = customer_360(settings=settings, ref=ref, limit=limit)
    except (NotFound, InvalidInput) as exc:
        problem, status = (
            ("missing", 404) if isinstance(exc, NotFound) else ("bad", 400)
        )
        return render(request, "pages/customer.html",
                      {"customer": None, "problem": problem, "detail": str(exc),
                       "ref": ref}, user=user, status_code=status)  # fmt: skip
    page = build_customer_page(
        customer=customer,
        language=page_language(request, user),
        zone=settings.timezone,
    )
    return render(
        request, "pages/customer.html",
        {"customer": customer, "page": page, "names": VOCABULARY, "problem": None},
        user=user,
    )  # fmt: skip
