"""Topic quality on a hand-labelled sample, and topic speed against a naive matcher.

Quality: ``tests/text/data/topics_labelled.csv`` holds 215 review texts from the held-out
test parts of waimai_10k, ChnSentiCorp hotel, online_shopping_10_cats and the UCI
Yelp / Amazon sentences, each labelled by hand with the default taxonomy's topics. The
``tuning`` part (155 texts) was labelled once the first taxonomy was written and then
used to improve its keywords, so its figures after tuning are optimistic (before tuning,
the first taxonomy's rules scored precision 0.775 and recall 0.725 on it); the ``check``
part (60 texts) was sampled and labelled after the last change to the taxonomy. Micro
precision and recall over (text, topic) pairs, for the keyword rules alone and rules +
classifier, on the texts as they are and with the Chinese converted to Traditional
(OpenCC s2twp).

Topic sentiment: no public corpus labels the sentiment of each topic of a text, so a
proxy. On the held-out test parts of ChnSentiCorp hotel, waimai_10k and
online_shopping_10_cats, each topic hit's sign (the sentiment of the words about that
topic) is compared with the review's own positive/negative label, apart for the texts
with one topic (where the topic's words should carry the review's opinion) and with
several (where they may differ, so agreement is only a hint). The shipped span rule (a
topic's clauses, each with the clauses after it that mention no topic, up to a
contrast) is measured beside the earlier rule in the same run (only the clauses that
mention the topic, plus the next one after a bare noun).

Speed: ``find_topics`` on 5,000 short waimai_10k texts (with the shipped sentiment
model scoring each topic's clauses, and with a no-op sentiment to isolate matching),
against a naive matcher measured in the same run: for every text, ``keyword in text``
over every keyword of the taxonomy (after the same Traditional to Simplified folding).

Run: ``.venv/bin/python bench/text_topics.py`` (``--no-readme`` to only print).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import opencc
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
README = ROOT / "bench" / "README.md"
SAMPLE = ROOT / "tests" / "text" / "data" / "topics_labelled.csv"
DATA = Path(os.environ.get("CXLOOP_DATA", ROOT.parent / "shared" / "data"))

from cxloop.text import topics as topics_module  # noqa: E402
from cxloop.text.sentiment import score_sentiment  # noqa: E402
from cxloop.text.taxonomy import Taxonomy, load_taxonomy  # noqa: E402
from cxloop.text.topic_rules import RuleHits, fold_many, sentiment_span  # noqa: E402
from cxloop.text.topics import find_topics, topic_keys, topic_model_version  # noqa: E402
from scripts.text_models.corpora import load_corpus  # noqa: E402

REVIEW_SETS = ("chnsenticorp_htl_all", "waimai_10k", "online_shopping_10_cats")


def _languages(frame: pd.DataFrame, traditional: bool) -> list[str]:
    chinese = "zh-Hant" if traditional else "zh-Hans"
    return ["en" if c.startswith("uci") else chinese for c in frame["corpus"]]


def _scores(
    gold: Sequence[set[str]], found: Sequence[frozenset[str]]
) -> tuple[float, ...]:
    tp = sum(len(g & f) for g, f in zip(gold, found, strict=True))
    fp = sum(len(f - g) for g, f in zip(gold, found, strict=True))
    fn = sum(len(g - f) for g, f in zip(gold, found, strict=True))
    precision, recall = tp / max(1, tp + fp), tp / max(1, tp + fn)
    return precision, recall, 2 * precision * recall / max(1e-9, precision + recall)


def quality() -> list[tuple[str, str, str, int, tuple[float, ...]]]:
    frame = pd.read_csv(SAMPLE, keep_default_na=False)
    to_hant = opencc.OpenCC("s2twp")
    rows = []
    for use_model in (False, True):
        taxonomy = dataclasses.replace(load_taxonomy(), use_model=use_model)
        name = "rules + classifier" if use_model else "rules only"
        for part in ("tuning", "check"):
            sample = frame[frame["part"] == part]
            gold = [set(filter(None, t.split(";"))) for t in sample["topics"]]
            for traditional in (False, True):
                texts = list(sample["text"])
                if traditional:
                    texts = [to_hant.convert(t) for t in texts]
                found = topic_keys(
                    texts, _languages(sample, traditional), taxonomy=taxonomy
                )
                script = "zh-Hant" if traditional else "as is"
                rows.append((name, part, script, len(texts), _scores(gold, found)))
    return rows


def clause_only_span(hits: RuleHits, topic: int) -> list[tuple[int, int]]:
    """The earlier span rule (the peer): the clauses that mention the topic; a clause
    little more than the matched words takes the next clause along."""
    spans = []
    for index in sorted(hits.clauses[topic]):
        start, end = hits.clause_spans[index]
        matched = sum(e - s for s, e in hits.spans[topic] if start <= s < end)
        if end - start - matched < 2 and index + 1 < len(hits.clause_spans):
            end = hits.clause_spans[index + 1][1]
        spans.append((start, end))
    return spans


def topic_sentiment() -> list[tuple[str, str, dict[str, tuple[int, int]]]]:
    """Per review set and span rule: (agreeing, hits) for one-topic and many-topic texts."""
    taxonomy = load_taxonomy()
    rows = []
    for name in REVIEW_SETS:
        corpus = load_corpus(name, DATA)
        texts, labels = corpus.test_texts, corpus.test_labels
        for rule, span in (("shipped", sentiment_span), ("earlier", clause_only_span)):
            setattr(topics_module, "sentiment_span", span)  # noqa: B010 - the peer rule
            try:
                found = find_topics(texts, ["zh-Hans"] * len(texts), taxonomy=taxonomy,
                                    sentiment=score_sentiment)  # fmt: skip
            finally:
                setattr(topics_module, "sentiment_span", sentiment_span)  # noqa: B010
            counts = {"one": [0, 0], "many": [0, 0]}
            for hits, label in zip(found, labels, strict=True):
                kind = "one" if len(hits) == 1 else "many"
                for hit in hits:
                    if hit.score is not None:
                        sign = "positive" if hit.score >= 0 else "negative"
                        counts[kind][0] += sign == label
                        counts[kind][1] += 1
            rows.append((name, rule, {k: (v[0], v[1]) for k, v in counts.items()}))
    return rows


def _naive(texts: Sequence[str], taxonomy: Taxonomy) -> list[set[str]]:
    words = [
        (topic.key, word.rstrip("*"))
        for topic in taxonomy.topics
        for word in (*fold_many(list(topic.keywords_zh)), *topic.keywords_en)
    ]
    return [{key for key, word in words if word in text} for text in fold_many(texts)]


def _timed(call: Callable[[], object], repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - started)
    return best


def speed() -> dict[str, float]:
    frame = pd.read_csv(DATA / "waimai_10k" / "waimai_10k.csv", keep_default_na=False)
    texts = list(frame["review"][:5000])
    languages = ["zh-Hans"] * len(texts)
    taxonomy = load_taxonomy()
    rules = dataclasses.replace(taxonomy, use_model=False)

    def none(t: Sequence[str], _: Sequence[str]) -> list[tuple[str, float] | None]:
        return [None] * len(t)

    find_topics(
        texts[:50], languages[:50], taxonomy=taxonomy, sentiment=score_sentiment
    )
    per_k = 1000 * 1000 / len(texts)  # seconds per text -> ms per 1,000 texts
    return {
        "n": len(texts),
        "full": _timed(
            lambda: find_topics(
                texts, languages, taxonomy=taxonomy, sentiment=score_sentiment
            )
        )
        * per_k,
        "no_sentiment": _timed(
            lambda: find_topics(texts, languages, taxonomy=taxonomy, sentiment=none)
        )
        * per_k,
        "rules": _timed(
            lambda: find_topics(texts, languages, taxonomy=rules, sentiment=none)
        )
        * per_k,
        "sentiment": _timed(lambda: score_sentiment(texts, languages)) * per_k,
        "naive": _timed(lambda: _naive(texts, rules)) * per_k,
    }


def report(
    rows: list[tuple[str, str, str, int, tuple[float, ...]]],
    s: dict[str, float],
    feel: list[tuple[str, str, dict[str, tuple[int, int]]]],
) -> str:
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, load "
        f"{os.getloadavg()[0]:.1f}; topic model {topic_model_version()}.",
        "",
        "| topics from | part | script | texts | precision | recall | F1 |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for name, part, script, n, (p, r, f) in rows:
        lines.append(
            f"| {name} | {part} | {script} | {n} | {p:.3f} | {r:.3f} | {f:.3f} |"
        )
    lines += [
        "",
        "Topic sentiment: share of topic hits whose sign agrees with the review's label.",
        "",
        "| held-out set | span rule | one-topic texts: agree | hits | several topics: agree | hits |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for name, rule, counts in feel:
        (a1, n1), (a2, n2) = counts["one"], counts["many"]
        label = "shipped (clauses after the mention, up to a contrast)" if rule == "shipped" else "earlier (mentioning clauses only; peer)"  # fmt: skip
        lines.append(f"| {name} | {label} | {a1 / max(1, n1):.3f} | {n1:,} | "
                     f"{a2 / max(1, n2):.3f} | {n2:,} |")  # fmt: skip
    lines += [
        "",
        f"Speed on {s['n']:,.0f} short waimai_10k texts, ms per 1,000 texts (best of 3):",
        "",
        "| what | ms / 1,000 texts | vs naive |",
        "| --- | ---: | ---: |",
        f"| naive `keyword in text` over every keyword (peer, no sentiment) | "
        f"{s['naive']:.1f} | 1.0x |",
    ]
    for key, label in (("rules", "find_topics, rules only, no sentiment"),
                       ("no_sentiment", "find_topics, rules + classifier, no sentiment"),
                       ("full", "find_topics with per-topic sentiment (shipped model)"),
                       ("sentiment", "for scale: score_sentiment on the same texts")):  # fmt: skip
        lines.append(f"| {label} | {s[key]:.1f} | {s['naive'] / s[key]:.1f}x |")
    return "\n".join(lines)


def write_readme(text: str) -> None:
    body = README.read_text(encoding="utf-8") if README.exists() else "# Benchmarks\n"
    method = (__doc__ or "").split("\n\n", 1)[1].rsplit("\n\nRun:", 1)[0]
    section = f"## Text topics\n\n{method}\n\n{text}\n"
    pattern = re.compile(r"^## Text topics\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(body):
        body = pattern.sub(lambda _: section + "\n", body, count=1).rstrip() + "\n"
    else:
        body = body.rstrip() + "\n\n" + section
    README.write_text(body, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--no-readme", action="store_true", help="do not update README")
    args = parser.parse_args()
    text = report(quality(), speed(), topic_sentiment())
    print(text)
    if not args.no_readme:
        write_readme(text)


if __name__ == "__main__":
    main()
