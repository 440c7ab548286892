"""The unsubscribe page of an invitation: ``/unsubscribe/{token}``, open to everyone.

GET only shows a confirm button and changes nothing, because mail scanners and link
previews follow links. POST records the unsubscribe; it is also the one-click
unsubscribe of RFC 8058 that mail providers send (``List-Unsubscribe-Post``), which
carries no cookie, so the form takes no CSRF token: the random invitation token in the
path is the proof, and unsubscribing is all it can do. No session is read or written.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from cxloop.config import Settings
from cxloop.domain.errors import NotFound
from cxloop.surveys import invitations
from cxloop.web.i18n import LANGUAGE_COOKIE, Formatter, choose_language
from cxloop.web.templating import language_links

router = APIRouter(include_in_schema=False)
PAGE = "pages/unsubscribe.html"


def _page(
    request: Request,
    context: dict[str, Any],
    *,
    preferred: str | None = None,
    status_code: int = 200,
) -> Response:
    settings: Settings = request.app.state.settings
    language = choose_language(
        asked=request.query_params.get("lang"),
        user_language=preferred,
        cookie=request.cookies.get(LANGUAGE_COOKIE),
        accept_language=request.headers.get("accept-language"),
        default=settings.default_language,
    )
    full = {"user": None, "lang": language, "fmt": Formatter(language),
            "translations": request.app.state.translations[language],
            "language_links": language_links(request),
            "action": f"{request.url.path}?lang={language}", **context}  # fmt: skip
    response: Response = request.app.state.templates.TemplateResponse(
        request, PAGE, full, status_code=status_code
    )
    response.headers["cache-control"] = "no-store"
    return response


@router.get("/unsubscribe/{token}", name="unsubscribe_form")
def unsubscribe_form(request: Request, token: str) -> Response:
    """Ask to confirm; say so when the customer already unsubscribed."""
    try:
        state = invitations.unsubscribe_state(
            settings=request.app.state.settings, token=token
        )
    except NotFound:
        return _page(request, {"state": "not_found"}, status_code=404)
    shown = "done" if state.unsubscribed else "confirm"
    context = {"state": shown, "email_hint": state.email_hint}
    return _page(request, context, preferred=state.language)


@router.post("/unsubscribe/{token}", name="unsubscribe")
def unsubscribe(request: Request, token: str) -> Response:
    """Record the unsubscribe (idempotent) and confirm it."""
    settings: Settings = request.app.state.settings
    try:
        invitations.unsubscribe(settings=settings, token=token)
        state = invitations.unsubscribe_state(settings=settings, token=token)
    except NotFound:
        return _page(request, {"state": "not_found"}, status_code=404)
    context = {"state": "done", "email_hint": state.email_hint}
    return _page(request, context, preferred=state.language)
