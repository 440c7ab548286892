"""SQLAlchemy 2 tables for the core data model of DESIGN.md.

Table names are plain nouns; two differ from the entity name because the word is
reserved in SQL: ``case`` is stored as ``support_case`` and ``transaction`` as
``purchase``. Imported rows are idempotent on ``(source, external_id)``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from cxloop.store.types import JSONType, UTCDateTime, utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _created() -> Mapped[datetime]:
    return mapped_column(UTCDateTime, default=utcnow, nullable=False)


class Customer(Base):
    """The unified person or account."""

    __tablename__ = "customer"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(32))
    region: Mapped[str | None] = mapped_column(String(100))
    segment: Mapped[str | None] = mapped_column(String(100))
    language: Mapped[str | None] = mapped_column(String(16))
    source: Mapped[str | None] = mapped_column(String(100))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("customer.id"), index=True
    )
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False
    )


class Identity(Base):
    """A (kind, value) pair such as a normalised email or E.164 phone, owned by a customer."""

    __tablename__ = "identity"
    __table_args__ = (UniqueConstraint("kind", "value"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = _created()


class IdentityMerge(Base):
    """Audit of identity resolution: which customer was merged into which, and why."""

    __tablename__ = "identity_merge"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kept_customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    merged_customer_id: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    moved: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = _created()
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Interaction(Base):
    """Anything that happened between a customer and the business, one row each."""

    __tablename__ = "interaction"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        Index("ix_interaction_occurred_at", "occurred_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customer.id"), index=True
    )
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    channel: Mapped[str | None] = mapped_column(String(40))
    touchpoint: Mapped[str | None] = mapped_column(String(100))
    journey_stage: Mapped[str | None] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(100))
    external_id: Mapped[str] = mapped_column(String(200))
    text: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(16))
    sentiment: Mapped[str | None] = mapped_column(String(16))
    sentiment_score: Mapped[float | None] = mapped_column(Float)
    emotion: Mapped[str | None] = mapped_column(String(100))
    topics: Mapped[list[Any] | None] = mapped_column(JSONType)
    intent: Mapped[str | None] = mapped_column(String(100))
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = _created()
    # Filled by the text stage (cxloop.text): when the text was scored, by which model
    # version, the keywords and the confidences of emotion and intent.
    keywords: Mapped[list[Any] | None] = mapped_column(JSONType)
    emotion_confidence: Mapped[float | None] = mapped_column(Float)
    intent_confidence: Mapped[float | None] = mapped_column(Float)
    text_version: Mapped[str | None] = mapped_column(String(64))
    text_scored_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class Survey(Base):
    """A questionnaire; ``definition`` keeps the whole validated spec it was made from."""

    __tablename__ = "survey"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="active")
    public_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    definition: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Question(Base):
    __tablename__ = "question"
    __table_args__ = (UniqueConstraint("survey_id", "key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(100))
    metric: Mapped[str] = mapped_column(String(16))
    text_zh: Mapped[str | None] = mapped_column(Text)
    text_en: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    kind: Mapped[str | None] = mapped_column(String(16))
    options: Mapped[dict[str, Any] | None] = mapped_column(JSONType)


class Invitation(Base):
    """A personal link to a survey, and the e-mails that carried it.

    ``status``: queued (waiting for ``send_after``), sent, failed, skipped (contact
    cap, unsubscribed or no address; ``error`` says which), partial, responded.
    A trigger's invitation carries ``trigger_id`` and ``event_ref``: one per event.
    """

    __tablename__ = "invitation"
    __table_args__ = (
        UniqueConstraint("trigger_id", "event_ref"),
        Index("ix_invitation_customer_sent", "customer_id", "sent_at"),
        Index("ix_invitation_status_send_after", "status", "send_after"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"))
    token: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(40), default="link")
    status: Mapped[str] = mapped_column(String(20), default="created")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = _created()
    email: Mapped[str | None] = mapped_column(String(320))
    language: Mapped[str | None] = mapped_column(String(16))
    send_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    trigger_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey_trigger.id", ondelete="SET NULL")
    )
    event_ref: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JSONType)


class SurveyResponse(Base):
    """One person's response to a survey: partial until submitted, then complete.

    Its answers hang on ``interaction_id`` (kind ``survey_response``), so every metric
    sees them. ``submission_key`` makes a repeated submit store one response.
    """

    __tablename__ = "survey_response"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey_id: Mapped[int] = mapped_column(
        ForeignKey("survey.id", ondelete="CASCADE"), index=True
    )
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("invitation.id", ondelete="SET NULL"), unique=True
    )
    interaction_id: Mapped[int] = mapped_column(
        ForeignKey("interaction.id", ondelete="CASCADE"), unique=True
    )
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"))
    submission_key: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="partial")
    language: Mapped[str | None] = mapped_column(String(16))
    channel: Mapped[str | None] = mapped_column(String(40))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SurveyTrigger(Base):
    """Send a survey when an event happens (purchase, case resolved, interaction)."""

    __tablename__ = "survey_trigger"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(24))
    conditions: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    delay_minutes: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    watermark: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = _created()


class ContactSuppression(Base):
    """A customer who asked not to be contacted on a channel (unsubscribe)."""

    __tablename__ = "contact_suppression"
    __table_args__ = (UniqueConstraint("customer_id", "channel"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    channel: Mapped[str] = mapped_column(String(16), default="email")
    reason: Mapped[str] = mapped_column(String(40), default="unsubscribed")
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("invitation.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = _created()


class WebhookEndpoint(Base):
    """A system that pushes events, signed with HMAC-SHA256 by a shared secret."""

    __tablename__ = "webhook_endpoint"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    secret: Mapped[str] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(40), default="other")
    mapping: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = _created()


class WebhookDelivery(Base):
    """A delivery already taken in; a replay with the same id adds nothing."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (UniqueConstraint("endpoint_id", "delivery_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_endpoint.id", ondelete="CASCADE")
    )
    delivery_id: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    interactions: Mapped[int] = mapped_column(Integer, default=0)


class Answer(Base):
    """One scored or free-text answer; ``metric`` repeats the question's kind for speed."""

    __tablename__ = "answer"
    __table_args__ = (UniqueConstraint("interaction_id", "question_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    interaction_id: Mapped[int] = mapped_column(
        ForeignKey("interaction.id", ondelete="CASCADE")
    )
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"))
    metric: Mapped[str] = mapped_column(String(16))
    value: Mapped[float | None] = mapped_column(Float)
    text: Mapped[str | None] = mapped_column(Text)


class Transaction(Base):
    """A purchase or refund (table ``purchase``), for RFM, CLV and churn."""

    __tablename__ = "purchase"
    __table_args__ = (UniqueConstraint("source", "external_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customer.id"), index=True
    )
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), default="purchase")
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3), default="TWD")
    channel: Mapped[str | None] = mapped_column(String(40))
    touchpoint: Mapped[str | None] = mapped_column(String(100))
    product: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(100))
    external_id: Mapped[str] = mapped_column(String(200))
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = _created()


_OPEN_ALERT_CASE = (
    "alert_rule_id IS NOT NULL AND customer_id IS NOT NULL"
    " AND status IN ('new', 'in_progress', 'waiting_on_customer')"
)


class Case(Base):
    """Follow-up work on a customer (table ``support_case``)."""

    __tablename__ = "support_case"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        # At most one open case per customer per alert rule, even under concurrent passes.
        Index(
            "uq_support_case_open_alert",
            "customer_id",
            "alert_rule_id",
            unique=True,
            sqlite_where=sql_text(_OPEN_ALERT_CASE),
            postgresql_where=sql_text(_OPEN_ALERT_CASE),
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customer.id"), index=True
    )
    interaction_id: Mapped[int | None] = mapped_column(ForeignKey("interaction.id"))
    kind: Mapped[str] = mapped_column(String(20), default="complaint")
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(24), default="new")
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    team: Mapped[str | None] = mapped_column(String(100))
    owner: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str | None] = mapped_column(String(40))
    touchpoint: Mapped[str | None] = mapped_column(String(100))
    root_cause: Mapped[str | None] = mapped_column(String(20))
    resolution: Mapped[str | None] = mapped_column(Text)
    contacts: Mapped[int] = mapped_column(Integer, default=1)
    handling_seconds: Mapped[int | None] = mapped_column(Integer)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(100))
    external_id: Mapped[str] = mapped_column(String(200))
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = _created()
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"))
    language: Mapped[str | None] = mapped_column(String(16))
    root_cause_topic: Mapped[str | None] = mapped_column(String(100))
    first_response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    alert_rule_id: Mapped[int | None] = mapped_column(ForeignKey("alert_rule.id"))
    followup_invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("invitation.id", ondelete="SET NULL")
    )
    followup_score: Mapped[float | None] = mapped_column(Float)
    followup_solved: Mapped[bool | None] = mapped_column(Boolean)


class CaseEvent(Base):
    """One line of a case's history: who did what, when (nothing is ever rewritten).

    ``kind``: created, routed, assigned, taken, handed_over, status, priority, comment,
    reply, root_cause, escalated, sla_breached, followup_sent, followup_answered.
    """

    __tablename__ = "case_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("support_case.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    actor: Mapped[str] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(24))
    body: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONType)


class Team(Base):
    """A group of agents that cases are routed to."""

    __tablename__ = "team"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    lead_email: Mapped[str | None] = mapped_column(String(320))
    assignment: Mapped[str] = mapped_column(String(16), default="round_robin")
    calendar: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = _created()


class TeamMember(Base):
    """An agent in a team; ``away`` agents get no new cases."""

    __tablename__ = "team_member"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    away: Mapped[bool] = mapped_column(Boolean, default=False)
    last_assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RoutingRule(Base):
    """Send matching cases to a team; rules are tried by ``position``, first match wins."""

    __tablename__ = "routing_rule"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(200))
    conditions: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = _created()


class SlaPolicy(Base):
    """Targets in business minutes for a case priority."""

    __tablename__ = "sla_policy"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    priority: Mapped[str] = mapped_column(String(10), unique=True)
    first_response_minutes: Mapped[int] = mapped_column(Integer)
    resolution_minutes: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = _created()


class AlertRule(Base):
    """Watch new feedback and act: open a case, send an e-mail, call a webhook.

    ``kind``: detractor, negative_sentiment, churn_threat, keyword, metric_drop;
    ``watermark`` is the last interaction id looked at.
    """

    __tablename__ = "alert_rule"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(24))
    conditions: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    actions: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    watermark: Mapped[int] = mapped_column(Integer, default=0)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = _created()


class AlertEvent(Base):
    """A rule that fired, once per (rule, interaction), and what its actions did."""

    __tablename__ = "alert_event"
    __table_args__ = (UniqueConstraint("rule_id", "ref"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[int] = mapped_column(
        ForeignKey("alert_rule.id", ondelete="CASCADE")
    )
    ref: Mapped[str] = mapped_column(String(200))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"))
    interaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("interaction.id", ondelete="SET NULL")
    )
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("support_case.id", ondelete="SET NULL")
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    summary: Mapped[str] = mapped_column(Text)
    results: Mapped[list[Any] | None] = mapped_column(JSONType)


class ReplyTemplate(Base):
    """A reply agents start from; ``{placeholders}`` are filled from the customer."""

    __tablename__ = "reply_template"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    language: Mapped[str] = mapped_column(String(16), default="zh-TW")
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    topics: Mapped[list[Any] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class User(Base):
    """A person who signs in to the dashboard (table ``app_user``)."""

    __tablename__ = "app_user"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(16))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = _created()


class ApiKey(Base):
    """A key for the REST API; only a hash of the secret part is stored."""

    __tablename__ = "api_key"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = _created()
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scopes: Mapped[list[Any] | None] = mapped_column(JSONType)


class ImportRun(Base):
    """One run of an importer, with its counts (the import history)."""

    __tablename__ = "import_run"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(100))
    file_name: Mapped[str] = mapped_column(String(500))
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_inserted: Mapped[int] = mapped_column(Integer, default=0)
    rows_duplicate: Mapped[int] = mapped_column(Integer, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="running")


class ImportReject(Base):
    """A row an importer refused, with its line and reason (also in FILE.rejects.csv)."""

    __tablename__ = "import_reject"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    import_run_id: Mapped[int] = mapped_column(
        ForeignKey("import_run.id", ondelete="CASCADE"), index=True
    )
    line: Mapped[int] = mapped_column(Integer)
    field: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[dict[str, Any] | None] = mapped_column(JSONType)


class CustomerProfile(Base):
    """What cxloop computed about a customer: value, RFM, tier, cluster, CLV, churn risk.

    One row per customer, replaced by each ``cxloop customers score``.
    """

    __tablename__ = "customer_profile"
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), primary_key=True
    )
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    orders: Mapped[int] = mapped_column(Integer, default=0)
    revenue: Mapped[float] = mapped_column(Float, default=0.0)
    first_purchase_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_purchase_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recency_days: Mapped[int | None] = mapped_column(Integer)
    r_score: Mapped[int | None] = mapped_column(Integer)
    f_score: Mapped[int | None] = mapped_column(Integer)
    m_score: Mapped[int | None] = mapped_column(Integer)
    rfm_segment: Mapped[str | None] = mapped_column(String(32), index=True)
    value_tier: Mapped[str | None] = mapped_column(String(16), index=True)
    cluster: Mapped[int | None] = mapped_column(Integer)
    cluster_label: Mapped[str | None] = mapped_column(String(200))
    p_alive: Mapped[float | None] = mapped_column(Float)
    expected_purchases: Mapped[float | None] = mapped_column(Float)
    clv: Mapped[float | None] = mapped_column(Float)
    churn_risk: Mapped[float | None] = mapped_column(Float, index=True)
    churn_reasons: Mapped[list[Any] | None] = mapped_column(JSONType)
    last_nps: Mapped[float | None] = mapped_column(Float)
    last_csat: Mapped[float | None] = mapped_column(Float)
    sentiment_trend: Mapped[float | None] = mapped_column(Float)
    next_products: Mapped[list[Any] | None] = mapped_column(JSONType)


class Segment(Base):
    """A saved segment: customers that meet rules over attributes, metrics and scores."""

    __tablename__ = "segment"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    definition: Mapped[dict[str, Any]] = mapped_column(JSONType)
    member_count: Mapped[int] = mapped_column(Integer, default=0)
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = _created()


class SegmentMember(Base):
    """A customer in a saved segment, as of the segment's last refresh."""

    __tablename__ = "segment_member"
    segment_id: Mapped[int] = mapped_column(
        ForeignKey("segment.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Initiative(Base):
    """A Plan-Do-Check-Act improvement with a goal metric, its baseline and checks.

    ``scope`` and ``comparison`` are metric filters (``{"touchpoint": "宅配"}``): the
    customers the change touched, and an untouched group for difference-in-differences.
    """

    __tablename__ = "initiative"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    owner: Mapped[str | None] = mapped_column(String(200))
    problem: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    metric: Mapped[str] = mapped_column(String(16))
    scope: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    comparison: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    baseline_from: Mapped[date | None] = mapped_column(Date)
    baseline_to: Mapped[date | None] = mapped_column(Date)
    baseline: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    target_value: Mapped[float | None] = mapped_column(Float)
    target_date: Mapped[date | None] = mapped_column(Date)
    change_date: Mapped[date | None] = mapped_column(Date)
    stage: Mapped[str] = mapped_column(String(16), default="plan", index=True)
    stage_dates: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    outcome: Mapped[str | None] = mapped_column(String(24))
    decision: Mapped[str | None] = mapped_column(String(16))
    standard: Mapped[str | None] = mapped_column(Text)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("initiative.id"))
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False
    )


class InitiativeAction(Base):
    """A step of an initiative's plan, with its owner and due date."""

    __tablename__ = "initiative_action"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiative.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(300))
    owner: Mapped[str | None] = mapped_column(String(200))
    due_date: Mapped[date | None] = mapped_column(Date)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = _created()


class InitiativeCheck(Base):
    """One Check of an initiative: the measured effect and what it says."""

    __tablename__ = "initiative_check"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiative.id", ondelete="CASCADE"), index=True
    )
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    outcome: Mapped[str] = mapped_column(String(24))
    result: Mapped[dict[str, Any]] = mapped_column(JSONType)


class Experiment(Base):
    """An A/B test of an intervention: arms, the unit randomised, and a fixed plan."""

    __tablename__ = "experiment"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(String(16), default="customer")
    arms: Mapped[list[Any]] = mapped_column(JSONType)
    analysis: Mapped[str] = mapped_column(String(16))
    plan: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = _created()


class ExperimentAssignment(Base):
    """Which arm a customer or case was assigned to (once, never changed)."""

    __tablename__ = "experiment_assignment"
    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiment.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    arm: Mapped[str] = mapped_column(String(64))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class KbArticle(Base):
    """A knowledge-base article: one answer that several questions may lead to."""

    __tablename__ = "kb_article"
    __table_args__ = (UniqueConstraint("source", "external_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    external_id: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(16))
    answer: Mapped[str] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False
    )


class KbQuestion(Base):
    """A question (phrasing) that an article answers."""

    __tablename__ = "kb_question"
    __table_args__ = (UniqueConstraint("article_id", "text"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("kb_article.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)


class KbVector(Base):
    """An embedding of an article's question or answer passage, by a local model.

    Kept so that searches do not embed the whole knowledge base again; ``text_sha``
    (SHA-256 of the text) finds vectors whose text changed.
    """

    __tablename__ = "kb_vector"
    __table_args__ = (UniqueConstraint("article_id", "kind", "text_sha", "model"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("kb_article.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(8))
    text_sha: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(60))
    vector: Mapped[bytes] = mapped_column(LargeBinary)
