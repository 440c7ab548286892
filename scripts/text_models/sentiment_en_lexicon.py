"""Build ``sentiment_en_lexicon``: ``sentiment_en`` stacked with VADER's lexicon.

See :mod:`cxloop.text.lexicon_stack`. On the pooled English train parts that train
``sentiment_en`` (same corpora, features and C), five linear models are fitted on four
fifths each (stratified folds, seed 7) and score the fifth they did not see: those
out-of-fold probabilities, with VADER's four scores of the same texts, fit the stack (a
logistic regression, C = 1). The stack then reads the shipped ``sentiment_en``, fitted on
every train text. Held-out figures (the corpora's test parts, and two sets measured only)
compare the linear model alone with the stack; they are written into the stack's JSON.

Run after ``sentiment`` (it reads the ``sentiment_en`` it built):
``.venv/bin/python scripts/train_text_models.py --only sentiment_en_lexicon``.
"""

from __future__ import annotations

import hashlib
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold

from cxloop.text.lexicon_stack import STACK_MODEL, LexiconStack, vader_scores
from cxloop.text.linear import LinearTextModel, fit_linear
from cxloop.text.sentiment import EN_MODEL
from scripts.text_models.corpora import SEED, load_corpus
from scripts.text_models.sentiment import (
    EN_CORPORA,
    EN_FEATURES,
    EN_TEST_ONLY,
    _data_notes,
    _only_commercial,
    _pool,
)

FOLDS = 5
STACK_C = 1.0


def _out_of_fold(texts: list[str], labels: list[str], c: float) -> tuple[np.ndarray, tuple[str, ...]]:  # fmt: skip
    """Each text's probabilities from a linear model that did not train on it."""
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    out = np.zeros((len(texts), 3))
    names: tuple[str, ...] = ()
    for number, (fit, held) in enumerate(folds.split(texts, labels), start=1):
        model = fit_linear([texts[i] for i in fit], [labels[i] for i in fit],
                           features=EN_FEATURES, c=c)  # fmt: skip
        names = model.labels
        out[held] = model.predict_proba([texts[i] for i in held])
        print(f"   fold {number}/{FOLDS} done", flush=True)  # noqa: T201
    return out, names


def _figures(truth: list[str], guess: list[str]) -> dict[str, float]:
    return {"n": len(truth), "accuracy": round(float(accuracy_score(truth, guess)), 4),
            "macro_f1": round(float(f1_score(truth, guess, average="macro")), 4)}  # fmt: skip


def _compare(linear: LinearTextModel, stack: LexiconStack, texts: list[str],
             truth: list[str]) -> dict[str, Any]:  # fmt: skip
    proba = linear.predict_proba(texts)
    alone = [linear.labels[int(i)] for i in proba.argmax(axis=1)]
    ordered = proba[:, [linear.labels.index(x) for x in stack.labels]]
    stacked = stack.proba(ordered, vader_scores(texts))
    both = [stack.labels[int(i)] for i in stacked.argmax(axis=1)]
    return {"linear": _figures(truth, alone), "stacked": _figures(truth, both)}


def build(data_dir: Path, out_dir: Path) -> dict[str, Any]:
    """Fit the stack over ``out_dir``'s ``sentiment_en``, measure it and save it."""
    linear = LinearTextModel.load(out_dir / EN_MODEL)
    corpora = [load_corpus(name, data_dir) for name in EN_CORPORA]
    _only_commercial(corpora)
    texts, labels = _pool(corpora)
    c = float(linear.meta["c"])
    proba, names = _out_of_fold(texts, labels, c)
    order = [names.index(x) for x in linear.labels]
    x = np.hstack([np.log(np.clip(proba[:, order], 1e-6, 1.0)), vader_scores(texts)])
    meta_model = LogisticRegression(C=STACK_C, max_iter=2000).fit(x, labels)
    rows = [list(meta_model.classes_).index(label) for label in linear.labels]
    coef, intercept = meta_model.coef_[rows], meta_model.intercept_[rows]
    digest = hashlib.sha256(np.round(np.hstack([coef.ravel(), intercept]), 8).tobytes())
    stack = LexiconStack(labels=linear.labels, coef=coef, intercept=intercept,
                         version=f"{STACK_MODEL}-{digest.hexdigest()[:10]}")  # fmt: skip
    held_out = {corpus.name: _compare(linear, stack, corpus.test_texts, corpus.test_labels)
                for corpus in corpora}  # fmt: skip
    for name in EN_TEST_ONLY:  # measured only, never trained on
        corpus = load_corpus(name, data_dir)
        held_out[name] = _compare(linear, stack, corpus.test_texts, corpus.test_labels)
    stack.meta.update({"base_model": linear.version, "folds": FOLDS, "c": STACK_C,
                       "vader": f"vaderSentiment {version('vaderSentiment')}",
                       "held_out": held_out, "data": _data_notes(corpora)})  # fmt: skip
    stack.save(out_dir / STACK_MODEL)
    return {"model": STACK_MODEL, "version": stack.version, "held_out": held_out}
