"""A user's model averaged with the shipped model of the same task.

A fine-tuned transformer and the shipped n-gram models read text differently (pieces in
context against character and word n-grams), so they often err on different texts, and
their average errs less than either. A linear model trained on a few hundred of the
user's texts knows their words but little else, and the shipped model, trained on tens
of thousands, knows the rest. ``text train`` measures the average on texts its model did
not learn from (the transformer's held-out part; the linear and embeddings backends'
out-of-fold predictions) and keeps it when it does at least as well as the model alone
(``shipped_weight``, in the transformer's ``cxloop.json`` or the model's JSON); the
model's probabilities then include the shipped model's at that weight.

Only two cases have a shipped model with the same labels: a sentiment model with the
labels ``positive`` and ``negative`` (the shipped score s in -1..1 is read as
P(positive) = (1 + s) / 2), and an emotion model with exactly the shipped emotion
model's labels (joy, anger, disappointment, worry, surprise, none).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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


def judge(
    task: str,
    proba: np.ndarray,
    names: Sequence[str],
    texts: Sequence[str],
    truth: np.ndarray,
) -> tuple[dict[str, Any], np.ndarray | None]:
    """Whether averaging with the shipped model helps, judged on held-out texts.

    ``proba`` are the user's model's probabilities over ``names`` for ``texts``, which
    it did not learn from, and ``truth`` their label indices. Accuracy decides for
    sentiment, macro-F1 for the other tasks; a tie keeps the average. Returns the
    figures (empty when no shipped model has these labels) and the averaged
    probabilities when they are kept.
    """
    from sklearn.metrics import f1_score

    shipped = shipped_proba(task, names, texts)
    if shipped is None:
        return {}, None
    mixed = mix(proba, shipped, WEIGHT)

    def measure(p: np.ndarray) -> float:
        guess = p.argmax(axis=1)
        if task == "sentiment":
            return float(np.mean(guess == truth))
        return float(f1_score(truth, guess, labels=range(len(names)), average="macro",
                              zero_division=0))  # fmt: skip

    alone, together = measure(proba), measure(mixed)
    kept = together >= alone
    figures = {"measure": "accuracy" if task == "sentiment" else "macro-F1",
               "alone": round(alone, 4), "with_shipped": round(together, 4),
               "shipped_weight": WEIGHT if kept else 0.0}  # fmt: skip
    return figures, mixed if kept else None
