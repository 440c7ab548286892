"""Jinja2 templates with per-request translations, and the page renderer.

Autoescaping is on for every template; translated strings are marked safe by the i18n
extension only after their ``%(name)s`` values have been escaped.
"""

from __future__ import annotations

import gettext
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context
from starlette.responses import Response

from cxloop.accounts import service as accounts
from cxloop.accounts.service import UserInfo
from cxloop.config import Settings
from cxloop.web.deps import csrf_token
from cxloop.web.i18n import LANGUAGE_COOKIE, LANGUAGES, Formatter, choose_language
from cxloop.web.ui import labels

TEMPLATES_DIR = Path(__file__).parent / "templates"
ONE_YEAR = 365 * 24 * 3600


@pass_context
def _gettext(context: Context, message: str) -> str:
    translations: gettext.NullTranslations = context["translations"]
    return translations.gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    translations: gettext.NullTranslations = context["translations"]
    return translations.ngettext(singular, plural, n)


@pass_context
def _label(context: Context, kind: str, value: str | None) -> str:
    return labels.label(context["translations"], kind, value)


def make_templates() -> Jinja2Templates:
    """The template set of the app (built when the app is created, not at import)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        _gettext, _ngettext, newstyle=True
    )
    env.globals["label"] = _label
    return Jinja2Templates(env=env)


def page_language(request: Request, user: UserInfo | None) -> str:
    """The language this page is shown in (see :func:`i18n.choose_language`)."""
    settings: Settings = request.app.state.settings
    return choose_language(
        asked=request.query_params.get("lang"),
        user_language=user.language if user is not None else None,
        cookie=request.cookies.get(LANGUAGE_COOKIE),
        accept_language=request.headers.get("accept-language"),
        default=settings.default_language,
    )


def _remember(
    request: Request, response: Response, user: UserInfo | None, language: str
) -> None:
    if request.query_params.get("lang") != language:
        return
    response.set_cookie(
        LANGUAGE_COOKIE, language, max_age=ONE_YEAR, httponly=True, samesite="lax"
    )
    if user is not None and user.id > 0 and user.language != language:
        accounts.set_language(
            settings=request.app.state.settings, user_id=user.id, language=language
        )


def language_links(request: Request) -> dict[str, str]:
    """The current page's path and query with ``lang`` set to each UI language."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return {
        language: f"{request.url.path}?{urlencode([*params, ('lang', language)])}"
        for language in LANGUAGES
    }


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    user: UserInfo | None,
    status_code: int = 200,
) -> Response:
    """Render a page in the user's language and remember a language asked with ?lang=."""
    language = page_language(request, user)
    translations = request.app.state.translations[language]
    full = {
        "user": user,
        "lang": language,
        "translations": translations,
        "fmt": Formatter(language),
        "csrf_token": csrf_token(request),
        "language_links": language_links(request),
        **context,
    }
    templates: Jinja2Templates = request.app.state.templates
    response = templates.TemplateResponse(request, name, full, status_code=status_code)
    _remember(request, response, user, language)
    return response
