"""Signing in and out. The login page is the only page open without a session."""

from __future__ import annotations

import hmac
import time
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from cxloop.accounts import service as accounts
from cxloop.domain.throttle import LoginThrottle
from cxloop.web.deps import (
    CSRF_FIELD,
    CSRFChecked,
    OptionalUser,
    SettingsDep,
    csrf_token,
    current_user,
)
from cxloop.web.i18n import LANGUAGE_COOKIE
from cxloop.web.templating import ONE_YEAR, render

router = APIRouter(include_in_schema=False)


def safe_next(target: str | None) -> str:
    """``target`` when it is a path on this site, else the overview (no open redirect)."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith(("//", "/\\"))
        or any(ch in target for ch in "\r\n\t")
    ):
        return "/"
    return target


def _login_page(
    request: Request,
    next_url: str,
    error: str | None,
    *,
    email: str = "",
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "pages/login.html",
        {"next": safe_next(next_url), "error": error, "email": email},
        user=None,
        status_code=status_code,
    )


@router.get("/login", name="login")
def login_form(request: Request, user: OptionalUser, next: str = "/") -> Response:
    """The login form (already signed in: go straight on)."""
    if user is not None and user.id > 0:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, next, None)


@router.post("/login")
def login(
    request: Request,
    settings: SettingsDep,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
    token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
) -> Response:
    """Check the e-mail and password; on success start a fresh session."""
    expected = request.session.get(CSRF_FIELD)
    if not isinstance(expected, str) or not hmac.compare_digest(expected, token):
        return _login_page(request, next, "expired", email=email, status_code=400)
    throttle: LoginThrottle = request.app.state.login_throttle
    key, now = email.strip().lower(), time.monotonic()
    if throttle.blocked(key, now=now):
        return _login_page(request, next, "locked", email=email, status_code=429)
    user = accounts.authenticate(settings=settings, email=email, password=password)
    if user is None:
        throttle.failed(key, now=now)
        return _login_page(request, next, "invalid", email=email, status_code=400)
    throttle.succeeded(key)
    request.session.clear()
    request.session["user_id"] = user.id
    csrf_token(request)
    response = RedirectResponse(safe_next(next), status_code=303)
    if user.language:
        response.set_cookie(
            LANGUAGE_COOKIE, user.language, max_age=ONE_YEAR, httponly=True,
            samesite="lax",
        )  # fmt: skip
    return response


@router.post(
    "/logout", name="logout", dependencies=[Depends(current_user), CSRFChecked]
)
def logout(request: Request) -> Response:
    """End the session (signed-in users only, with this session's CSRF token)."""
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
