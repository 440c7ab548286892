"""Customers, agents, teams, cases and NPS answers for the follow-up and metric tests.

Plain SQLAlchemy inserts, so these tests do not depend on how cases are opened.
Also a real SMTP server (aiosmtpd) on loopback that keeps what it receives.
"""

from __future__ import annotations

import email
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import EmailMessage
from itertools import count
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from cxloop.config import Settings
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import (
    Answer,
    Case,
    CaseEvent,
    Customer,
    Interaction,
    Question,
    Survey,
    Team,
    User,
)

PUBLIC_URL = "https://cx.example.test"
_refs = count(1)


def uow(settings: Settings) -> UnitOfWork:
    return UnitOfWork(engine_for(settings.database_url))


def add_customer(
    settings: Settings, name: str, email: str | None, *, language: str = "zh-TW"
) -> int:
    with uow(settings).session() as session:
        row = Customer(name=name, email=email, language=language)
        session.add(row)
        session.flush()
        return row.id


def add_agent(settings: Settings, email: str, name: str) -> int:
    with uow(settings).session() as session:
        row = User(email=email, name=name, password_hash="x", role="agent")
        session.add(row)
        session.flush()
        return row.id


def add_team(settings: Settings, key: str, name: str) -> int:
    with uow(settings).session() as session:
        row = Team(key=key, name=name)
        session.add(row)
        session.flush()
        return row.id


def add_case(settings: Settings, opened: datetime, **values: Any) -> int:
    """A case opened at ``opened``; ``values`` are any other columns."""
    values.setdefault("title", "退款延遲")
    with uow(settings).session() as session:
        row = Case(opened_at=opened, source="test", external_id=f"C{next(_refs)}",
                   **values)  # fmt: skip
        session.add(row)
        session.flush()
        return row.id


def case_row(settings: Settings, case_id: int) -> Case:
    with uow(settings).session() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case


def events(settings: Settings, case_id: int) -> list[CaseEvent]:
    query = select(CaseEvent).where(CaseEvent.case_id == case_id)
    with uow(settings).session() as session:
        return list(session.scalars(query.order_by(CaseEvent.id)))


def nps_survey(settings: Settings) -> int:
    """An imported-answer survey with one NPS question; its question id."""
    with uow(settings).session() as session:
        survey = Survey(key=f"nps-import-{next(_refs)}", name="NPS")
        session.add(survey)
        session.flush()
        question = Question(survey_id=survey.id, key="nps", metric="nps")
        session.add(question)
        session.flush()
        return question.id


def add_nps(
    settings: Settings, question_id: int, customer_id: int, at: datetime, score: int,
    touchpoint: str | None = None,
) -> int:  # fmt: skip
    """One NPS answer of a customer at ``at``; the interaction id."""
    with uow(settings).session() as session:
        row = Interaction(customer_id=customer_id, occurred_at=at, channel="web",
                          touchpoint=touchpoint, kind="survey_response", source="test",
                          external_id=f"R{next(_refs)}")  # fmt: skip
        session.add(row)
        session.flush()
        session.add(Answer(interaction_id=row.id, question_id=question_id,
                           metric="nps", value=float(score)))  # fmt: skip
        return row.id


@dataclass
class Sink:
    """The SMTP server's address and the messages it accepted."""

    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, n: int, timeout: float = 10.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= n:
                    return list(self.messages)
            time.sleep(0.05)
        pytest.fail(f"expected {n} messages, got {len(self.messages)}")


class _Handler:
    def __init__(self, sink: Sink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self.sink.lock:
            self.sink.messages.append(message)
        return "250 Message accepted for delivery"


@contextmanager
def running_sink() -> Iterator[Sink]:
    """An aiosmtpd server on a free loopback port for the duration of the block."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    sink = Sink("127.0.0.1", port)
    controller = Controller(_Handler(sink), hostname=sink.host, port=port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


def mail_settings(settings: Settings, sink: Sink) -> Settings:
    return settings.model_copy(
        update={
            "public_url": PUBLIC_URL,
            "smtp_security": "none",
            "smtp_host": sink.host,
            "smtp_port": sink.port,
            "smtp_from": "禾光生活 <care@heguang.example>",
        }
    )
