"""English sentiment: the linear model's reading stacked with VADER's lexicon.

``sentiment_en`` learns from tweets and review sentences, character and word n-grams;
a word it saw rarely can mislead it ("impatient" holds "patient"). VADER (Hutto and
Gilbert, 2014; the ``vaderSentiment`` package, MIT) scores text with a hand-made
lexicon and rules for negation, intensifiers and contrast. The stack
(``sentiment_en_lexicon``, a JSON file) is a small logistic regression over the linear
model's log-probabilities and VADER's four scores (neg, neu, pos, compound), fitted on
out-of-fold probabilities of the same training texts
(``scripts/text_models/sentiment_en_lexicon.py``). Its probabilities replace the linear
model's: the label is the most probable class, the score ``P(positive) - P(negative)``.

A model folder without the stack's file scores with the linear model alone.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from cxloop.text.linear import write_head
from cxloop.text.markup import plain_text

STACK_MODEL = "sentiment_en_lexicon"
FORMAT = "cxloop-lexicon-stack-1"
#: VADER's scores, in the order the stack reads them.
VADER_SCORES = ("neg", "neu", "pos", "compound")
#: Probabilities are clipped here before the log.
_FLOOR = 1e-6


@dataclass(frozen=True)
class LexiconStack:
    """Weights over [log P(label) of the linear model..., VADER's four scores]."""

    labels: tuple[str, ...]
    coef: np.ndarray
    intercept: np.ndarray
    version: str
    meta: dict[str, Any] = field(default_factory=dict)

    def proba(self, linear: np.ndarray, vader: np.ndarray) -> np.ndarray:
        """Probabilities over :attr:`labels` from the linear model's and VADER's scores."""
        x = np.hstack([np.log(np.clip(linear, _FLOOR, 1.0)), vader])
        z = x @ self.coef.T + self.intercept
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        out: np.ndarray = e / e.sum(axis=1, keepdims=True)
        return out

    def save(self, path: Path) -> None:
        """Write ``path`` + ``.json`` (numbers only, no pickle)."""
        head = {"format": FORMAT, "labels": list(self.labels), "version": self.version,
                "inputs": [*(f"log_p_{x}" for x in self.labels), *VADER_SCORES],
                "coef": self.coef.tolist(), "intercept": self.intercept.tolist(),
                "meta": self.meta}  # fmt: skip
        write_head(path, head)

    @classmethod
    def load(cls, path: Path) -> LexiconStack:
        """Read a stack written by :meth:`save`; a malformed file is refused."""
        head = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        if head.get("format") != FORMAT:
            raise ValueError(f"{path}.json is not a {FORMAT} file")
        labels = tuple(str(x) for x in head["labels"])
        coef = np.asarray(head["coef"], dtype=np.float64)
        intercept = np.asarray(head["intercept"], dtype=np.float64)
        width = len(labels) + len(VADER_SCORES)
        if coef.shape != (len(labels), width) or intercept.shape != (len(labels),):
            raise ValueError(f"{path}.json: weights of the wrong shape {coef.shape}")
        return cls(labels=labels, coef=coef, intercept=intercept,
                   version=str(head["version"]), meta=dict(head.get("meta", {})))  # fmt: skip


@cache
def load_stack(path: Path) -> LexiconStack | None:
    """The stack at ``path`` (no suffix), loaded once; None when it is not there."""
    if not path.with_suffix(".json").is_file():
        return None
    return LexiconStack.load(path)


@cache
def _analyzer() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def vader_scores(texts: Sequence[str]) -> np.ndarray:
    """VADER's (neg, neu, pos, compound) of each text, shape (len(texts), 4).

    VADER reads the words only: markup goes first (:func:`cxloop.text.markup.plain_text`).
    """
    analyzer = _analyzer()
    out = np.zeros((len(texts), len(VADER_SCORES)))
    for i, text in enumerate(texts):
        found = analyzer.polarity_scores(plain_text(text))
        out[i] = [found[name] for name in VADER_SCORES]
    return out


def stack_version(model_dir: Path) -> str:
    """The stack's version, or ``""`` without one."""
    stack = load_stack(model_dir / STACK_MODEL)
    return stack.version if stack is not None else ""
