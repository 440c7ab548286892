"""A user's transformer averaged with the shipped model of the same task.

A fine-tuned transformer and the shipped n-gram models read text differently (pieces in
context against character and word n-grams), so they often err on different texts, and
their average errs less than either. ``text train --backend transformer`` measures the
average on its held-out texts and keeps it when it does at least as well as the
transformer alone (``shipped_weight`` in the model's ``cxloop.json``); the transformer's
probabilities then include the shipped model's at that weight.

Only two cases have a shipped model with the same labels: a sentiment model with the
labels ``positive`` and ``negative`` (the shipped score s in -1..1 is read as
P(positive) = (1 + s) / 2), and an emotion model with exactly the shipped emotion
model's labels (joy, anger, disappointment, worry, surprise, none).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: The shipped model's share of the average.
WEIGHT = 0.5


def shipped_proba(
    task: str, labels: Sequence[str], texts: Sequence[str]
) -> np.ndarray | None:
    """The shipped model's probabilities over ``labels``, or None when it has other labels."""
    labels = list(labels)
    if task == "sentiment" and set(labels) == {"positive", "negative"}:
        from cxloop.text.language import detect_languages
        from cxloop.text.sentiment import score_sentiment

        found = score_sentiment(texts, detect_languages(texts))
        score = np.array(
            [0.0 if hit is None else hit[1] for hit in found], dtype=np.float64
        )
        out = np.zeros((len(texts), 2))
        out[:, labels.index("positive")] = (1 + score) / 2
        out[:, labels.index("negative")] = (1 - score) / 2
        return out
    if task == "emotion":
        from cxloop.text.emotion import load_model

        model = load_model()
        if set(labels) == set(model.labels) and len(labels) == len(model.labels):
            proba = np.asarray(model.predict_proba(texts), dtype=np.float64)
            return proba[:, [model.labels.index(label) for label in labels]]
    return None


def mix(own: np.ndarray, shipped: np.ndarray, weight: float) -> np.ndarray:
    """The weighted average of two probability tables of the same shape."""
    return ((1 - weight) * own + weight * shipped).astype(np.float32)
