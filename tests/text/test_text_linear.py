"""The linear text model format: fitting, numpy-only files, the save/load round trip."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from cxloop.domain.errors import InvalidInput
from cxloop.text.chinese import to_traditional
from cxloop.text.linear import FeatureSpec, LinearTextModel, fit_linear

ZH = ["很好吃，送餐也快", "太难吃了，再也不点", "服务很好，推荐", "送餐太慢，菜都凉了",
      "味道不错，分量足", "包装破了，很失望"]  # fmt: skip
ZH_LABELS = ["positive", "negative"] * 3


def _yelp(shared_data: Path) -> tuple[list[str], list[str], list[str], list[str]]:
    from scripts.text_models.corpora import load_corpus

    corpus = load_corpus("uci_sentiment_labelled_yelp", shared_data)
    return (
        corpus.train_texts,
        corpus.train_labels,
        corpus.test_texts,
        corpus.test_labels,
    )


def test_fit_linear_learns_yelp_sentences_above_chance(shared_data: Path) -> None:
    train_x, train_y, test_x, test_y = _yelp(shared_data)
    spec = FeatureSpec(char_ngrams=(1, 4), word_ngrams=(1, 2), n_features=2**18)
    model = fit_linear(train_x, train_y, features=spec, c=4.0)
    accuracy = np.mean(np.array(model.predict(test_x)) == np.array(test_y))
    assert accuracy >= 0.72


def test_save_load_round_trip_gives_the_same_probabilities(tmp_path: Path) -> None:
    model = fit_linear(
        ZH * 5, ZH_LABELS * 5, features=FeatureSpec(max_weights=50), c=2.0
    )
    model.meta["note"] = "round trip"
    model.save(tmp_path / "demo")
    loaded = LinearTextModel.load(tmp_path / "demo")
    probe = ["很好吃", "太慢了", "", "ok"]
    assert np.allclose(
        loaded.predict_proba(probe), model.predict_proba(probe), atol=1e-6
    )
    assert (loaded.labels, loaded.version, loaded.features, loaded.meta["note"]) == (
        model.labels, model.version, model.features, "round trip",
    )  # fmt: skip
    assert len(loaded.columns) <= 50


def test_saved_arrays_load_without_pickle(tmp_path: Path) -> None:
    fit_linear(ZH, ZH_LABELS).save(tmp_path / "m")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as arrays:
        assert all(arrays[name].dtype != object for name in arrays.files)
    with zipfile.ZipFile(tmp_path / "m.npz") as archive:
        assert all(name.endswith(".npy") for name in archive.namelist())
    assert json.loads((tmp_path / "m.json").read_text("utf-8"))["labels"] == [
        "negative", "positive",
    ]  # fmt: skip


def test_load_rejects_a_file_that_is_not_a_linear_model(tmp_path: Path) -> None:
    fit_linear(ZH, ZH_LABELS).save(tmp_path / "m")
    head = json.loads((tmp_path / "m.json").read_text("utf-8"))
    (tmp_path / "m.json").write_text(json.dumps({**head, "format": "other"}), "utf-8")
    with pytest.raises(InvalidInput, match="not a cxloop-linear-1 model"):
        LinearTextModel.load(tmp_path / "m")


def test_load_rejects_arrays_that_do_not_match_the_labels(tmp_path: Path) -> None:
    fit_linear(ZH, ZH_LABELS).save(tmp_path / "m")
    head = json.loads((tmp_path / "m.json").read_text("utf-8"))
    head["labels"] = ["a", "b", "c"]
    (tmp_path / "m.json").write_text(json.dumps(head), "utf-8")
    with pytest.raises(InvalidInput, match="shapes do not match"):
        LinearTextModel.load(tmp_path / "m")


def test_feature_spec_json_round_trip_and_unknown_keys() -> None:
    spec = FeatureSpec(char_ngrams=(2, 4), word_ngrams=(1, 2), nb_weighting=True)
    assert FeatureSpec.from_json(json.loads(json.dumps(spec.to_json()))) == spec
    with pytest.raises(InvalidInput, match="unknown keys bogus"):
        FeatureSpec.from_json({"bogus": 1})


def test_predict_proba_rows_sum_to_one_for_many_labels() -> None:
    labels = ["delivery", "price", "staff"] * 4
    texts = [
        "送貨很慢",
        "價格太貴",
        "店員態度差",
        "物流延遲",
        "太贵了",
        "服务员很凶",
    ] * 2
    model = fit_linear(
        texts, labels, features=FeatureSpec(word_ngrams=(1, 1), n_features=2**16)
    )
    proba = model.predict_proba(["物流很慢", "价格贵", ""])
    assert model.labels == ("delivery", "price", "staff")
    assert proba.shape == (3, 3)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert model.predict_proba([]).shape == (0, 3)


def test_traditional_and_simplified_get_the_same_probabilities() -> None:
    model = fit_linear(ZH * 3, ZH_LABELS * 3, features=FeatureSpec(word_ngrams=(1, 2)))
    simplified = ["这家店的软件很难用，客服态度也差", "发货很快，质量不错"]
    hant = [to_traditional(t) for t in simplified]
    assert np.allclose(model.predict_proba(hant), model.predict_proba(simplified))


def test_fit_linear_rejects_a_single_label_or_mismatched_lengths() -> None:
    with pytest.raises(InvalidInput, match="two labels or more"):
        fit_linear(["a", "b"], ["x", "x"])
    with pytest.raises(InvalidInput, match="as many labels as texts"):
        fit_linear(["a", "b"], ["x"])


def test_long_and_odd_texts_never_fail() -> None:
    model = fit_linear(ZH, ZH_LABELS)
    odd = ["好" * 50_000, "<script>alert(1)</script>", "\x00\x00", "👍🏻🔥", " \n\t "]
    assert model.predict_proba(odd).shape == (5, 2)
