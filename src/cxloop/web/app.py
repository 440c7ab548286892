"""The FastAPI application: ``create_app(settings)`` builds it; nothing is built at import.

Every page and API route needs a session or (on ``/api/*``) an API key; only
``/login``, ``/health`` and ``/static`` are open.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import (
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cxloop import __version__
from cxloop.accounts import service as accounts
from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput, NotFound
from cxloop.domain.throttle import LoginThrottle
from cxloop.web.api import cases as cases_api
from cxloop.web.api import customers as customers_api
from cxloop.web.api import initiatives as initiatives_api
from cxloop.web.api import intake as intake_api
from cxloop.web.api import journeys as journeys_api
from cxloop.web.api import me, metrics
from cxloop.web.api import surveys as surveys_api
from cxloop.web.deps import CSRFError, LoginRequired, key_allowed
from cxloop.web.i18n import load_translations
from cxloop.web.templating import TEMPLATES_DIR, make_templates
from cxloop.web.ui import (
    alert_rules,
    auth,
    case_new,
    cases,
    customers,
    docs,
    drivers,
    initiatives,
    journey_editor,
    overview,
    service_dashboard,
    service_setup,
    survey_form,
    surveys,
    text_page,
    unsubscribe,
)
from cxloop.web.ui import journeys as journeys_ui

STATIC_DIR = TEMPLATES_DIR.parent / "static"
SESSION_COOKIE = "cxloop_session"
SESSION_MAX_AGE = 14 * 24 * 3600
SECURITY_HEADERS = [
    (b"content-security-policy",
     b"default-src 'self'; img-src 'self' data:; style-src 'self'; "
     b"script-src 'self'; object-src 'none'; base-uri 'self'; "
     b"frame-ancestors 'none'; form-action 'self'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]  # fmt: skip


class SecurityHeaders:
    """Adds a strict Content-Security-Policy and related headers to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _login_required(request: Request, _exc: Exception) -> Response:
    if key_allowed(request.url.path):
        return JSONResponse(
            {"detail": "authentication required: sign in or send an API key"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = "/login?next=" + quote(target, safe="")
    if request.headers.get("hx-request"):
        return Response(status_code=401, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


async def _csrf_error(_request: Request, _exc: Exception) -> Response:
    return PlainTextResponse(
        "This form has expired. Go back, reload the page and try again.",
        status_code=403,
    )


async def _invalid_input(_request: Request, exc: Exception) -> Response:
    return JSONResponse({"detail": str(exc)}, status_code=422)


async def _not_found(_request: Request, exc: Exception) -> Response:
    return JSONResponse({"detail": str(exc)}, status_code=404)


def _health(settings: Settings) -> JSONResponse:
    try:
        accounts.ping_database(settings=settings)
    except Exception:
        return JSONResponse({"status": "error", "database": "unreachable"}, 503)
    return JSONResponse({"status": "ok"})


def _lifespan(settings: Settings) -> Any:
    """Start the periodic work (survey e-mail, alerts, escalations) with the server."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        worker = None
        if settings.dispatch_interval_seconds > 0:
            from cxloop.loop.worker import start_background_worker

            worker = start_background_worker(
                settings, settings.dispatch_interval_seconds
            )
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()

    return lifespan


def create_app(settings: Settings) -> FastAPI:
    """The cxloop web application for ``settings``."""
    app = FastAPI(
        lifespan=_lifespan(settings),
        title="cxloop",
        version=__version__,
        description="Closed-loop customer experience management: metrics API.",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings
    app.state.login_throttle = LoginThrottle()
    app.state.translations = load_translations()
    app.state.templates = make_templates()
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.resolved_secret_key(),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE,
        same_site="lax",
        https_only=settings.env == "prod",
    )
    app.add_middleware(SecurityHeaders)
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(CSRFError, _csrf_error)
    app.add_exception_handler(InvalidInput, _invalid_input)
    app.add_exception_handler(NotFound, _not_found)
    app.add_api_route(
        "/health", lambda: _health(settings), methods=["GET"], include_in_schema=False
    )
    # The public survey form first: it is the hot path, matched before every other route.
    app.include_router(survey_form.router)
    for module in (auth, overview, customers, docs, metrics, customers_api, me):
        app.include_router(module.router)
    for module in (initiatives, initiatives_api):
        app.include_router(module.router)
    for module in (drivers, journey_editor, journeys_ui, journeys_api):
        app.include_router(module.router)
    app.include_router(text_page.router)
    for module in (unsubscribe, surveys, surveys_api, intake_api):
        app.include_router(module.router)
    # /cases/new before /cases/{case_id}.
    for module in (case_new, cases, cases_api, service_dashboard):
        app.include_router(module.router)
    for module in (alert_rules, service_setup):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def app_from_environment() -> FastAPI:
    """The app for the settings in ``CXLOOP_*`` (the factory ``cxloop serve`` runs)."""
    from cxloop.config import get_settings

    return create_app(get_settings())
