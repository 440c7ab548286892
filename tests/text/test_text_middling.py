"""Middling remarks are neutral, keep the model's sign, and nothing else changes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cxloop.text import middling
from cxloop.text.chinese import to_simplified
from cxloop.text.language import detect_languages
from cxloop.text.neutral import apply_gate
from cxloop.text.sentiment import (
    MODEL_DIR,
    ZH_MODEL,
    load_model,
    score_sentiment,
    score_with,
)
from scripts.text_models.corpora import load_corpus

ZH_REMARKS = ["一般般吧", "一般", "普通", "不好不壞", "就那樣", "沒有特別好也沒有特別差",
              "整體來說普普通通的～", "馬馬虎虎啦", "感覺一般般而已", "說不上好壞😅"]  # fmt: skip
EN_REMARKS = ["It was okay", "okay, I guess.", "Nothing special", "not bad, not great",
              "Overall it was average", "so-so"]  # fmt: skip
SAYS_MORE = ["味道一般，送餐很慢", "很一般", "真的很一般", "一般 3分", "還可以", "非常好吃",
             "不一般", "<b>一般</b>", "okay but the app crashes", "really average",
             "It was okay 2/5"]  # fmt: skip


def _raw_zh(texts: list[str]) -> list[tuple[str, float]]:
    """What the Chinese model and its neutral gate say, before the middling rule."""
    model = load_model(MODEL_DIR / ZH_MODEL)
    band = float(model.meta["neutral_band"])
    return apply_gate(texts, score_with(model, texts), band=band, model_dir=MODEL_DIR)


@pytest.mark.parametrize("texts", [ZH_REMARKS, to_simplified(ZH_REMARKS), EN_REMARKS])
def test_middling_remarks_are_neutral_in_either_script_and_in_english(texts: list[str]) -> None:  # fmt: skip
    assert middling.middling(texts) == [True] * len(texts)
    found = score_sentiment(texts, detect_languages(texts))
    assert all(hit is not None and hit[0] == "neutral" for hit in found), found
    assert all(hit is not None and abs(hit[1]) <= middling.MAX_SCORE for hit in found)


def test_the_models_alone_read_most_of_them_as_a_sign() -> None:
    # the reason for the rule: review-trained, the model puts a bare "一般" on the negative side
    raw = _raw_zh(ZH_REMARKS)
    assert sum(label != "neutral" for label, _ in raw) >= len(ZH_REMARKS) // 2
    assert dict(zip(ZH_REMARKS, raw, strict=True))["一般"][0] == "negative"


def test_a_middling_remark_keeps_the_sign_of_the_models_score() -> None:
    raw = _raw_zh(ZH_REMARKS)
    found = score_sentiment(ZH_REMARKS, ["zh-Hant"] * len(ZH_REMARKS))
    for (_, before), hit in zip(raw, found, strict=True):
        assert hit is not None
        assert np.sign(hit[1]) == np.sign(before)
        assert abs(hit[1]) == min(abs(before), middling.MAX_SCORE)


def test_texts_that_say_more_keep_the_models_reading() -> None:
    assert middling.middling(SAYS_MORE) == [False] * len(SAYS_MORE)
    found = score_sentiment(SAYS_MORE, detect_languages(SAYS_MORE))
    reading = dict(zip(SAYS_MORE, found, strict=True))
    assert reading["味道一般，送餐很慢"] is not None
    assert reading["味道一般，送餐很慢"][1] < -0.5
    assert reading["還可以"][0] == "positive"
    assert reading["okay but the app crashes"][0] == "negative"


def test_long_texts_are_never_middling_remarks() -> None:
    long = "一般" * (middling.MAX_CHARS // 2 + 1)
    assert middling.middling([long, "一般" * 3]) == [False, True]


def test_held_out_reviews_keep_every_sign(shared_data: Path) -> None:
    """The rule changes labels, never signs: binary accuracy is the model's, exactly."""
    texts = load_corpus("waimai_10k", shared_data).test_texts
    raw = _raw_zh(texts)
    found = score_sentiment(texts, ["zh-Hans"] * len(texts))
    flags = middling.middling(texts)
    assert 0 < sum(flags) < len(texts) * 0.02  # a few bare "一般" reviews, no more
    for flag, (label, before), hit in zip(flags, raw, found, strict=True):
        assert hit is not None
        assert np.sign(hit[1]) == np.sign(before)
        if not flag:
            assert hit == (label, before)
