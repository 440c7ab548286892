"""Controlled vocabularies of the data model (DESIGN.md, core data model)."""

from enum import StrEnum


class Channel(StrEnum):
    WEB = "web"
    APP = "app"
    EMAIL = "email"
    PHONE = "phone"
    CHAT = "chat"
    STORE = "store"
    SOCIAL = "social"
    REVIEW_SITE = "review_site"
    OTHER = "other"


class JourneyStage(StrEnum):
    DISCOVER = "discover"
    EVALUATE = "evaluate"
    PURCHASE = "purchase"
    DELIVERY = "delivery"
    USE = "use"
    SUPPORT = "support"
    RENEW_LEAVE = "renew_leave"


class InteractionKind(StrEnum):
    SURVEY_RESPONSE = "survey_response"
    TICKET = "ticket"
    PURCHASE = "purchase"
    CALL = "call"
    CHAT = "chat"
    REVIEW = "review"
    SOCIAL_POST = "social_post"
    VISIT = "visit"
    KIOSK = "kiosk"
    OTHER = "other"


class MetricKind(StrEnum):
    NPS = "nps"
    CSAT = "csat"
    CES = "ces"
    RATING = "rating"
    CHOICE = "choice"
    TEXT = "text"


#: Valid range of each scored metric, inclusive.
SCORE_RANGES: dict[MetricKind, tuple[int, int]] = {
    MetricKind.NPS: (0, 10),
    MetricKind.CSAT: (1, 5),
    MetricKind.CES: (1, 7),
}


class IdentityKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    MEMBER_ID = "member_id"
    SOCIAL = "social"


class TransactionKind(StrEnum):
    PURCHASE = "purchase"
    REFUND = "refund"


class CaseStatus(StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    WAITING_ON_CUSTOMER = "waiting_on_customer"
    RESOLVED = "resolved"
    CLOSED = "closed"


class CasePriority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class CaseKind(StrEnum):
    COMPLAINT = "complaint"
    DETRACTOR = "detractor"
    AT_RISK = "at_risk"
    REQUEST = "request"


class RootCause(StrEnum):
    VALUE = "value"
    SYSTEM = "system"
    PEOPLE = "people"


class Role(StrEnum):
    ADMIN = "admin"
    ANALYST = "analyst"
    AGENT = "agent"
    VIEWER = "viewer"
