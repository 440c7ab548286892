"""Topics: the taxonomy file, keyword and rule matching, per-topic sentiment."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import opencc
import pandas as pd
import pytest

from cxloop.demo.texts import TOPICS
from cxloop.domain.errors import InvalidInput
from cxloop.text.results import TopicHit
from cxloop.text.sentiment import score_sentiment
from cxloop.text.taxonomy import Taxonomy, load_taxonomy, parse_taxonomy
from cxloop.text.topics import find_topics, topic_keys
from scripts.text_models.corpora import load_corpus


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return load_taxonomy()


class Recorder:
    """A sentiment function that says which texts it was asked about."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(
        self, texts: Sequence[str], languages: Sequence[str]
    ) -> list[tuple[str, float] | None]:
        self.calls.append(list(texts))
        return [("negative", -0.9) if "髒" in t else ("positive", 0.8) for t in texts]


def _keys(hits: tuple[TopicHit, ...]) -> set[str]:
    return {hit.topic for hit in hits}


def _waimai(shared_data: Path, n: int) -> list[str]:
    frame = pd.read_csv(
        shared_data / "waimai_10k" / "waimai_10k.csv", keep_default_na=False
    )
    return list(frame["review"][:n])


def test_default_taxonomy_loads_with_names_in_both_languages(
    taxonomy: Taxonomy,
) -> None:
    assert {"delivery", "price_value", "product_quality", "staff_attitude", "waiting_time",
            "app_website", "billing_refunds", "cleanliness_environment", "food_taste",
            "room_comfort", "network_signal", "account_security"} <= set(taxonomy.keys)  # fmt: skip
    assert all(t.name_zh and t.name_en for t in taxonomy.topics)
    assert taxonomy.version.startswith("taxonomy-")


def test_topics_traditional_and_simplified_alike_on_waimai(
    shared_data: Path, taxonomy: Taxonomy
) -> None:
    simplified = _waimai(shared_data, 400)
    converter = opencc.OpenCC("s2twp")
    traditional = [converter.convert(t) for t in simplified]
    hans = topic_keys(simplified, ["zh-Hans"] * 400, taxonomy=taxonomy)
    hant = topic_keys(traditional, ["zh-Hant"] * 400, taxonomy=taxonomy)
    differ = [s for s, a, b in zip(simplified, hans, hant, strict=True) if a != b]
    assert len(differ) <= 4, differ
    assert sum(1 for keys in hans if keys) > 300


def test_matches_are_substrings_of_the_original_text(taxonomy: Taxonomy) -> None:
    texts = [
        "配送遲到了3天，等了好久才收到。",
        "ＡＰＰ一直閃退，客服電話打不通",
        "The DELIVERIES were late",
    ]
    found = find_topics(
        texts, ["zh-Hant", "zh-Hant", "en"], taxonomy=taxonomy, sentiment=Recorder()
    )
    assert ("delivery", ("配送",)) in [(h.topic, h.matches) for h in found[0]]
    assert {"app_website", "customer_service"} <= _keys(found[1])
    assert "ＡＰＰ" in next(h for h in found[1] if h.topic == "app_website").matches
    assert next(h for h in found[2] if h.topic == "delivery").matches == ("DELIVERIES",)
    for text, hits in zip(texts, found, strict=True):
        assert all(m in text for hit in hits for m in hit.matches)


def test_each_topic_takes_the_sentiment_of_its_own_clause(taxonomy: Taxonomy) -> None:
    recorder = Recorder()
    (hits,) = find_topics(["房間很大，但是地毯很髒"], ["zh-Hant"], taxonomy=taxonomy,
                          sentiment=recorder)  # fmt: skip
    by_topic = {hit.topic: hit for hit in hits}
    assert by_topic["room_comfort"].sentiment == "positive"
    assert by_topic["cleanliness_environment"].sentiment == "negative"
    assert len(recorder.calls) == 1


def test_a_bare_topic_word_takes_the_next_clause_for_sentiment(
    taxonomy: Taxonomy,
) -> None:
    recorder = Recorder()
    (hits,) = find_topics(
        ["外送員，很髒"], ["zh-Hant"], taxonomy=taxonomy, sentiment=recorder
    )
    assert hits[0].topic == "delivery"
    assert hits[0].sentiment == "negative"
    assert recorder.calls[0][0] == "外送員，很髒"


def test_clauses_that_mention_no_topic_belong_to_the_topic_before_them(
    taxonomy: Taxonomy,
) -> None:
    recorder = Recorder()
    texts = ["客服回覆很快，處理得很好。", "非常失望！外送慢了一個小時", "房間很大，有點髒，而且很吵"]  # fmt: skip
    found = find_topics(texts, ["zh-Hant"] * 3, taxonomy=taxonomy, sentiment=recorder)
    assert _keys(found[0]) == {"customer_service"}
    # the whole text is about customer service, so it is what is scored for it
    assert recorder.calls[0][:2] == [
        "客服回覆很快，處理得很好",
        "非常失望！外送慢了一個小時",
    ]
    # a clause before any topic goes with the first one
    assert "delivery" in _keys(found[1])
    by_topic = {hit.topic: hit for hit in found[2]}
    assert by_topic["room_comfort"].sentiment == "positive"  # 房間很大 alone
    assert by_topic["cleanliness_environment"].sentiment == "negative"


def test_a_contrast_ends_what_a_topic_takes(taxonomy: Taxonomy) -> None:
    recorder = Recorder()
    texts = ["配送很快，但是房間很髒", "Delivery was quick, but the room was dirty."]
    find_topics(texts, ["zh-Hant", "en"], taxonomy=taxonomy, sentiment=recorder)
    assert "配送很快" in recorder.calls[0]
    assert "Delivery was quick," in recorder.calls[0]
    assert not any("配送" in t and "髒" in t for t in recorder.calls[0])


def test_a_single_topic_reads_like_its_review_on_held_out_texts(
    shared_data: Path, taxonomy: Taxonomy
) -> None:
    corpus = load_corpus("online_shopping_10_cats", shared_data)
    texts, labels = corpus.test_texts[::20], corpus.test_labels[::20]
    found = find_topics(texts, ["zh-Hans"] * len(texts), taxonomy=taxonomy,
                        sentiment=score_sentiment)  # fmt: skip
    single = [(hits[0], label) for hits, label in zip(found, labels, strict=True)
              if len(hits) == 1 and hits[0].score is not None]  # fmt: skip
    agree = np.mean(
        [(hit.score >= 0) == (label == "positive") for hit, label in single]
    )
    assert len(single) >= 50
    assert agree >= 0.85  # 0.915 on the whole test part; 0.803 with clauses alone


def test_sentiment_is_called_once_per_batch(
    shared_data: Path, taxonomy: Taxonomy
) -> None:
    recorder = Recorder()
    texts = _waimai(shared_data, 200)
    find_topics(texts, ["zh-Hans"] * 200, taxonomy=taxonomy, sentiment=recorder)
    assert len(recorder.calls) == 1


def test_exclude_phrase_hides_a_keyword(taxonomy: Taxonomy) -> None:
    gift, courier = topic_keys(
        ["還送了一瓶飲料", "送餐很快"], ["zh-Hant"] * 2, taxonomy=taxonomy
    )
    assert "delivery" not in gift
    assert "promotions_membership" in gift
    assert "delivery" in courier


def test_english_keywords_match_whole_words_only(taxonomy: Taxonomy) -> None:
    apple, app = topic_keys(
        ["I love apples", "the app crashed"], ["en"] * 2, taxonomy=taxonomy
    )
    assert "app_website" not in apple
    assert "app_website" in app


def test_html_and_script_are_plain_text(taxonomy: Taxonomy) -> None:
    text = "<script>alert('退款')</script><b>delivery</b>"
    (hits,) = find_topics([text], ["zh-Hant"], taxonomy=taxonomy, sentiment=Recorder())
    assert {"billing_refunds", "delivery"} <= _keys(hits)
    assert all("<" not in m for hit in hits for m in hit.matches)


def test_empty_and_symbol_texts_have_no_topics(taxonomy: Taxonomy) -> None:
    found = find_topics(["", "   ", "👍👍!!!"], ["und"] * 3, taxonomy=taxonomy,
                        sentiment=score_sentiment)  # fmt: skip
    assert found == [(), (), ()]


def test_very_long_text_is_cut_not_crashed(taxonomy: Taxonomy) -> None:
    text = "房間很乾淨。" * 20_000 + "退款"
    started = time.perf_counter()
    (hits,) = find_topics([text], ["zh-Hant"], taxonomy=taxonomy, sentiment=Recorder())
    assert time.perf_counter() - started < 10
    assert {"room_comfort", "cleanliness_environment"} <= _keys(hits)
    assert "billing_refunds" not in _keys(hits)


def test_unsupported_language_gets_topics_without_sentiment(taxonomy: Taxonomy) -> None:
    (hits,) = find_topics(["ホテルの wifi が遅い"], ["ja"], taxonomy=taxonomy,
                          sentiment=score_sentiment)  # fmt: skip
    assert _keys(hits) == {"network_signal"}
    assert hits[0].sentiment is None
    assert hits[0].score is None


@pytest.mark.parametrize(
    ("demo_topic", "expected"),
    [("delivery_late", "delivery"), ("staff_rude", "staff_attitude"),
     ("staff_friendly", "staff_attitude"), ("price_rise", "price_value"),
     ("app_login", "app_website"), ("product_defect", "product_quality")],
)  # fmt: skip
def test_demo_company_comments_get_their_topic(
    taxonomy: Taxonomy, demo_topic: str, expected: str
) -> None:
    texts = [
        template.format(days=3, store="信義店", product="保溫瓶")
        for language in TOPICS[demo_topic].values()
        for template in language
    ]
    found = topic_keys(texts, ["zh-Hant"] * len(texts), taxonomy=taxonomy)
    assert all(expected in keys for keys in found), list(zip(texts, found, strict=True))


def test_custom_taxonomy_with_a_rule(tmp_path: Path) -> None:
    path = tmp_path / "taxonomy.yaml"
    path.write_text(
        "use_model: false\ntopics:\n  - key: parking\n    name: {zh-TW: 停車, en: Parking}\n"
        "    rules:\n      - all: [車位, 找不到]\n",
        encoding="utf-8",
    )
    custom = load_taxonomy(path)
    found = topic_keys(
        ["車位一直找不到", "車位很多", "找不到店"], ["zh-Hant"] * 3, taxonomy=custom
    )
    assert found == [frozenset({"parking"}), frozenset(), frozenset()]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"topics": [{"key": "Bad Key", "name": {"zh-TW": "a", "en": "b"},
                      "keywords": {"zh": ["x"]}}]}, "topics[0].key"),
        ({"topics": [{"key": "a", "name": {"en": "b"}, "keywords": {"zh": ["x"]}}]},
         "topics[0].name.zh-TW"),
        ({"topics": [{"key": "a", "name": {"zh-TW": "a", "en": "b"},
                      "keywords": {"en": ["ok", "del*very"]}}]}, "topics[0].keywords.en[1]"),
        ({"topics": [{"key": "a", "name": {"zh-TW": "a", "en": "b"}, "keywords": {"zh": ["x"]}},
                     {"key": "a", "name": {"zh-TW": "a", "en": "b"}, "keywords": {"zh": ["y"]}}]},
         "topics[1].key: duplicate"),
        ({"topics": [{"key": "a", "name": {"zh-TW": "a", "en": "b"}, "keyword": {"zh": ["x"]}}]},
         "topics[0].keyword: unknown field"),
        ({"topics": [{"key": "a", "name": {"zh-TW": "a", "en": "b"}, "rules": [{"all": ["x"]}]}]},
         "topics[0].rules[0].all"),
        ({"topics": []}, "topics: must be a non-empty list"),
    ],
)  # fmt: skip
def test_invalid_taxonomy_names_the_path(data: object, message: str) -> None:
    with pytest.raises(
        InvalidInput, match=message.replace("[", r"\[").replace("]", r"\]")
    ):
        parse_taxonomy(data, source="t.yaml")


def test_taxonomy_file_that_is_not_yaml_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("topics: [\n  - key", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"bad\.yaml: not valid YAML"):
        load_taxonomy(path)


def test_taxonomy_version_follows_the_content(taxonomy: Taxonomy) -> None:
    data = {
        "topics": [
            {"key": "a", "name": {"zh-TW": "甲", "en": "A"}, "keywords": {"zh": ["x"]}}
        ]
    }
    first = parse_taxonomy(data)
    data["topics"][0]["keywords"] = {"zh": ["y"]}
    assert parse_taxonomy(data).version != first.version
    assert load_taxonomy().version == taxonomy.version


def test_classifier_adds_a_topic_phrased_without_keywords(taxonomy: Taxonomy) -> None:
    text = "我東西都沒收到怎麼就訂單完成了,商家太不負責了啊！"
    (hits,) = find_topics([text], ["zh-Hant"], taxonomy=taxonomy, sentiment=Recorder())
    model_hits = [hit for hit in hits if hit.source == "model"]
    assert [hit.topic for hit in model_hits] == ["delivery"]
    assert model_hits[0].matches == ()
    assert (
        model_hits[0].sentiment == "positive"
    )  # the Recorder's answer for the whole text
    rules_only = dataclasses.replace(taxonomy, use_model=False)
    assert topic_keys([text], ["zh-Hant"], taxonomy=rules_only) == [frozenset()]
