"""The channel intake API: other systems push chat, calls, reviews, social posts and
kiosk answers (``POST /api/v1/interactions``, an API key with the scope
``interactions:write``), or send signed webhook deliveries
(``POST /api/v1/webhooks/{key}``, open, checked by its HMAC-SHA256 signature).

Items are validated one by one by the service, so the body is read here as JSON and
not by a pydantic model: one bad item must not refuse the others. The models below
document the format in the OpenAPI schema.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter
from starlette.concurrency import run_in_threadpool

from cxloop.accounts.scopes import INTERACTIONS_WRITE
from cxloop.accounts.service import UserInfo
from cxloop.domain.errors import InvalidInput
from cxloop.ingest import webhooks
from cxloop.ingest.intake import (
    MAX_ITEMS,
    IntakeResult,
    TooManyItems,
    intake_interactions,
    items_of,
)
from cxloop.ingest.intake_status import interaction_status
from cxloop.web.api.intake_models import (
    EXAMPLES,
    IntakeResultPublic,
    InteractionBatchIn,
    InteractionIn,
)
from cxloop.web.deps import SettingsDep, require_scope

router = APIRouter(prefix="/api/v1", tags=["intake"])

#: Largest body of ``POST /api/v1/interactions``, in bytes.
MAX_BODY_BYTES = 20 * 1024 * 1024
Writer = Annotated[UserInfo, Depends(require_scope(INTERACTIONS_WRITE))]


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with its ``$defs`` written in place (the request body schema of
    ``openapi_extra`` cannot refer to them)."""
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(defs[node["$ref"].rsplit("/", 1)[1]])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(value) for value in node]
        return node

    return resolve(schema)  # type: ignore[no-any-return]


def _request_body() -> dict[str, Any]:
    schema = TypeAdapter(InteractionIn | InteractionBatchIn).json_schema()
    content = {"schema": _inline(schema), "examples": EXAMPLES}
    return {"requestBody": {"required": True, "content": {"application/json": content}}}


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No session and no valid API key."},
    403: {"description": "The key or role lacks the scope interactions:write."},
    413: {"description": f"More than {MAX_ITEMS:,} items, or a body too large."},
    422: {"description": "The body is not JSON, not an item or batch, or (one "
          "item) the item was rejected: the result says which field and why."},
}  # fmt: skip


async def _read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused with 413 past ``limit`` bytes (before reading it all)."""
    declared = request.headers.get("content-length", "")
    too_large = HTTPException(413, detail=f"the body is larger than {limit:,} bytes")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _public(result: IntakeResult) -> dict[str, Any]:
    return IntakeResultPublic.from_result(result).model_dump(mode="json")


@router.post(
    "/interactions",
    response_model=IntakeResultPublic,
    responses=ERRORS,
    openapi_extra=_request_body(),
    summary="Push interactions (one, or a batch of up to 1,000)",
)
async def post_interactions(
    request: Request, settings: SettingsDep, _user: Writer
) -> JSONResponse:
    """Store chat transcripts, call transcripts, reviews, social posts and kiosk
    answers. Idempotent on (source, external_id): a repeat is ``duplicate`` and
    changes nothing. Each item gets its own status; a bad item never costs the
    others. One item answers 201 (created), 200 (duplicate) or 422 (rejected); a
    batch answers 200 with the status of each item."""
    body = await _read_body(request, MAX_BODY_BYTES)
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"the body is not JSON: {exc}") from None
    try:
        items, source = items_of(payload)
    except TooManyItems as exc:
        return JSONResponse({"detail": str(exc)}, status_code=413)
    result = await run_in_threadpool(
        lambda: intake_interactions(
            settings=settings, items=items, default_source=source
        )
    )
    code = 200
    if not (isinstance(payload, dict) and "items" in payload):
        code = {"created": 201, "duplicate": 200}.get(result.items[0].status, 422)
    return JSONResponse(_public(result), status_code=code)


@router.get(
    "/interactions/{source}/{external_id:path}",
    summary="What became of a pushed interaction: text scores, automatic reply, case",
    responses={
        404: {"description": "Nothing was stored under that source and id."},
        403: {"description": "The key lacks the scope interactions:write."},
    },
)
def get_interaction(
    settings: SettingsDep,
    _user: Writer,
    source: Annotated[str, Path(max_length=100)],
    external_id: Annotated[str, Path(max_length=200)],
) -> dict[str, Any]:
    """The key that pushes interactions may read them back. ``auto_reply`` is null
    until the worker has looked at the message (with ``CXLOOP_AUTO_REPLY=on``), then
    says ``action``: ``answered`` (``answer`` holds the text for a chat to post;
    ``sent_to`` the address when it went by e-mail) or ``handed_over`` (``case_id``).
    The text fields stay null until the text stage has scored the message."""
    status = interaction_status(
        settings=settings, source=source, external_id=external_id
    )
    encoded: dict[str, Any] = jsonable_encoder(asdict(status))
    return encoded


@router.post(
    "/webhooks/{endpoint_key}",
    response_model=IntakeResultPublic,
    summary="Receive a signed webhook delivery",
    responses={
        401: {"description": "Signature or timestamp missing, stale or wrong."},
        404: {"description": "No active endpoint has this key."},
        413: {"description": "The body is too large."},
        422: {"description": "The body is not JSON or not what the mapping expects."},
    },
)
async def post_webhook(
    request: Request,
    settings: SettingsDep,
    endpoint_key: Annotated[str, Path(max_length=64)],
) -> JSONResponse:
    """Open to anyone holding the endpoint's secret: ``X-Cxloop-Signature:
    sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">`` and
    ``X-Cxloop-Timestamp`` (Unix seconds, at most 5 minutes old). A delivery whose
    ``X-Cxloop-Delivery`` id (or body) was taken in before answers 200 with status
    ``duplicate`` and adds nothing."""
    body = await _read_body(request, webhooks.MAX_BODY_BYTES)
    headers = request.headers
    try:
        result = await run_in_threadpool(
            lambda: webhooks.receive_delivery(
                settings=settings,
                key=endpoint_key,
                body=body,
                signature=headers.get("x-cxloop-signature"),
                timestamp=headers.get("x-cxloop-timestamp"),
                delivery_id=headers.get("x-cxloop-delivery"),
            )
        )
    except webhooks.SignatureRefused as exc:
        return JSONResponse({"detail": f"signature refused: {exc}"}, status_code=401)
    except TooManyItems as exc:
        return JSONResponse({"detail": str(exc)}, status_code=413)
    return JSONResponse(_public(result))
