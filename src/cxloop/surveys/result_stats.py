"""What a survey's results hold, and the summaries behind them: a question's metric with its 95 % margin, its
answer distribution and the responses over time, from counts the database grouped.

``rows`` are ``(value, text, n)``: ``n`` answers stored with that value (scores) or that
text (choices, several choices one per line).

>>> from cxloop.domain.survey_parse import parse_survey
>>> spec = parse_survey({"key": "k", "name": "n", "questions": [
...     {"key": "nps", "type": "nps", "text": "推薦？"}]})
>>> summary = score_summary(spec.questions[0], [(10.0, None, 3), (5.0, None, 1)])
>>> summary.value, summary.n
(50.0, 4)
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from cxloop.domain.metrics import (
    MetricResult,
    ces_from_sums,
    csat_from_sums,
    nps_from_counts,
)
from cxloop.domain.servqual import ServqualGap
from cxloop.domain.survey_scores import CxIndexReport
from cxloop.domain.survey_spec import (
    SCALED,
    QuestionKind,
    QuestionSpec,
    SurveySpec,
    Text,
    decode_choices,
    scale_of,
)

Rows = Iterable[tuple[float | None, str | None, int]]
#: Spans up to this many days are shown per day; longer ones per week.
DAILY_SPAN = 62


@dataclass(frozen=True)
class ScoreSummary:
    """A scored question's metric: NPS, CSAT (% 4-5), CES (mean) or a rating's mean.

    ``moe`` is the 95 % margin (None below two answers); ``detail`` carries the
    metric's extra figures (promoter share, CSAT mean, ...).
    """

    metric: str
    value: float | None
    moe: float | None
    n: int
    detail: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Bucket:
    """One scale point or choice: how many gave it and their share of those answering."""

    value: str
    label: Text | None
    count: int
    share: float | None


@dataclass(frozen=True)
class TimePoint:
    """Responses started in a day or week (business zone), and how many completed."""

    start: date
    responses: int
    complete: int


@dataclass(frozen=True)
class InvitationCounts:
    """Invitations of the survey: how many went out, wait, failed or were skipped.

    ``skipped`` maps the reason (``error`` of the row: contact cap, unsubscribed, no
    address ...) to its count; ``by_status`` has every status as stored.
    """

    total: int
    sent: int
    queued: int
    failed: int
    answered: int
    skipped: dict[str, int]
    by_status: dict[str, int]


@dataclass(frozen=True)
class QuestionResult:
    """One question: how many answered, its metric (scored ones) and distribution."""

    key: str
    kind: str
    text: Text
    answered: int
    score: ScoreSummary | None
    distribution: list[Bucket]


@dataclass(frozen=True)
class Verbatim:
    """An open-text answer with the response's main score and who gave it."""

    response_id: int
    question_key: str
    text: str
    score: float | None
    customer_ref: str | None
    at: datetime


@dataclass(frozen=True)
class VerbatimPage:
    """One page of verbatims, newest first; ``score_metric`` names the score shown."""

    items: list[Verbatim]
    total: int
    page: int
    page_size: int
    score_metric: str | None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


@dataclass(frozen=True)
class SurveyResults:
    """Everything the results page, the API and ``cxloop survey results`` show."""

    key: str
    status: str
    public_token: str
    spec: SurveySpec
    date_from: date | None
    date_to: date | None
    invitations: InvitationCounts
    responses: int
    complete: int
    response_rate: float | None
    completion_rate: float | None
    questions: list[QuestionResult]
    period: str
    timeline: list[TimePoint]
    verbatims: VerbatimPage
    servqual: list[ServqualGap] | None = None
    cx_index: CxIndexReport | None = None
    notes: list[str] = field(default_factory=list)


def _from_metric(result: MetricResult) -> ScoreSummary:
    return ScoreSummary(
        result.metric.value, result.value, result.moe, result.n, dict(result.detail)
    )


def score_summary(question: QuestionSpec, rows: Rows) -> ScoreSummary | None:
    """The metric of a scored question (None for choice and text questions)."""
    if question.kind not in SCALED:
        return None
    scores = [(float(v), n) for v, _, n in rows if v is not None]
    n = sum(count for _, count in scores)
    total = sum(v * count for v, count in scores)
    if question.kind is QuestionKind.NPS:
        promoters = sum(c for v, c in scores if v >= 9)
        detractors = sum(c for v, c in scores if v <= 6)
        return _from_metric(nps_from_counts(n, promoters, detractors))
    if question.kind is QuestionKind.CSAT:
        return _from_metric(
            csat_from_sums(n, sum(c for v, c in scores if v >= 4), total)
        )
    squares = sum(v * v * count for v, count in scores)
    if question.kind is QuestionKind.CES:
        top = sum(c for v, c in scores if v >= 5)
        return _from_metric(ces_from_sums(n, total, squares, top))
    return rating_summary(n, total, squares)


def rating_summary(n: int, total: float, total_sq: float) -> ScoreSummary:
    """The mean of a rating with a 95 % t interval (``s / sqrt(n)`` times t(n-1)).

    >>> r = rating_summary(4, 14.0, 52.0)
    >>> r.value, round(r.moe, 3)
    (3.5, 1.591)
    """
    if n <= 0:
        return ScoreSummary("rating", None, None, 0)
    mean = total / n
    if n < 2:
        return ScoreSummary("rating", mean, None, n)
    from scipy import stats  # a maths library; imported late to keep start-up fast

    variance = max(total_sq - n * mean * mean, 0.0) / (n - 1)
    t = float(stats.t.ppf(0.975, n - 1))
    return ScoreSummary("rating", mean, t * math.sqrt(variance / n), n)


def distribution(question: QuestionSpec, rows: Rows) -> list[Bucket]:
    """Counts per scale point (every point, zeros too) or per choice; none for text."""
    rows = list(rows)
    if question.kind in SCALED:
        counts: dict[str, int] = {}
        low, high = scale_of(question)
        for point in range(low, high + 1):
            counts[str(point)] = 0
        for score, _, n in rows:
            if score is not None:
                name = f"{score:g}"
                counts[name] = counts.get(name, 0) + n
        return _buckets(counts, {}, sum(counts.values()))
    if question.kind is QuestionKind.TEXT:
        return []
    labels = {choice.value: choice.label for choice in question.choices}
    counts = dict.fromkeys(labels, 0)
    for _, text, n in rows:
        for value in decode_choices(text):
            counts[value] = counts.get(value, 0) + n
    respondents = sum(n for _, text, n in rows if text)
    return _buckets(counts, labels, respondents)


def _buckets(
    counts: dict[str, int], labels: dict[str, Text], base: int
) -> list[Bucket]:
    return [
        Bucket(value, labels.get(value), n, 100.0 * n / base if base else None)
        for value, n in counts.items()
    ]


def timeline(
    rows: Iterable[tuple[datetime, str]], zone: ZoneInfo, period: str | None
) -> tuple[str, list[TimePoint]]:
    """Responses per day or week (weeks start on Monday) in ``zone``, gaps as zeros.

    ``rows`` are ``(started_at, status)``; ``period`` None picks days for spans up to
    :data:`DAILY_SPAN` days and weeks beyond.
    """
    days = [(at.astimezone(zone).date(), status) for at, status in rows]
    if not days:
        return period or "day", []
    first, last = min(d for d, _ in days), max(d for d, _ in days)
    chosen = period or ("day" if (last - first).days <= DAILY_SPAN else "week")

    def bucket(day: date) -> date:
        return day - timedelta(days=day.weekday()) if chosen == "week" else day

    step = timedelta(days=7 if chosen == "week" else 1)
    totals: dict[date, list[int]] = {}
    start = bucket(first)
    while start <= last:
        totals[start] = [0, 0]
        start += step
    for day, status in days:
        entry = totals[bucket(day)]
        entry[0] += 1
        entry[1] += status == "complete"
    return chosen, [TimePoint(start, n, done) for start, (n, done) in totals.items()]
