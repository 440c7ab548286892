"""The neutral gate for Chinese sentiment (``sentiment_zh_neutral``).

``sentiment_zh`` is a positive/negative model trained on reviews: it has never seen a
text without an opinion, so plain questions and statements ("請問幾點營業？") get a
confident sign. The gate is a second linear model, neutral against opinionated, over
the same character n-grams. For a Chinese text with P(neutral) = p:

- the score keeps its sign and shrinks to ``score * (1 - p)`` (so the binary accuracy
  of the sign is exactly that of ``sentiment_zh``);
- the label is ``neutral`` when p reaches the gate's threshold
  (``meta["neutral_threshold"]``) or the shrunk score lies inside the neutral band.

Without the gate's files in the model folder the scores pass through unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np

from cxloop.text.linear import LinearTextModel

NEUTRAL_MODEL = "sentiment_zh_neutral"
#: Used when the gate records no threshold of its own.
DEFAULT_THRESHOLD = 0.6

Sentiment = tuple[str, float]


@cache
def load_gate(path: Path) -> LinearTextModel | None:
    """The gate at ``path`` (no suffix), loaded once; None when it is not there."""
    if not path.with_suffix(".json").is_file():
        return None
    return LinearTextModel.load(path)


def neutral_probability(gate: LinearTextModel, texts: Sequence[str]) -> np.ndarray:
    """P(neutral) of each text."""
    out: np.ndarray = gate.predict_proba(texts)[:, gate.labels.index("neutral")]
    return out


def gated(scores: np.ndarray, neutral: np.ndarray, *, band: float,
          threshold: float) -> list[Sentiment]:  # fmt: skip
    """(label, score) from binary scores in -1..1 and P(neutral) of the same texts."""
    shrunk = scores * (1.0 - neutral)
    return [
        (
            "neutral" if p >= threshold or abs(s) < band
            else ("positive" if s > 0 else "negative"),
            round(float(s), 4),
        )
        for s, p in zip(shrunk, neutral, strict=True)
    ]  # fmt: skip


def apply_gate(texts: Sequence[str], found: Sequence[Sentiment], *, band: float,
               model_dir: Path) -> list[Sentiment]:  # fmt: skip
    """``found`` (binary Chinese results) with the gate applied, when it ships."""
    gate = load_gate(model_dir / NEUTRAL_MODEL)
    if gate is None or not texts:
        return list(found)
    scores = np.array([score for _, score in found], dtype=np.float64)
    threshold = float(gate.meta.get("neutral_threshold", DEFAULT_THRESHOLD))
    return gated(
        scores, neutral_probability(gate, texts), band=band, threshold=threshold
    )


def gate_version(model_dir: Path) -> str:
    """The gate's version, or ``""`` without one."""
    gate = load_gate(model_dir / NEUTRAL_MODEL)
    return gate.version if gate is not None else ""
