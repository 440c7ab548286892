"""Build the shipped emotion model ``emotion`` (zh and en in one linear model).

Training data (train parts of ``corpora.load_corpus`` only; the test parts are the
held-out figures written into the model's JSON):

- Chinese: SMP2020-EWECT (Weibo, ``usual`` + ``virus``), its six labels mapped to ours:
  happy → joy, angry → anger, sad → disappointment, fear → worry, surprise → surprise,
  neutral → none.
- English: TweetEval emotion (anger → anger, joy → joy, optimism → joy, sadness →
  disappointment), plus neutral tweets of the SemEval-2017 pool as ``none`` (TweetEval
  emotion has no neutral class).

Over hashed character 1-4-grams and word 1-2-grams (sub-linear tf, unit length), two
one-vs-rest linear models whose scores are averaged (``NB_SHARE``): a plain linear SVM
and an NB-SVM (each label's features scaled by their log-count ratio, label against the
rest, as Wang & Manning 2012). The ratio is folded into the weights, so the sum is one
ordinary linear model. Its scores are calibrated by a softmax temperature and per-label
offsets chosen for macro-F1 on 3-fold out-of-fold scores of the training part, and the
weakest weights are pruned. C, the NB-SVM's C and the share were chosen on a validation
part cut from the SMP2020-EWECT train part (seed 7), never on the held-out eval set.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np

from cxloop.text import _fitting
from cxloop.text.chinese import to_traditional
from cxloop.text.linear import FeatureSpec
from scripts.text_models.corpora import load_corpus

NAME = "emotion"
SMP_LABELS = {"happy": "joy", "angry": "anger", "sad": "disappointment", "fear": "worry",
              "surprise": "surprise", "neutral": "none"}  # fmt: skip
TWEET_LABELS = {
    "anger": "anger",
    "joy": "joy",
    "optimism": "joy",
    "sadness": "disappointment",
}
#: Neutral tweets added as ``none``.
NEUTRAL_TWEETS = 1500
FEATURES = FeatureSpec(char_ngrams=(1, 4), word_ngrams=(1, 2), max_chars=500)
MAX_WEIGHTS = 200_000
FOLDS = 3
#: Regularisation of the plain linear SVM and of the NB-SVM.
C = 1.0
NB_C = 0.3
#: Weight of the NB-SVM's scores in the average (the plain SVM has the rest).
NB_SHARE = 0.5
SEED = 7


def training_set(data_dir: Path) -> tuple[list[str], list[str], dict[str, Any]]:
    """Texts and our labels from the train parts, and where they came from."""
    smp = load_corpus("smp2020_ewect", data_dir)
    tweets = load_corpus("tweeteval_emotion", data_dir)
    pool = load_corpus("tweeteval_sentiment", data_dir)
    neutral = [t for t, label in zip(pool.train_texts, pool.train_labels, strict=True)
               if label == "neutral"]  # fmt: skip
    neutral = random.Random(SEED).sample(neutral, NEUTRAL_TWEETS)  # noqa: S311 - a fixed sample
    texts = smp.train_texts + tweets.train_texts + neutral
    labels = ([SMP_LABELS[v] for v in smp.train_labels]
              + [TWEET_LABELS[v] for v in tweets.train_labels] + ["none"] * len(neutral))  # fmt: skip
    sources = {
        "smp2020_ewect": {"rows": len(smp.train_texts), "licence": smp.licence},
        "tweeteval_emotion": {
            "rows": len(tweets.train_texts),
            "licence": tweets.licence,
        },
        "semeval2017_task4a_tweets (neutral)": {
            "rows": len(neutral),
            "licence": pool.licence,
        },
    }
    return texts, labels, sources


def _nb_ratio(present: Any, positive: np.ndarray) -> np.ndarray:
    """Log-count ratio of each feature: texts of one label against all the others."""
    pos = np.asarray(present[positive].sum(axis=0)).ravel() + 1.0
    neg = np.asarray(present[~positive].sum(axis=0)).ravel() + 1.0
    ratio: np.ndarray = np.log((pos / pos.sum()) / (neg / neg.sum()))
    return ratio.astype(np.float32)


def fit_scores(matrix: Any, y: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Plain SVM and NB-SVM weights (k, columns) averaged, and their intercepts (k,)."""
    import scipy.sparse as sp
    from sklearn.svm import LinearSVC

    coef, intercept = _fitting.fit_scores(matrix, y, k, C)
    present = matrix.copy()
    present.data[:] = 1.0
    nb_coef, nb_intercept = np.zeros_like(coef), np.zeros_like(intercept)
    for j in range(k):
        ratio = _nb_ratio(present, y == j)
        svm = LinearSVC(
            C=NB_C, class_weight="balanced", random_state=SEED, max_iter=5000
        )
        svm.fit((matrix @ sp.diags(ratio)).tocsr(), y == j)
        nb_coef[j], nb_intercept[j] = svm.coef_[0] * ratio, svm.intercept_[0]
    return ((1 - NB_SHARE) * coef + NB_SHARE * nb_coef,
            (1 - NB_SHARE) * intercept + NB_SHARE * nb_intercept)  # fmt: skip


def cross_validate(data: _fitting.TrainingData) -> tuple[np.ndarray, float]:
    """Out-of-fold probabilities of every training text, and the temperature."""
    k = len(data.labels)
    fold_of = _fitting._folds(data.y, FOLDS)
    scores = np.zeros((len(data.y), k))
    for i in range(FOLDS):
        train, test = fold_of != i, fold_of == i
        coef, intercept = fit_scores(data.matrix[train], data.y[train], k)
        scores[test] = data.matrix[test] @ coef.T + intercept
    temperature = _fitting._temperature(scores, data.y)
    return _fitting.softmax(scores * temperature), temperature


def _prune(coef: np.ndarray, keep: int) -> np.ndarray:
    strength = np.abs(coef).max(axis=0)
    weakest = np.argsort(strength)[: max(len(strength) - keep, 0)]
    pruned = coef.copy()
    pruned[:, weakest] = 0.0
    return pruned


def evaluate(predict: Any, texts: list[str], labels: list[str]) -> dict[str, float]:
    """Accuracy and macro-F1 of ``predict`` (texts → our labels) on mapped labels."""
    from sklearn.metrics import f1_score

    guess = predict(texts)
    return {"accuracy": round(float(np.mean(np.array(guess) == np.array(labels))), 4),
            "macro_f1": round(float(f1_score(labels, guess, average="macro",
                                             labels=sorted(set(labels)))), 4),
            "n": len(texts)}  # fmt: skip


def build(data_dir: Path, out_dir: Path) -> dict[str, Any]:
    """Train, measure on the held-out parts, and write ``out_dir/emotion.{npz,json}``."""
    texts, labels, sources = training_set(data_dir)
    data = _fitting.prepare(texts, labels, other="", embed=None, say=lambda _m: None,
                            spec=FEATURES)  # fmt: skip
    proba, temperature = cross_validate(data)
    offsets = _fitting.macro_f1_offsets(proba, data.y)
    coef, intercept = fit_scores(data.matrix, data.y, len(data.labels))
    coef, intercept = coef * np.float32(temperature), intercept * temperature
    model = (_prune(coef, MAX_WEIGHTS), intercept + offsets)
    meta: dict[str, Any] = {"kind": "shipped", "task": "emotion", "training": sources,
                            "label_map": {"smp2020_ewect": SMP_LABELS,
                                          "tweeteval_emotion": TWEET_LABELS},
                            "c": C, "nb_c": NB_C, "nb_share": NB_SHARE,
                            "temperature": round(temperature, 4),
                            "offsets": dict(zip(data.labels, offsets.round(3).tolist(), strict=True))}  # fmt: skip
    linear = _fitting.save(model, out_dir / NAME, data=data, meta=meta, name=NAME)
    figures = held_out(data_dir, linear)
    linear = _fitting.save(model, out_dir / NAME, data=data, meta=meta | {"held_out": figures},
                           name=NAME)  # fmt: skip
    size = sum((out_dir / f"{NAME}{s}").stat().st_size for s in (".npz", ".json"))
    return {"version": linear.version, "held_out": figures, "bytes": size,
            "weights": len(linear.columns)}  # fmt: skip


def held_out(data_dir: Path, linear: Any) -> dict[str, Any]:
    """Figures on the test parts: SMP2020-EWECT (and in zh-Hant), TweetEval emotion."""

    def predict(texts: list[str]) -> list[str]:
        return list(linear.predict(texts))

    smp = load_corpus("smp2020_ewect", data_dir)
    tweets = load_corpus("tweeteval_emotion", data_dir)
    smp_labels = [SMP_LABELS[v] for v in smp.test_labels]
    return {
        "smp2020_ewect": evaluate(predict, smp.test_texts, smp_labels)
        | {"note": "the eval texts also in train removed"},
        "smp2020_ewect_zh_hant": evaluate(predict, [to_traditional(t) for t in smp.test_texts], smp_labels),
        "tweeteval_emotion": evaluate(predict, tweets.test_texts,
                                      [TWEET_LABELS[v] for v in tweets.test_labels]),
    }  # fmt: skip
