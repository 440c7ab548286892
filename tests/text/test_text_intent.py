"""Default intents by cue rules and sentiment."""

from __future__ import annotations

import pytest

from cxloop.text.intent import detect_intents

NEG = ("negative", -0.9)
POS = ("positive", 0.9)
NEU = ("neutral", 0.0)


@pytest.mark.parametrize(
    ("text", "language", "sentiment", "intent"),
    [
        ("太扯了，我要解約，換一家電信", "zh-Hant", NEG, "churn_threat"),
        ("再也不会在这家点外卖了", "zh-Hans", NEG, "churn_threat"),
        ("Terrible. I am going to cancel my subscription.", "en", NEG, "churn_threat"),
        ("We will never be back", "en", NEG, "churn_threat"),
        ("請問會員點數要怎麼查？", "zh-Hant", NEU, "question"),
        ("How do I change my delivery address", "en", NEU, "question"),
        ("請問退款什麼時候會到帳？已經等兩週了", "zh-Hant", NEG, "question"),
        ("為什麼這麼慢？", "zh-Hant", NEG, "complaint"),
        ("建議增加素食選項", "zh-Hant", NEU, "suggestion"),
        ("It would be nice to have a vegetarian menu", "en", POS, "suggestion"),
        ("外送員態度很差，湯都灑了", "zh-Hant", NEG, "complaint"),
        ("店員很親切，謝謝", "zh-Hant", POS, "praise"),
        ("I ordered on Monday.", "en", NEU, "other"),
    ],
)
def test_detect_intents_by_cue_and_sentiment(
    text: str, language: str, sentiment: tuple[str, float], intent: str
) -> None:
    ((label, confidence),) = detect_intents([text], [language], [sentiment])  # type: ignore[misc]
    assert label == intent
    assert 0.0 < confidence <= 1.0


def test_traditional_and_simplified_get_the_same_intent() -> None:
    found = detect_intents(
        ["我要取消會員，再也不來了", "我要取消会员，再也不来了"],
        ["zh-Hant", "zh-Hans"],
        [NEG, NEG],
    )
    assert found[0] == found[1] == ("churn_threat", 0.85)


def test_unsupported_language_and_empty_text_get_no_intent() -> None:
    found = detect_intents(["Das Essen war kalt", ""], ["de", "und"], [None, None])
    assert found == [None, None]


def test_stronger_sentiment_gives_a_more_confident_complaint() -> None:
    weak, strong = detect_intents(
        ["還好", "還好"], ["zh-Hant"] * 2, [("negative", -0.2), NEG]
    )
    assert weak is not None
    assert strong is not None
    assert weak[0] == strong[0] == "complaint"
    assert strong[1] > weak[1]


def test_html_in_text_is_read_as_plain_text() -> None:
    ((label, _),) = detect_intents(  # type: ignore[misc]
        ["<script>alert(1)</script> 我要解約"], ["zh-Hant"], [NEU]
    )
    assert label == "churn_threat"


def test_mismatched_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="same length"):
        detect_intents(["a"], ["en", "en"], [NEU])
