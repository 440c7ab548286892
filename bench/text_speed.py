"""Speed of ``cxloop text score`` on 20,000 short texts, against SnowNLP and VADER.

Builds a deterministic CSV of short texts (at most 140 characters) from the public
corpora in ``/work/shared/data`` (or ``CXLOOP_SHARED_DATA``): half Chinese (waimai_10k,
online_shopping_10_cats, ChnSentiCorp; half of them converted to Traditional Chinese),
half English (TweetEval, SST-5, Yelp, Amazon Alexa reviews), plus 1 % emoji-only or
empty rows. Then, in one process on the same machine:

- the whole file path, :func:`cxloop.text.score_file.score_file` (read CSV, every part,
  write CSV), warm (models loaded), median of three runs;
- the speed target's parts (language + sentiment + topics) through ``score_texts``;
- each part on its own (seconds spent in it, as texts of the whole file per second);
- the ``cxloop text score`` command as a fresh process (start-up and model loading in);
- the peers on the same texts: SnowNLP sentiment on the Chinese ones, VADER on the
  English ones.

Run: ``.venv/bin/python bench/text_speed.py [--rows N]``; it prints a Markdown table for
bench/README.md ("Text speed").
"""

from __future__ import annotations

import argparse
import csv
import gzip
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from cxloop.text.chinese import to_traditional
from cxloop.text.score_file import score_file
from cxloop.text.scoring import ALL_PARTS, CORE_PARTS, default_models, score_texts

DATA = Path(os.environ.get("CXLOOP_SHARED_DATA", "/work/shared/data"))
OUT = Path(__file__).resolve().parent / "out"
MAX_CHARS = 140
BATCH = 2000


def _column(path: Path, name: str) -> Iterator[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            yield row[name]


def _short(texts: Iterator[str]) -> list[str]:
    return [t.strip() for t in texts if 0 < len(t.strip()) <= MAX_CHARS]


def corpus(rows: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """(texts, their corpus language: zh or en or none), shuffled."""
    zh = _short(_column(DATA / "waimai_10k" / "waimai_10k.csv", "review"))
    zh += _short(
        _column(DATA / "chnsenticorp_htl_all" / "ChnSentiCorp_htl_all.csv", "review")
    )
    zh += _short(_column(DATA / "online_shopping_10_cats" / "online_shopping_10_cats_dev.csv.gz", "review"))  # fmt: skip
    en = _short(_column(DATA / "tweeteval_sentiment" / "val.csv", "text"))
    en += _short(_column(DATA / "sst5_sentences" / "sst5_sentences.csv", "text"))
    en += _short(
        _column(DATA / "uci_sentiment_labelled_yelp" / "yelp_labelled.csv", "text")
    )
    en += _short(_column(DATA / "amazon_alexa_reviews" / "amazon_alexa_reviews.csv", "text"))  # fmt: skip
    rng = np.random.default_rng(seed)
    n_none = rows // 100
    n_zh = (rows - n_none) // 2
    zh_pick = [zh[i] for i in rng.choice(len(zh), n_zh, replace=n_zh > len(zh))]
    zh_pick = [to_traditional(t) if i % 2 else t for i, t in enumerate(zh_pick)]
    n_en = rows - n_none - n_zh
    en_pick = [en[i] for i in rng.choice(len(en), n_en, replace=n_en > len(en))]
    none = ["😀👍", "", "！！？？", "🎉🎉🎉", "..."] * (n_none // 5 + 1)
    texts = zh_pick + en_pick + none[:n_none]
    kinds = ["zh"] * n_zh + ["en"] * n_en + ["none"] * n_none
    order = rng.permutation(len(texts))
    return [texts[i] for i in order], [kinds[i] for i in order]


def write_csv(path: Path, texts: Sequence[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "comment"])
        writer.writerows((f"r{i}", text) for i, text in enumerate(texts))


def timed(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def batched(
    texts: Sequence[str], parts: frozenset[str], timings: dict[str, float]
) -> None:
    for begin in range(0, len(texts), BATCH):
        score_texts(texts[begin : begin + BATCH], parts=parts, timings=timings)


def snownlp_seconds(texts: Sequence[str]) -> float:
    from snownlp import SnowNLP

    SnowNLP("暖身").sentiments  # noqa: B018 - loads its model outside the timing
    return timed(lambda: [SnowNLP(t).sentiments for t in texts])


def vader_seconds(texts: Sequence[str]) -> float:
    from vaderSentiment.vaderSentiment import (
        SentimentIntensityAnalyzer,
    )

    analyzer = SentimentIntensityAnalyzer()
    return timed(lambda: [analyzer.polarity_scores(t) for t in texts])


def command_seconds(source: Path, output: Path) -> float:
    args = [sys.executable, "-m", "cxloop", "text", "score", "--input", str(source),
            "--text-column", "comment", "--id-column", "id", "--output", str(output)]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True)
    return time.perf_counter() - start


def file_seconds(source: Path, parts: frozenset[str]) -> float:
    """Median seconds of three warm runs of the file path (read, score, write)."""
    out = OUT / "text_speed_scored.csv"
    runs = [score_file(input=source, text_column="comment", id_column="id",
                       output=out, parts=parts).seconds for _ in range(3)]  # fmt: skip
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    rows = parser.parse_args().rows
    texts, kinds = corpus(rows)
    source = OUT / "text_speed.csv"
    write_csv(source, texts)
    load = timed(
        lambda: score_texts(["暖身：外送很快", "warm up"], models=default_models())
    )
    figures = {
        "core": file_seconds(source, CORE_PARTS),
        "all": file_seconds(source, ALL_PARTS),
        "cold": command_seconds(source, OUT / "text_speed_cold.csv"),
    }
    parts: dict[str, float] = {}
    for begin in range(0, len(texts), BATCH):
        score_texts(texts[begin : begin + BATCH], parts=ALL_PARTS, timings=parts)
    zh = [t for t, k in zip(texts, kinds, strict=True) if k == "zh"]
    en = [t for t, k in zip(texts, kinds, strict=True) if k == "en"]
    snow_n = min(len(zh), 2000)
    peers = {"snow": snownlp_seconds(zh[:snow_n]), "vader": vader_seconds(en)}
    report(rows, load, figures, parts, (len(zh), snow_n, len(en)), peers)


def report(
    rows: int,
    load: float,
    figures: dict[str, float],
    parts: dict[str, float],
    sizes: tuple[int, int, int],
    peers: dict[str, float],
) -> None:
    n_zh, snow_n, n_en = sizes
    cpu = platform.processor() or platform.machine()
    load_avg = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{rows:,} short texts ({n_zh:,} Chinese, half of them Traditional; {n_en:,} "
          f"English; the rest emoji or empty); {os.cpu_count()} cores, {cpu}, Python "
          f"{platform.python_version()}; load average {load_avg}; models loaded in "
          f"{load:.2f} s\n")  # fmt: skip
    ours = rows / figures["core"]
    print(
        "| what | seconds | texts/s | cxloop (language + sentiment + topics) is faster by |"
    )
    print("| --- | ---: | ---: | ---: |")
    line = "| {} | {:.2f} | {:,.0f} | {} |"
    print(line.format("`text score --parts language,sentiment,topics`, warm (read, score, write CSV; median of 3)", figures["core"], ours, "1.0x"))  # fmt: skip
    print(line.format("`text score`, every part, warm (median of 3)", figures["all"], rows / figures["all"], ""))  # fmt: skip
    print(line.format("`cxloop text score` command, every part, fresh process", figures["cold"], rows / figures["cold"], ""))  # fmt: skip
    for name in sorted(parts, key=parts.__getitem__, reverse=True):
        rate = rows / parts[name] if parts[name] else float("inf")
        print(line.format(f"part: {name} (texts of the file per second)", parts[name], rate, ""))  # fmt: skip
    snow_rate = snow_n / peers["snow"]
    print(line.format(f"SnowNLP sentiment, {snow_n:,} Chinese texts", peers["snow"],
                      snow_rate, f"{ours / snow_rate:.1f}x"))  # fmt: skip
    vader_rate = n_en / peers["vader"]
    print(line.format(f"VADER, {n_en:,} English texts", peers["vader"], vader_rate,
                      f"{ours / vader_rate:.1f}x"))  # fmt: skip


if __name__ == "__main__":
    main()
