"""Scores that templates define over several questions: SERVQUAL gaps and the CX index.

A SERVQUAL item is a scored question with a ``dimension`` and a ``part`` (expectation or
perception); a CX-index item is a scored question with a ``pillar`` (need, ease,
delight) and a ``weight``. Responses are the checked answers of each respondent, by
question key, as :func:`cxloop.domain.survey_spec.check_answers` returns them.

>>> from cxloop.domain.survey_parse import parse_survey
>>> spec = parse_survey({"key": "cx", "name": "CX", "questions": [
...     {"key": "need", "type": "rating", "pillar": "need", "text": "滿足需求"},
...     {"key": "ease", "type": "ces", "pillar": "ease", "text": "很輕鬆"}]})
>>> report = cx_index_report(spec, [{"need": 5.0, "ease": 4.0}, {"need": 3.0}])
>>> report.pillars, report.score, report.n
({'need': 75.0, 'ease': 50.0}, 62.5, 2)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cxloop.domain.servqual import ServqualGap, servqual_gaps
from cxloop.domain.survey_spec import (
    PARTS,
    PILLARS,
    SCALED,
    AnswerValue,
    QuestionSpec,
    SurveySpec,
    scale_of,
)

Responses = Sequence[Mapping[str, AnswerValue]]


@dataclass(frozen=True)
class CxIndexReport:
    """The CX index (0-100), each pillar's score (None: no answers) and respondents.

    ``items`` holds each CX-index question's mean on 0-100 (None: no answers), and
    ``n`` counts the respondents who answered at least one CX-index question.
    """

    score: float | None
    pillars: dict[str, float | None]
    n: int
    items: dict[str, float | None]


def _score(answers: Mapping[str, AnswerValue], key: str) -> float | None:
    value = answers.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
        return None if math.isnan(number) else number
    return None


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else math.nan


def _servqual_items(spec: SurveySpec) -> dict[str, dict[str, list[str]]]:
    """Question keys by dimension, then by part, in the survey's order."""
    items: dict[str, dict[str, list[str]]] = {}
    for q in spec.questions:
        if q.kind in SCALED and q.dimension and q.part in PARTS:
            parts = items.setdefault(q.dimension, {part: [] for part in PARTS})
            parts[q.part].append(q.key)
    return {d: parts for d, parts in items.items() if all(parts.values())}


def servqual_report(spec: SurveySpec, responses: Responses) -> list[ServqualGap]:
    """The gap P - E of each SERVQUAL dimension of ``spec``.

    Each respondent's expectation (and perception) of a dimension is the mean of the
    dimension's expectation (perception) items they answered. Dimensions without both
    parts in the survey, or without a respondent who answered both, are left out; a
    survey with no SERVQUAL items, or no such answers yet, gives an empty list.
    """
    expectations: dict[str, list[float]] = {}
    perceptions: dict[str, list[float]] = {}
    for dimension, parts in _servqual_items(spec).items():
        e = [_respondent_mean(r, parts["expectation"]) for r in responses]
        p = [_respondent_mean(r, parts["perception"]) for r in responses]
        if any(not (math.isnan(a) or math.isnan(b)) for a, b in zip(e, p, strict=True)):
            expectations[dimension], perceptions[dimension] = e, p
    if not expectations:
        return []
    return servqual_gaps(expectations, perceptions)


def _respondent_mean(answers: Mapping[str, AnswerValue], keys: list[str]) -> float:
    return _mean([s for s in (_score(answers, k) for k in keys) if s is not None])


def _normalised(question: QuestionSpec, value: float) -> float:
    low, high = scale_of(question)
    return (value - low) / (high - low) * 100.0


def cx_index_report(spec: SurveySpec, responses: Responses) -> CxIndexReport:
    """The CX index of ``spec``'s pillar questions over ``responses``.

    Every answer is put on 0-100 on its question's scale (low end 0, high end 100);
    an item's score is the mean over the respondents who answered it; a pillar's score
    is the weighted mean (by ``weight``) of its items that have answers; the index is
    the mean of the pillars that have a score. Pillars appear in the order need, ease,
    delight, and only those the survey has.
    """
    questions = [q for q in spec.questions if q.kind in SCALED and q.pillar]
    items: dict[str, float | None] = {}
    for q in questions:
        scores = [_score(r, q.key) for r in responses]
        given = [_normalised(q, s) for s in scores if s is not None]
        items[q.key] = _mean(given) if given else None
    pillars: dict[str, float | None] = {}
    for pillar in PILLARS:
        members = [q for q in questions if q.pillar == pillar]
        if members:
            pillars[pillar] = _weighted(members, items)
    present = [v for v in pillars.values() if v is not None]
    answered = sum(
        any(_score(r, q.key) is not None for q in questions) for r in responses
    )
    score = _mean(present) if present else None
    return CxIndexReport(score=score, pillars=pillars, n=answered, items=items)


def _weighted(
    members: list[QuestionSpec], items: Mapping[str, float | None]
) -> float | None:
    pairs = [(q.weight, items[q.key]) for q in members if items[q.key] is not None]
    total = sum(weight for weight, _ in pairs)
    if not pairs or total <= 0:
        return None
    return sum(weight * (value or 0.0) for weight, value in pairs) / total
