"""Hashtags and @mentions do not decide a text's language."""

from __future__ import annotations

import pytest

from cxloop.text.scoring import score_texts
from cxloop.text.tags import without_tags


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Delivery was late. #HeguangLiving @heguang_tw", "Delivery was late."),
     ("#新冠肺炎# 口罩還是買不到", "口罩還是買不到"),
     ("客服很好 #禾光生活\n謝謝", "客服很好\n謝謝"),
     ("order #12 for a@b.tw, C# book", "order #12 for a@b.tw, C# book"),
     ("&#39; stays", "&#39; stays"),
     ("#love #happy", "#love #happy"),
     ("@a @b", "@a @b"),
     ("", "")],
)  # fmt: skip
def test_without_tags_removes_hashtags_and_mentions_only(text: str, expected: str) -> None:  # fmt: skip
    assert without_tags(text) == expected


def test_a_chinese_hashtag_does_not_make_an_english_review_chinese() -> None:
    texts = ["Great phone, works well. #禾光生活", "Not worth the money at all. #禾光生活",
             "外送很快，餐點還是熱的 #HeguangLiving @heguang_tw", "#禾光生活"]  # fmt: skip
    found = score_texts(texts)
    assert [f.language for f in found] == ["en", "en", "zh-Hant", "zh-Hant"]
    assert [f.sentiment for f in found[:3]] == ["positive", "negative", "positive"]
    # the tag is still part of what the keywords are drawn from
    assert found[3].keywords


def test_tags_are_long_text_safe() -> None:
    text = "#" * 50_000 + "@" * 50_000 + "#a" * 20_000
    assert isinstance(without_tags(text), str)
    assert score_texts([text])[0].language is not None
