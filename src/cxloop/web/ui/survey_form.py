"""The public response form: anonymous links, personal links and the embeddable snippet.

No login and no session: nothing here reads or writes the session cookie, and the
form needs no CSRF token (it changes nothing but its own response, which the hidden
``_submission_key`` stores once). Anonymous submissions are rate limited per client
address (``settings.survey_rate_limit`` per minute; 429 with a friendly page).
Behind a reverse proxy, run uvicorn with ``--forwarded-allow-ips`` so the client
address is the visitor's and not the proxy's.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse, Response

from cxloop.config import Settings
from cxloop.domain.errors import NotFound
from cxloop.domain.rate_limit import RateLimiter
from cxloop.surveys import responses
from cxloop.surveys.definitions import SurveyRecord
from cxloop.surveys.responses import LinkExpired, LinkState, Outcome, SubmitResult
from cxloop.web.i18n import LANGUAGE_COOKIE, Formatter, choose_language
from cxloop.web.templating import language_links
from cxloop.web.ui.survey_embed import closed_script, embed_script
from cxloop.web.ui.survey_form_views import form_values, question_views

router = APIRouter(include_in_schema=False)
FORM = "pages/survey_form.html"
STATE = "pages/survey_form_state.html"
#: Rendered state pages (thanks, closed, ...) kept per app: they depend only on the
#: state, the language, the address and the survey's version.
STATE_CACHE_SIZE = 512

#: Form fields that are not answers; question keys cannot start with "_".
KEY_FIELD, ACTION_FIELD, CHANNEL_FIELD = "_submission_key", "_action", "_channel"
JS_TYPE = "application/javascript; charset=utf-8"
#: HTTP status of each end state of the form.
STATE_STATUS = {"thanks": 200, "saved": 200, "answered": 200, "closed": 410,
                "not_open": 404, "not_found": 404, "expired": 410, "rate_limited": 429}  # fmt: skip


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _language(request: Request, preferred: str | None = None) -> str:
    return choose_language(
        asked=request.query_params.get("lang"),
        user_language=preferred,
        cookie=request.cookies.get(LANGUAGE_COOKIE),
        accept_language=request.headers.get("accept-language"),
        default=_settings(request).default_language,
    )


def _page(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    language: str,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    full = {
        "user": None,
        "lang": language,
        "translations": request.app.state.translations[language],
        "fmt": Formatter(language),
        "language_links": language_links(request),
        **context,
    }
    response: Response = request.app.state.templates.TemplateResponse(
        request, name, full, status_code=status_code, headers=headers
    )
    response.headers["cache-control"] = "no-store"
    return response


def _state(
    request: Request,
    state: str,
    *,
    language: str,
    survey: SurveyRecord | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    spec = survey.spec if survey is not None else None
    key = (
        state, language, request.url.path, request.url.query,
        survey.id if survey else None, survey.updated_at if survey else None,
    )  # fmt: skip
    cache: dict[tuple[Any, ...], bytes] = request.app.state.__dict__.setdefault(
        "survey_state_pages", {}
    )
    body = cache.get(key)
    if body is None:
        context = {
            "state": state,
            "title": spec.name.get(language) if spec else "",
            "thanks": spec.thanks.get(language) if spec and spec.thanks else "",
        }
        page = _page(request, STATE, context, language=language)
        body = bytes(page.body)
        if len(cache) >= STATE_CACHE_SIZE:
            cache.pop(next(iter(cache)))
        cache[key] = body
    response = HTMLResponse(body, status_code=STATE_STATUS[state], headers=headers)
    response.headers["cache-control"] = "no-store"
    return response


def _form(
    request: Request,
    survey: SurveyRecord,
    *,
    language: str,
    values: dict[str, list[str]],
    result: SubmitResult | None = None,
    personal: bool = False,
) -> Response:
    translations = request.app.state.translations[language]
    errors = dict(result.check.errors) if result is not None else {}
    spec = survey.spec
    channel = request.query_params.get("channel")
    context = {
        "title": spec.name.get(language),
        "description": spec.description.get(language) if spec.description else "",
        "questions": question_views(
            spec,
            language=language,
            translations=translations,
            values=values,
            errors=errors,
        ),
        "has_errors": bool(errors),
        "empty": result is not None and result.outcome is Outcome.EMPTY,
        "saved_partial": result is not None and result.saved_partial,
        "personal": personal,
        "submission_key": responses.new_submission_key(),
        "channel": channel if channel in responses.CHANNELS else "",
        "action": f"{request.url.path}?lang={language}",
    }
    status = 422 if result is not None else 200
    return _page(request, FORM, context, language=language, status_code=status)


def _read_form(form: FormData) -> tuple[dict[str, list[str]], str, str | None, bool]:
    """(answers by field, submission key, channel, complete) from a posted form."""
    answers = {
        name: [v for v in form.getlist(name) if isinstance(v, str)]
        for name in form
        if not name.startswith("_")
    }
    key = form.get(KEY_FIELD)
    if not isinstance(key, str) or not responses.SUBMISSION_KEY.match(key):
        key = responses.new_submission_key()
    channel = form.get(CHANNEL_FIELD)
    channel = channel if channel in responses.CHANNELS else None
    return (
        answers,
        key,
        channel if isinstance(channel, str) else None,
        form.get(ACTION_FIELD) != "save",
    )


def _after_submit(
    request: Request, result: SubmitResult, values: dict[str, list[str]], language: str
) -> Response:
    survey = result.survey
    outcome = result.outcome
    if survey is None or outcome is Outcome.CLOSED:
        return _state(request, "closed", language=language, survey=survey)
    if outcome in (Outcome.STORED, Outcome.DUPLICATE):
        return _state(request, "thanks", language=language, survey=survey)
    if outcome is Outcome.SAVED:
        return _state(request, "saved", language=language, survey=survey)
    if outcome is Outcome.ANSWERED:
        response = _state(request, "answered", language=language, survey=survey)
        response.status_code = 409
        return response
    personal = request.url.path.startswith("/r/")
    return _form(request, survey, language=language, values=values, result=result,
                 personal=personal)  # fmt: skip


async def _store(submit: Callable[..., SubmitResult], *, inline: bool) -> SubmitResult:
    """Store on the event loop when that is quick (SQLite), else in a worker thread.

    A store held by another writer for longer than ``QUICK_WAIT`` is retried in a
    worker thread, so a long write elsewhere never stalls the event loop.
    """
    if inline:
        try:
            return submit(quick=True)
        except responses.WriterBusy:
            pass
    return await run_in_threadpool(submit)


def _limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter | None = getattr(request.app.state, "survey_limiter", None)
    if limiter is None:
        limiter = RateLimiter(limit=_settings(request).survey_rate_limit)
        request.app.state.survey_limiter = limiter
    return limiter


@router.get("/s/{public_token}", name="survey_form")
async def public_form(request: Request, public_token: str) -> Response:
    """The anonymous form of an active survey."""
    language = _language(request)
    try:
        survey = await run_in_threadpool(
            responses.open_public_link,
            settings=_settings(request),
            public_token=public_token,
        )
    except NotFound:
        return _state(request, "not_found", language=language)
    if not survey.accepts_answers:
        state = "not_open" if survey.status == "draft" else "closed"
        return _state(request, state, language=language, survey=survey)
    return _form(request, survey, language=language, values={})


@router.post("/s/{public_token}")
async def public_submit(request: Request, public_token: str) -> Response:
    """Store an anonymous response (once per submission key), or show what to fix."""
    language = _language(request)
    limiter, client = _limiter(request), (request.client or ("?", 0))[0]
    now = time.monotonic()
    if not limiter.allow(client, now=now):
        wait = max(1, math.ceil(limiter.retry_after(client, now=now)))
        return _state(request, "rate_limited", language=language,
                      headers={"retry-after": str(wait)})  # fmt: skip
    answers, key, channel, _ = _read_form(await request.form())
    submit = partial(
        responses.submit_response, settings=_settings(request),
        public_token=public_token, answers=answers, submission_key=key,
        language=language, channel=channel,
    )  # fmt: skip
    try:
        result = await _store(
            submit, inline=responses.stores_inline(_settings(request))
        )
    except NotFound:
        return _state(request, "not_found", language=language)
    return _after_submit(request, result, answers, language)


@router.get("/r/{token}", name="personal_survey_form")
async def personal_form(request: Request, token: str) -> Response:
    """The form of a personal link, with any answers saved before."""
    try:
        link = await run_in_threadpool(
            responses.open_personal_link, settings=_settings(request), token=token
        )
    except LinkExpired:
        return _state(request, "expired", language=_language(request))
    except NotFound:
        return _state(request, "not_found", language=_language(request))
    language = _language(request, link.language)
    if link.state is LinkState.ANSWERED:
        return _state(request, "answered", language=language, survey=link.survey)
    if link.state is LinkState.CLOSED:
        return _state(request, "closed", language=language, survey=link.survey)
    values = form_values(link.answers)
    return _form(request, link.survey, language=language, values=values, personal=True)


@router.post("/r/{token}")
async def personal_submit(request: Request, token: str) -> Response:
    """Complete (or, with "save and finish later", keep) a personal link's response."""
    language = _language(request)
    answers, key, _, complete = _read_form(await request.form())
    try:
        result = await run_in_threadpool(
            responses.submit_response, settings=_settings(request), token=token,
            answers=answers, submission_key=key, complete=complete, language=language,
        )  # fmt: skip
    except LinkExpired:
        return _state(request, "expired", language=language)
    except NotFound:
        return _state(request, "not_found", language=language)
    return _after_submit(request, result, answers, language)


@router.get("/embed/{public_token}.js", name="survey_embed")
async def embed(request: Request, public_token: str) -> Response:
    """The snippet a company website includes to offer the survey (see survey_embed)."""
    settings = _settings(request)
    headers = {"cache-control": "public, max-age=300"}
    try:
        survey = await run_in_threadpool(
            responses.open_public_link, settings=settings, public_token=public_token
        )
    except NotFound:
        return Response("/* cxloop: no such survey */\n", 404, media_type=JS_TYPE)
    if not survey.accepts_answers:
        return Response(
            closed_script(public_token), headers=headers, media_type=JS_TYPE
        )
    script = embed_script(public_url=settings.public_url, public_token=public_token)
    return Response(script, headers=headers, media_type=JS_TYPE)
