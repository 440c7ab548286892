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

Run: ``.venv/bin/python bench/text_quality_own.py [--sizes 100,300,1000,0]`` (0: the
whole train part). Figures go to bench/README.md ("Text quality: your own labels").
"""

from __future__ import annotations

import argparse
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,300,1000,0")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    for name in CORPORA:
        corpus_table(name, sizes)


if __name__ == "__main__":
    main()
