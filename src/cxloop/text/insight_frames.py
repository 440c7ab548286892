"""The sums of the text page, computed with pandas from what ``insight_reads`` gives.

Pure functions of frames: the topic hits aligned with the scored texts, topics x
sentiment, texts per period for the biggest topics, value counts and the rows behind
one cell of the table (the verbatims). Nothing here reads the store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from cxloop.analytics import queries
from cxloop.text.results import SENTIMENTS

#: The sentiment bucket of a text or topic that has no sentiment (unsupported language).
UNRATED = "unrated"
SENTIMENT_BUCKETS = (*SENTIMENTS, UNRATED)
PERIOD_FREQUENCIES = {"day": "D", "week": "W-MON", "month": "MS", "quarter": "QS"}


@dataclass(frozen=True)
class TopicRow:
    """One topic: its texts by sentiment and the mean sentiment score of its words."""

    topic: str
    total: int
    counts: Mapping[str, int]
    mean_score: float | None

    @property
    def negative_share(self) -> float:
        return self.counts.get("negative", 0) / self.total if self.total else 0.0

    @property
    def net(self) -> float:
        """Positive minus negative share, in points (-100..100)."""
        if not self.total:
            return 0.0
        difference = self.counts.get("positive", 0) - self.counts.get("negative", 0)
        return 100 * difference / self.total


@dataclass(frozen=True)
class TopicTrend:
    """Texts per period for the biggest topics (counts aligned with ``periods``)."""

    period: str
    periods: tuple[date, ...] = ()
    texts: tuple[int, ...] = ()
    series: tuple[tuple[str, tuple[int, ...]], ...] = ()


@dataclass(frozen=True)
class Verbatim:
    """One text as written, with its scores and the words that matched its topics."""

    interaction_id: int
    occurred_at: datetime
    customer_ref: str | None
    channel: str | None
    touchpoint: str | None
    language: str | None
    sentiment: str | None
    sentiment_score: float | None
    emotion: str | None
    intent: str | None
    topics: tuple[tuple[str, str], ...]
    matches: tuple[str, ...]
    text: str


def sentiment_labels(values: pd.Series) -> pd.Series:
    """Sentiments with anything else (None, an unknown label) as :data:`UNRATED`."""
    return values.where(values.isin(SENTIMENTS), UNRATED)


def aligned_hits(frame: pd.DataFrame, hits: pd.DataFrame) -> pd.DataFrame:
    """The hits of the texts in ``frame``, one per (text, topic), with ``row`` (the
    text's position in ``frame``) and ``sentiment`` (the hit's, else the text's)."""
    rows = pd.Index(frame["interaction_id"]).get_indexer(hits["interaction_id"])
    kept = hits.assign(row=rows)
    kept = kept[(kept["row"] >= 0) & kept["topic"].notna()]
    kept = kept.drop_duplicates(["row", "topic"])
    own = kept["sentiment"].where(kept["sentiment"].isin(SENTIMENTS))
    text_sentiment = frame["sentiment"].to_numpy()[kept["row"].to_numpy()]
    text_score = frame["sentiment_score"].to_numpy()[kept["row"].to_numpy()]
    return kept.assign(
        sentiment=sentiment_labels(
            own.fillna(pd.Series(text_sentiment, index=kept.index))
        ),
        score=kept["score"]
        .fillna(pd.Series(text_score, index=kept.index))
        .astype(float),
    ).reset_index(drop=True)


def value_counts(values: pd.Series) -> tuple[tuple[str, int], ...]:
    """Value counts, largest first, ties by value."""
    counted = values.dropna().astype(str).value_counts()
    pairs = ((str(k), int(v)) for k, v in counted.items())
    return tuple(sorted(pairs, key=lambda p: (-p[1], p[0])))


def topic_table(hits: pd.DataFrame) -> tuple[Any, ...]:
    """Texts per topic and sentiment (:class:`TopicRow`), the biggest topic first."""
    if hits.empty:
        return ()
    table = hits.groupby(["topic", "sentiment"]).size().unstack(fill_value=0)
    table = table.reindex(columns=list(SENTIMENT_BUCKETS), fill_value=0)
    means: dict[Any, Any] = hits.groupby("topic")["score"].mean().to_dict()
    counts: dict[Any, dict[Any, Any]] = table.to_dict("index")
    rows = [
        TopicRow(
            topic=str(topic),
            total=sum(int(n) for n in row.values()),
            counts={str(k): int(n) for k, n in row.items()},
            mean_score=None if pd.isna(means[topic]) else float(means[topic]),
        )
        for topic, row in counts.items()
    ]
    return tuple(sorted(rows, key=lambda r: (-r.total, r.topic)))


def period_starts(stamps: pd.Series, period: str, zone: str) -> pd.Series:
    """The business-zone first day of the period of each (aware UTC) timestamp."""
    local = stamps.dt.tz_convert(ZoneInfo(zone)).dt.tz_localize(None).dt.normalize()
    if period == "week":
        local = local - pd.to_timedelta(local.dt.day_of_week, unit="D")
    elif period in ("month", "quarter"):
        local = local.dt.to_period("M" if period == "month" else "Q").dt.start_time
    return pd.Series(local, index=stamps.index)


def topic_trend(
    frame: pd.DataFrame,
    hits: pd.DataFrame,
    window: tuple[date, date],
    period: str,
    topics: list[str],
    zone: str,
) -> TopicTrend:
    """Scored texts, and the texts of each of ``topics``, per period of ``window``."""
    first = queries.period_floor(window[0], period)
    starts = pd.date_range(first, window[1], freq=PERIOD_FREQUENCIES[period])
    days = tuple(start.date() for start in starts)
    if frame.empty:
        return TopicTrend(period, days, (0,) * len(days))
    of_row = period_starts(frame["occurred_at"], period, zone)
    texts = of_row.value_counts().reindex(starts, fill_value=0)
    chosen = hits[hits["topic"].isin(topics)]
    at = of_row.to_numpy()[chosen["row"].to_numpy()]
    counts: dict[Any, Any] = (
        chosen.assign(start=at).groupby(["topic", "start"]).size().to_dict()
    )
    series = tuple(
        (topic, tuple(int(counts.get((topic, start), 0)) for start in starts))
        for topic in topics
    )
    return TopicTrend(period, days, tuple(int(n) for n in texts), series)


def chosen_rows(
    frame: pd.DataFrame, hits: pd.DataFrame, topic: str | None, sentiment: str | None
) -> list[int]:
    """The positions in ``frame`` of the texts behind one cell, newest first.

    With a topic, ``sentiment`` is the topic's sentiment in the text; without one, the
    text's own sentiment.
    """
    if topic is not None:
        chosen = hits[hits["topic"] == topic]
        if sentiment is not None:
            chosen = chosen[chosen["sentiment"] == sentiment]
        rows = chosen["row"].to_numpy()
    elif sentiment is not None:
        rows = (
            (sentiment_labels(frame["sentiment"]) == sentiment).to_numpy().nonzero()[0]
        )
    else:
        rows = np.arange(len(frame))
    picked = frame.iloc[list(rows)]
    ordered = picked.sort_values(["occurred_at", "interaction_id"], ascending=False)
    return [int(i) for i in ordered.index]


def matches_of(document: Any, topic: str | None) -> tuple[str, ...]:
    """The matched words of ``topic`` (or of every topic) in a ``topics`` document."""
    found: list[str] = []
    for hit in document if isinstance(document, list) else ():
        if not isinstance(hit, dict) or (
            topic is not None and hit.get("topic") != topic
        ):
            continue
        words = hit.get("matches")
        found += (
            [w for w in words if isinstance(w, str) and w]
            if isinstance(words, list)
            else []
        )
    return tuple(dict.fromkeys(found))


def verbatim(
    record: Any,
    hits: pd.DataFrame,
    topic: str | None,
    stored: tuple[str, str | None, Any],
    zone: ZoneInfo,
) -> Verbatim:
    """The :class:`Verbatim` of one row of the frame (an ``itertuples`` record)."""
    own = hits[hits["row"] == record.Index]
    text, customer_ref, document = stored
    score = record.sentiment_score
    return Verbatim(
        interaction_id=int(record.interaction_id),
        occurred_at=record.occurred_at.to_pydatetime().astimezone(zone),
        customer_ref=customer_ref, channel=record.channel, touchpoint=record.touchpoint,
        language=record.language, sentiment=record.sentiment,
        sentiment_score=None if pd.isna(score) else float(score),
        emotion=record.emotion, intent=record.intent,
        topics=tuple(zip(own["topic"], own["sentiment"], strict=True)),
        matches=matches_of(document, topic), text=text,
    )  # fmt: skip
