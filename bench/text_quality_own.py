"""Your own labels: how many it takes to read a domain the shipped models read poorly.

The shipped Chinese sentiment model learnt from reviews and Weibo posts. A company whose
customers write otherwise (Cantonese, its own products, its own service) is told to
label some of its texts and run ``cxloop text train --task sentiment`` (docs/en/
text-models.md). This benchmark measures that advice on the Cantonese forum comments
(``hk_cantonese_forum_sentiment``) and on Amazon Alexa reviews (``amazon_alexa_reviews``,
English, a device's owners): three classes each, never trained on by a shipped model.
For each:

- for N labelled texts (a fixed stratified sample of its train part, seed 7, each
  larger sample holding the smaller ones), ``train_user_model(task="sentiment")``, what
  ``cxloop text train`` runs, with its cross-validated accuracy;
- the whole test part scored through ``score_texts`` with that model folder, as
  ``cxloop text score --model-dir`` does;
- in the same run, the shipped model and a peer on the same test texts: SnowNLP (its
  neutral band chosen on the same train part) for Chinese, VADER for English.

Then the same with the positive and negative texts only (the sign decides), where
``text train`` can average its model with the shipped one
(:mod:`cxloop.text.shipped_blend`): the model alone, and as saved (averaged when its
out-of-fold predictions said so).

Run: ``.venv/bin/python bench/text_quality_own.py [--sizes 100,300,1000,0]`` (0: the
whole train part). Figures go to bench/README.md ("Text quality: your own labels").
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from text_quality import DATA, snownlp_band, snownlp_scorer, vader_scorer  # noqa: E402

from cxloop.text.scoring import TextModels, default_models, score_texts  # noqa: E402
from cxloop.text.training import train_user_model  # noqa: E402
from scripts.text_models.corpora import load_corpus  # noqa: E402

CORPORA = ("hk_cantonese_forum_sentiment", "amazon_alexa_reviews")
SEED = 7


def nested_samples(
    texts: list[str], labels: list[str], sizes: list[int]
) -> dict[int, tuple[list[str], list[str]]]:
    """Stratified samples of each size, each larger one holding the smaller ones."""
    order: list[int] = []
    rest = np.arange(len(texts))
    for size in sorted(s for s in sizes if 0 < s < len(texts)):
        need = size - len(order)
        picked, rest = train_test_split(
            rest, train_size=need, random_state=SEED, stratify=[labels[i] for i in rest]
        )
        order += list(picked)
    samples = {s: ([texts[i] for i in order[:s]], [labels[i] for i in order[:s]])
               for s in sizes if 0 < s < len(texts)}  # fmt: skip
    if 0 in sizes or any(s >= len(texts) for s in sizes):
        samples[len(texts)] = (texts, labels)
    return samples


def _figures(truth: list[str], guess: list[str]) -> tuple[float, float]:
    return (float(accuracy_score(truth, guess)),
            float(f1_score(truth, guess, labels=sorted(set(truth)), average="macro")))  # fmt: skip


def _labels(models: TextModels, texts: list[str]) -> list[str]:
    found = score_texts(
        texts, models=models, parts=frozenset({"language", "sentiment"})
    )
    return [score.sentiment or "none" for score in found]


def corpus_table(name: str, sizes: list[int]) -> None:
    """Print the table of one corpus."""
    corpus = load_corpus(name, DATA)
    truth = list(corpus.test_labels)
    rows = []
    shipped = _figures(truth, _labels(default_models(), corpus.test_texts))
    rows.append(("shipped models (never saw these texts)", "", *shipped, ""))
    if name.startswith("hk_"):
        band = snownlp_band(name)
        peer_name, scorer = f"SnowNLP (neutral band ±{band})", snownlp_scorer(band)
    else:
        peer_name, scorer = "VADER (compound ±0.05)", vader_scorer()
    peer = _figures(truth, [label for label, _ in scorer(corpus.test_texts)])
    rows.append((peer_name, "", *peer, ""))
    for size, (texts, labels) in sorted(
        nested_samples(
            list(corpus.train_texts), list(corpus.train_labels), sizes
        ).items()
    ):
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            report = train_user_model(task="sentiment", texts=texts, labels=labels,
                                      model_dir=Path(folder))  # fmt: skip
            seconds = time.perf_counter() - started
            own = _figures(truth, _labels(TextModels.load(model_dir=Path(folder)),
                                          corpus.test_texts))  # fmt: skip
        rows.append((f"`text train --task sentiment` on {size:,} labelled texts",
                     f"{report.accuracy:.3f}", *own, f"{seconds:.0f} s"))  # fmt: skip
    counts = ", ".join(f"{k} {truth.count(k)}" for k in sorted(set(truth)))
    print(f"\n{name}: {len(truth)} test texts ({counts})\n")
    print(
        "| model | cross-validated accuracy | test accuracy | test macro-F1 | training |"
    )
    print("| --- | ---: | ---: | ---: | ---: |")
    for row_name, cv, accuracy, macro, seconds in rows:
        print(f"| {row_name} | {cv} | {accuracy:.3f} | {macro:.3f} | {seconds} |")


def binary_table(name: str, sizes: list[int]) -> None:
    """Print the positive/negative table of one corpus: own model alone and as saved."""
    corpus = load_corpus(name, DATA)
    train = [(t, y) for t, y in zip(corpus.train_texts, corpus.train_labels, strict=True)
             if y != "neutral"]  # fmt: skip
    test = [(t, y) for t, y in zip(corpus.test_texts, corpus.test_labels, strict=True)
            if y != "neutral"]  # fmt: skip
    texts, truth = [t for t, _ in test], [y for _, y in test]

    def signed(models: TextModels) -> list[str]:
        found = score_texts(texts, models=models, parts=frozenset({"language", "sentiment"}))  # fmt: skip
        return ["positive" if (f.sentiment_score or 0) >= 0 else "negative" for f in found]  # fmt: skip

    shipped = _figures(truth, signed(default_models()))
    print(f"\n{name}, positive and negative only: {len(truth)} test texts "
          f"(the sign decides); shipped models {shipped[0]:.3f} / {shipped[1]:.3f}\n")  # fmt: skip
    print("| labelled texts | out of fold: alone / averaged | test: model alone | "
          "test: as saved |")  # fmt: skip
    print("| ---: | ---: | ---: | ---: |")
    samples = nested_samples([t for t, _ in train], [y for _, y in train], sizes)
    for size, (sample, labels) in sorted(samples.items()):
        with tempfile.TemporaryDirectory() as folder:
            report = train_user_model(task="sentiment", texts=sample, labels=labels,
                                      model_dir=Path(folder))  # fmt: skip
            models = TextModels.load(model_dir=Path(folder))
            saved = _figures(truth, signed(models))
            users = models.user_models
            assert users is not None
            own = users.models["sentiment"]
            users.models["sentiment"] = dataclasses.replace(own, shipped_weight=0.0)
            alone = _figures(truth, signed(models))
        blend = report.extra.get("shipped", {})
        judged = f"{blend.get('alone', 0):.3f} / {blend.get('with_shipped', 0):.3f}"
        verdict = "averaged" if blend.get("shipped_weight") else "alone"
        print(f"| {size:,} | {judged} | {alone[0]:.3f} / {alone[1]:.3f} | "
              f"{saved[0]:.3f} / {saved[1]:.3f} ({verdict}) |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,300,1000,0")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    for name in CORPORA:
        corpus_table(name, sizes)
    for name in CORPORA:
        binary_table(name, sizes)


if __name__ == "__main__":
    main()
