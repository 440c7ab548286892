"""English sentiment stacked with VADER's lexicon (``sentiment_en_lexicon``)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score

from cxloop.text.lexicon_stack import (
    STACK_MODEL,
    LexiconStack,
    load_stack,
    stack_version,
)
from cxloop.text.sentiment import (
    EN_MODEL,
    MODEL_DIR,
    load_model,
    model_version,
    score_sentiment,
    score_with,
)
from scripts.text_models.corpora import load_corpus

#: Customer remarks whose words a lexicon knows and the n-grams misread.
LEXICON_WORDS = {"The cashier was impatient and unfriendly.": "negative",
                 "Friendly staff, they helped me find the vacuum.": "positive"}  # fmt: skip


def test_the_shipped_stack_is_plain_json_over_the_shipped_english_model() -> None:
    head = json.loads((MODEL_DIR / f"{STACK_MODEL}.json").read_text(encoding="utf-8"))
    assert not (MODEL_DIR / f"{STACK_MODEL}.npz").exists()
    stack = load_stack(MODEL_DIR / STACK_MODEL)
    assert stack is not None
    linear = load_model(MODEL_DIR / EN_MODEL)
    assert stack.labels == linear.labels
    assert head["meta"]["base_model"] == linear.version
    assert stack.version in model_version()


def test_the_stack_beats_the_linear_model_alone_on_held_out_tweets(shared_data: Path) -> None:  # fmt: skip
    corpus = load_corpus("tweeteval_sentiment", shared_data)
    texts, truth = corpus.test_texts, corpus.test_labels
    stacked = [hit[0] if hit else "none" for hit in score_sentiment(texts, ["en"] * len(texts))]  # fmt: skip
    alone = [label for label, _ in score_with(load_model(MODEL_DIR / EN_MODEL), texts)]
    assert (
        accuracy_score(truth, stacked) >= accuracy_score(truth, alone) + 0.005
    )  # 0.731 vs 0.723
    assert f1_score(truth, stacked, average="macro") >= f1_score(truth, alone, average="macro") + 0.01  # fmt: skip


def test_the_lexicon_reads_words_the_ngrams_miss() -> None:
    texts = list(LEXICON_WORDS)
    alone = score_with(load_model(MODEL_DIR / EN_MODEL), texts)
    assert [label for label, _ in alone] != list(LEXICON_WORDS.values())
    found = score_sentiment(texts, ["en"] * len(texts))
    assert [hit[0] if hit else None for hit in found] == list(LEXICON_WORDS.values())
    for hit in found:
        assert hit is not None
        assert -1 <= hit[1] <= 1


def test_without_the_stack_file_english_scores_with_the_linear_model(tmp_path: Path) -> None:  # fmt: skip
    for suffix in (".npz", ".json"):
        shutil.copy(MODEL_DIR / f"{EN_MODEL}{suffix}", tmp_path / f"{EN_MODEL}{suffix}")
    texts = list(LEXICON_WORDS)
    found = score_sentiment(texts, ["en"] * len(texts), model_dir=tmp_path)
    assert found == score_with(load_model(tmp_path / EN_MODEL), texts)
    assert stack_version(tmp_path) == ""


@pytest.mark.parametrize(
    ("change", "message"),
    [({"format": "something-else"}, "is not a cxloop-lexicon-stack-1 file"),
     ({"coef": [[1.0, 2.0]]}, "weights of the wrong shape")],
)  # fmt: skip
def test_a_malformed_stack_is_refused(tmp_path: Path, change: dict[str, object], message: str) -> None:  # fmt: skip
    head = json.loads((MODEL_DIR / f"{STACK_MODEL}.json").read_text(encoding="utf-8"))
    (tmp_path / "bad.json").write_text(json.dumps(head | change), encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        LexiconStack.load(tmp_path / "bad")


def test_stack_probabilities_are_a_softmax_of_the_weights() -> None:
    stack = LexiconStack(labels=("negative", "neutral", "positive"),
                         coef=np.zeros((3, 7)), intercept=np.array([0.0, 0.0, np.log(2)]),
                         version="x")  # fmt: skip
    proba = stack.proba(np.full((2, 3), 1 / 3), np.zeros((2, 4)))
    assert np.allclose(proba, [[0.25, 0.25, 0.5]] * 2)
