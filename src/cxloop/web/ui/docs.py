"""The OpenAPI schema and its Swagger UI, both behind the login.

FastAPI's own ``/docs`` and ``/openapi.json`` routes are switched off in
:func:`cxloop.web.app.create_app`; these serve the same things with the login check,
and the Swagger UI files come from ``static/vendor`` (no CDN).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from cxloop.web.deps import CurrentUser
from cxloop.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/openapi.json", name="openapi")
def openapi(request: Request, user: CurrentUser) -> JSONResponse:  # noqa: ARG001
    """The OpenAPI 3 schema of the REST API."""
    schema: dict[str, Any] = request.app.openapi()
    return JSONResponse(schema)


@router.get("/docs", name="docs")
def docs(request: Request, user: CurrentUser) -> Response:
    """Swagger UI for the REST API."""
    return render(request, "pages/docs.html", {}, user=user)
