"""Models a user trained with ``cxloop text train``, read from a model directory.

The directory holds ``<task>.npz`` + ``<task>.json`` per trained task (intent, emotion,
sentiment), and ``<task>.embeddings.npz`` for models trained with the embeddings
backend. Every file is read with ``allow_pickle=False``: a model file cannot run code.
A ``<task>.transformer/`` folder instead holds a fine-tuned transformer
(:mod:`cxloop.text.transformer`, safetensors weights only); it wins over n-gram files
of the same task.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from cxloop.domain.errors import InvalidInput, NotFound
from cxloop.text import _fitting
from cxloop.text.chinese import normalise_many
from cxloop.text.linear import LinearTextModel
from cxloop.text.shipped_blend import mix, shipped_proba
from cxloop.text.transformer import TransformerModel, load_transformer, transformer_path

TASKS = ("intent", "emotion", "sentiment")


@dataclass(frozen=True)
class UserModel:
    """One trained task: the n-gram model, its threshold and any embedding weights."""

    task: str
    linear: LinearTextModel
    threshold: float
    other_label: str
    embedding_coef: np.ndarray | None = None
    #: The shipped model's probabilities are averaged in at this weight (``text train``
    #: sets it when that does better out of fold; see :mod:`cxloop.text.shipped_blend`).
    shipped_weight: float = 0.0
    _embed: list[_fitting.Embed] = field(
        default_factory=list, repr=False, compare=False
    )

    @property
    def labels(self) -> tuple[str, ...]:
        """The trained labels (``other`` not included)."""
        return self.linear.labels

    @property
    def version(self) -> str:
        """Changes whenever the model is retrained."""
        return self.linear.version

    @cached_property
    def _weights(self) -> sp.csr_matrix:
        return _fitting.sparse_weights(self.linear)

    def proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities over the trained labels, shape (len(texts), labels)."""
        scores = _fitting.scores_of(self.linear, self._weights, texts)
        if self.embedding_coef is not None:
            if not self._embed:
                self._embed.append(_fitting.default_embed())
            normalised = normalise_many(texts, max_chars=self.linear.features.max_chars)
            vectors = np.asarray(self._embed[0](normalised), dtype=np.float32)
            scores = scores + _fitting.EMBEDDING_WEIGHT * (
                vectors @ self.embedding_coef.T
            )
        proba = _fitting.softmax(scores)
        if self.shipped_weight <= 0:
            return proba
        shipped = shipped_proba(self.task, self.labels, texts)
        return proba if shipped is None else mix(proba, shipped, self.shipped_weight)

    def predict(self, texts: Sequence[str]) -> list[tuple[str, float]]:
        """(label, confidence) per text; ``other`` below the threshold.

        An ``other`` text's confidence is one minus its best label's probability.
        """
        if len(texts) == 0:
            return []
        proba = self.proba(texts)
        best, top = proba.argmax(axis=1), proba.max(axis=1)
        return [
            (self.linear.labels[i], round(float(p), 4))
            if p >= self.threshold
            else (self.other_label, round(float(1.0 - p), 4))
            for i, p in zip(best, top, strict=True)
        ]


@dataclass(frozen=True)
class UserModels:
    """The user's trained models, one per task (intent, emotion, sentiment)."""

    model_dir: Path
    models: dict[str, UserModel | TransformerModel] = field(default_factory=dict)

    @property
    def tasks(self) -> tuple[str, ...]:
        """The tasks that have a trained model, sorted."""
        return tuple(sorted(self.models))

    def labels(self, task: str) -> tuple[str, ...]:
        """The labels ``task`` can give, ``other`` included."""
        model = self._model(task)
        return (*model.labels, model.other_label)

    def predict(self, task: str, texts: Sequence[str]) -> list[tuple[str, float]]:
        """(label, confidence) for each text; ``other`` when no label fits well.

        Raises
        ------
        NotFound
            When the directory has no model for ``task``.
        """
        return self._model(task).predict(texts)

    def transformer(self, task: str) -> TransformerModel | None:
        """``task``'s model when it is a transformer."""
        model = self.models.get(task)
        return model if isinstance(model, TransformerModel) else None

    def _model(self, task: str) -> UserModel | TransformerModel:
        if task not in self.models:
            raise NotFound(
                f"{self.model_dir}: no trained {task!r} model (cxloop text train)"
            )
        return self.models[task]

    @property
    def version(self) -> str:
        """A string that changes whenever a model in the directory changes."""
        if not self.models:
            return ""
        joined = "|".join(f"{t}:{self.models[t].version}" for t in self.tasks)
        return "user-" + hashlib.sha256(joined.encode()).hexdigest()[:10]


def load_user_models(
    model_dir: Path, *, embed: _fitting.Embed | None = None, device: str = "auto"
) -> UserModels:
    """The trained models in ``model_dir`` (an empty set when it holds none).

    ``embed`` (texts to unit vectors) replaces the installed e5 model for models trained
    with the embeddings backend (benchmarks reuse cached vectors with it). Transformers
    run on ``device`` (``auto``: the GPU when present).

    Raises
    ------
    NotFound
        When ``model_dir`` does not exist.
    InvalidInput
        When a model file is damaged or was not written by ``cxloop text train``.
    """
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise NotFound(f"model directory {model_dir} does not exist")
    models: dict[str, UserModel | TransformerModel] = {}
    for task in TASKS:
        if transformer_path(model_dir, task).exists():
            models[task] = load_transformer(
                transformer_path(model_dir, task), task, device=device
            )
        elif (model_dir / f"{task}.json").is_file():
            models[task] = _load_one(model_dir / task, task, embed)
    return UserModels(model_dir=model_dir, models=models)


def _load_one(path: Path, task: str, embed: _fitting.Embed | None) -> UserModel:
    try:
        linear = LinearTextModel.load(path)
    except (OSError, KeyError, ValueError) as exc:
        raise InvalidInput(f"{path}.npz/.json: cannot read the model ({exc})") from exc
    meta = linear.meta
    if meta.get("kind") != "user" or meta.get("task") != task:
        raise InvalidInput(
            f"{path}.json: not a {task} model written by cxloop text train"
        )
    coef = None
    if meta.get("backend") == "embeddings":
        coef = _embedding_coef(_fitting.embedding_path(path), len(linear.labels))
    blend = meta.get("shipped") or {}
    weight = blend.get("shipped_weight", 0.0) if isinstance(blend, dict) else blend
    if not isinstance(weight, int | float) or not 0 <= weight <= 1:
        raise InvalidInput(f"{path}.json: shipped_weight {weight!r} is not in 0..1")
    return UserModel(task=task, linear=linear, threshold=float(meta["other_threshold"]),
                     other_label=str(meta.get("other_label", "other")),
                     embedding_coef=coef, shipped_weight=float(weight),
                     _embed=[embed] if embed else [])  # fmt: skip


def _embedding_coef(path: Path, k: int) -> np.ndarray:
    if not path.is_file():
        raise InvalidInput(f"{path}: missing (the model was trained with embeddings)")
    with np.load(path, allow_pickle=False) as arrays:
        coef: np.ndarray = arrays["coef"].astype(np.float32)
    if coef.ndim != 2 or coef.shape[0] != k:
        raise InvalidInput(f"{path}: array shapes do not match the model")
    return coef
