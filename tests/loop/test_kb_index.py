"""BM25 over knowledge-base articles: tokens, scores and ranking."""

from __future__ import annotations

import math

import numpy as np

from cxloop.loop.kb_index import (
    K1,
    B,
    article_scores,
    build_index,
    tokenize,
    top_matches,
)


def test_tokenize_chinese_gives_jieba_words_and_bigrams() -> None:
    tokens = tokenize("信用卡如何補發？")
    assert "信用卡" in tokens
    assert {"信用", "用卡", "補發"} <= set(tokens)
    assert "如何" not in tokens
    assert "？" not in "".join(tokens)


def test_tokenize_english_lower_cases_words_and_drops_stop_words() -> None:
    assert tokenize("How do I reset my PIN? PIN-code!") == [
        "reset",
        "pin",
        "pin",
        "code",
    ]


def test_tokenize_chinese_bigrams_do_not_span_stop_words() -> None:
    tokens = tokenize("什麼是網路投保")
    assert "什麼" not in tokens
    assert "麼是" not in tokens
    assert "是網" not in tokens
    assert {"網路", "投保", "路投"} <= set(tokens)


def test_tokenize_mixed_text_keeps_latin_runs_whole() -> None:
    assert tokenize("PayPal提領") == ["paypal", "提領", "提領"]  # word, then bigram


def test_bm25_score_equals_okapi_formula_for_one_term() -> None:
    index = build_index([["apple pie"], ["banana"], ["cherry tart tart"]], ["", "", ""])
    lengths = np.array([2.0, 1.0, 3.0]) * 2  # questions weigh twice
    idf = math.log1p((3 - 1 + 0.5) / (1 + 0.5))
    tf = 2.0
    norm = K1 * (1 - B + B * lengths[0] / lengths.mean())
    expected = idf * tf * (K1 + 1) / (tf + norm)
    scores = article_scores(index, ["apple"])
    assert math.isclose(scores[0, 0], expected, rel_tol=1e-12)
    assert scores[0, 1] == 0
    assert scores[0, 2] == 0


def test_top_matches_ranks_article_sharing_rare_terms_first() -> None:
    index = build_index(
        [
            ["如何申請信用卡?"],
            ["信用卡遺失怎麼辦?", "卡片掉了要掛失"],
            ["外幣匯款手續費"],
        ],
        ["線上申請", "請立即掛失", "依幣別收費"],
    )
    positions, scores = top_matches(index, ["我的信用卡遺失了", "匯款要手續費嗎"], 2)
    assert positions[0, 0] == 1
    assert positions[1, 0] == 2
    assert scores[0, 0] > scores[0, 1] >= 0


def test_top_matches_pads_with_minus_one_when_nothing_matches() -> None:
    index = build_index([["apple"], ["banana"]], ["fruit", "fruit"])
    positions, scores = top_matches(index, ["apple", "zebra"], 3)
    assert positions.tolist() == [[0, -1, -1], [-1, -1, -1]]
    assert scores[0, 0] > 0
    assert scores[0, 1:].tolist() == [0.0, 0.0]
    assert scores[1].tolist() == [0.0, 0.0, 0.0]


def test_top_matches_batches_agree_with_single_queries() -> None:
    index = build_index([[f"item {i} colour {i % 7}"] for i in range(40)], [""] * 40)
    queries = [f"item {i % 40} colour {i % 40 % 7}" for i in range(1_100)]
    positions, scores = top_matches(index, queries, 2)
    single_positions, single_scores = top_matches(index, [queries[1_050]], 2)
    assert positions[1_050].tolist() == single_positions[0].tolist()
    assert np.allclose(scores[1_050], single_scores[0])
    assert positions[:, 0].tolist() == [i % 40 for i in range(1_100)]


def test_build_index_with_no_articles_scores_nothing() -> None:
    index = build_index([], [])
    positions, scores = top_matches(index, ["anything"], 2)
    assert positions.tolist() == [[-1, -1]]
    assert scores.tolist() == [[0.0, 0.0]]
