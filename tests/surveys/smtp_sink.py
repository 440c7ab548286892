"""A real SMTP server (aiosmtpd) on 127.0.0.1 and a free port, keeping what arrives.

Addresses in ``refuse`` are answered ``550`` at RCPT time, as a real server answers an
unknown mailbox. Nothing in cxloop is patched: the mailer talks SMTP to this server.
"""

from __future__ import annotations

import email
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from cxloop.config import Settings

PUBLIC_URL = "https://cx.example.test"


@dataclass
class Sink:
    """The server's address and the messages it accepted."""

    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    logins: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [
                m for m in self.messages if m["To"].addresses[0].addr_spec == address
            ]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.05)
        pytest.fail(f"expected {count} messages, got {len(self.messages)}")


class _Handler:
    def __init__(self, sink: Sink) -> None:
        self.sink = sink

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.sink.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self.sink.lock:
            self.sink.messages.append(message)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextmanager
def running_sink(account: tuple[str, str] | None = None) -> Iterator[Sink]:
    """An aiosmtpd server on a free loopback port for the duration of the block.

    With ``account`` (user, password) it offers AUTH (without TLS, on loopback only)
    and accepts that account alone; each successful login is kept in ``logins``.
    """
    sink = Sink("127.0.0.1", free_port())
    auth: dict[str, Any] = {}
    if account is not None:

        def check(server: Any, session: Any, envelope: Any, mechanism: str,
                  data: Any) -> AuthResult:  # fmt: skip
            given = (data.login.decode(), data.password.decode())
            ok = isinstance(data, LoginPassword) and given == account
            if ok:
                sink.logins.append(given[0])
            return AuthResult(success=ok, handled=False)

        auth = {"authenticator": check, "auth_require_tls": False}
    controller = Controller(_Handler(sink), hostname=sink.host, port=sink.port, **auth)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


def mail_settings(settings: Settings, sink: Sink | None, **more: Any) -> Settings:
    """``settings`` sending to ``sink`` (plain SMTP) with links on PUBLIC_URL."""
    update: dict[str, Any] = {"public_url": PUBLIC_URL, "smtp_security": "none",
                              "smtp_from": "禾光生活 <survey@heguang.example>", **more}  # fmt: skip
    if sink is not None:
        update |= {"smtp_host": sink.host, "smtp_port": sink.port}
    return settings.model_copy(update=update)


def body(message: EmailMessage, subtype: str) -> str:
    """The text/``subtype`` part of a multipart message."""
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None, f"no text/{subtype} part"
    content = part.get_content()
    assert isinstance(content, str)
    return content
