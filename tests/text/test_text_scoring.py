"""score_texts: every part in one batch, and the bad input of issue 4."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from cxloop.domain.errors import InvalidInput
from cxloop.text.results import INTENTS, SENTIMENTS, UNDETERMINED
from cxloop.text.scoring import (
    MAX_TEXT_CHARS,
    TextModels,
    default_models,
    prepare_text,
    score_texts,
    text_version,
)
from cxloop.text.transcripts import customer_side

COMPLAINT_HANT = (
    "外送慢了一個多小時，餐點都冷掉了，客服態度又很差，非常失望，再也不會訂了"
)
COMPLAINT_HANS = (
    "外送慢了一个多小时，餐点都冷掉了，客服态度又很差，非常失望，再也不会订了"
)
PRAISE_EN = "The staff were friendly and the room was spotless. Great value, thank you!"

TAXONOMY = """\
use_model: false
topics:
  - key: parking
    name: {zh-TW: 停車, en: Parking}
    keywords:
      zh: [停車場, 停車位]
      en: [parking]
"""


def test_score_texts_gives_und_and_no_sentiment_when_empty_or_only_emoji() -> None:
    scores = score_texts([None, "", "   ", "😀😀👍", "!!!???...", "？？？。。"])
    for score in scores:
        assert score.language == UNDETERMINED
        assert score.supported is False
        assert score.sentiment is None
        assert score.sentiment_score is None
        assert score.topics == ()
        assert score.intent is None
        assert score.keywords == ()


def test_score_texts_finds_a_negative_delivery_complaint_in_traditional_chinese() -> (
    None
):
    [score] = score_texts([COMPLAINT_HANT])
    assert score.language == "zh-Hant"
    assert score.supported is True
    assert score.sentiment == "negative"
    assert score.sentiment_score is not None
    assert -1.0 <= score.sentiment_score < 0
    assert "delivery" in {hit.topic for hit in score.topics}
    assert score.intent in {"complaint", "churn_threat"}
    assert score.keywords


def test_score_texts_scores_simplified_like_traditional() -> None:
    hant, hans = score_texts([COMPLAINT_HANT, COMPLAINT_HANS])
    assert hans.language == "zh-Hans"
    assert hans.sentiment == hant.sentiment
    assert {h.topic for h in hans.topics} == {h.topic for h in hant.topics}


def test_score_texts_finds_english_praise_and_keeps_order_in_a_mixed_batch() -> None:
    texts = ["", PRAISE_EN, COMPLAINT_HANT, "😀"]
    scores = score_texts(texts)
    assert [s.language for s in scores] == [UNDETERMINED, "en", "zh-Hant", UNDETERMINED]
    assert scores[1].sentiment == "positive"
    assert scores[2].sentiment == "negative"
    for score in scores:
        assert score.sentiment is None or score.sentiment in SENTIMENTS
        assert score.intent is None or score.intent in INTENTS


def test_score_texts_reads_mixed_chinese_and_english_as_chinese() -> None:
    [score] = score_texts(["這個 app 一直閃退，login 都失敗，太爛了"])
    assert score.language == "zh-Hant"
    assert score.sentiment == "negative"


def test_score_texts_truncates_very_long_text_without_failing() -> None:
    long_text = "服務很好，" * 20_000 + "<script>alert(1)</script>"
    [score] = score_texts([long_text])
    assert score.language == "zh-Hant"
    assert score.sentiment in SENTIMENTS
    for hit in score.topics:
        assert all(match in long_text[:MAX_TEXT_CHARS] for match in hit.matches)


def test_score_texts_treats_html_as_plain_text() -> None:
    html = '<p onclick="x()">The <b>delivery</b> was late &amp; the driver rude</p>'
    [score] = score_texts([html])
    assert score.language == "en"
    assert score.sentiment == "negative"
    for hit in score.topics:
        assert all(match in html for match in hit.matches)


def test_score_texts_fills_only_the_parts_asked_for() -> None:
    [score] = score_texts([COMPLAINT_HANT], parts=frozenset({"language", "sentiment"}))
    assert score.sentiment == "negative"
    assert score.topics == ()
    assert score.intent is None
    assert score.emotion is None
    assert score.keywords == ()


def test_score_texts_refuses_an_unknown_part() -> None:
    with pytest.raises(InvalidInput, match="unknown text part"):
        score_texts(["hello"], parts=frozenset({"language", "sarcasm"}))


def test_text_models_use_a_custom_taxonomy_and_change_the_version(
    tmp_path: Path,
) -> None:
    path = tmp_path / "taxonomy.yaml"
    path.write_text(TAXONOMY, encoding="utf-8")
    models = TextModels.load(taxonomy_path=path)
    assert [topic.key for topic in models.taxonomy.topics] == ["parking"]
    assert text_version(models) != text_version(default_models())
    assert text_version(models) == text_version(TextModels.load(taxonomy_path=path))
    assert len(text_version(models)) <= 64
    [score] = score_texts(["停車場太小，停車位很難找"], models=models)
    assert [hit.topic for hit in score.topics] == ["parking"]


def test_text_models_name_a_missing_model_directory(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no such model directory"):
        TextModels.load(model_dir=tmp_path / "nowhere")


def test_score_texts_uses_the_users_intent_model_and_its_labels(
    tmp_path: Path, shared_data: Path
) -> None:
    from cxloop.text.training import train_user_model

    wanted = {"card_arrival", "lost_or_stolen_card", "exchange_rate"}
    rows: list[dict[str, str]] = []
    with (shared_data / "banking77" / "train.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if (
                row["category"] in wanted
                and sum(r["category"] == row["category"] for r in rows) < 60
            ):
                rows.append(row)
    train_user_model(task="intent", texts=[r["text"] for r in rows],
                     labels=[r["category"] for r in rows], model_dir=tmp_path,
                     folds=3)  # fmt: skip
    models = TextModels.load(model_dir=tmp_path)
    assert models.user_task("intent")
    texts = ["My card still hasn't arrived after two weeks", "😀"]
    first, emoji = score_texts(texts, models=models)
    assert first.intent == "card_arrival"
    assert first.intent_confidence is not None
    assert 0 < first.intent_confidence <= 1
    assert first.sentiment in SENTIMENTS  # the shipped sentiment model still runs
    assert emoji.intent is None
    assert text_version(models) != text_version(default_models())


def test_transcripts_are_read_from_the_customers_turns_only() -> None:
    chat = (
        "顧客：收到的商品有瑕疵，退換貨很麻煩。\n客服：已為您記錄，將儘快處理，謝謝您。"
    )
    review = "Staff: rude and slow at the counter."

    transcript, plain = score_texts([chat, review])

    topics = {hit.topic for hit in transcript.topics}
    assert {"product_quality", "returns_exchanges"} <= topics
    assert "customer_service" not in topics  # the 客服 label is not a topic word
    assert transcript.sentiment == "negative"
    assert not {"客服", "顧客"} & set(transcript.keywords)
    assert (plain.supported, plain.sentiment) == (True, "negative")  # read whole
    assert (
        customer_side("客服：您好\n客服：請問還在嗎") == "客服：您好\n客服：請問還在嗎"
    )
    assert customer_side("Customer: where is my parcel?\nAgent: checking") == (
        "where is my parcel?"
    )


def test_an_agents_note_of_what_the_customer_said_is_read_as_the_customers_words() -> (
    None
):
    notes = ["來電反映：普通，沒有特別好或不好。", "Caller says: It was okay.",
             "客户反映：送餐太慢了", "主旨：顧客意見\n一般般吧"]  # fmt: skip
    assert [customer_side(note) for note in notes[:3]] == [
        "普通，沒有特別好或不好。",
        "It was okay.",
        "送餐太慢了",
    ]
    assert customer_side(notes[3]) == notes[3]  # a subject line is not a speaker
    first, second, third, _ = score_texts(notes)
    assert (first.sentiment, second.sentiment) == ("neutral", "neutral")
    assert third.sentiment == "negative"


def test_the_label_of_a_ticket_or_email_header_is_not_read() -> None:
    ticket = "主旨：退款還沒到\n我上週就申請退款，到現在都沒有消息。"
    email = (
        "Subject: RE: Fwd: refund still missing\nI asked for my refund two weeks ago."
    )
    mention = "The subject: refunds took too long."

    assert prepare_text(ticket) == "退款還沒到\n我上週就申請退款，到現在都沒有消息。"
    assert prepare_text(email).splitlines()[0] == "refund still missing"
    assert prepare_text(mention) == mention  # not at the start of the line: kept
    scored_ticket, scored_email = score_texts([ticket, email])
    assert "主旨" not in scored_ticket.keywords
    assert "billing_refunds" in {hit.topic for hit in scored_ticket.topics}
    assert not {"subject", "re", "fwd"} & {k.lower() for k in scored_email.keywords}
    assert scored_email.sentiment == "negative"


def test_english_keywords_do_not_depend_on_the_other_texts_of_the_batch() -> None:
    text = "The refund took three weeks and the refund form kept crashing"
    others = ["The refund was quick", "refund refund refund", "crashing app again"]
    alone = score_texts([text])[0].keywords
    assert score_texts([*others, text])[-1].keywords == alone
    assert score_texts([text, *others[:1]])[0].keywords == alone
    # Twice in the text ranks first; a rare word ranks above a common one.
    assert alone[0] == "refund"
    assert alone.index("crashing") < alone.index("weeks")


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("cxloop.text.emotion", "AGREEMENT_VERSION"),
        ("cxloop.text.scoring", "MARKUP_VERSION"),
    ],
)
def test_a_rule_change_changes_the_text_version(
    module: str, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = text_version(default_models())
    monkeypatch.setattr(f"{module}.{name}", "a-newer-rule")
    assert text_version(default_models()) != before
