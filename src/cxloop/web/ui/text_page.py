"""The text analytics page (``/text``): what customers write, by topic and sentiment.

Filters come from a GET form (the cuts of the metric pages plus the language of the
text), so the tables work without JavaScript; the charts read JSON the page carries.
A count in the topics x sentiment table links to the texts behind it (the verbatims),
where customer text is escaped first and only then are its matched words marked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from markupsafe import Markup, escape
from starlette.responses import Response

from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput
from cxloop.text import insights
from cxloop.text.transcripts import customer_spans
from cxloop.web.deps import CurrentUser, SettingsDep
from cxloop.web.i18n import N_, Formatter
from cxloop.web.templating import page_language, render
from cxloop.web.ui.dashboard import parse_filters

router = APIRouter(include_in_schema=False)

#: Query parameters that are ``where`` cuts, as the metric pages name them.
CUT_PARAMS = (*insights.INTERACTION_CUTS, *insights.CUSTOMER_CUTS, "in_segment")
FILTER_PARAMS = ("from", "to", "period", *CUT_PARAMS, "text_language")
PERIODS = ("day", "week", "month", "quarter")
MAX_VALUE = 200
#: An HTML character reference in escaped text: never split by a highlight.
_ENTITY = r"&#?\w+;"

SENTIMENT_NAMES = {"positive": N_("Positive"), "neutral": N_("Neutral"),
                   "negative": N_("Negative"), "unrated": N_("Not rated")}  # fmt: skip
EMOTION_NAMES = {
    "joy": N_("Joy"), "gratitude": N_("Gratitude"), "anger": N_("Anger"),
    "frustration": N_("Frustration"), "disappointment": N_("Disappointment"),
    "worry": N_("Worry"), "surprise": N_("Surprise"), "none": N_("No emotion"),
}  # fmt: skip
INTENT_NAMES = {
    "complaint": N_("Complaint"), "praise": N_("Praise"), "question": N_("Question asked"),
    "suggestion": N_("Suggestion"), "churn_threat": N_("Churn threat"),
    "other": N_("Other"),
}  # fmt: skip
LANGUAGE_NAMES = {"zh-Hant": N_("Traditional Chinese"),
                  "zh-Hans": N_("Simplified Chinese"), "en": N_("English"),
                  "und": N_("Undetermined")}  # fmt: skip
PERIOD_NAMES = {"day": N_("Day"), "week": N_("Week"), "month": N_("Month"),
                "quarter": N_("Quarter")}  # fmt: skip
CUT_NAMES = {
    "channel": N_("Channel"), "touchpoint": N_("Touchpoint"),
    "journey_stage": N_("Journey stage"), "region": N_("Region"),
    "segment": N_("Customer segment"), "language": N_("Customer language"),
    "rfm_segment": N_("RFM segment"), "value_tier": N_("Value tier"),
    "cluster_label": N_("Cluster"), "in_segment": N_("Saved segment"),
}  # fmt: skip
NAMES = {"sentiment": SENTIMENT_NAMES, "emotion": EMOTION_NAMES,
         "intent": INTENT_NAMES, "language": LANGUAGE_NAMES}  # fmt: skip


def highlight(text: str, matches: Iterable[str]) -> Markup:
    """``text`` escaped, then each of ``matches`` wrapped in ``<mark>``.

    The matches are escaped the same way and searched in the escaped text, longest
    first; a character reference (``&lt;``) is matched as a whole before any word, so
    a highlight never cuts one apart and nothing of the text is ever read as markup.
    In a transcript only the customer's turns are marked: the topics were read there,
    not in the agent's replies or the speaker labels (``客服：``).
    """
    words = sorted({str(escape(m)) for m in matches if m}, key=len, reverse=True)
    if not words:
        return escape(text)
    pattern = re.compile(
        "(" + "|".join(map(re.escape, words)) + f")|{_ENTITY}", re.IGNORECASE
    )

    def mark(found: re.Match[str]) -> str:
        return f"<mark>{found.group(1)}</mark>" if found.group(1) else found.group(0)

    parts, done = [], 0
    for start, end in customer_spans(text):
        parts += [str(escape(text[done:start])), pattern.sub(mark, str(escape(text[start:end])))]  # fmt: skip
        done = end
    parts.append(str(escape(text[done:])))
    return Markup("".join(parts))  # noqa: S704 - built from escaped text


@dataclass(frozen=True)
class TextPage:
    """Everything ``/text`` shows."""

    found: insights.TextInsights
    choices: insights.FilterChoices
    params: dict[str, str]
    period: str
    errors: tuple[str, ...]
    topic_names: dict[str, str]

    def link(self, **changes: Any) -> str:
        """This page's URL with the filters kept and ``changes`` made (None drops)."""
        merged: dict[str, Any] = {**self.params, **changes}
        return "?" + urlencode(
            [(k, v) for k, v in merged.items() if v not in (None, "")]
        )

    def topic_name(self, key: str) -> str:
        return self.topic_names.get(key, key)


def _clean(raw: str | None) -> str | None:
    value = (raw or "").strip()
    return value[:MAX_VALUE] or None


def read_params(query: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """The filter parameters of the query string, cleaned, and what was wrong."""
    dates = parse_filters(query.get("from"), query.get("to"), None)
    errors = list(dates.errors)
    params = {k: v for k in FILTER_PARAMS if (v := _clean(query.get(k))) is not None}
    for key, day in (("from", dates.date_from), ("to", dates.date_to)):
        params.pop(key, None)
        if day is not None:
            params[key] = day.isoformat()
    if params.get("period", "month") not in PERIODS:
        errors.append(N_("That period is not known."))
        params.pop("period")
    return params, errors


def _filters(params: dict[str, str]) -> insights.TextFilters:
    where = {k: params[k] for k in CUT_PARAMS if k in params}
    return insights.TextFilters(
        date_from=_day(params.get("from")), date_to=_day(params.get("to")),
        where=where, language=params.get("text_language"),
    )  # fmt: skip


def _day(raw: str | None) -> date | None:
    return date.fromisoformat(raw) if raw else None


def _choice(query: dict[str, str]) -> tuple[str | None, str | None, int]:
    sentiment = _clean(query.get("sentiment"))
    if sentiment not in insights.SENTIMENT_BUCKETS:
        sentiment = None
    raw_page = query.get("page", "1")
    page = int(raw_page) if raw_page.isdigit() and 0 < int(raw_page) < 10**6 else 1
    return _clean(query.get("topic")), sentiment, page


def build_page(*, settings: Settings, query: dict[str, str], language: str) -> TextPage:
    """Read the insights of the filters in ``query`` (bad filters are named, not run)."""
    params, errors = read_params(query)
    period = params.get("period", "month")
    topic, sentiment, page = _choice(query)
    try:
        found = insights.text_insights(
            settings=settings, filters=_filters(params), period=period,
            topic=topic, sentiment=sentiment, page=page,
        )  # fmt: skip
    except InvalidInput as exc:
        errors.append(str(exc))
        params = {k: v for k, v in params.items() if k not in CUT_PARAMS}
        found = insights.text_insights(
            settings=settings, filters=_filters(params), period=period
        )
    try:
        names = insights.topic_names(settings=settings, language=language)
    except InvalidInput as exc:  # a broken taxonomy file: show the topic keys
        errors.append(str(exc))
        names = {}
    choices = insights.filter_choices(settings=settings)
    return TextPage(found, choices, params, period, tuple(errors), names)


def period_label(fmt: Formatter, period: str, start: date) -> str:
    """How a period is named on the trend's axis."""
    if period == "month":
        return fmt.month(start)
    if period == "quarter":
        return f"{start.year} Q{(start.month - 1) // 3 + 1}"
    return fmt.day(start)


def chart_data(page: TextPage, fmt: Formatter, translate: Any) -> dict[str, Any]:
    """The JSON the two charts draw: topics x sentiment, and the topic trend."""
    found = page.found
    topics = [page.topic_name(row.topic) for row in found.topics]
    bars = [
        {"key": key, "name": translate(SENTIMENT_NAMES[key]),
         "data": [row.counts.get(key, 0) for row in found.topics]}
        for key in insights.SENTIMENT_BUCKETS
        if any(row.counts.get(key, 0) for row in found.topics)
    ]  # fmt: skip
    trend = found.trend
    return {
        "topics": {"labels": topics, "series": bars},
        "trend": {
            "labels": [period_label(fmt, trend.period, p) for p in trend.periods],
            "series": [{"name": page.topic_name(t), "data": list(counts)}
                       for t, counts in trend.series],
        },
    }  # fmt: skip


@router.get("/text", name="text_page")
def text_page(request: Request, user: CurrentUser, settings: SettingsDep) -> Response:
    """The text analytics page; with ``HX-Request`` htmx swaps only the dashboard."""
    language = page_language(request, user)
    page = build_page(
        settings=settings, query=dict(request.query_params), language=language
    )
    translations = request.app.state.translations[language]
    charts = chart_data(page, Formatter(language), translations.gettext)
    return render(
        request, "text/text.html",
        {"page": page, "found": page.found, "charts": charts, "names": NAMES,
         "cut_names": CUT_NAMES, "period_names": PERIOD_NAMES,
         "highlight": highlight},
        user=user,
    )  # fmt: skip
