"""The shipped emotion model: labels, languages, both Chinese scripts, the cue words."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from cxloop.text.chinese import to_traditional
from cxloop.text.emotion import model_version, score_emotion
from cxloop.text.results import EMOTIONS

SMP_LABELS = {"happy": "joy", "angry": "anger", "sad": "disappointment", "fear": "worry",
              "surprise": "surprise", "neutral": "none"}  # fmt: skip


@pytest.fixture(scope="module")
def smp_sample(shared_data: Path) -> tuple[list[str], list[str]]:
    """400 posts of the SMP2020-EWECT labelled eval set (held out from training)."""
    with (shared_data / "smp2020_ewect" / "val.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))[::10]
    return [r["text"] for r in rows], [SMP_LABELS[r["label"]] for r in rows]


def _base(found: tuple[str, float] | None) -> str | None:
    label = found[0] if found else None
    return {"gratitude": "joy", "frustration": "anger"}.get(label or "", label)


def test_score_emotion_labels_held_out_weibo_posts(smp_sample: tuple[list[str], list[str]]) -> None:  # fmt: skip
    texts, truth = smp_sample
    found = score_emotion(texts, ["zh-Hans"] * len(texts))
    assert all(f is not None and f[0] in EMOTIONS and 0.0 <= f[1] <= 1.0 for f in found)
    assert np.mean([_base(f) == t for f, t in zip(found, truth, strict=True)]) > 0.65


def test_score_emotion_reads_traditional_like_simplified(smp_sample: tuple[list[str], list[str]]) -> None:  # fmt: skip
    texts, _ = smp_sample
    hans = score_emotion(texts, ["zh-Hans"] * len(texts))
    hant = score_emotion([to_traditional(t) for t in texts], ["zh-Hant"] * len(texts))
    same = [
        a is not None and b is not None and a[0] == b[0]
        for a, b in zip(hans, hant, strict=True)
    ]
    assert np.mean(same) > 0.95


def test_score_emotion_leaves_unsupported_languages_empty() -> None:
    found = score_emotion(
        ["Das Essen war kalt", "😡😡", "服務很差"], ["de", "und", "zh-Hant"]
    )
    assert found[:2] == [None, None]
    assert found[2] is not None


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [("謝謝你們的耐心協助，問題解決了", "zh-Hant", "gratitude"),
     ("Thank you so much for the quick help!", "en", "gratitude"),
     ("冰箱又壞了，已經第三次送修還是沒修好，氣死我了", "zh-Hant", "frustration"),
     ("I am furious, this is the worst service I have ever had", "en", "anger"),
     ("太開心了，終於收到了，超喜歡", "zh-Hant", "joy")],
)  # fmt: skip
def test_score_emotion_reads_customer_comments(
    text: str, language: str, expected: str
) -> None:
    found = score_emotion([text], [language])[0]
    assert found is not None
    assert found[0] == expected


def test_score_emotion_handles_empty_and_long_text() -> None:
    found = score_emotion(["", "好" * 50_000], ["zh-Hant", "zh-Hant"])
    assert all(f is not None and f[0] in EMOTIONS for f in found)
    assert model_version().startswith("emotion-")
