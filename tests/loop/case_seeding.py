"""People, customers and a routed team for the case tests (plain inserts plus the
team service, so the tests exercise how cases are opened and worked)."""

from __future__ import annotations

from datetime import UTC, datetime

from cxloop.config import Settings
from cxloop.loop.teams import save_routing_rules
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import Customer, KbArticle, User

#: Monday 2025-05-05 10:00 in Taipei: inside business hours.
MONDAY = datetime(2025, 5, 5, 2, 0, tzinfo=UTC)
HOSTILE = '<script>alert("x")</script> {{ 7*7 }} \u202etxt.exe 退款'


def uow(settings: Settings) -> UnitOfWork:
    return UnitOfWork(engine_for(settings.database_url))


def add_user(settings: Settings, email: str, name: str, role: str = "agent") -> int:
    with uow(settings).session() as session:
        row = User(
            email=email, name=name, password_hash="x", role=role, language="zh-TW"
        )
        session.add(row)
        session.flush()
        return row.id


def add_customer(
    settings: Settings,
    name: str,
    email: str | None = "chen@example.test",
    language: str = "zh-TW",
) -> int:
    with uow(settings).session() as session:
        row = Customer(name=name, email=email, language=language, attributes={})
        session.add(row)
        session.flush()
        return row.id


def add_article(settings: Settings, external_id: str, answer: str) -> str:
    with uow(settings).session() as session:
        session.add(
            KbArticle(
                source="faq",
                external_id=external_id,
                language="zh-TW",
                answer=answer,
                title=f"FAQ {external_id}",
            )
        )
    return f"faq:{external_id}"


def seed_team(settings: Settings) -> dict[str, int]:
    """Two billing agents (round robin), a refund rule, an analyst, a viewer, an admin."""
    ids = {
        "amy": add_user(settings, "amy@heguang.example", "林美華"),
        "ben": add_user(settings, "ben@heguang.example", "王志明"),
        "ann": add_user(settings, "ann@heguang.example", "Ann", role="analyst"),
        "vic": add_user(settings, "vic@heguang.example", "Vic", role="viewer"),
        "root": add_user(settings, "root@heguang.example", "Root", role="admin"),
    }
    save_routing_rules(
        settings=settings,
        document={
            "teams": [{"key": "billing", "name": "帳務組", "assignment": "round_robin",
                       "members": ["amy@heguang.example", "ben@heguang.example"]},
                      {"key": "desk", "name": "Front desk", "assignment": "manual"}],
            "rules": [{"name": "refunds", "team": "billing",
                       "when": {"topic": ["refund"]}},
                      {"name": "the rest", "team": "desk", "when": {}}],
        },
    )  # fmt: skip
    return ids
