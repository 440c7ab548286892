"""Emotion of zh-Hant, zh-Hans and English texts with the shipped ``emotion`` model.

One linear model reads both languages (Traditional Chinese is normalised to Simplified
first, so both scripts score alike). It was trained on Chinese Weibo posts
(SMP2020-EWECT) and English tweets (TweetEval emotion, plus neutral tweets), and gives
``joy``, ``anger``, ``disappointment``, ``worry``, ``surprise`` or ``none``. Two labels
of :data:`~cxloop.text.results.EMOTIONS` come from words on top of it:

- ``gratitude``: a text the model reads as ``joy`` or ``none`` that thanks someone
  (謝謝, 感謝, 多謝, thank you, appreciate...);
- ``frustration``: a text the model reads as ``anger`` or ``disappointment`` that says
  the trouble keeps coming back (又, 一直, 還是沒, 每次都, again, still, keeps...).

Given the texts' sentiment, the emotion agrees with it: the model's probability of
``joy`` is weighed by how positive the text is, ``(1 + score) / 2``, and those of
``anger``, ``disappointment`` and ``worry`` by how negative, ``(1 - score) / 2``
(:func:`agreement`); ``none`` and ``surprise`` keep theirs, and the most probable label
after weighing is taken ("配送遲到了9天，等了好久才收到" read ``joy`` from its 好). The
sentiment models are the more accurate of the two (0.90-0.94 accuracy against a 0.66
macro-F1); weighing every reading, not only the confident ones, was chosen on validation
parts of SMP2020-EWECT and TweetEval emotion (see docs/en/text-training.md).

Texts in any other language (or ``und``) get ``None``: never a guess.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np

from cxloop.text.chinese import normalise_many
from cxloop.text.language import is_supported
from cxloop.text.linear import LinearTextModel

MODEL_DIR = Path(__file__).parent / "models"
MODEL = "emotion"
#: Thanks, in normalised (Simplified, lower-case) text.
_THANKS = re.compile(r"谢谢|感谢|多谢|感恩|谢啦|谢了|thank|thx|appreciate|grateful")
#: The same trouble again, in normalised text.
_AGAIN = re.compile(
    r"又[是要被出坏没不]|一直[都没不]|还是[没不]|每次都|总是[没不]|再次|第[二三四五几]次"
    r"|\bagain\b|\bstill\b|\bkeeps?\b|every time|yet another|for the \w+ time"
)


#: Names how the emotion is made to agree with the sentiment (part of the text version).
AGREEMENT_VERSION = "agreement-weighed-1"
#: Emotions that need a positive text, and those that need a negative one.
_POSITIVE_EMOTIONS = frozenset({"joy"})
_NEGATIVE_EMOTIONS = frozenset({"anger", "disappointment", "worry"})


@cache
def load_model(path: Path = MODEL_DIR / MODEL) -> LinearTextModel:
    """Load (once per process) the emotion model at ``path`` (no suffix)."""
    return LinearTextModel.load(path)


def model_version() -> str:
    """The version string of the shipped emotion model."""
    return load_model().version


def score_emotion(
    texts: Sequence[str],
    languages: Sequence[str],
    *,
    sentiments: Sequence[tuple[str, float] | None] | None = None,
) -> list[tuple[str, float] | None]:
    """The emotion (a label of ``EMOTIONS``) and its confidence 0..1 for each text.

    Parameters
    ----------
    texts : sequence of str
        Raw texts.
    languages : sequence of str
        Their languages (``detect_languages``); unsupported ones get ``None``.
    sentiments : sequence, optional
        Their ``(label, score)`` sentiment (``score_sentiment``): the emotions of each
        side are weighed by how far the score leans that way (see :func:`agreement`).

    Returns
    -------
    list
        ``(label, confidence)`` or ``None`` per text, in order. The confidence is the
        model's probability of its label before weighing (of ``joy``/``none`` for
        gratitude, of ``anger``/``disappointment`` for frustration).
    """
    if len(texts) != len(languages):
        raise ValueError("texts and languages differ in length")
    if sentiments is not None and len(sentiments) != len(texts):
        raise ValueError("texts and sentiments differ in length")
    found: list[tuple[str, float] | None] = [None] * len(texts)
    chosen = [i for i, lang in enumerate(languages) if is_supported(lang)]
    if not chosen:
        return found
    model = load_model()
    batch = [texts[i] for i in chosen]
    proba = model.predict_proba(batch)
    normalised = normalise_many(batch, max_chars=model.features.max_chars)
    for row, (i, text) in enumerate(zip(chosen, normalised, strict=True)):
        weights = agreement(model.labels, sentiments[i] if sentiments else None)
        best = int((proba[row] * weights).argmax())
        label = _refine(model.labels[best], text)
        found[i] = (label, round(float(proba[row, best]), 4))
    return found


def agreement(labels: Sequence[str], feel: tuple[str, float] | None) -> np.ndarray:
    """How much each of ``labels`` agrees with the sentiment ``feel``, 0..1.

    ``joy`` gets ``(1 + score) / 2``, the negative emotions ``(1 - score) / 2`` and the
    rest 1; every label gets 1 when the sentiment is unknown (``None``).
    """
    if feel is None:
        return np.ones(len(labels))
    score = min(1.0, max(-1.0, float(feel[1])))
    weight = dict.fromkeys(_POSITIVE_EMOTIONS, (1.0 + score) / 2.0)
    weight.update(dict.fromkeys(_NEGATIVE_EMOTIONS, (1.0 - score) / 2.0))
    return np.array([weight.get(label, 1.0) for label in labels])


def _refine(label: str, text: str) -> str:
    """``gratitude`` and ``frustration`` from the model's label and cue words."""
    if label in ("joy", "none") and _THANKS.search(text):
        return "gratitude"
    if label in ("anger", "disappointment") and _AGAIN.search(text):
        return "frustration"
    return label
