"""What customers write, summed up for the dashboard: topics, sentiment, trends, verbatims.

One call reads the scored interactions of a window and gives everything the text page
shows (keyword-only arguments; SQLite and PostgreSQL alike)::

    found = text_insights(settings=settings, filters=TextFilters(where={"channel": "app"}))
    found.topics[0].counts["negative"], found.verbatims.items[0].matches

The filters are those of the metric pages: a window of business-zone dates (the last
twelve months of scored texts when none is given), the ``where`` cuts of
:func:`cxloop.analytics.service.metric_frame` (channel, touchpoint, journey stage,
source, region, segment, customer language, RFM segment, value tier, cluster,
``in_segment`` and customer attributes) and the language of the text itself.

A topic's sentiment is the sentiment of the words about it (``TopicHit.sentiment``),
or the text's own sentiment when the hit carries none, so one text can count as
positive for staff and negative for waiting time.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from math import ceil
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from cxloop.analytics import queries
from cxloop.analytics.engines import business_zone
from cxloop.analytics.overview import DEFAULT_MONTHS, resolve_window
from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput
from cxloop.text import insight_frames as frames
from cxloop.text import insight_reads as reads
from cxloop.text.insight_cache import VersionedCache
from cxloop.text.insight_frames import (
    SENTIMENT_BUCKETS,
    UNRATED,
    TopicRow,
    TopicTrend,
    Verbatim,
)

__all__ = [
    "SENTIMENT_BUCKETS", "UNRATED", "FilterChoices", "ScoringStatus", "TextFilters",
    "TextInsights", "TopicRow", "TopicTrend", "Verbatim", "VerbatimPage",
    "filter_choices", "text_insights", "topic_names", "verbatims",
]  # fmt: skip
logger = logging.getLogger(__name__)
PER_PAGE = 20
MAX_PER_PAGE = 200
#: Cuts read from the interaction, and from the customer, that the page offers.
INTERACTION_CUTS = ("channel", "touchpoint", "journey_stage")
CUSTOMER_CUTS = ("region", "segment", "language", "rfm_segment", "value_tier",
                 "cluster_label")  # fmt: skip


@dataclass(frozen=True)
class TextFilters:
    """Which texts to look at: a window, metric cuts and the language of the text."""

    date_from: date | None = None
    date_to: date | None = None
    where: Mapping[str, str] = field(default_factory=dict)
    language: str | None = None

    def __post_init__(self) -> None:
        queries.check_dates(self.date_from, self.date_to)
        queries.check_fields(self.where)


@dataclass(frozen=True)
class ScoringStatus:
    """How many stored interactions carry text, how many of them are scored, and how
    many of those were scored by other models or another taxonomy than the current
    ones (``cxloop text rescore`` scores them again)."""

    texts: int
    scored: int
    stale: int = 0

    @property
    def pending(self) -> int:
        return self.texts - self.scored


@dataclass(frozen=True)
class VerbatimPage:
    """A page of the latest texts of a topic and sentiment (both optional)."""

    items: tuple[Verbatim, ...] = ()
    total: int = 0
    page: int = 1
    pages: int = 1
    topic: str | None = None
    sentiment: str | None = None


@dataclass(frozen=True)
class TextInsights:
    """Everything the text page shows for one set of filters.

    ``texts`` counts the scored texts the filters keep; ``untagged`` those about no
    topic; ``sentiments``, ``emotions``, ``intents``, ``languages`` and ``keywords``
    are (value, texts) pairs, largest first.
    """

    status: ScoringStatus
    filters: TextFilters
    span: tuple[date, date] | None = None
    texts: int = 0
    sentiments: tuple[tuple[str, int], ...] = ()
    topics: tuple[TopicRow, ...] = ()
    untagged: int = 0
    trend: TopicTrend = field(default_factory=lambda: TopicTrend("month"))
    keywords: tuple[tuple[str, int], ...] = ()
    emotions: tuple[tuple[str, int], ...] = ()
    intents: tuple[tuple[str, int], ...] = ()
    languages: tuple[tuple[str, int], ...] = ()
    verbatims: VerbatimPage = field(default_factory=VerbatimPage)

    @property
    def empty(self) -> bool:
        """True when nothing is scored yet (``cxloop text rescore`` fills it)."""
        return self.status.scored == 0


def text_insights(
    *,
    settings: Settings,
    filters: TextFilters | None = None,
    period: str = "month",
    topic: str | None = None,
    sentiment: str | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
    top: int = 20,
    trend_topics: int = 6,
) -> TextInsights:
    """Topics x sentiment, trends, top keywords, emotions, intents and verbatims.

    ``topic`` and ``sentiment`` (one of :data:`SENTIMENT_BUCKETS`) choose the
    verbatims: the texts behind one cell of the topics x sentiment table, newest
    first, ``per_page`` a page. Everything else covers every text the filters keep.
    ``top`` bounds the keyword list and ``trend_topics`` the topics of the trend.
    """
    chosen = filters or TextFilters()
    checked = queries.parse_period(period) or "month"
    _check_choice(sentiment, page, per_page)
    status = ScoringStatus(
        *reads.text_counts(settings=settings, version=_current(settings))
    )
    zone = business_zone(settings)
    span = reads.scored_span(settings=settings, zone=zone)
    if span is None:
        return TextInsights(status=status, filters=chosen, trend=TopicTrend(checked))
    window = resolve_window(span, chosen.date_from, chosen.date_to, DEFAULT_MONTHS)
    kept = reads.customers_kept(settings=settings, where=chosen.where)
    scope = reads.Scope(window, zone, chosen.where, chosen.language, kept)
    version = (status.texts, status.scored, reads.last_scored(settings=settings))
    key = (settings.database_url, window, zone, tuple(sorted(chosen.where.items())),
           chosen.language, top)  # fmt: skip
    frame, hits, keywords = _WINDOWS.get(
        key, version, lambda: _read_window(settings, scope, top)
    )
    rows = frames.topic_table(hits)
    trend = [row.topic for row in rows[:trend_topics]]
    return TextInsights(
        status=status, span=span, texts=len(frame),
        filters=replace(chosen, date_from=window[0], date_to=window[1]),
        sentiments=frames.value_counts(frames.sentiment_labels(frame["sentiment"])),
        topics=rows, untagged=len(frame) - int(hits["row"].nunique()),
        trend=frames.topic_trend(frame, hits, window, checked, trend, zone),
        keywords=tuple(keywords),
        emotions=frames.value_counts(frame["emotion"]),
        intents=frames.value_counts(frame["intent"]),
        languages=frames.value_counts(frame["language"]),
        verbatims=_verbatims(settings, frame, hits, (topic, sentiment), (page, per_page), zone),
    )  # fmt: skip


#: The whole-window reads of the last few filter sets (see insight_cache).
_WINDOWS: VersionedCache[tuple[pd.DataFrame, pd.DataFrame, list[tuple[str, int]]]] = (
    VersionedCache(size=8, ttl_seconds=300.0)
)


def _read_window(
    settings: Settings, scope: reads.Scope, top: int
) -> tuple[pd.DataFrame, pd.DataFrame, list[tuple[str, int]]]:
    """Every scored text of the scope, its topic hits and its top keywords."""
    frame = reads.read_scored(settings=settings, scope=scope)
    hits = frames.aligned_hits(frame, reads.read_hits(settings=settings, scope=scope))
    keywords = reads.read_keywords(
        settings=settings, scope=scope, ids=frame["interaction_id"], top=top
    )
    return frame, hits, list(keywords)


def verbatims(
    *,
    settings: Settings,
    filters: TextFilters | None = None,
    topic: str | None = None,
    sentiment: str | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> VerbatimPage:
    """The latest texts of ``topic`` with ``sentiment`` (either optional), paged."""
    found = text_insights(settings=settings, filters=filters, topic=topic,
                          sentiment=sentiment, page=page, per_page=per_page)  # fmt: skip
    return found.verbatims


def _check_choice(sentiment: str | None, page: int, per_page: int) -> None:
    if sentiment is not None and sentiment not in SENTIMENT_BUCKETS:
        known = ", ".join(SENTIMENT_BUCKETS)
        msg = f"unknown sentiment {sentiment!r}: choose one of {known}"
        raise InvalidInput(msg)
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        msg = f"page must be 1 or more and per_page between 1 and {MAX_PER_PAGE}"
        raise InvalidInput(msg)


def _verbatims(
    settings: Settings,
    frame: pd.DataFrame,
    hits: pd.DataFrame,
    cell: tuple[str | None, str | None],
    paging: tuple[int, int],
    zone: str,
) -> VerbatimPage:
    rows = frames.chosen_rows(frame, hits, *cell)
    page, per_page = paging
    pages = max(1, ceil(len(rows) / per_page))
    page = min(page, pages)
    shown = frame.iloc[rows[(page - 1) * per_page : page * per_page]]
    ids = [int(i) for i in shown["interaction_id"].to_numpy()]
    stored = reads.read_texts(settings=settings, ids=ids)
    local = ZoneInfo(zone)
    items = tuple(
        frames.verbatim(record, hits, cell[0], stored[i], local)
        for i, record in zip(ids, shown.itertuples(), strict=True)
    )
    return VerbatimPage(items, len(rows), page, pages, *cell)


@dataclass(frozen=True)
class FilterChoices:
    """The values each filter of the text page offers (``values`` by cut)."""

    values: Mapping[str, tuple[str, ...]]
    segments: tuple[tuple[str, str], ...]
    languages: tuple[str, ...]


def _current(settings: Settings) -> str | None:
    """The text version the settings' models and taxonomy give (they load once).

    ``None`` when they cannot be loaded (a broken model folder or taxonomy file): the
    page then counts no text as stale, and the worker reports the error itself.
    """
    from cxloop.text.pipeline import models_for
    from cxloop.text.scoring import text_version

    try:
        return text_version(models_for(settings))
    except Exception:  # the count is advice: never let it break the page
        logger.warning("text models cannot be loaded: no stale count", exc_info=True)
        return None


#: The filter values of the last few stores (reading them takes a second or two).
_CHOICES: VersionedCache[FilterChoices] = VersionedCache(size=4, ttl_seconds=300.0)


def filter_choices(*, settings: Settings) -> FilterChoices:
    """The values of every cut among scored texts and customers, and saved segments."""
    version = (
        *reads.text_counts(settings=settings)[:2],
        reads.last_scored(settings=settings),
    )
    return _CHOICES.get(settings.database_url, version, lambda: _read_choices(settings))


def _read_choices(settings: Settings) -> FilterChoices:
    from cxloop.analytics.service import open_session
    from cxloop.customers.segments import list_segments

    found = reads.distinct_values(
        settings=settings, fields=[*INTERACTION_CUTS, "language"]
    )
    values = {name: tuple(found[name]) for name in INTERACTION_CUTS}
    with open_session(settings=settings) as session:
        for name in CUSTOMER_CUTS:
            values[name] = tuple(session.available_values(field=name))
    segments = tuple((s.key, s.name) for s in list_segments(settings=settings))
    return FilterChoices(values, segments, tuple(found["language"]))


def topic_names(*, settings: Settings, language: str) -> dict[str, str]:
    """Topic key -> its name in ``language`` (zh-TW or en) from the configured taxonomy."""
    from cxloop.text.taxonomy import load_taxonomy

    path = Path(settings.taxonomy_path) if settings.taxonomy_path else None
    taxonomy = load_taxonomy(path)
    zh = language.startswith("zh")
    return {t.key: t.name_zh if zh else t.name_en for t in taxonomy.topics}
