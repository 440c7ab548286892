"""Knowledge-base search: cxloop's BM25 index against ``rank_bm25.BM25Okapi``.

On the E.SUN bank FAQ (``/work/shared/data`` or ``CXLOOP_SHARED_DATA``), the last
question of every id with two or more questions is held out; the rest is indexed as
one document per article (questions twice, answers once, the same tokens for both
engines: :func:`cxloop.loop.kb_index.tokenize`). Prints top-1 / top-3 accuracy, the
time to build each index and queries per second, at 1x and 8x the articles (copies
with new ids, for speed only). Run: ``.venv/bin/python bench/bench_kb.py``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
from rank_bm25 import BM25Okapi  # type: ignore[import-untyped]

from cxloop.loop.kb_index import build_index, tokenize, top_matches

DATA = Path(os.environ.get("CXLOOP_SHARED_DATA", "/work/shared/data"))


def load() -> tuple[list[list[str]], list[str], list[str], np.ndarray]:
    faq = pd.read_csv(
        DATA / "esun_bank_faq_zh_hant" / "faq_kb.csv", keep_default_na=False, dtype=str
    )
    several = faq.groupby("pid")["pid"].transform("size") >= 2
    held = faq[several].groupby("pid").tail(1)
    groups = faq.drop(index=held.index).groupby("pid", sort=False)
    ids = list(groups.groups)
    questions = [list(groups.get_group(i)["question"]) for i in ids]
    answers = ["\n".join(dict.fromkeys(groups.get_group(i)["answer"])) for i in ids]
    position = {pid: n for n, pid in enumerate(ids)}
    truth = np.array([position[pid] for pid in held["pid"]])
    return questions, answers, list(held["question"]), truth


def accuracy(best: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    return float((best[:, 0] == truth).mean()), float(
        (best[:, :3] == truth[:, None]).any(1).mean()
    )


Run = tuple[np.ndarray, float, float]


def run_cxloop(
    questions: list[list[str]], answers: list[str], queries: list[str]
) -> Run:
    start = time.perf_counter()
    index = build_index(questions, answers)
    built = time.perf_counter() - start
    start = time.perf_counter()
    best, _scores = top_matches(index, queries, 3)
    return best, built, len(queries) / (time.perf_counter() - start)


def run_rank_bm25(
    questions: list[list[str]], answers: list[str], queries: list[str]
) -> Run:
    start = time.perf_counter()
    corpus = [
        tokenize("\n".join(q)) * 2 + tokenize(a)
        for q, a in zip(questions, answers, strict=True)
    ]
    engine = BM25Okapi(corpus, k1=1.5, b=0.75)
    built = time.perf_counter() - start
    start = time.perf_counter()
    best = np.array(
        [
            np.argsort(-engine.get_scores(tokenize(q)), kind="stable")[:3]
            for q in queries
        ]
    )
    return best, built, len(queries) / (time.perf_counter() - start)


def main() -> None:
    questions, answers, queries, truth = load()
    tokenize("暖身")  # load jieba's dictionary outside the timings
    print(
        f"{len(questions)} articles, {len(queries)} held-out questions; {os.cpu_count()} cores"
    )
    for copies in (1, 8):
        qs, ans = questions * copies, answers * copies
        for name, engine in (("cxloop", run_cxloop), ("rank_bm25", run_rank_bm25)):
            best, built, rate = engine(qs, ans, queries)
            top1, top3 = accuracy(best, truth) if copies == 1 else (float("nan"),) * 2
            print(
                f"{len(qs):>6} articles {name:<10} build {built:6.2f} s  {rate:8.0f} q/s  top-1 {top1:.3f}  top-3 {top3:.3f}"
            )


if __name__ == "__main__":
    main()
