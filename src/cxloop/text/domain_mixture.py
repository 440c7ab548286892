"""A positive/negative linear text model with one expert per domain of its training texts.

The same words weigh differently in different places: "快" praises a delivery, "小"
faults a hotel room and not a phone charger. Feature augmentation (Daumé III,
"Frustratingly easy domain adaptation", 2007) lets one regression learn it: while
training, every text's features appear twice, once in a shared block and once in the
block of its own corpus (hotel reviews, food-delivery reviews, Weibo posts...), so the
shared weights hold what all corpora agree on and each expert block only what differs.

A text to score has no corpus, so a *router* (a multinomial logistic regression over
the same features) gives the probability ``p_d`` of each domain, and the text's logit is
``shared · x + b + Σ_d p_d (expert_d · x + b_d)`` (each domain has a bias of its own).
As in ``sentiment_zh`` before it, a plain logistic regression and an NB-LR (Wang &
Manning 2012) are fitted on the augmented features and their weights averaged, so
scoring costs one vectorisation and two small matrix products.

Stored like :class:`~cxloop.text.linear.LinearTextModel`: ``<name>.npz`` (numbers only,
read with ``allow_pickle=False``) and ``<name>.json`` (labels, domains, features, meta).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from cxloop.domain.errors import InvalidInput
from cxloop.text import _features
from cxloop.text.linear import (
    FeatureSpec,
    LinearTextModel,
    as_two_rows,
    assemble,
    design,
    prune,
    read_head,
    save_arrays,
    softmax,
    write_head,
)

FORMAT = "cxloop-domain-mixture-1"
SHARED = "shared"


@dataclass(frozen=True)
class DomainMixtureModel:
    """A fitted two-label model with a shared block, domain experts and a router.

    Attributes
    ----------
    labels : tuple of str
        The two classes; the logit favours ``labels[1]``.
    version : str
        ``<name>-<hash>`` of every weight.
    experts : LinearTextModel
        One row of logit weights per block: ``shared`` first, then one per domain (its
        ``labels`` name the blocks); the shared row carries the intercept.
    router : LinearTextModel
        The domain classifier; its ``labels`` are the domains, in the experts' order.
    meta : dict
        Free-form JSON (training data, licences, figures, the neutral band).
    """

    labels: tuple[str, str]
    version: str
    experts: LinearTextModel
    router: LinearTextModel
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def features(self) -> FeatureSpec:
        """How texts become features (the experts' and the router's)."""
        return self.experts.features

    @property
    def domains(self) -> tuple[str, ...]:
        """The domains the router tells apart."""
        return self.router.labels

    def _matrix(self, texts: Sequence[str]) -> sp.csr_matrix:
        return _features.vectorise(texts, self.features, self.experts.idf_codes)

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        """The logit of ``labels[1]`` for each text, shape (n,)."""
        matrix = self._matrix(texts)
        blocks = self.experts.scores(matrix)
        route = softmax(self.router.scores(matrix))
        logit: np.ndarray = blocks[:, 0] + (route * blocks[:, 1:]).sum(axis=1)
        return logit

    def domain_proba(self, texts: Sequence[str]) -> np.ndarray:
        """The router's probability of each domain, shape (n, len(domains))."""
        return softmax(self.router.scores(self._matrix(texts)))

    def decision(self, texts: Sequence[str]) -> np.ndarray:
        """Raw class scores, shape (n, 2): ``(-logit / 2, logit / 2)``."""
        logit = self.logits(texts)
        return np.column_stack([-logit / 2, logit / 2])

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities, shape (n, 2), for raw texts."""
        if len(texts) == 0:
            return np.zeros((0, 2))
        return softmax(self.decision(texts))

    def predict(self, texts: Sequence[str]) -> list[str]:
        """The more probable label of each text."""
        return [self.labels[int(i)] for i in self.predict_proba(texts).argmax(axis=1)]

    def save(self, path: Path) -> None:
        """Write ``path.npz`` (both weight sets, one idf) and ``path.json``."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        router = replace(self.router, idf_codes=None)
        save_arrays(
            path, {**self.experts.arrays("experts_"), **router.arrays("router_")}
        )
        head = {"format": FORMAT, "labels": list(self.labels), "version": self.version,
                "experts": _sub_head(self.experts), "router": _sub_head(self.router),
                "meta": self.meta}  # fmt: skip
        write_head(path, head)

    @classmethod
    def load(cls, path: Path) -> DomainMixtureModel:
        """Read a model written by :meth:`save` (``path`` with or without a suffix)."""
        path = Path(path)
        head = read_head(path, FORMAT)
        source = path.with_suffix(".npz")
        with np.load(source, allow_pickle=False) as stored:
            arrays = dict(stored)
        experts = LinearTextModel.from_arrays(
            head["experts"], arrays, source=source, prefix="experts_"
        )
        router = LinearTextModel.from_arrays(
            head["router"], arrays, source=source, prefix="router_"
        )
        router = replace(router, idf_codes=experts.idf_codes)
        if experts.labels[1:] != router.labels or router.features != experts.features:
            raise InvalidInput(f"{source}: experts and router do not match")
        labels = tuple(str(label) for label in head["labels"])
        if len(labels) != 2:
            raise InvalidInput(f"{source}: a domain mixture has two labels")
        return cls(labels=(labels[0], labels[1]), version=str(head["version"]),
                   experts=experts, router=router, meta=dict(head.get("meta", {})))  # fmt: skip


def _sub_head(model: LinearTextModel) -> dict[str, Any]:
    head = model.head()
    return {key: head[key] for key in ("labels", "version", "features")}


def fit_domain_mixture(
    texts: Sequence[str],
    labels: Sequence[str],
    domains: Sequence[str],
    *,
    features: FeatureSpec,
    c: float,
    nb_c: float,
    router_c: float = 4.0,
    router_weights: int = 200_000,
    name: str = "mixture",
) -> DomainMixtureModel:
    """Fit a domain mixture on raw texts, each with its label and its domain.

    Parameters
    ----------
    texts, labels : sequence of str
        Training texts and their labels (exactly two distinct labels).
    domains : sequence of str
        The corpus (or any grouping) each text comes from; two or more.
    features : FeatureSpec
        How texts become features; ``max_weights`` bounds the columns the experts keep
        (each kept column has one weight per block).
    c, nb_c : float
        Inverse regularisation of the plain and of the NB-weighted logistic regression.
    router_c : float
        Inverse regularisation of the router.
    router_weights : int
        Columns the router keeps.
    name : str
        The first part of the version string.

    Raises
    ------
    InvalidInput
        When the lengths differ, or there are not two labels and two domains or more.
    """
    classes = sorted(set(labels))
    names = sorted(set(domains))
    if (
        not len(texts) == len(labels) == len(domains)
        or len(classes) != 2
        or len(names) < 2
    ):
        raise InvalidInput(
            "fit_domain_mixture needs one label and one domain per text, "
            "two labels and two domains or more"
        )
    spec = replace(features, nb_weighting=False)
    y = np.array([classes.index(label) for label in labels])
    where = np.array([names.index(d) for d in domains])
    plain, used, idf, ratio = design(texts, y, replace(spec, nb_weighting=True))
    if ratio is None:  # pragma: no cover - design computes it for two labels
        raise InvalidInput("fit_domain_mixture: no NB ratio")
    onehot = np.eye(len(names), dtype=np.float32)[where]
    blocks, intercepts = _fit_blocks(plain, onehot, y, ratio, (c, nb_c))
    kept = prune(blocks, spec.max_weights)
    experts = assemble(f"{name}-experts", (SHARED, *names), spec,
                       (used[kept], blocks[:, kept], intercepts, idf))  # fmt: skip
    coef, intercept = _fit_router(plain, where, router_c)
    kept = prune(coef, router_weights)
    router = assemble(f"{name}-router", tuple(names), spec,
                      (used[kept], coef[:, kept], intercept, idf))  # fmt: skip
    digest = hashlib.sha256(f"{experts.version}|{router.version}".encode())
    return DomainMixtureModel(labels=(classes[0], classes[1]),
                              version=f"{name}-{digest.hexdigest()[:10]}",
                              experts=experts, router=router)  # fmt: skip


def _fit_blocks(matrix: sp.csr_matrix, onehot: np.ndarray, y: np.ndarray,
                ratio: np.ndarray, costs: tuple[float, float],
                ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Shared and expert weights (one row each) and intercepts, plain and NB averaged.

    Each domain also gets a bias of its own (a constant feature in its block), so the
    experts can hold their corpus's share of positive texts.
    """
    from sklearn.linear_model import LogisticRegression

    n_blocks, width = onehot.shape[1] + 1, matrix.shape[1]
    blocks, intercepts = np.zeros((n_blocks, width)), np.zeros(n_blocks)
    nb_matrix = (matrix @ sp.diags(ratio.astype(np.float32))).tocsr()
    for part, cost, scale in ((matrix, costs[0], None), (nb_matrix, costs[1], ratio)):
        augmented = sp.hstack([_augment(part, onehot), sp.csr_matrix(onehot)]).tocsr()
        fitted = LogisticRegression(C=cost, solver="liblinear", max_iter=3000,
                                    random_state=0).fit(augmented, y)  # fmt: skip
        weights = fitted.coef_[0]
        coef = weights[: -n_blocks + 1].reshape(n_blocks, width)
        blocks += (coef if scale is None else coef * scale) / 2
        intercepts += np.concatenate([fitted.intercept_, weights[-n_blocks + 1 :]]) / 2
    return blocks, intercepts


def _fit_router(matrix: sp.csr_matrix, where: np.ndarray, c: float
                ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Weights and intercepts of the router, one row per domain."""
    from sklearn.linear_model import LogisticRegression

    fitted = LogisticRegression(C=c, max_iter=2000).fit(matrix, where)
    coef, intercept = fitted.coef_, fitted.intercept_
    if coef.shape[0] == 1:  # scikit-learn keeps one row for two classes
        coef, intercept = as_two_rows(coef, intercept)
    return coef, intercept


def _augment(matrix: sp.csr_matrix, weights: np.ndarray) -> sp.csr_matrix:
    """``[X, w_1 X, ..., w_D X]``: the shared block, then one block per domain."""
    blocks = [matrix] + [
        sp.diags(weights[:, d]) @ matrix for d in range(weights.shape[1])
    ]
    out: sp.csr_matrix = sp.hstack(blocks).tocsr()
    return out
