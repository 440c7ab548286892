"""The transformer backend: fine-tune a local model, score with it, refuse unsafe folders.

The base models are tiny BERTs (one layer, 64 wide) built here from scratch with a
vocabulary of the training texts, saved as Hugging Face writes a pre-trained model: no
pre-trained weights exist offline, and a tiny network learns these tasks in seconds.
"""

from __future__ import annotations

import csv
import json
import random
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from clinc_sample import clinc
from typer.testing import CliRunner

from cxloop.cli import app
from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput
from cxloop.text._fitting import macro_f1_offsets, with_offsets
from cxloop.text.scoring import TextModels, score_texts
from cxloop.text.training import train_user_model
from cxloop.text.transformer import check_device, load_transformer, resolve_device
from cxloop.text.transformer_training import _fit_label_offsets, fine_tune
from cxloop.text.user_models import load_user_models

runner = CliRunner()
INTENTS = ("freeze_account", "report_lost_card", "pin_change", "balance", "transfer",
           "card_declined", "credit_limit", "interest_rate")  # fmt: skip


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _hotel(shared_data: Path) -> tuple[list[str], list[str], list[str], list[str]]:
    """200 + 200 ChnSentiCorp hotel reviews to train, 100 + 100 others to check."""
    path = shared_data / "chnsenticorp_htl_all" / "ChnSentiCorp_htl_all.csv"
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    random.Random(1).shuffle(rows)  # noqa: S311 - a fixed sample
    pos = [r["review"] for r in rows if r["label"] == "1"][:300]
    neg = [r["review"] for r in rows if r["label"] == "0"][:300]
    labels = ["positive"] * 200 + ["negative"] * 200
    return pos[:200] + neg[:200], labels, pos[200:], neg[200:]


def _tiny_base(folder: Path, tokens: list[str]) -> Path:
    """A randomly initialised one-layer BERT and a tokenizer over ``tokens``."""
    from transformers import BertConfig, BertModel, BertTokenizer

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *sorted(set(tokens))]
    tokenizer = BertTokenizer(vocab={word: i for i, word in enumerate(vocab)})
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(vocab), hidden_size=64, num_hidden_layers=1,
                        num_attention_heads=2, intermediate_size=128,
                        max_position_embeddings=128, hidden_dropout_prob=0.0,
                        attention_probs_dropout_prob=0.0)  # fmt: skip
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def intent_base(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    texts, _ = clinc(shared_data, "train.csv", INTENTS, 40)
    words = [w for t in texts for w in re.findall(r"\w+", t.lower())]
    return _tiny_base(tmp_path_factory.mktemp("intent-base"), words)


@pytest.fixture(scope="module")
def intent_dir(shared_data: Path, intent_base: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:  # fmt: skip
    """Eight CLINC150 intents (40 texts each) fine-tuned into a model folder."""
    texts, labels = clinc(shared_data, "train.csv", INTENTS, 40)
    model_dir = tmp_path_factory.mktemp("intent-model")
    fine_tune(task="intent", texts=texts, labels=labels, model_dir=model_dir,
              base_model=intent_base, epochs=10, learning_rate=2e-3, max_length=32,
              freeze_embeddings=False)  # fmt: skip
    return model_dir


@pytest.fixture(scope="module")
def sentiment_dir(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    texts, labels, _, _ = _hotel(shared_data)
    base = _tiny_base(
        tmp_path_factory.mktemp("zh-base"), [c for t in texts for c in t.lower()]
    )
    model_dir = tmp_path_factory.mktemp("sentiment-model")
    fine_tune(task="sentiment", texts=texts, labels=labels, model_dir=model_dir,
              base_model=base, epochs=8, learning_rate=2e-3, max_length=64,
              freeze_embeddings=False)  # fmt: skip
    return model_dir


def test_fine_tune_reports_held_out_figures_and_saves_safetensors(shared_data: Path, intent_base: Path, tmp_path: Path) -> None:  # fmt: skip
    texts, labels = clinc(shared_data, "train.csv", INTENTS, 40)
    steps: list[str] = []
    report = fine_tune(task="intent", texts=texts, labels=labels, model_dir=tmp_path,
                       base_model=intent_base, epochs=10, learning_rate=2e-3,
                       max_length=32, progress=steps.append,
                       freeze_embeddings=False)  # fmt: skip
    folder = tmp_path / "intent.transformer"
    assert report.backend == "transformer"
    assert report.labels == tuple(sorted(INTENTS))
    assert report.extra["validation_texts"] == 32  # 10 % of 320, stratified
    assert [f.support for f in report.per_label] == [4] * 8
    assert report.accuracy >= 0.75
    assert 0.0 < report.other_threshold < 1.0
    assert any("epoch 10/10" in s for s in steps)
    assert (folder / "model.safetensors").is_file()
    assert not list(folder.glob("*.bin"))
    notes = json.loads((folder / "cxloop.json").read_text(encoding="utf-8"))
    assert notes["report"]["accuracy"] == report.accuracy
    assert notes["base_model"] == str(intent_base)
    assert notes["label_offsets"] is None  # 4 held-out texts a label: too few to fit


def test_fine_tuned_intents_label_unseen_texts(
    shared_data: Path, intent_dir: Path
) -> None:
    texts, labels = clinc(shared_data, "val.csv", INTENTS, 20)
    models = load_user_models(intent_dir, device="cpu")
    found = models.predict("intent", texts)
    assert models.tasks == ("intent",)
    assert models.transformer("intent") is not None
    assert np.mean([f[0] == t for f, t in zip(found, labels, strict=True)]) >= 0.75
    assert models.labels("intent")[-1] == "other"


def test_text_score_fills_intent_from_the_transformer(shared_data: Path, intent_dir: Path, tmp_path: Path, cli_settings: Settings) -> None:  # fmt: skip
    texts, labels = clinc(shared_data, "val.csv", INTENTS[:2], 10)
    source = tmp_path / "in.csv"
    with source.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["id", "comment"], *enumerate(texts)])
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["text", "score", "--input", str(source), "--text-column",
                                 "comment", "--model-dir", str(intent_dir), "--device", "cpu",
                                 "--output", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 20
    assert {r["intent"] for r in rows} <= {*INTENTS, "other"}
    assert np.mean([r["intent"] == y for r, y in zip(rows, labels, strict=True)]) >= 0.7
    assert all(0.0 <= float(r["intent_confidence"]) <= 1.0 for r in rows)


def test_transformer_sentiment_scores_whole_texts(shared_data: Path, sentiment_dir: Path) -> None:  # fmt: skip
    _, _, pos, neg = _hotel(shared_data)
    models = TextModels.load(model_dir=sentiment_dir, device="cpu")
    found = score_texts([*pos, *neg, "Bonjour tout le monde, merci"], models=models,
                        parts=frozenset({"language", "sentiment", "topics"}))  # fmt: skip
    right = [
        s.sentiment_score is not None and s.sentiment_score > 0 for s in found[:100]
    ]
    right += [
        s.sentiment_score is not None and s.sentiment_score < 0 for s in found[100:200]
    ]
    assert np.mean(right) >= 0.65  # chance is 0.5; the tiny model reaches about 0.74
    assert all(s.sentiment in {"positive", "negative"} for s in found[:200])
    assert all(-1.0 <= (s.sentiment_score or 0.0) <= 1.0 for s in found[:200])
    assert found[-1].supported is False
    assert found[-1].sentiment is None
    with_topics = [s for s in found[:200] if s.topics]
    assert with_topics  # clauses keep the shipped model: topics still carry a sentiment
    assert all(hit.sentiment for s in with_topics for hit in s.topics)


def test_training_a_task_again_replaces_its_transformer(shared_data: Path, intent_dir: Path, tmp_path: Path) -> None:  # fmt: skip
    linked = tmp_path / "intent.transformer"
    linked.symlink_to(intent_dir / "intent.transformer", target_is_directory=True)
    assert load_user_models(tmp_path, device="cpu").transformer("intent") is not None
    texts, labels = clinc(shared_data, "train.csv", INTENTS[:3], 10)
    train_user_model(
        task="intent", texts=texts, labels=labels, model_dir=tmp_path, folds=2
    )
    assert not linked.is_symlink()
    assert not linked.exists()
    assert (intent_dir / "intent.transformer" / "config.json").is_file()  # target kept
    assert load_user_models(tmp_path).transformer("intent") is None


def test_a_folder_with_only_pickled_weights_is_refused(intent_dir: Path, tmp_path: Path) -> None:  # fmt: skip
    folder = tmp_path / "intent.transformer"
    folder.mkdir()
    (folder / "config.json").write_text(
        (intent_dir / "intent.transformer" / "config.json").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    (folder / "pytorch_model.bin").write_bytes(b"\x80\x04not really a pickle")
    with pytest.raises(InvalidInput, match=r"pytorch_model\.bin is pickled"):
        load_user_models(tmp_path, device="cpu")


def test_unnamed_or_wrong_sentiment_labels_are_refused(intent_dir: Path, tmp_path: Path) -> None:  # fmt: skip
    import shutil

    folder = tmp_path / "sentiment.transformer"
    shutil.copytree(intent_dir / "intent.transformer", folder)
    with pytest.raises(InvalidInput, match="positive, negative"):
        load_transformer(folder, "sentiment", device="cpu")
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    config["id2label"] = {str(i): f"LABEL_{i}" for i in range(len(INTENTS))}
    config["label2id"] = {f"LABEL_{i}": i for i in range(len(INTENTS))}
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(InvalidInput, match="labels are unnamed"):
        load_transformer(folder, "intent", device="cpu")


def test_fine_tune_refuses_bad_settings_and_folders(intent_base: Path, tmp_path: Path) -> None:  # fmt: skip
    texts = [f"text number {i}" for i in range(12)]
    labels = ["a"] * 6 + ["b"] * 6
    with pytest.raises(InvalidInput, match="epochs must be 1 to 100"):
        fine_tune(task="intent", texts=texts, labels=labels, model_dir=tmp_path,
                  base_model=intent_base, epochs=0)  # fmt: skip
    with pytest.raises(InvalidInput, match="no such model directory"):
        fine_tune(task="intent", texts=texts, labels=labels, model_dir=tmp_path,
                  base_model=tmp_path / "nowhere")  # fmt: skip
    with pytest.raises(InvalidInput, match="positive, negative"):
        fine_tune(task="sentiment", texts=texts, labels=labels, model_dir=tmp_path,
                  base_model=intent_base)  # fmt: skip
    assert not (tmp_path / "intent.transformer").exists()


def test_cli_transformer_backend_needs_a_base_model(tmp_path: Path, cli_settings: Settings) -> None:  # fmt: skip
    source = tmp_path / "labelled.csv"
    rows = [(f"退款 {i}", "refund") for i in range(6)] + [
        (f"運費 {i}", "shipping") for i in range(6)
    ]
    with source.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([("comment", "reason"), *rows])
    result = runner.invoke(app, ["text", "train", "--task", "intent", "--input", str(source),
                                 "--text-column", "comment", "--label-column", "reason",
                                 "--model-dir", str(tmp_path / "m"), "--backend", "transformer"])  # fmt: skip
    assert result.exit_code != 0
    assert "--base-model" in str(result.exception) + result.output


def test_devices_are_checked() -> None:
    assert check_device(" CPU ") == "cpu"
    assert check_device("cuda:1") == "cuda:1"
    with pytest.raises(InvalidInput, match="unknown text device 'gpu'"):
        check_device("gpu")
    assert resolve_device("cpu") == "cpu"
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto") == expected
    if not torch.cuda.is_available():
        with pytest.raises(InvalidInput, match="no GPU is available"):
            resolve_device("cuda")


def _understated(n_small: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three labels; the third (n_small texts) is given too little probability."""
    rng = np.random.default_rng(seed)
    y = np.array([0] * 400 + [1] * 400 + [2] * n_small)
    logits = rng.normal(0, 1, (len(y), 3))
    logits[np.arange(len(y)), y] += 2.0
    logits[:, 2] -= 1.5
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return proba, y


def test_macro_f1_offsets_lift_an_understated_label() -> None:
    from sklearn.metrics import f1_score

    proba, y = _understated(100)
    offsets = macro_f1_offsets(proba, y)
    before = f1_score(y, proba.argmax(axis=1), average="macro")
    fixed = with_offsets(proba, offsets)
    after = f1_score(y, fixed.argmax(axis=1), average="macro")
    assert offsets[2] - max(offsets[0], offsets[1]) >= 0.5
    assert after > before + 0.03
    assert np.allclose(fixed.sum(axis=1), 1.0)
    # held-out texts of the same kind gain too: the offsets are not fitted noise
    proba2, y2 = _understated(100, seed=1)
    assert f1_score(
        y2, with_offsets(proba2, offsets).argmax(axis=1), average="macro"
    ) > (f1_score(y2, proba2.argmax(axis=1), average="macro") + 0.03)
    # nothing to correct: every offset stays 0
    exact = np.eye(3)[y] * 0.9 + 0.1 / 3
    assert not macro_f1_offsets(exact, y).any()


def test_label_offsets_only_where_labels_have_held_out_texts_enough() -> None:
    proba, y = _understated(100)
    assert _fit_label_offsets("emotion", proba, y) is not None
    assert _fit_label_offsets("intent", proba, y) is not None
    assert _fit_label_offsets("sentiment", proba, y) is None  # judged by accuracy
    few, y_few = _understated(30)
    assert _fit_label_offsets("emotion", few, y_few) is None


def test_label_offsets_in_cxloop_json_apply_when_scoring(shared_data: Path, intent_dir: Path, tmp_path: Path) -> None:  # fmt: skip
    import shutil

    folder = tmp_path / "intent.transformer"
    shutil.copytree(intent_dir / "intent.transformer", folder)
    texts, _ = clinc(shared_data, "val.csv", INTENTS, 5)
    plain = load_transformer(folder, "intent", device="cpu")
    before = plain.proba(texts)
    notes = json.loads((folder / "cxloop.json").read_text(encoding="utf-8"))
    offsets = dict.fromkeys(plain.labels, 0.0) | {"balance": 8.0}
    (folder / "cxloop.json").write_text(
        json.dumps(notes | {"label_offsets": offsets}), encoding="utf-8"
    )
    shifted = load_transformer(folder, "intent", device="cpu")
    after = shifted.proba(texts)
    order = np.array([offsets[label] for label in plain.labels])
    assert np.allclose(after, with_offsets(before, order), atol=1e-5)
    balance = plain.labels.index("balance")
    assert (after.argmax(axis=1) == balance).mean() > (
        before.argmax(axis=1) == balance
    ).mean()
    for bad in ({"balance": 1.0}, offsets | {"balance": "high"}, [1.0] * 8):
        (folder / "cxloop.json").write_text(
            json.dumps(notes | {"label_offsets": bad}), encoding="utf-8"
        )
        with pytest.raises(InvalidInput, match="label_offsets must map"):
            load_transformer(folder, "intent", device="cpu")


def test_fine_tune_fits_and_saves_label_offsets(shared_data: Path, intent_base: Path, tmp_path: Path) -> None:  # fmt: skip
    texts, labels = clinc(shared_data, "train.csv", INTENTS, 100)
    report = fine_tune(task="intent", texts=texts, labels=labels, model_dir=tmp_path,
                       base_model=intent_base, epochs=2, learning_rate=2e-3,
                       max_length=32, validation=0.5, max_other=0.0,
                       freeze_embeddings=False)  # fmt: skip
    fitted = report.extra["label_offsets"]
    assert fitted is not None
    assert set(fitted) == set(INTENTS)
    assert any(fitted.values())  # two passes leave the small-data model uneven
    folder = tmp_path / "intent.transformer"
    notes = json.loads((folder / "cxloop.json").read_text(encoding="utf-8"))
    assert notes["label_offsets"] == fitted
    model = load_transformer(folder, "intent", device="cpu")
    assert model.label_offsets is not None
    assert model.label_offsets.tolist() == [fitted[label] for label in model.labels]
