"""Sentiment of zh-Hant, zh-Hans and English texts with the shipped linear models.

Two models ship in ``cxloop/text/models/``:

- ``sentiment_zh``: positive / negative, trained on Chinese reviews (hotels, food
  delivery, online shopping) and Weibo posts with a feeling (SMP2020-EWECT), with one
  expert per corpus beside the shared weights (:mod:`cxloop.text.domain_mixture`).
  Traditional Chinese is normalised to Simplified before features, so both scripts
  score alike. Its score is ``2 * P(positive) - 1``; a text
  whose score lies inside the model's neutral band (``meta["neutral_band"]``, chosen on
  the training part of a three-class Chinese corpus) is ``neutral``. The neutral gate
  (:mod:`cxloop.text.neutral`) then shrinks the score of texts without an opinion
  (keeping its sign) and labels them ``neutral``.
- ``sentiment_en``: positive / neutral / negative, trained on English tweets, review
  sentences and product reviews. Its score is ``P(positive) - P(negative)`` and its label
  the most probable class. When ``sentiment_en_lexicon`` ships beside it, those
  probabilities come from the stack of the model and VADER's lexicon
  (:mod:`cxloop.text.lexicon_stack`).

Last, a text that is nothing but a middling remark ("一般般吧", "it was okay") is
``neutral`` whatever the model says (:mod:`cxloop.text.middling`; the sign is kept).
Texts in any other language (or ``und``) get ``None``: never a guess.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np

from cxloop.text import middling
from cxloop.text.domain_mixture import FORMAT as MIXTURE_FORMAT
from cxloop.text.domain_mixture import DomainMixtureModel
from cxloop.text.language import is_supported
from cxloop.text.lexicon_stack import (
    STACK_MODEL,
    load_stack,
    stack_version,
    vader_scores,
)
from cxloop.text.linear import LinearTextModel
from cxloop.text.neutral import apply_gate, gate_version

MODEL_DIR = Path(__file__).parent / "models"
ZH_MODEL = "sentiment_zh"
EN_MODEL = "sentiment_en"
#: Used when a Chinese model records no neutral band of its own.
DEFAULT_NEUTRAL_BAND = 0.2

Sentiment = tuple[str, float]
#: What a sentiment model file holds: a linear model, or (``sentiment_zh``) a linear
#: model with one expert per domain of its training texts.
SentimentModel = LinearTextModel | DomainMixtureModel


def read_model(path: Path) -> SentimentModel:
    """Read the sentiment model at ``path`` (no suffix), whichever kind it is."""
    head = json.loads(Path(path).with_suffix(".json").read_text(encoding="utf-8"))
    if head.get("format") == MIXTURE_FORMAT:
        return DomainMixtureModel.load(path)
    return LinearTextModel.load(path)


@cache
def load_model(path: Path) -> SentimentModel:
    """Load (once per process) the sentiment model at ``path`` (no suffix)."""
    return read_model(path)


def _model_for(language: str) -> str:
    return EN_MODEL if language == "en" else ZH_MODEL


def _binary(model: SentimentModel, texts: Sequence[str]) -> list[Sentiment]:
    proba = model.predict_proba(texts)[:, model.labels.index("positive")]
    band = float(model.meta.get("neutral_band", DEFAULT_NEUTRAL_BAND))
    scores = 2.0 * proba - 1.0
    return [(_label_from_score(s, band), round(float(s), 4)) for s in scores]


def _label_from_score(score: float, band: float) -> str:
    if abs(score) < band:
        return "neutral"
    return "positive" if score > 0 else "negative"


def _three_way(model: SentimentModel, texts: Sequence[str]) -> list[Sentiment]:
    return _from_proba(model.labels, model.predict_proba(texts))


def _from_proba(labels: Sequence[str], proba: np.ndarray) -> list[Sentiment]:
    """The most probable label and ``P(positive) - P(negative)`` of each row."""
    pos, neg = labels.index("positive"), labels.index("negative")
    scores = proba[:, pos] - proba[:, neg]
    best = np.asarray(proba.argmax(axis=1))
    return [
        (labels[int(b)], round(float(s), 4)) for b, s in zip(best, scores, strict=True)
    ]


def _stacked(model: SentimentModel, texts: Sequence[str], folder: Path) -> list[Sentiment] | None:  # fmt: skip
    """English scored by the lexicon stack over ``model``; None without the stack."""
    stack = load_stack(folder / STACK_MODEL)
    if stack is None or set(stack.labels) != set(model.labels) or not texts:
        return None
    linear = model.predict_proba(texts)[
        :, [model.labels.index(x) for x in stack.labels]
    ]
    return _from_proba(stack.labels, stack.proba(linear, vader_scores(texts)))


def score_with(model: SentimentModel, texts: Sequence[str]) -> list[Sentiment]:
    """Score ``texts`` with one sentiment model (binary with a neutral band, or 3-way)."""
    if not texts:
        return []
    if set(model.labels) == {"positive", "negative"}:
        return _binary(model, texts)
    return _three_way(model, texts)


def score_sentiment(
    texts: Sequence[str], languages: Sequence[str], *, model_dir: Path | None = None
) -> list[tuple[str, float] | None]:
    """Return ``(label, score)`` for each text, or ``None`` where it is not supported.

    Parameters
    ----------
    texts : sequence of str
        Raw texts.
    languages : sequence of str
        Their language codes, as :func:`cxloop.text.language.detect_languages` gives.
    model_dir : Path, optional
        Where ``sentiment_zh`` / ``sentiment_en`` live (default: the shipped models).

    Returns
    -------
    list
        ``(label, score)`` with label in ``SENTIMENTS`` and score in -1..1 (negative to
        positive); ``None`` for texts in unsupported languages and ``und``.
    """
    if len(texts) != len(languages):
        raise ValueError("score_sentiment needs one language per text")
    folder = model_dir or MODEL_DIR
    out: list[tuple[str, float] | None] = [None] * len(texts)
    groups: dict[str, list[int]] = {}
    for i, language in enumerate(languages):
        if is_supported(language):
            groups.setdefault(_model_for(language), []).append(i)
    for name, indices in groups.items():
        model = load_model(folder / name)
        chosen = [texts[i] for i in indices]
        stacked = _stacked(model, chosen, folder) if name == EN_MODEL else None
        results = stacked if stacked is not None else score_with(model, chosen)
        if name == ZH_MODEL and set(model.labels) == {"positive", "negative"}:
            band = float(model.meta.get("neutral_band", DEFAULT_NEUTRAL_BAND))
            results = apply_gate(chosen, results, band=band, model_dir=folder)
        results = middling.soften(chosen, results)
        for i, result in zip(indices, results, strict=True):
            out[i] = result
    return out


@cache
def _version_of(path: Path) -> str:
    head = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    return str(head["version"])


def model_version(model_dir: Path | None = None) -> str:
    """The version string of the sentiment models (changes when either is retrained)."""
    folder = model_dir or MODEL_DIR
    versions = [_version_of(folder / name) for name in (ZH_MODEL, EN_MODEL)]
    parts = [*versions, gate_version(folder), stack_version(folder), middling.VERSION]
    return "+".join(part for part in parts if part)
