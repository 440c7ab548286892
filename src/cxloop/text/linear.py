"""A linear text classifier that lives in two plain files: ``<name>.npz`` + ``<name>.json``.

Texts pass through :func:`cxloop.text.chinese.normalise`, then become hashed character
n-grams (and, optionally, word n-grams: jieba words for Chinese, letter runs otherwise)
with sub-linear term frequency and unit length. A multinomial logistic regression reads
them. Hashing needs no vocabulary, so the model is only numbers: the kept feature
columns, their weights and the intercepts, stored as numpy arrays and loaded with
``allow_pickle=False`` (a model file can never run code). The JSON beside it holds the
labels, the :class:`FeatureSpec`, the version and whatever the trainer records (data,
licences, held-out figures).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from cxloop.domain.errors import InvalidInput
from cxloop.text import _features

FORMAT = "cxloop-linear-1"


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    """How a text becomes a feature vector.

    Attributes
    ----------
    char_ngrams : tuple of int
        Smallest and largest character n-gram (``(0, 0)``: no character features).
    word_ngrams : tuple of int
        Smallest and largest word n-gram (``(0, 0)``: no word features). Words are jieba
        words in Han text and letter/digit runs elsewhere.
    n_features : int
        Hash space of each of the two feature families.
    sublinear_tf : bool
        Count a feature ``log(1 + n)`` times rather than ``n`` times.
    max_chars : int
        Texts are cut to this many characters after normalising.
    nb_weighting : bool
        Scale features by their log-count ratio while training (NB-LR, two labels only);
        the ratio is folded into the stored weights.
    max_weights : int
        Keep at most this many weights per model (the largest ones); 0 keeps all.
    idf : bool
        Weigh features by their inverse document frequency in the training texts
        (stored as one byte per feature column).
    """

    char_ngrams: tuple[int, int] = (1, 3)
    word_ngrams: tuple[int, int] = (0, 0)
    n_features: int = 2**20
    sublinear_tf: bool = True
    max_chars: int = 2000
    nb_weighting: bool = False
    max_weights: int = 0
    idf: bool = False

    def to_json(self) -> dict[str, Any]:
        """The spec as a JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FeatureSpec:
        """Read a spec written by :meth:`to_json` (unknown keys are an error)."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidInput(f"feature spec: unknown keys {', '.join(unknown)}")
        values = dict(data)
        for key in ("char_ngrams", "word_ngrams"):
            if key in values:
                values[key] = tuple(int(v) for v in values[key])
        return cls(**values)


@dataclass(frozen=True)
class LinearTextModel:
    """A fitted linear text model.

    Attributes
    ----------
    labels : tuple of str
        The classes, in the column order of :meth:`predict_proba`.
    version : str
        ``<name>-<hash>``; changes whenever the weights change.
    features : FeatureSpec
        How texts become features.
    columns : numpy.ndarray
        The kept feature columns (int64, sorted).
    coef : numpy.ndarray
        Weights, shape (len(labels), len(columns)).
    intercept : numpy.ndarray
        Shape (len(labels),).
    idf_codes : numpy.ndarray or None
        One ``uint8`` per feature column when ``features.idf`` (see
        :func:`cxloop.text._features.idf_weights`).
    meta : dict
        Free-form JSON (training data, licences, figures).
    """

    labels: tuple[str, ...]
    version: str
    features: FeatureSpec
    columns: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    idf_codes: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    _dense: np.ndarray | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def _weights(self) -> np.ndarray:
        """The weights as a dense (features, k) matrix, built on first use."""
        dense = self._dense
        if dense is None:
            dense = np.zeros(
                (_features.width(self.features), len(self.labels)), np.float32
            )
            dense[self.columns] = self.coef.T
            object.__setattr__(self, "_dense", dense)
        return dense

    def decision(self, texts: Sequence[str]) -> np.ndarray:
        """Raw class scores (before the softmax), shape (n, k)."""
        return self.scores(_features.vectorise(texts, self.features, self.idf_codes))

    def scores(self, matrix: sp.csr_matrix) -> np.ndarray:
        """Raw class scores of already vectorised rows (``_features.vectorise``)."""
        scores: np.ndarray = np.asarray(matrix @ self._weights()) + self.intercept
        return scores

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Return class probabilities, shape (n, k), for raw (un-normalised) texts."""
        if len(texts) == 0:
            return np.zeros((0, len(self.labels)))
        return softmax(self.decision(texts))

    def predict(self, texts: Sequence[str]) -> list[str]:
        """The most probable label of each text."""
        proba = self.predict_proba(texts)
        return [self.labels[i] for i in proba.argmax(axis=1)]

    def save(self, path: Path) -> None:
        """Write ``path.npz`` (arrays) and ``path.json`` (everything else)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        save_arrays(path, self.arrays())
        write_head(path, self.head())

    def arrays(self, prefix: str = "") -> dict[str, np.ndarray]:
        """The model's numbers as named arrays (what :meth:`save` writes)."""
        arrays: dict[str, np.ndarray] = {
            "columns": self.columns.astype(np.int32),
            "coef": self.coef.astype(np.float16),
            "intercept": self.intercept.astype(np.float64),
        }
        if self.idf_codes is not None:
            arrays["idf_codes"] = self.idf_codes.astype(np.uint8)
        return {prefix + key: value for key, value in arrays.items()}

    def head(self) -> dict[str, Any]:
        """Everything but the numbers, JSON-ready (what :meth:`save` writes)."""
        return {"format": FORMAT, "labels": list(self.labels), "version": self.version,
                "features": self.features.to_json(), "meta": self.meta}  # fmt: skip

    @classmethod
    def load(cls, path: Path) -> LinearTextModel:
        """Read a model written by :meth:`save` (``path`` with or without a suffix)."""
        path = Path(path)
        head = read_head(path, FORMAT)
        with np.load(path.with_suffix(".npz"), allow_pickle=False) as arrays:
            return cls.from_arrays(head, dict(arrays), source=path.with_suffix(".npz"))

    @classmethod
    def from_arrays(cls, head: dict[str, Any], arrays: dict[str, np.ndarray], *,
                    source: Path, prefix: str = "") -> LinearTextModel:  # fmt: skip
        """Rebuild a model from :meth:`head` and :meth:`arrays` (shapes are checked)."""
        try:
            columns = arrays[prefix + "columns"].astype(np.int64)
            coef = arrays[prefix + "coef"].astype(np.float32)
            intercept = arrays[prefix + "intercept"].astype(np.float64)
        except KeyError as missing:
            raise InvalidInput(f"{source}: no array {missing}") from None
        idf = arrays.get(prefix + "idf_codes")
        labels = tuple(str(label) for label in head["labels"])
        if coef.shape != (len(labels), len(columns)) or intercept.shape != (
            len(labels),
        ):
            raise InvalidInput(f"{source}: array shapes do not match")
        return cls(labels=labels, version=str(head["version"]),
                   features=FeatureSpec.from_json(head["features"]), columns=columns,
                   coef=coef, intercept=intercept,
                   idf_codes=None if idf is None else idf.astype(np.uint8),
                   meta=dict(head.get("meta", {})))  # fmt: skip


def save_arrays(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write ``path.npz`` (compressed; read back with ``allow_pickle=False``)."""
    savez: Any = np.savez_compressed  # numpy's stubs type **arrays as its flags
    savez(Path(path).with_suffix(".npz"), **arrays)


def write_head(path: Path, head: dict[str, Any]) -> None:
    """Write a model's ``path.json`` (sorted keys, UTF-8, one trailing newline)."""
    text = json.dumps(head, ensure_ascii=False, indent=2, sort_keys=True)
    Path(path).with_suffix(".json").write_text(text + "\n", encoding="utf-8")


def read_head(path: Path, form: str) -> dict[str, Any]:
    """Read a model's ``path.json``; refuse one whose ``format`` is not ``form``."""
    json_path = Path(path).with_suffix(".json")
    head: dict[str, Any] = json.loads(json_path.read_text(encoding="utf-8"))
    if head.get("format") != form:
        raise InvalidInput(f"{json_path}: not a {form} model")
    return head


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax of raw class scores."""
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    out: np.ndarray = shifted / shifted.sum(axis=1, keepdims=True)
    return out


def _nb_ratio(matrix: sp.csr_matrix, y: np.ndarray) -> np.ndarray:
    """Log-count ratio of each feature between the two classes (Wang & Manning 2012)."""
    present = matrix.copy()
    present.data[:] = 1.0
    pos = np.asarray(present[y == 1].sum(axis=0)).ravel() + 1.0
    neg = np.asarray(present[y == 0].sum(axis=0)).ravel() + 1.0
    ratio: np.ndarray = np.log((pos / pos.sum()) / (neg / neg.sum()))
    return ratio


def prune(coef: np.ndarray, keep: int) -> np.ndarray:
    """Indices of the columns whose largest absolute weight is among the top ``keep``."""
    strength = np.abs(coef).max(axis=0)
    used = np.flatnonzero(strength > 0)
    if keep and len(used) > keep:
        used = np.sort(used[np.argsort(strength[used])[-keep:]])
    return used


def as_two_rows(coef: np.ndarray, intercept: np.ndarray) -> tuple[np.ndarray, ...]:
    """A binary model's one weight row as two softmax rows (same probabilities)."""
    return np.vstack([-coef[0] / 2, coef[0] / 2]), np.array(
        [-intercept[0] / 2, intercept[0] / 2]
    )


def fit_linear(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    features: FeatureSpec | None = None,
    c: float = 1.0,
    class_weight: str | None = None,
    sample_weight: Sequence[float] | np.ndarray | None = None,
    name: str = "linear",
) -> LinearTextModel:
    """Fit a linear model on raw texts.

    Parameters
    ----------
    texts, labels : sequence of str
        Training texts (raw: they are normalised here) and their labels (two or more).
    features : FeatureSpec, optional
        How texts become features (the default: character 1-3-grams).
    c : float
        Inverse regularisation strength of the logistic regression.
    class_weight : {"balanced", None}
        Weigh classes inversely to their frequency.
    sample_weight : array-like, optional
        One weight per text.
    name : str
        The first part of the model's version string.

    Raises
    ------
    InvalidInput
        When texts and labels differ in length or fewer than two labels occur.
    """
    from sklearn.linear_model import LogisticRegression

    spec = features or FeatureSpec()
    classes = sorted(set(labels))
    if len(texts) != len(labels) or len(classes) < 2:
        raise InvalidInput(
            "fit_linear needs as many labels as texts and two labels or more"
        )
    y = np.array([classes.index(label) for label in labels])
    train, used, idf, ratio = design(texts, y, spec)
    if ratio is not None:
        train = (train @ sp.diags(ratio.astype(np.float32))).tocsr()
    binary = len(classes) == 2
    model = LogisticRegression(C=c, class_weight=class_weight, max_iter=3000, random_state=0,
                               solver="liblinear" if binary else "lbfgs")  # fmt: skip
    weights = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
    model.fit(train, y, sample_weight=weights)
    coef, intercept = model.coef_, model.intercept_
    if ratio is not None:
        coef = coef * ratio
    if binary:
        coef, intercept = as_two_rows(coef, intercept)
    kept = prune(coef, spec.max_weights)
    arrays = (used[kept], coef[:, kept], intercept, idf)
    return assemble(name, tuple(classes), spec, arrays)


def design(
    texts: Sequence[str], y: np.ndarray, spec: FeatureSpec
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """The training matrix over the columns that occur, those columns, idf and NB ratio.

    Fitting on the occurring columns only keeps every dense step small. The NB ratio
    (``spec.nb_weighting`` with labels 0 / 1) is returned, not applied to the matrix.
    """
    raw = _features.counts(texts, spec)
    used = np.unique(raw.indices)
    compact = raw[:, used].tocsr()
    idf = None
    if spec.idf:
        df = np.bincount(compact.indices, minlength=len(used))
        idf = _features.idf_codes(np.zeros(_features.width(spec), np.int64), len(texts))
        idf[used] = _features.idf_codes(df, len(texts))
    binary = spec.nb_weighting and int(y.max()) == 1
    ratio = _nb_ratio(compact, y) if binary else None
    train = _features.scale(compact, None if idf is None else idf[used])
    return train, used, idf, ratio


def assemble(name: str, labels: tuple[str, ...], spec: FeatureSpec,
              arrays: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None],
              ) -> LinearTextModel:  # fmt: skip
    """A model from its kept columns, weights, intercepts and idf; versioned by them."""
    columns, coef, intercept, idf = arrays
    coef16 = coef.astype(np.float16)
    digest = hashlib.sha256(columns.astype(np.int64).tobytes() + coef16.tobytes())
    digest.update(b"" if idf is None else idf.tobytes())
    digest.update(json.dumps([labels, spec.to_json()]).encode())
    return LinearTextModel(labels=labels, version=f"{name}-{digest.hexdigest()[:10]}",
                           features=spec, columns=columns.astype(np.int64),
                           coef=coef16.astype(np.float32), idf_codes=idf,
                           intercept=np.asarray(intercept, dtype=np.float64))  # fmt: skip


def average_models(
    models: Sequence[LinearTextModel], *, name: str = "linear"
) -> LinearTextModel:
    """One model whose scores are the mean of ``models``' scores (logit averaging).

    The models must read the same features (the same spec, NB weighting aside, and the
    same idf) and have the same labels; averaging their weights is then exactly
    averaging their raw class scores, so the ensemble costs no more than one model.
    """
    first = models[0]
    plain = [replace(m.features, nb_weighting=False, max_weights=0) for m in models]
    same_idf = all(_same(first.idf_codes, m.idf_codes) for m in models)
    if len(set(plain)) != 1 or len({m.labels for m in models}) != 1 or not same_idf:
        raise InvalidInput(
            "average_models needs models with the same features and labels"
        )
    columns = np.unique(np.concatenate([m.columns for m in models]))
    coef = np.zeros((len(first.labels), len(columns)))
    for m in models:
        coef[:, np.searchsorted(columns, m.columns)] += m.coef / len(models)
    intercept = np.mean([m.intercept for m in models], axis=0)
    spec = replace(first.features, nb_weighting=False)
    kept = prune(coef, spec.max_weights)
    arrays = (columns[kept], coef[:, kept], intercept, first.idf_codes)
    return assemble(name, first.labels, spec, arrays)


def _same(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    return (a is None and b is None) or (
        a is not None and b is not None and np.array_equal(a, b)
    )
