"""Dependencies shared by the pages and the API: settings, the signed-in user, CSRF.

A request is signed in by its session cookie, or, on ``/api/*`` and ``/openapi.json``,
by an API key sent as ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Form, HTTPException, Request

from cxloop.accounts import service as accounts
from cxloop.accounts.scopes import READ, allows
from cxloop.accounts.service import UserInfo
from cxloop.config import Settings

CSRF_FIELD = "csrf_token"


class LoginRequired(Exception):
    """No valid session or API key; the app answers 401 (API) or a redirect (pages)."""


class CSRFError(Exception):
    """A form came back without the token of this session."""


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def key_allowed(path: str) -> bool:
    """API keys sign in only machine routes, never the HTML pages."""
    return path.startswith("/api/") or path == "/openapi.json"


def api_key_from(request: Request) -> str | None:
    """The API key a request carries, if any."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("x-api-key") or None


def optional_user(request: Request, settings: SettingsDep) -> UserInfo | None:
    """The signed-in person or API key, or None."""
    user_id = request.session.get("user_id")
    if isinstance(user_id, int):
        user = accounts.get_user(settings=settings, user_id=user_id)
        if user is not None:
            return user
        request.session.clear()
    key = api_key_from(request) if key_allowed(request.url.path) else None
    if key:
        return accounts.verify_api_key(settings=settings, key=key)
    return None


def current_user(
    user: Annotated[UserInfo | None, Depends(optional_user)],
) -> UserInfo:
    """The signed-in user, or an API key that may read; LoginRequired when neither.

    A key created with scopes reads only when they include ``read``: a key made to
    push interactions cannot read customers (403).
    """
    if user is None:
        raise LoginRequired
    if user.scopes is not None and READ not in user.scopes:
        held = ", ".join(user.scopes) or "none"
        detail = (
            f"forbidden: this API key may not read (its scopes: {held}); create a "
            f"key with `cxloop apikey create --scope {READ}` to read"
        )
        raise HTTPException(status_code=403, detail=detail)
    return user


def _signed_in(
    user: Annotated[UserInfo | None, Depends(optional_user)],
) -> UserInfo:
    if user is None:
        raise LoginRequired
    return user


OptionalUser = Annotated[UserInfo | None, Depends(optional_user)]
CurrentUser = Annotated[UserInfo, Depends(current_user)]


def require_scope(scope: str) -> Callable[[UserInfo], UserInfo]:
    """A dependency: the signed-in user or key, when it may act with ``scope``
    (see :mod:`cxloop.accounts.scopes`); 403 with the reason otherwise.

    Use as ``user: Annotated[UserInfo, Depends(require_scope("interactions:write"))]``.
    """

    def check(user: Annotated[UserInfo, Depends(_signed_in)]) -> UserInfo:
        if allows(role=user.role, scopes=user.scopes, scope=scope):
            return user
        if user.scopes is not None:
            held = ", ".join(user.scopes) or "none"
            why = f"this API key does not have it (its scopes: {held})"
        else:
            why = f"the role {user.role} does not include it"
        detail = (
            f"forbidden: this needs the scope {scope} and {why}; create a key "
            f"with `cxloop apikey create --scope {scope}`"
        )
        raise HTTPException(status_code=403, detail=detail)

    return check


def csrf_token(request: Request) -> str:
    """This session's synchronizer token, created on first use."""
    token = request.session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return token


def check_csrf(request: Request, csrf_token: Annotated[str, Form()] = "") -> None:
    """Refuse a form whose token is missing or not this session's."""
    expected = request.session.get(CSRF_FIELD)
    if not isinstance(expected, str) or not hmac.compare_digest(expected, csrf_token):
        raise CSRFError


CSRFChecked = Depends(check_csrf)
