"""Cases for the service dashboard tests: two agents, one with a hostile name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cxloop.config import Settings
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import Case, Team, User

HOSTILE_AGENT = '<script>alert("x")</script> ‮阿明'
T = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)


def seed_cases(settings: Settings) -> None:
    """Ten cases of team support: FCR 50 %, first response within SLA 9 of 10."""
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        team = Team(key="support", name="客服")
        first = User(
            email="mei@example.com", name="美華", password_hash="x", role="agent"
        )
        second = User(email="ming@example.com", name=HOSTILE_AGENT, password_hash="x",
                      role="agent")  # fmt: skip
        session.add_all([team, first, second])
        session.flush()
        for i in range(10):
            opened = T + timedelta(days=i)
            session.add(Case(
                title=f"案件 {i}", opened_at=opened, source="test", external_id=f"W{i}",
                team_id=team.id, owner_id=(first if i % 2 else second).id,
                channel="email", contacts=1 if i < 5 else 2, handling_seconds=600,
                first_response_at=opened + timedelta(hours=1 if i else 3),
                first_response_due_at=opened + timedelta(hours=2),
                resolved_at=opened + timedelta(hours=5),
                resolution_due_at=opened + timedelta(hours=8),
                followup_score=5.0 if i % 2 else 3.0,
            ))  # fmt: skip
