"""Fixtures shared by the loop tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from service_seeding import Sink, running_sink


@pytest.fixture
def sink() -> Iterator[Sink]:
    """A real SMTP server (aiosmtpd) on loopback that keeps what it receives."""
    with running_sink() as server:
        yield server
