"""Train the topic classifier ``models/topics`` from weak labels.

No public corpus here is labelled with CX topics, so the labels come from the default
taxonomy's keyword rules (weak supervision): every training text of the review corpora
gets the topics its keywords find, and texts with none get ``none``. To teach the model
the *context* of a topic rather than its keywords, half of the examples have the matched
keywords masked out; a text with several topics is one example per topic. The
probability threshold of each topic is chosen on the corpora's held-out test parts, with
the keywords masked, as the lowest one whose precision reaches ``TARGET_PRECISION``
(topics that never reach it get threshold 1.0: the model never adds them).

The category labels of online_shopping_10_cats (books, tablets, fruit, hotels...) name
product types, not what a review is about, so they are not used as topic labels.
"""

from __future__ import annotations

import dataclasses
import random
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from scripts.text_models.corpora import load_corpus

CORPORA = (
    "waimai_10k",
    "chnsenticorp_htl_all",
    "online_shopping_10_cats",
    "uci_sentiment_labelled_yelp",
    "uci_sentiment_labelled_amazon",
    "amazon_alexa_reviews",
)
NONE = "none"
SEED = 7
MASK_SHARE = 0.5
NONE_SHARE = 0.3
TARGET_PRECISION = 0.8
THRESHOLDS = np.round(np.arange(0.3, 0.96, 0.05), 2)
MAX_PER_CORPUS = 12_000


def build(data_dir: Path, out_dir: Path) -> dict[str, Any]:
    """Train ``out_dir/topics.npz|json`` and return its held-out figures."""
    from cxloop.text.linear import FeatureSpec, fit_linear
    from cxloop.text.taxonomy import load_taxonomy

    taxonomy = dataclasses.replace(load_taxonomy(), use_model=False)
    rng = random.Random(SEED)  # noqa: S311 - a fixed seed, not security
    train, test, licences = _texts(data_dir, rng)
    texts, labels = _examples(train, taxonomy, rng)
    features = FeatureSpec(char_ngrams=(1, 3), n_features=2**18, max_weights=60_000)
    model = fit_linear(texts, labels, features=features, c=4.0, name="topics")
    thresholds, figures = _thresholds(model, test, taxonomy)
    meta = dict(model.meta)
    meta.update(
        thresholds=thresholds,
        training_data=licences,
        weak_labels="default taxonomy keyword rules",
        held_out=figures,
        examples=dict(Counter(labels)),
    )
    model = dataclasses.replace(model, meta=meta)
    model.save(out_dir / "topics")
    return {"model": "topics", "thresholds": thresholds, "held_out": figures}


def _texts(
    data_dir: Path, rng: random.Random
) -> tuple[list[str], list[str], dict[str, str]]:
    train: list[str] = []
    test: list[str] = []
    licences = {}
    for name in CORPORA:
        corpus = load_corpus(name, data_dir)
        licences[name] = corpus.licence
        part = list(corpus.train_texts)
        rng.shuffle(part)
        train += part[:MAX_PER_CORPUS]
        test += corpus.test_texts
    return train, test, licences


def _examples(
    texts: list[str], taxonomy: Any, rng: random.Random
) -> tuple[list[str], list[str]]:
    """One example per (text, topic); keywords masked in half of them."""
    from cxloop.text.topic_rules import compile_taxonomy, fold_many, match_rules

    compiled = compile_taxonomy(taxonomy)
    out_texts: list[str] = []
    out_labels: list[str] = []
    for text, folded in zip(texts, fold_many(texts), strict=True):
        hits = match_rules(folded, compiled)
        if not hits.spans:
            if rng.random() < NONE_SHARE:
                out_texts.append(text)
                out_labels.append(NONE)
            continue
        masked = _mask(text, [s for spans in hits.spans.values() for s in spans])
        for topic in hits.spans:
            out_texts.append(masked if rng.random() < MASK_SHARE else text)
            out_labels.append(compiled.keys[topic])
    return out_texts, out_labels


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        chars[start:end] = [" "] * (end - start)
    return "".join(chars)


def _thresholds(
    model: Any, texts: list[str], taxonomy: Any
) -> tuple[dict[str, float], dict[str, Any]]:
    """Per topic, the lowest threshold with precision >= TARGET_PRECISION on masked text."""
    from cxloop.text.topic_rules import compile_taxonomy, fold_many, match_rules

    compiled = compile_taxonomy(taxonomy)
    gold: list[set[str]] = []
    masked: list[str] = []
    for text, folded in zip(texts, fold_many(texts), strict=True):
        hits = match_rules(folded, compiled)
        gold.append({compiled.keys[t] for t in hits.spans})
        masked.append(_mask(text, [s for spans in hits.spans.values() for s in spans]))
    proba = model.predict_proba(masked)
    thresholds: dict[str, float] = {}
    figures: dict[str, Any] = {}
    for col, label in enumerate(model.labels):
        if label == NONE:
            continue
        truth = np.array([label in g for g in gold])
        chosen, precision, recall = 1.0, 0.0, 0.0
        for threshold in THRESHOLDS:
            predicted = proba[:, col] >= threshold
            if predicted.sum() >= 10:
                p = float((predicted & truth).sum() / predicted.sum())
                if p >= TARGET_PRECISION:
                    chosen, precision = float(threshold), p
                    recall = float((predicted & truth).sum() / max(1, truth.sum()))
                    break
        thresholds[label] = chosen
        figures[label] = {"threshold": chosen, "precision": round(precision, 3),
                          "recall_without_keywords": round(recall, 3), "support": int(truth.sum())}  # fmt: skip
    return thresholds, figures
