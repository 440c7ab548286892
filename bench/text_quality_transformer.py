"""The transformer backend on the project's held-out sets, beside the shipped linear models.

For each set, ``fine_tune`` (what ``cxloop text train --backend transformer`` runs)
fine-tunes ``--base-model`` (a local pre-trained Hugging Face model folder) on the set's
train part, and the fine-tuned model scores the held-out test part fixed by
``scripts/text_models/corpora.py``, as published and converted to Traditional Chinese.
The shipped linear model scores the same texts in the same run.

- Sentiment (ChnSentiCorp hotel, waimai_10k, online_shopping_10_cats): accuracy of the
  sign of the score, as ``bench/text_quality.py`` measures; targets 0.93 / 0.91 / 0.95.
- Emotion (``--emotion``, SMP2020-EWECT, six classes): macro-F1; target 0.72.

Run where a pre-trained model and ideally a GPU are::

    .venv/bin/python bench/text_quality_transformer.py --base-model DIR \\
        [--sample N] [--train-sample N] [--epochs 2] [--device auto] [--emotion] \\
        [--train-embeddings]

Needs ``pip install 'cxloop[transformer]'``. ``--train-sample`` and ``--sample`` cut the
train and test parts to a fixed random subset (for a quick run on a CPU). ``--pooled``
fine-tunes one sentiment model on the train parts of all the ``--sets`` together (as the
shipped ``sentiment_zh`` is trained) instead of one per set. ``--keep DIR`` keeps the
models, and ``--reuse`` then scores with them again without fine-tuning.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cxloop.text import emotion, sentiment  # noqa: E402
from cxloop.text._fitting import MAX_OTHER_SHARE  # noqa: E402
from cxloop.text.chinese import to_traditional  # noqa: E402
from cxloop.text.scoring import transformer_sentiment  # noqa: E402
from cxloop.text.transformer import load_transformer  # noqa: E402
from cxloop.text.transformer_training import fine_tune  # noqa: E402
from scripts.text_models.corpora import load_corpus  # noqa: E402
from scripts.text_models.emotion import SMP_LABELS  # noqa: E402

DATA = Path(os.environ.get("CXLOOP_SHARED_DATA", "/work/shared/data"))
ZH_SETS = ("chnsenticorp_htl_all", "waimai_10k", "online_shopping_10_cats")


def _sample(texts: list[str], labels: list[str], n: int | None, seed: int) -> tuple[list[str], list[str]]:  # fmt: skip
    if n is None or len(texts) <= n:
        return texts, labels
    pick = np.random.default_rng(seed).permutation(len(texts))[:n]
    return [texts[i] for i in pick], [labels[i] for i in pick]


def _sign(results: list[tuple[str, float] | None]) -> list[str]:
    return ["none" if r is None else ("positive" if r[1] >= 0 else "negative")
            for r in results]  # fmt: skip


def _figures(truth: list[str], guess: list[str]) -> tuple[float, float]:
    return (round(float(accuracy_score(truth, guess)), 4),
            round(float(f1_score(truth, guess, average="macro")), 4))  # fmt: skip


def _train(args: argparse.Namespace, task: str, texts: list[str], labels: list[str],
           folder: Path) -> tuple[Any, dict[str, Any]]:  # fmt: skip
    """Fine-tune (or, with ``--reuse``, load the model kept there) and its figures."""
    path = folder / f"{task}.transformer"
    start = time.perf_counter()
    facts: dict[str, Any] = {}
    # the emotion set has no "other" texts: every text gets one of the six labels
    max_other = 0.0 if task == "emotion" else MAX_OTHER_SHARE
    if not (args.reuse and path.is_dir()):
        report = fine_tune(task=task, texts=texts, labels=labels, model_dir=folder,
                           base_model=args.base_model, epochs=args.epochs,
                           batch_size=args.batch_size, learning_rate=args.learning_rate,
                           max_length=args.max_length, device=args.device,
                           max_other=max_other, freeze_embeddings=not args.train_embeddings,
                           progress=print if args.verbose else None)  # fmt: skip
        facts = {"train_s": round(time.perf_counter() - start, 1),
                 "validation_accuracy": report.accuracy,
                 "validation_shipped": report.extra.get("shipped")}  # fmt: skip
    model = load_transformer(path, task, device=args.device)
    return model, facts | {"shipped_weight": model.shipped_weight}


def sentiment_rows(args: argparse.Namespace, work: Path) -> list[dict[str, Any]]:
    """One row per set and script: the fine-tuned transformer and the linear model.

    With ``--pooled`` one model is fine-tuned on the train parts of all the sets and
    scores each set's test part; otherwise each set has its own model.
    """
    parts = {}
    for name in args.sets:
        corpus = load_corpus(name, DATA)
        train = _sample(corpus.train_texts, corpus.train_labels, args.train_sample, 11)
        test = _sample(corpus.test_texts, corpus.test_labels, args.sample, 7)
        parts[name] = (train, test)
    models = {}
    if args.pooled and parts:
        texts = [t for train, _ in parts.values() for t in train[0]]
        labels = [v for train, _ in parts.values() for v in train[1]]
        pooled = _train(args, "sentiment", texts, labels, work / "pooled")
        models = dict.fromkeys(parts, pooled)
    rows = []
    for name, (train, (test_texts, test_labels)) in parts.items():
        model, facts = models.get(name) or _train(
            args, "sentiment", *train, work / name
        )
        for script, texts in (("zh-Hans", test_texts),
                              ("zh-Hant", [to_traditional(t) for t in test_texts])):  # fmt: skip
            start = time.perf_counter()
            found = _sign(transformer_sentiment(model, texts, [script] * len(texts)))
            rate = len(texts) / (time.perf_counter() - start)
            linear = _sign(sentiment.score_sentiment(texts, [script] * len(texts)))
            rows.append({"set": f"{name} ({script})", "n": len(texts),
                         "transformer": _figures(test_labels, found),
                         "linear": _figures(test_labels, linear),
                         "texts_per_s": round(rate, 1)} | facts)  # fmt: skip
            print(rows[-1], flush=True)
    return rows


def emotion_row(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """SMP2020-EWECT six classes: the fine-tuned transformer and the shipped model."""
    corpus = load_corpus("smp2020_ewect", DATA)
    labels = [SMP_LABELS[v] for v in corpus.train_labels]
    train = _sample(corpus.train_texts, labels, args.train_sample, 11)
    truth_all = [SMP_LABELS[v] for v in corpus.test_labels]
    texts, truth = _sample(corpus.test_texts, truth_all, args.sample, 7)
    model, facts = _train(args, "emotion", *train, work / "emotion")
    found = [label for label, _ in model.predict(texts)]
    # the shipped model's own labels: its gratitude / frustration cues folded back, as
    # bench/text_quality_intent.py scores it
    fold = {"gratitude": "joy", "frustration": "anger"}
    shipped = [
        fold.get(r[0], r[0]) if r else "none"
        for r in emotion.score_emotion(texts, ["zh-Hans"] * len(texts))
    ]
    row = {"set": "smp2020_ewect (zh-Hans)", "n": len(texts),
           "transformer": _figures(truth, found),
           "linear": _figures(truth, shipped)} | facts  # fmt: skip
    print(row, flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-model", type=Path, required=True)
    parser.add_argument("--sample", type=int, default=None, help="test texts per set")
    parser.add_argument(
        "--train-sample", type=int, default=None, help="train texts per set"
    )
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--learning-rate", type=float, default=5e-5)
    parser.add_argument(
        "--sets",
        nargs="*",
        choices=ZH_SETS,
        default=list(ZH_SETS),
        help="the sentiment sets (none: --emotion only)",
    )
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--emotion", action="store_true", help="also SMP2020-EWECT")
    parser.add_argument(
        "--pooled",
        action="store_true",
        help="one sentiment model fine-tuned on the train parts of all the sets",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="score with the models already kept in --keep instead of fine-tuning",
    )
    parser.add_argument(
        "--train-embeddings",
        action="store_true",
        help="also train the token vectors (frozen by default; cheap on a GPU)",
    )
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="keep the fine-tuned models in this folder",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = args.keep or Path(folder)
        rows = sentiment_rows(args, work)
        if args.emotion:
            rows.append(emotion_row(args, work))
    print()
    print(
        "| set | texts | transformer accuracy | macro-F1 | linear accuracy | macro-F1 |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        (ta, tf1), (la, lf1) = row["transformer"], row["linear"]
        print(
            f"| {row['set']} | {row['n']:,} | {ta:.3f} | {tf1:.3f} | {la:.3f} | {lf1:.3f} |"
        )


if __name__ == "__main__":
    main()
