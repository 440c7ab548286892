"""The shipped emotion model: labels, languages, both Chinese scripts, the cue words."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import f1_score

from cxloop.text.chinese import to_traditional
from cxloop.text.emotion import agreement, model_version, score_emotion
from cxloop.text.results import EMOTIONS
from cxloop.text.sentiment import score_sentiment

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


def test_the_sentiment_weighs_the_emotions_of_each_side() -> None:
    texts = ["配送遲到了9天，等了好久才收到。", "Waited on hold for twenty minutes and still no answer.",
             "Delivery was 3 days late and nobody told me."]  # fmt: skip
    languages = ["zh-Hant", "en", "en"]
    alone = score_emotion(texts, languages)
    assert [hit[0] if hit else None for hit in alone] == [
        "joy"
    ] * 3  # the 好, the tweets
    feel = score_sentiment(texts, languages)
    assert all(hit is not None and hit[1] < 0 for hit in feel)
    agreed = score_emotion(texts, languages, sentiments=feel)
    assert all(hit is not None and hit[0] != "joy" for hit in agreed)
    # a mildly negative reading is enough when the model's joy is a weak one
    mild, read = feel[2], agreed[2]
    assert mild is not None
    assert mild[1] > -0.7
    assert read is not None
    assert read[0] in {"anger", "disappointment", "frustration"}
    # a made-up sure positive reading leaves the negative emotions no weight at all
    cheerful = score_emotion(
        ["店員態度很差，很生氣"], ["zh-Hant"], sentiments=[("positive", 1.0)]
    )
    assert cheerful[0] is not None
    assert cheerful[0][0] not in {"anger", "disappointment", "worry", "frustration"}


def test_agreement_weights_each_side_by_how_far_the_score_leans() -> None:
    labels = ["anger", "disappointment", "joy", "none", "surprise", "worry"]
    assert agreement(labels, None).tolist() == [1.0] * 6
    assert agreement(labels, ("neutral", 0.0)).tolist() == [
        0.5,
        0.5,
        0.5,
        1.0,
        1.0,
        0.5,
    ]
    assert agreement(labels, ("negative", -1.0)).tolist() == [
        1.0,
        1.0,
        0.0,
        1.0,
        1.0,
        1.0,
    ]
    assert agreement(labels, ("positive", 0.6)).tolist() == pytest.approx([0.2, 0.2, 0.8, 1.0, 1.0, 0.2])  # fmt: skip
    assert agreement(labels, ("positive", 7.0)).tolist() == [0.0, 0.0, 1.0, 1.0, 1.0, 0.0]  # fmt: skip


def test_no_sentiment_leaves_the_emotion_alone() -> None:
    texts = ["配送遲到了9天，等了好久才收到。"]
    assert score_emotion(texts, ["zh-Hant"], sentiments=[None]) == score_emotion(texts, ["zh-Hant"])  # fmt: skip
    with pytest.raises(ValueError, match="sentiments differ in length"):
        score_emotion(texts, ["zh-Hant"], sentiments=[])


def test_agreeing_with_the_sentiment_costs_little_on_weibo_and_helps_on_tweets(
    shared_data: Path,
) -> None:
    with (shared_data / "smp2020_ewect" / "val.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    sets = [
        ([r["text"] for r in rows], [SMP_LABELS[r["label"]] for r in rows], "zh-Hans")
    ]
    with (shared_data / "tweeteval_emotion" / "val.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    tweet = {
        "anger": "anger",
        "joy": "joy",
        "optimism": "joy",
        "sadness": "disappointment",
    }
    sets.append(([r["text"] for r in rows], [tweet[r["label"]] for r in rows], "en"))
    gains = []
    for texts, truth, language in sets:
        languages = [language] * len(texts)
        feel = score_sentiment(texts, languages)
        alone = [_base(hit) for hit in score_emotion(texts, languages)]
        agreed = [
            _base(hit) for hit in score_emotion(texts, languages, sentiments=feel)
        ]
        gold = sorted(set(truth))  # as bench/text_quality_intent.py scores it
        gains.append(f1_score(truth, agreed, average="macro", labels=gold) - f1_score(truth, alone, average="macro", labels=gold))  # fmt: skip
    assert gains[0] >= -0.008  # SMP2020-EWECT: 0.664 -> 0.660, inside the noise
    assert gains[1] >= 0.03  # TweetEval emotion: 0.701 -> 0.752
