"""Filters of a journey view (persona, segment, channel, period) and personas.

A persona is a named group of customers to view a journey through: one defined in the
journey file (``personas:``), a saved segment (``segment:KEY``), a value tier
(``value_tier:top``) or an RFM segment (``rfm:champions``). Each comes down to
``where`` filters on customer fields, as ``cxloop metrics --where`` takes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import ibis.expr.types as ir

from cxloop.analytics import queries
from cxloop.analytics.changes import refuse_missing
from cxloop.analytics.engines import Source
from cxloop.analytics.rfm import RFM_SEGMENTS
from cxloop.analytics.value_tiers import TIER_NAMES, TIERS
from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput
from cxloop.journeys.definitions import Journey, Labels


@dataclass(frozen=True)
class PersonaOption:
    """A persona to choose: its key, label, customer filters and where it comes from."""

    key: str
    label: Labels
    where: dict[str, str]
    origin: str


@dataclass(frozen=True)
class JourneyFilters:
    """What part of the journey to look at; every field is optional."""

    persona: str | None = None
    segment: str | None = None
    channel: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    def __post_init__(self) -> None:
        queries.check_dates(self.date_from, self.date_to)


def personas(*, settings: Settings, journey: Journey) -> list[PersonaOption]:
    """The personas of ``journey``, then saved segments, value tiers and RFM segments."""
    from cxloop.customers.segments import list_segments

    found = [
        PersonaOption(p.key, p.label, dict(p.where), "journey")
        for p in journey.personas
    ]
    found += [
        PersonaOption(f"segment:{s.key}", {"zh-TW": s.name, "en": s.name},
                      {queries.MEMBERSHIP_FIELD: s.key}, "segment")
        for s in list_segments(settings=settings)
    ]  # fmt: skip
    found += [
        PersonaOption(f"value_tier:{t}", dict(TIER_NAMES[t]), {"value_tier": t}, "tier")
        for t in TIERS
    ]
    found += [
        PersonaOption(f"rfm:{k}", dict(s.names), {"rfm_segment": k}, "rfm")
        for k, s in RFM_SEGMENTS.items()
    ]
    return found


def persona_where(journey: Journey, key: str) -> dict[str, str]:
    """The customer filters of the persona ``key`` (see :func:`personas`)."""
    for persona in journey.personas:
        if persona.key == key:
            return dict(persona.where)
    origin, _, value = key.partition(":")
    if origin == "segment" and value:
        return {queries.MEMBERSHIP_FIELD: value}
    if origin == "value_tier" and value in TIERS:
        return {"value_tier": value}
    if origin == "rfm" and value in RFM_SEGMENTS:
        return {"rfm_segment": value}
    msg = (
        f"unknown persona {key!r}: use a persona of journey {journey.name!r}, "
        "segment:KEY, value_tier:TIER or rfm:SEGMENT"
    )
    raise InvalidInput(msg)


def customer_where(journey: Journey, filters: JourneyFilters) -> dict[str, str]:
    """The customer-field filters that the persona and segment make."""
    where = persona_where(journey, filters.persona) if filters.persona else {}
    if filters.segment:
        where["segment"] = filters.segment
    for field in where:
        queries.check_field(field)
    return where


def apply(
    source: Source, table: ir.Table, where: dict[str, str], filters: JourneyFilters
) -> ir.Table:
    """Keep the rows of ``table`` (interactions or answers) the filters allow.

    ``table`` needs ``customer_id``, ``channel`` and ``occurred_on``.
    """
    if filters.channel:
        table = table.filter(table.channel == filters.channel)
    if filters.date_from or filters.date_to:
        table = table.filter(
            queries.in_days(table.occurred_on, filters.date_from, filters.date_to)
        )
    if not where:
        return table
    refuse_missing(source, list(where))
    customers = source.customers
    dim = customers.select(
        customers.customer_id.name("dim_customer_id"),
        **{field: queries.customer_column(source, field) for field in where},
    )
    chosen = queries.filter_where(dim, where).select("dim_customer_id")
    return table.semi_join(chosen, table.customer_id == chosen.dim_customer_id)
