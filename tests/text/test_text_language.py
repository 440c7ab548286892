"""Language identification and Chinese script normalisation."""

from __future__ import annotations

from pathlib import Path

import pytest

from cxloop.text.chinese import normalise, normalise_many, script_of, to_traditional
from cxloop.text.language import detect_languages, is_supported
from cxloop.text.scoring import score_texts


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("這家飯店的服務很好，房間也乾淨", "zh-Hant"),
        ("这家酒店的服务很好，房间也干净", "zh-Hans"),
        ("The delivery was late and the food was cold.", "en"),
        ("Great service", "en"),
        ("Le service était très lent et le repas froid", "fr"),
        ("Das Essen war kalt und der Fahrer unfreundlich", "de"),
        ("配送很慢，app 也一直閃退", "zh-Hant"),
        ("我愛台灣 I love Taiwan", "zh-Hant"),
        ("我的iPhone的battery一直drain", "zh-Hant"),
        ("Friendly staff at 信義店, they helped me find the 吸塵器.", "en"),
        ("The 吸塵器 broke after a week.", "en"),
        ("送餐很慢 but the food was ok", "zh-Hant"),
        ("Great product. (無線吸塵器)", "en"),
        ("Not worth it at all 信義店", "en"),
        ("垃圾 app", "zh-Hant"),
        ("人多到係咁fire in the hole", "zh-Hant"),
        ("鸭鸭好棒[good][good][good]", "zh-Hans"),
        ("ありがとうございます", "ja"),
        ("배송이 빨라요", "ko"),
    ],
)
def test_detect_languages_names_the_language_when_text_is_clear(
    text: str, expected: str
) -> None:
    assert detect_languages([text]) == [expected]


@pytest.mark.parametrize("text", ["", "   ", "👍👍🔥", "!!!???…", "12345 678", "<br/>"])
def test_detect_languages_is_und_when_text_has_no_letters(text: str) -> None:
    assert detect_languages([text]) == ["und"]


def test_detect_languages_ignores_html_markup_when_deciding() -> None:
    texts = [
        '<div class="review"><b>服務態度很差</b></div>',
        "<p>Terrible delivery</p>",
    ]
    assert detect_languages(texts) == ["zh-Hant", "en"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Great phone, works well. #禾光生活", "en"),
     ("Not worth the money at all. #禾光生活 @heguang_tw", "en"),
     ("外送很快，餐點還是熱的 #HeguangLiving @heguang_tw", "zh-Hant"),
     ("#新冠肺炎# 口罩还是买不到", "zh-Hans"),
     ("Order #12 arrived broken", "en"),
     ("#禾光生活", "zh-Hant"),
     ("#love #happy", "en")],
)  # fmt: skip
def test_hashtags_and_mentions_do_not_decide_the_language(text: str, expected: str) -> None:  # fmt: skip
    assert detect_languages([text]) == [expected]


def test_a_chinese_hashtag_no_longer_sends_an_english_review_to_the_chinese_model() -> (
    None
):
    texts = [
        "Great phone, works well. #禾光生活",
        "Not worth the money at all. #禾光生活",
    ]
    found = score_texts(texts)
    assert [f.language for f in found] == ["en", "en"]
    assert [f.sentiment for f in found] == ["positive", "negative"]


def test_detect_languages_reads_very_long_text_without_failing() -> None:
    texts = ["房間很乾淨，" * 20_000, "The room was clean. " * 20_000,
             "#" * 50_000 + "@" * 50_000 + "#a" * 20_000]  # fmt: skip
    assert detect_languages(texts) == ["zh-Hant", "en", "und"]  # 1,000 #s: no letters


def test_detect_languages_on_real_corpora_matches_their_language(
    shared_data: Path,
) -> None:
    import pandas as pd

    hotel = pd.read_csv(shared_data / "chnsenticorp_htl_all/ChnSentiCorp_htl_all.csv",
                        keep_default_na=False)["review"].head(300)  # fmt: skip
    tweets = pd.read_csv(shared_data / "tweeteval_sentiment/val.csv",
                         keep_default_na=False)["text"].head(300)  # fmt: skip
    hant = [to_traditional(t) for t in hotel]
    zh = detect_languages(list(hotel))
    assert sum(code.startswith("zh") for code in zh) >= 297
    assert sum(code == "zh-Hans" for code in zh) >= 240
    assert sum(code == "zh-Hant" for code in detect_languages(hant)) >= 290
    assert sum(code == "en" for code in detect_languages(list(tweets))) >= 290


def test_is_supported_only_for_chinese_and_english() -> None:
    assert [is_supported(c) for c in ("zh-Hant", "zh-Hans", "en", "fr", "und")] == [
        True, True, True, False, False,
    ]  # fmt: skip


def test_normalise_folds_width_case_spaces_and_script() -> None:
    assert normalise("這個ＡＰＰ的軟體  很好用\n\tOK") == "这个app的软件 很好用 ok"


def test_normalise_makes_traditional_and_simplified_alike() -> None:
    simplified = "这家酒店的服务很好，房间也干净，下次还会再来"
    assert normalise(to_traditional(simplified)) == normalise(simplified)


def test_normalise_truncates_long_text_to_max_chars() -> None:
    assert len(normalise("好" * 10_000, max_chars=500)) == 500


def test_normalise_many_matches_normalise_one_by_one() -> None:
    texts = [
        "這個ＡＰＰ",
        "",
        "  hello\nWorld ",
        "台灣\x00NUL",
        "ｅｍｏｊｉ 👍",
        "发货快",
    ]
    assert normalise_many(texts) == [normalise(t) for t in texts]
    assert normalise_many([]) == []


def test_script_of_tells_traditional_from_simplified() -> None:
    assert [script_of(t) for t in ("軟體很好用", "软件很好用", "no han", "")] == [
        "Hant", "Hans", None, None,
    ]  # fmt: skip
