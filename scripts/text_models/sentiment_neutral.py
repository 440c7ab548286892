"""Build the neutral gate ``sentiment_zh_neutral`` (see ``cxloop.text.neutral``).

A linear model, neutral against opinionated, over hashed character 1-3-grams:

- neutral: the ``neutral`` posts of the SMP2020-EWECT train part (Weibo), and as many
  plain customer questions of ATEC (Alipay customer service, zh-Hans): questions by a
  question mark or cue (:func:`cxloop.text.intent.asks_question`) with no cue of
  impatience (:data:`IMPATIENT`: 为什么, 还没, 到底...), a fixed sample, none of the ones
  measured below;
- opinionated: a fixed sample of its happy / angry / sad / fear posts and an equal
  sample of the train parts of the three Chinese review corpora.

The questions teach the gate that asking is not complaining: a review- and Weibo-trained
model read "請問信用卡年費怎麼計算" as negative. Measured beside the gate without them
(bench/README.md), they change no three-class figure and lift the E.SUN bank FAQ
questions (zh-Hant, another company, measured only) from 55 % to 85 % neutral.

C is fixed. The threshold on P(neutral) is chosen, like the neutral band of
``sentiment_zh``, on the train part of the three-class Cantonese forum corpus (macro-F1
of the gated labels); a threshold above 1 would mean the gate only shrinks scores.
Held-out figures, written into the model's JSON, compare the labels without and with
the gate: the Cantonese forum test part, the SMP2020-EWECT eval set read as three
classes (happy positive; angry, sad, fear negative; neutral; surprise left out: the
gate's neutral texts come from the same source, so this one flatters it), and the share
of customer-service questions (E.SUN FAQ, measured only; the first ATEC questions, never
trained on) and of review test texts labelled neutral.

Run after ``sentiment`` (the threshold depends on ``sentiment_zh``):
``.venv/bin/python scripts/train_text_models.py --only sentiment_neutral``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score

from cxloop.text import sentiment
from cxloop.text.intent import asks_question
from cxloop.text.linear import FeatureSpec, LinearTextModel, fit_linear
from cxloop.text.neutral import NEUTRAL_MODEL, gated, neutral_probability
from cxloop.text.topic_rules import fold_many
from scripts.text_models.corpora import SEED, Corpus, load_corpus

NEUTRAL_CORPUS = "smp2020_ewect"
REVIEWS = ("chnsenticorp_htl_all", "waimai_10k", "online_shopping_10_cats")
THREE_CLASS = "hk_cantonese_forum_sentiment"
SMP_THREE = {"happy": "positive", "angry": "negative", "sad": "negative",
             "fear": "negative", "neutral": "neutral"}  # fmt: skip
#: Opinionated texts from each source (Weibo posts, reviews).
OPINION_SAMPLE = 7000
FEATURES = FeatureSpec(
    char_ngrams=(1, 3), n_features=2**20, max_weights=150_000, idf=True
)
C = 1.0
THRESHOLDS = (*(round(t, 2) for t in np.arange(0.3, 0.96, 0.05)), 1.01)
QUESTIONS_SAMPLE = 2000
QUESTIONS_CORPUS = "atec_customer_service_qmatch"
#: Cues of an impatient question (folded text): such questions are not neutral.
IMPATIENT = re.compile(
    r"为什么|为何|怎么还|怎么又|怎么这么|怎么会|还没|还不|到底|凭什么|难道|\bwhy\b|\bstill\b"
)


def training_set(data_dir: Path) -> tuple[list[str], list[str], list[dict[str, Any]]]:
    """Texts labelled neutral / opinion, and where they came from."""
    smp = load_corpus(NEUTRAL_CORPUS, data_dir)
    reviews = [load_corpus(name, data_dir) for name in REVIEWS]
    neutral = [t for t, label in zip(smp.train_texts, smp.train_labels, strict=True)
               if label == "neutral"]  # fmt: skip
    feeling = [t for t, label in zip(smp.train_texts, smp.train_labels, strict=True)
               if SMP_THREE.get(label, "neutral") != "neutral"]  # fmt: skip
    pool = [t for corpus in reviews for t in corpus.train_texts]
    rng = random.Random(SEED)  # noqa: S311 - a fixed sample, not a secret
    opinion = rng.sample(feeling, OPINION_SAMPLE) + rng.sample(pool, OPINION_SAMPLE)
    asked = plain_questions(data_dir)
    notes = [{"corpus": NEUTRAL_CORPUS, "neutral": len(neutral), "opinion": OPINION_SAMPLE,
              "licence": smp.licence},
             {"corpus": QUESTIONS_CORPUS, "neutral": len(asked),
              "licence": "not stated by the source"}] + [
        {"corpus": c.name, "opinion_pool": len(c.train_texts), "licence": c.licence}
        for c in reviews
    ]  # fmt: skip
    texts = neutral + asked + opinion
    labels = ["neutral"] * (len(neutral) + len(asked)) + ["opinion"] * len(opinion)
    return texts, labels, notes


def _atec(data_dir: Path) -> pd.DataFrame:
    return pd.read_csv(data_dir / QUESTIONS_CORPUS / "atec_dev.csv")


def _measured_atec(atec: pd.DataFrame) -> list[str]:
    """The ATEC questions measured (never trained on)."""
    first = atec["question1"].dropna().astype(str).str.strip().drop_duplicates()
    return list(first.head(QUESTIONS_SAMPLE))


def plain_questions(data_dir: Path) -> list[str]:
    """A fixed sample of plain ATEC questions (asking, no impatience), none measured."""
    atec = _atec(data_dir)
    measured = set(_measured_atec(atec))
    both = pd.concat([atec["question1"], atec["question2"]])
    pool = [q for q in both.dropna().astype(str).str.strip().drop_duplicates()
            if q not in measured and len(q) <= 100]  # fmt: skip
    folded = fold_many(pool, max_chars=2000)
    plain = [q for q, f in zip(pool, folded, strict=True)
             if asks_question(f) and not IMPATIENT.search(f)]  # fmt: skip
    order = np.random.default_rng(SEED).permutation(len(plain))[:OPINION_SAMPLE]
    return [plain[i] for i in order]


def _binary_scores(texts: Sequence[str], folder: Path) -> tuple[np.ndarray, float]:
    model = sentiment.read_model(folder / sentiment.ZH_MODEL)
    proba = model.predict_proba(texts)[:, model.labels.index("positive")]
    band = float(model.meta.get("neutral_band", sentiment.DEFAULT_NEUTRAL_BAND))
    return 2.0 * proba - 1.0, band


def _labels(gate: LinearTextModel | None, texts: Sequence[str], threshold: float,
            folder: Path = sentiment.MODEL_DIR) -> list[str]:  # fmt: skip
    """Labels of ``sentiment_zh`` in ``folder``, gated by ``gate`` (None: no gate)."""
    scores, band = _binary_scores(texts, folder)
    neutral = (neutral_probability(gate, texts) if gate is not None
               else np.zeros(len(texts)))  # fmt: skip
    return [
        label for label, _ in gated(scores, neutral, band=band, threshold=threshold)
    ]


def _macro(truth: Sequence[str], found: Sequence[str]) -> float:
    return round(float(f1_score(truth, found, average="macro")), 4)


def _compare(gate: LinearTextModel, threshold: float, texts: list[str],
             truth: list[str] | None, folder: Path) -> dict[str, Any]:  # fmt: skip
    before = _labels(None, texts, 1.01, folder)
    after = _labels(gate, texts, threshold, folder)
    row: dict[str, Any] = {
        "n": len(texts),
        "neutral_share_before": round(
            float(np.mean([x == "neutral" for x in before])), 4
        ),
        "neutral_share_after": round(
            float(np.mean([x == "neutral" for x in after])), 4
        ),
    }
    if truth is not None:
        row["macro_f1_before"], row["macro_f1_after"] = (
            _macro(truth, before),
            _macro(truth, after),
        )
    return row


def _questions(data_dir: Path) -> dict[str, list[str]]:
    """Customer-service questions (measured only): ATEC (zh-Hans), E.SUN FAQ (zh-Hant)."""
    esun = pd.read_csv(data_dir / "esun_bank_faq_zh_hant" / "faq_kb.csv")
    esun_q = esun["question"].dropna().astype(str).str.strip().drop_duplicates()
    return {"atec_customer_service_qmatch questions": _measured_atec(_atec(data_dir)),
            "esun_bank_faq_zh_hant questions": esun_q.tolist()}  # fmt: skip


def build(data_dir: Path, out_dir: Path) -> dict[str, Any]:
    """Fit, measure and save ``sentiment_zh_neutral``."""
    texts, labels, notes = training_set(data_dir)
    gate = fit_linear(texts, labels, features=FEATURES, c=C, name=NEUTRAL_MODEL)
    three: Corpus = load_corpus(THREE_CLASS, data_dir)

    def train_f1(threshold: float) -> float:
        return _macro(
            three.train_labels, _labels(gate, three.train_texts, threshold, out_dir)
        )

    chosen = max(THRESHOLDS, key=train_f1)
    smp = load_corpus(NEUTRAL_CORPUS, data_dir)
    smp_pairs = [(t, SMP_THREE[v]) for t, v in zip(smp.test_texts, smp.test_labels, strict=True)
                 if v in SMP_THREE]  # fmt: skip
    held_out: dict[str, Any] = {
        THREE_CLASS: _compare(
            gate, chosen, three.test_texts, three.test_labels, out_dir
        ),
        f"{NEUTRAL_CORPUS} (3 classes, in-domain)": _compare(
            gate, chosen, [t for t, _ in smp_pairs], [v for _, v in smp_pairs], out_dir
        ),
    }
    for name, questions in _questions(data_dir).items():
        held_out[name] = _compare(gate, chosen, questions, None, out_dir)
    for name in REVIEWS:
        corpus = load_corpus(name, data_dir)
        held_out[f"{name} (test)"] = _compare(
            gate, chosen, corpus.test_texts, None, out_dir
        )
    gate.meta.update({"neutral_threshold": chosen, "c": C,
                      "threshold_train_macro_f1": train_f1(chosen),
                      "held_out": held_out, "data": notes,
                      "threshold_data": [{"corpus": three.name, "licence": three.licence}]})  # fmt: skip
    gate.save(out_dir / NEUTRAL_MODEL)
    return {"model": NEUTRAL_MODEL, "version": gate.version, "threshold": chosen,
            "weights": len(gate.columns), "held_out": held_out}  # fmt: skip
