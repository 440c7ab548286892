"""Fixtures of the survey distribution tests: a real SMTP server on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from smtp_sink import Sink, mail_settings, running_sink

from cxloop.config import Settings


@pytest.fixture
def sink() -> Iterator[Sink]:
    """An aiosmtpd server on 127.0.0.1 that keeps every message it receives."""
    with running_sink() as server:
        yield server


@pytest.fixture
def mail(settings: Settings, sink: Sink) -> Settings:
    """``settings`` sending e-mail to :func:`sink` (on SQLite and PostgreSQL)."""
    return mail_settings(settings, sink)
