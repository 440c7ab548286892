"""The driver field syntax of ``cxloop drivers`` (docs/en/drivers.md lists it).

A driver is one numeric column of the analysis frame, named by a short expression:

====================  =====================================================  ========
field                 response level / customer level                        level
====================  =====================================================  ========
``nps|csat|ces``      the response's answer / the customer's mean answer     both
``csat@touchpoint=X`` (also ``@channel=``, ``@stage=``, ``@survey=``):       customer
                      the customer's mean answer there
``touchpoint=X``      (also ``channel=``, ``stage=``, ``survey=``; ``X`` may  both
                      be ``*`` for every value): 1 at X / 1 if they were
``attr:KEY``          the response attribute / the customer's mean of it      both
``attr:KEY>N``        1 when above N / the share of their answers above N    both
``sentiment``         the text's sentiment score / the customer's mean        both
``topic:NAME``        1 when the text has the topic / how many did            both
``cases[:KIND]``      cases opened for the customer (complaint, detractor…)   customer
``profile:FIELD``     a number of ``customer_profile`` (churn_risk, clv…)     customer
====================  =====================================================  ========
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from cxloop.domain.errors import InvalidInput
from cxloop.domain.vocab import MetricKind

#: Where an interaction happened: field name in the syntax -> column of the frame.
PLACES = {
    "touchpoint": "touchpoint",
    "channel": "channel",
    "stage": "journey_stage",
    "survey": "survey",
}
#: Numbers of ``customer_profile`` that ``profile:FIELD`` may name.
PROFILE_FIELDS = (
    "orders", "revenue", "recency_days", "r_score", "f_score", "m_score", "p_alive",
    "expected_purchases", "clv", "churn_risk", "last_nps", "last_csat",
    "sentiment_trend",
)  # fmt: skip
METRICS = tuple(m.value for m in (MetricKind.NPS, MetricKind.CSAT, MetricKind.CES))
SYNTAX = (
    "nps|csat|ces, METRIC@touchpoint=X (or @channel=, @stage=, @survey=), "
    "touchpoint=X (or channel=, stage=, survey=; X may be *), attr:KEY, "
    "attr:KEY>N, sentiment, topic:NAME, cases, cases:KIND, profile:FIELD"
)

_PLACE = "|".join(PLACES)
_PATTERNS = {
    "metric": re.compile(rf"^(?P<metric>{'|'.join(METRICS)})$"),
    "metric_at": re.compile(
        rf"^(?P<metric>{'|'.join(METRICS)})@(?P<place>{_PLACE})=(?P<value>.+)$"
    ),
    "place": re.compile(rf"^(?P<place>{_PLACE})=(?P<value>.+)$"),
    "attr_over": re.compile(r"^attr:(?P<key>[^>]+)>(?P<value>-?\d+(\.\d+)?)$"),
    "attr": re.compile(r"^attr:(?P<key>[^>]+)$"),
    "sentiment": re.compile(r"^sentiment$"),
    "topic": re.compile(r"^topic:(?P<key>.+)$"),
    "cases": re.compile(r"^cases(:(?P<key>.+))?$"),
    "profile": re.compile(r"^profile:(?P<key>.+)$"),
}
#: Kinds of field only a customer-level frame can have.
CUSTOMER_ONLY = ("metric_at", "cases", "profile")


class Level(StrEnum):
    """One row per survey response, or one per customer."""

    RESPONSE = "response"
    CUSTOMER = "customer"


class Scale(StrEnum):
    """How a driver's performance is read (docs/en/drivers.md, "Driver matrix")."""

    METRIC = "metric"  # a known answer scale: its normalised mean
    EVENT = "event"  # 0/1 or a count: the outcome where it happened
    NUMBER = "number"  # anything else: its min-max position, oriented by the outcome


@dataclass(frozen=True)
class Field:
    """One parsed driver field."""

    text: str
    kind: str
    metric: str = ""
    place: str = ""
    value: str = ""
    key: str = ""
    threshold: float = 0.0

    @property
    def scale(self) -> Scale:
        """How performance is read for this field."""
        if self.kind in ("metric", "metric_at"):
            return Scale.METRIC
        if self.kind in ("place", "attr_over", "topic", "cases"):  # 0/1, share, count
            return Scale.EVENT
        return Scale.NUMBER


def parse_level(text: str) -> Level:
    """The :class:`Level` named ``text``; InvalidInput lists the choices."""
    try:
        return Level(text)
    except ValueError:
        raise InvalidInput(
            f"level {text!r} is unknown: use response or customer"
        ) from None


def parse_field(text: str, level: Level) -> Field:
    """Parse one driver field; InvalidInput shows the syntax when it does not fit."""
    text = text.strip()
    for kind, pattern in _PATTERNS.items():
        found = pattern.match(text)
        if found is None:
            continue
        if level is Level.RESPONSE and kind in CUSTOMER_ONLY:
            msg = f"driver {text!r} needs --level customer"
            raise InvalidInput(msg)
        parts = {k: v for k, v in found.groupdict().items() if v is not None}
        if kind == "profile" and parts["key"] not in PROFILE_FIELDS:
            names = ", ".join(PROFILE_FIELDS)
            raise InvalidInput(
                f"profile field {parts['key']!r} is unknown: use {names}"
            )
        threshold = float(parts.pop("value")) if kind == "attr_over" else 0.0
        return Field(text=text, kind=kind, threshold=threshold, **parts)
    raise InvalidInput(f"driver {text!r} is not a field: use {SYNTAX}")


def parse_fields(texts: list[str], level: Level) -> list[Field]:
    """Parse comma-separated fields; duplicates and an empty list are refused."""
    fields = [parse_field(t, level) for t in texts if t.strip()]
    if not fields:
        raise InvalidInput(f"name at least one driver: {SYNTAX}")
    seen = [f.text for f in fields]
    doubled = sorted({t for t in seen if seen.count(t) > 1})
    if doubled:
        raise InvalidInput(f"drivers named twice: {', '.join(doubled)}")
    return fields
