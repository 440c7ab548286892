"""Find the taxonomy topics a text is about, each with its own sentiment.

Two sources combine:

1. **Keywords and rules** of the taxonomy (``source="rule"``): precise and explainable;
   ``matches`` holds the exact substrings of the original text that matched.
2. **The learned classifier** ``models/topics`` (``source="model"``), trained on corpus
   texts weakly labelled by the keyword rules, adds a topic that the keywords missed
   (phrased without them) when its probability passes that topic's threshold, chosen on
   held-out data for precision. Its ``matches`` is empty. It runs only for supported
   languages, only for topics whose key is in the taxonomy, and only when the taxonomy
   says ``use_model: true``.

Each hit's sentiment comes from the clauses that mention the topic (the whole text for a
model hit); all of them, over the whole batch, are scored in one call.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from cxloop.text.results import SUPPORTED_LANGUAGES, TopicHit
from cxloop.text.taxonomy import Taxonomy
from cxloop.text.topic_rules import (
    RuleHits,
    compile_taxonomy,
    fold_many,
    match_rules,
    sentiment_span,
)

SentimentFn = Callable[[Sequence[str], Sequence[str]], list[tuple[str, float] | None]]
#: The shipped classifier, as a path without suffix (``topics.npz`` + ``topics.json``).
MODEL_NAME = "topics"


def find_topics(
    texts: Sequence[str],
    languages: Sequence[str],
    *,
    taxonomy: Taxonomy,
    sentiment: SentimentFn,
) -> list[tuple[TopicHit, ...]]:
    """Return the topics of each text (multi-label), each with its own sentiment.

    Parameters
    ----------
    texts
        The raw texts (any script; HTML is treated as plain text).
    languages
        Their language codes (from :func:`cxloop.text.language.detect_languages`).
    taxonomy
        The topics to look for (:func:`cxloop.text.taxonomy.load_taxonomy`).
    sentiment
        A batch sentiment function such as
        :func:`cxloop.text.sentiment.score_sentiment`; called once per batch.

    Returns
    -------
    list of tuple of TopicHit
        Per text, its topics in order of first mention (model hits last).
    """
    if len(texts) != len(languages):
        raise ValueError("texts and languages must have the same length")
    compiled = compile_taxonomy(taxonomy)
    rule_hits = [match_rules(folded, compiled) for folded in fold_many(texts)]
    model_hits = _model_topics(texts, languages, taxonomy, rule_hits)
    segments: dict[tuple[str, str], int] = {}
    plans = [
        _plan(text, lang, hits, extra, segments)
        for text, lang, hits, extra in zip(
            texts, languages, rule_hits, model_hits, strict=True
        )
    ]
    scores = (
        sentiment([s for s, _ in segments], [lang for _, lang in segments])
        if segments
        else []
    )
    return [_build(plan, compiled.keys, scores) for plan in plans]


def topic_keys(
    texts: Sequence[str], languages: Sequence[str], *, taxonomy: Taxonomy
) -> list[frozenset[str]]:
    """The topic keys of each text (rules and classifier), without sentiment."""
    compiled = compile_taxonomy(taxonomy)
    rule_hits = [match_rules(folded, compiled) for folded in fold_many(texts)]
    extra = _model_topics(texts, languages, taxonomy, rule_hits)
    return [
        frozenset(compiled.keys[t] for t in (*hits.spans, *more))
        for hits, more in zip(rule_hits, extra, strict=True)
    ]


Plan = list[tuple[int, tuple[str, ...], str, int]]


def _plan(
    text: str,
    language: str,
    hits: RuleHits,
    extra: list[int],
    segments: dict[tuple[str, str], int],
) -> Plan:
    """Per hit: topic index, matches, source and the index of its sentiment segment."""
    plan: Plan = []
    order = sorted(hits.spans, key=lambda topic: min(hits.spans[topic]))
    for topic in order:
        segment = "，".join(text[s:e].strip() for s, e in sentiment_span(hits, topic))
        matches = tuple(dict.fromkeys(text[s:e] for s, e in _outer(hits.spans[topic])))
        plan.append((topic, matches, "rule", _segment(segments, segment, language)))
    for topic in extra:
        plan.append((topic, (), "model", _segment(segments, text.strip(), language)))
    return plan


def _outer(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The spans not inside another one, in text order."""
    kept: list[tuple[int, int]] = []
    for start, end in sorted(spans, key=lambda span: (span[0], -span[1])):
        if not kept or end > kept[-1][1]:
            kept.append((start, end))
    return kept


def _segment(segments: dict[tuple[str, str], int], text: str, language: str) -> int:
    return segments.setdefault((text, language), len(segments))


def _build(
    plan: Plan, keys: tuple[str, ...], scores: list[tuple[str, float] | None]
) -> tuple[TopicHit, ...]:
    hits = []
    for topic, matches, source, segment in plan:
        score = scores[segment]
        hits.append(
            TopicHit(
                topic=keys[topic],
                sentiment=score[0] if score else None,
                score=round(float(score[1]), 4) if score else None,
                matches=matches,
                source=source,
            )
        )
    return tuple(hits)


def _model_topics(
    texts: Sequence[str],
    languages: Sequence[str],
    taxonomy: Taxonomy,
    rule_hits: list[RuleHits],
) -> list[list[int]]:
    """Per text, the topic indexes the classifier adds to the rule hits."""
    extra: list[list[int]] = [[] for _ in texts]
    model = load_topic_model() if taxonomy.use_model else None
    rows = [
        i
        for i, lang in enumerate(languages)
        if lang in SUPPORTED_LANGUAGES and texts[i]
    ]
    if model is None or not rows:
        return extra
    columns = [
        (col, taxonomy.keys.index(label), model.thresholds.get(label, 1.0))
        for col, label in enumerate(model.labels)
        if label in taxonomy.keys
    ]
    proba = model.model.predict_proba([texts[i] for i in rows])
    for col, topic, threshold in columns:
        for row in np.flatnonzero(proba[:, col] >= threshold):
            index = rows[int(row)]
            if topic not in rule_hits[index].spans:
                extra[index].append(topic)
    return extra


class TopicModel:
    """The shipped topic classifier with its per-topic probability thresholds."""

    def __init__(self, model: Any, thresholds: dict[str, float]) -> None:
        self.model = model
        self.labels: tuple[str, ...] = tuple(model.labels)
        self.thresholds = thresholds


def default_model_path() -> Path:
    """Where the shipped topic classifier lives (without suffix)."""
    return Path(str(resources.files("cxloop.text").joinpath("models", MODEL_NAME)))


def load_topic_model(path: Path | None = None) -> TopicModel | None:
    """Load the topic classifier (cached per path); ``None`` when it is not shipped."""
    return _load(path or default_model_path())


@functools.cache
def _load(path: Path) -> TopicModel | None:
    if not path.with_suffix(".npz").exists():
        return None
    from cxloop.text.linear import LinearTextModel

    model = LinearTextModel.load(path)
    thresholds = model.meta.get("thresholds", {})
    return TopicModel(model, {str(k): float(v) for k, v in thresholds.items()})


def topic_model_version() -> str:
    """The version of the shipped topic classifier (``none`` when absent)."""
    model = load_topic_model()
    return model.model.version if model is not None else "none"
