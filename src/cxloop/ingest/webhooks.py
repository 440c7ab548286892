"""Webhook endpoints: systems that push events, signed with HMAC-SHA256.

Each endpoint has a key (in its address, ``/api/v1/webhooks/<key>``), a secret shared
with the sending system (shown once, when the endpoint is created), a source (every
interaction it brings belongs to it) and a kind (for items that name none), and
optionally a mapping from the sender's JSON to intake items
(:mod:`cxloop.ingest.webhook_mapping`); without one the body is in the intake format.

A delivery carries ``X-Cxloop-Timestamp`` (Unix seconds) and ``X-Cxloop-Signature:
sha256=<hex>``, the HMAC-SHA256 of ``"<timestamp>.<raw body>"`` keyed with the
secret. A delivery whose timestamp is more than :data:`TOLERANCE_SECONDS` away from
now, or whose signature does not match, is refused. Its ``X-Cxloop-Delivery`` id (or
the SHA-256 of the body when there is none) is recorded with what it stored, in the
same transaction, so a replayed delivery adds nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from cxloop.config import Settings
from cxloop.domain.errors import CxloopError, InvalidInput, NotFound
from cxloop.ingest.intake import IntakeResult, TooManyItems, items_of, store_items
from cxloop.ingest.intake_items import INTAKE_KINDS, MAX_ITEMS, MAX_SOURCE, check_item
from cxloop.ingest.webhook_mapping import apply_mapping, check_mapping
from cxloop.ingest.writers import BulkWriter
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import WebhookDelivery, WebhookEndpoint

#: How far a delivery's timestamp may be from now, in seconds.
TOLERANCE_SECONDS = 300
#: Largest body a delivery may have, in bytes.
MAX_BODY_BYTES = 5 * 1024 * 1024
SIGNATURE_PREFIX = "sha256="
KEY_PREFIX = "wh_"
SECRET_PREFIX = "whsec_"  # noqa: S105 - a label, not a secret


class SignatureRefused(CxloopError):
    """A delivery's signature or timestamp is missing, stale or wrong (HTTP 401)."""


@dataclass(frozen=True)
class EndpointInfo:
    """An endpoint as listed (never with its secret)."""

    key: str
    name: str
    source: str
    kind: str
    active: bool
    has_mapping: bool
    created_at: datetime
    deliveries: int
    last_delivery_at: datetime | None


@dataclass(frozen=True)
class NewEndpoint:
    """A created endpoint with its secret: the only time the secret is shown."""

    key: str
    secret: str
    name: str
    source: str
    kind: str

    @property
    def path(self) -> str:
        """Where the endpoint receives deliveries."""
        return f"/api/v1/webhooks/{self.key}"


def _uow(settings: Settings) -> UnitOfWork:
    return UnitOfWork(engine_for(settings.database_url))


def create_endpoint(
    *,
    settings: Settings,
    name: str,
    source: str,
    kind: str = "other",
    mapping: dict[str, Any] | None = None,
) -> NewEndpoint:
    """Create an endpoint with a fresh key and secret.

    Raises
    ------
    InvalidInput
        The name or source is empty or too long, the kind cannot be pushed, or the
        mapping is not valid (the message names the first problem).
    """
    if not name.strip() or len(name.strip()) > 200:
        raise InvalidInput("a webhook endpoint needs a name of at most 200 characters")
    if not source.strip() or len(source.strip()) > MAX_SOURCE:
        raise InvalidInput(f"--source: give a name of at most {MAX_SOURCE} characters")
    if kind not in INTAKE_KINDS:
        raise InvalidInput(f"--kind {kind!r}: use one of {', '.join(INTAKE_KINDS)}")
    checked = None if mapping is None else check_mapping(mapping)
    endpoint = NewEndpoint(
        key=KEY_PREFIX + secrets.token_hex(12),
        secret=SECRET_PREFIX + secrets.token_urlsafe(32),
        name=name.strip(),
        source=source.strip(),
        kind=kind,
    )
    with _uow(settings).session() as session:
        session.add(
            WebhookEndpoint(
                key=endpoint.key, name=endpoint.name, secret=endpoint.secret,
                source=endpoint.source, kind=kind, mapping=checked, active=True,
            )
        )  # fmt: skip
    return endpoint


def list_endpoints(*, settings: Settings) -> list[EndpointInfo]:
    """Every endpoint, oldest first, with how many deliveries it took in."""
    deliveries = (
        select(
            WebhookDelivery.endpoint_id,
            func.count().label("n"),
            func.max(WebhookDelivery.received_at).label("last"),
        )
        .group_by(WebhookDelivery.endpoint_id)
        .subquery()
    )
    query = (
        select(WebhookEndpoint, deliveries.c.n, deliveries.c.last)
        .outerjoin(deliveries, deliveries.c.endpoint_id == WebhookEndpoint.id)
        .order_by(WebhookEndpoint.id)
    )
    with _uow(settings).session() as session:
        return [
            EndpointInfo(
                e.key, e.name, e.source, e.kind, e.active, e.mapping is not None,
                e.created_at, int(n or 0), last,
            )
            for e, n, last in session.execute(query).all()
        ]  # fmt: skip


def disable_endpoint(*, settings: Settings, key: str) -> None:
    """Refuse further deliveries to ``key``; NotFound when there is no such endpoint."""
    with _uow(settings).session() as session:
        endpoint = session.scalar(
            select(WebhookEndpoint).where(WebhookEndpoint.key == key)
        )
        if endpoint is None:
            raise NotFound(f"no webhook endpoint with key {key!r}")
        endpoint.active = False


def sign(*, secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value of ``body`` sent at ``timestamp``.

    >>> sign(secret="s", timestamp=1, body=b"{}")[:15]
    'sha256=b253639b'
    """
    message = str(timestamp).encode("ascii") + b"." + body
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def _endpoint(settings: Settings, key: str, *, active: bool) -> WebhookEndpoint:
    with _uow(settings).session() as session:
        endpoint = session.scalar(
            select(WebhookEndpoint).where(WebhookEndpoint.key == key)
        )
    if endpoint is None or (active and not endpoint.active):
        raise NotFound(f"no active webhook endpoint with key {key!r}")
    return endpoint


def signature_headers(
    *, settings: Settings, key: str, body: bytes, timestamp: int | None = None,
    delivery_id: str | None = None,
) -> dict[str, str]:  # fmt: skip
    """The headers that sign ``body`` for endpoint ``key`` (to test an integration)."""
    endpoint = _endpoint(settings, key, active=False)
    stamp = int(time.time()) if timestamp is None else timestamp
    headers = {
        "X-Cxloop-Timestamp": str(stamp),
        "X-Cxloop-Signature": sign(secret=endpoint.secret, timestamp=stamp, body=body),
    }
    if delivery_id:
        headers["X-Cxloop-Delivery"] = delivery_id
    return headers


def verify(
    *, secret: str, body: bytes, signature: str | None, timestamp: str | None,
    now: float,
) -> None:  # fmt: skip
    """Raise :class:`SignatureRefused` unless the signature and timestamp hold."""
    if not signature or not timestamp:
        raise SignatureRefused(
            "missing X-Cxloop-Signature or X-Cxloop-Timestamp header"
        )
    if not timestamp.strip().isdigit():
        raise SignatureRefused("X-Cxloop-Timestamp must be Unix seconds")
    stamp = int(timestamp.strip())
    if abs(now - stamp) > TOLERANCE_SECONDS:
        msg = f"the timestamp is more than {TOLERANCE_SECONDS // 60} minutes from now"
        raise SignatureRefused(msg)
    expected = sign(secret=secret, timestamp=stamp, body=body)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        raise SignatureRefused("the signature does not match the body")


def _delivery_key(body: bytes, delivery_id: str | None) -> str:
    if delivery_id and delivery_id.strip():
        return delivery_id.strip()[:200]
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _raw_items(endpoint: WebhookEndpoint, body: bytes) -> list[Any]:
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"the body is not JSON: {exc}") from None
    if endpoint.mapping is not None:
        items = apply_mapping(endpoint.mapping, payload)
    else:
        items, _ = items_of(payload)
    if len(items) > MAX_ITEMS:
        raise TooManyItems(f"a delivery holds at most {MAX_ITEMS:,} items")
    for item in items:
        if isinstance(item, dict):
            item.setdefault("kind", endpoint.kind)
    return items


def receive_delivery(
    *,
    settings: Settings,
    key: str,
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    delivery_id: str | None = None,
    now: float | None = None,
) -> IntakeResult:
    """Verify a delivery to endpoint ``key`` and store its items.

    Raises
    ------
    NotFound
        No active endpoint has this key.
    SignatureRefused
        The signature or the timestamp is missing, stale or wrong.
    InvalidInput
        The body is too large, not JSON, or not what the mapping expects.
    """
    endpoint = _endpoint(settings, key, active=True)
    if len(body) > MAX_BODY_BYTES:
        raise InvalidInput(f"the body is larger than {MAX_BODY_BYTES:,} bytes")
    verify(
        secret=endpoint.secret, body=body, signature=signature, timestamp=timestamp,
        now=time.time() if now is None else now,
    )  # fmt: skip
    checked = [
        check_item(raw, index=i, zone=settings.timezone, forced_source=endpoint.source)
        for i, raw in enumerate(_raw_items(endpoint, body))
    ]
    delivery = _delivery_key(body, delivery_id)

    def claim(writer: BulkWriter) -> bool:
        sql = (
            "SELECT id FROM webhook_delivery WHERE endpoint_id = ? "
            "AND delivery_id IN ({values})"
        )
        if writer.lookup(sql, [delivery], endpoint.id):
            return False
        columns = ("endpoint_id", "delivery_id", "received_at", "interactions")
        writer.insert(
            "webhook_delivery", columns, [(endpoint.id, delivery, writer.now, 0)]
        )
        return True

    def done(writer: BulkWriter, result: IntakeResult) -> None:
        writer.execute(
            "UPDATE webhook_delivery SET interactions = ? "
            "WHERE endpoint_id = ? AND delivery_id = ?",
            (result.count("created"), endpoint.id, delivery),
        )

    return store_items(
        engine_for(settings.database_url), checked, origin=f"webhook {key}",
        claim=claim, done=done,
    )  # fmt: skip
