"""Markup is removed before scoring: customer text from forms and e-mails scores as text."""

from __future__ import annotations

import pytest

from cxloop.text.markup import plain_text
from cxloop.text.scoring import MAX_TEXT_CHARS, prepare_text, score_texts


@pytest.mark.parametrize(
    ("raw", "plain"),
    [("<p>外送太慢<br/>餐點&amp;飲料都冷了</p>", "外送太慢\n餐點&飲料都冷了"),
     ('<script type="text/javascript">alert("退款")</script>客服態度很差', "客服態度很差"),
     ("<STYLE>p {color: red}</STYLE><B>Late</B>&nbsp;again", "Late again"),
     ("<!-- note -->服務很好<div>會再來</div>", "服務很好 會再來"),
     ("<script>never closed 退款", ""),
     ("價格<100元，I <3 it, a < b > c", "價格<100元，I <3 it, a < b > c"),
     ("AT&T 的訊號很差", "AT&T 的訊號很差"),
     ("沒有任何標記", "沒有任何標記")],
)  # fmt: skip
def test_plain_text_drops_tags_scripts_and_entities(raw: str, plain: str) -> None:
    assert plain_text(raw) == plain


def test_markup_does_not_change_what_a_text_scores() -> None:
    clean = [
        "客服態度很差，等了半小時",
        "The delivery was late again",
        "房間乾淨，早餐豐富",
    ]
    marked = ["<script>alert(1)</script><div class='x'>客服態度很差，<br>等了半小時</div>",
              '<img src=x onerror="alert(1)">The delivery was <b>late</b> again',
              "<p>房間乾淨&#xFF0C;早餐豐富</p>"]  # fmt: skip
    plain, html = score_texts(clean), score_texts(marked)
    for a, b in zip(plain, html, strict=True):
        assert (b.language, b.sentiment, b.intent) == (
            a.language,
            a.sentiment,
            a.intent,
        )
        assert b.sentiment_score == pytest.approx(a.sentiment_score, abs=0.05)
        assert {h.topic for h in b.topics} == {h.topic for h in a.topics}
        assert not {"script", "alert", "img", "onerror", "div"} & set(b.keywords)


def test_the_markup_rule_bounds_its_work_on_very_long_text() -> None:
    hostile = "<script>" * 50_000 + "很好"
    assert prepare_text(hostile) == ""
    long = "<b>服務很好</b>，" * 5_000
    prepared = prepare_text(long)
    assert len(prepared) <= MAX_TEXT_CHARS
    assert "<" not in prepared
    assert prepared.startswith("服務很好")
