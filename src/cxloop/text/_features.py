"""Hashed n-gram features shared by every linear text model (see ``linear.py``).

Character n-grams are hashed for a whole batch at once with numpy: the texts are joined
into one array of code points, every n-gram gets a 64-bit polynomial hash, and n-grams
that would straddle two texts are dropped. Words (jieba words in Han text, letter/digit
runs elsewhere) and word pairs are hashed with CRC-32. Both hashes are fixed functions
written here, so a saved model reads the same columns in every process and version.
"""

from __future__ import annotations

import logging
import re
import zlib
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from cxloop.text.chinese import has_han, normalise_many

if TYPE_CHECKING:
    from cxloop.text.linear import FeatureSpec

_TOKEN = re.compile(r"[^\W_]+|[!?]")
_SEPARATOR = "\x00"
_MULTIPLIER = np.uint64(1_000_003)
_MIX = np.uint64(0xFF51AFD7ED558CCD)
_SHIFT = np.uint64(33)


@cache
def _jieba() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def words(text: str) -> list[str]:
    """Words of a normalised text: jieba words in Han text, letter/digit runs elsewhere."""
    if not has_han(text):
        return _TOKEN.findall(text)
    return [w for w in _jieba().lcut(text, HMM=False) if _TOKEN.fullmatch(w)]


def _mix(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> _SHIFT)
    h = h * _MIX
    mixed: np.ndarray = h ^ (h >> _SHIFT)
    return mixed


def _char_entries(
    texts: Sequence[str], spec: FeatureSpec
) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of every character n-gram occurrence in ``texts``."""
    joined = _SEPARATOR.join(t.replace(_SEPARATOR, " ") for t in texts) + _SEPARATOR
    points = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(
        np.uint64
    )
    separators = np.concatenate([[0], np.cumsum(points == 0)])
    rows, cols = [], []
    low, high = spec.char_ngrams
    for n in range(low, high + 1):
        start = np.arange(max(len(points) - n + 1, 0))
        start = start[separators[start + n] == separators[start]]
        h = np.full(len(start), np.uint64(n))
        for j in range(n):
            h = h * _MULTIPLIER + points[start + j]
        rows.append(separators[start])
        cols.append(_mix(h) % np.uint64(spec.n_features))
    return np.concatenate(rows), np.concatenate(cols).astype(np.int64)


def _word_grams(text: str, low: int, high: int) -> list[bytes]:
    tokens = [w.encode() for w in words(text)]
    grams = list(tokens) if low <= 1 else []
    for n in range(max(low, 2), high + 1):
        grams.extend(b" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return grams


def _word_entries(
    texts: Sequence[str], spec: FeatureSpec
) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of every word n-gram occurrence, columns after the character block."""
    low, high = spec.word_ngrams
    per_text = [_word_grams(text, low, high) for text in texts]
    sizes = np.fromiter((len(g) for g in per_text), dtype=np.int64, count=len(texts))
    crc = zlib.crc32
    hashes = np.fromiter((crc(g) for grams in per_text for g in grams), dtype=np.int64,
                         count=int(sizes.sum()))  # fmt: skip
    offset = spec.n_features if spec.char_ngrams[1] > 0 else 0
    rows = np.repeat(np.arange(len(texts), dtype=np.int64), sizes)
    return rows, offset + hashes % spec.n_features


def width(spec: FeatureSpec) -> int:
    """Number of feature columns ``spec`` makes."""
    families = (spec.char_ngrams[1] > 0) + (spec.word_ngrams[1] > 0)
    return spec.n_features * families


def counts(texts: Sequence[str], spec: FeatureSpec) -> sp.csr_matrix:
    """Normalise ``texts`` and count their hashed n-grams (``log(1 + n)`` if sub-linear)."""
    normalised = normalise_many(texts, max_chars=spec.max_chars)
    parts = []
    if spec.char_ngrams[1] > 0:
        parts.append(_char_entries(normalised, spec))
    if spec.word_ngrams[1] > 0:
        parts.append(_word_entries(normalised, spec))
    size = width(spec)
    keys = np.concatenate([rows * size + cols for rows, cols in parts])
    unique, tally = np.unique(keys, return_counts=True)  # sorted: rows, then columns
    rows = unique // size
    indptr = np.searchsorted(rows, np.arange(len(texts) + 1))
    data = tally.astype(np.float32)
    if spec.sublinear_tf:
        np.log1p(data, out=data)
    return sp.csr_matrix((data, unique % size, indptr), shape=(len(texts), size))


def idf_codes(df: np.ndarray, n_texts: int) -> np.ndarray:
    """Smoothed inverse document frequency, quantised to steps of 1/16, as ``uint8``.

    ``idf = ln((1 + n) / (1 + df)) + 1`` is stored as the code ``(idf - 1) * 16``
    (rounded, at most 255); :func:`scale` reads ``1 + code / 16``.
    """
    idf = np.log((1 + n_texts) / (1 + df.astype(np.float64)))
    codes: np.ndarray = np.clip(np.round(idf * 16), 0, 255).astype(np.uint8)
    return codes


def scale(matrix: sp.csr_matrix, idf_codes: np.ndarray | None) -> sp.csr_matrix:
    """Apply the idf weights (if any) and scale every row to unit length, in place."""
    if idf_codes is not None:
        matrix.data *= 1.0 + idf_codes[matrix.indices].astype(np.float32) / 16.0
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    norms = np.sqrt(
        np.bincount(rows, weights=matrix.data**2, minlength=matrix.shape[0])
    )
    norms[norms == 0] = 1.0
    matrix.data /= norms[rows].astype(np.float32)
    return matrix


def vectorise(
    texts: Sequence[str], spec: FeatureSpec, idf_codes: np.ndarray | None = None
) -> sp.csr_matrix:
    """Normalise ``texts`` and turn them into unit-length rows of hashed n-gram weights."""
    return scale(counts(texts, spec), idf_codes)
