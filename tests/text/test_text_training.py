"""Training a user's own model: cross-validated report, the ``other`` threshold, files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from clinc_sample import clinc
from typer.testing import CliRunner

from cxloop.cli import app
from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput, NotFound
from cxloop.text.training import train_from_file, train_user_model
from cxloop.text.user_models import load_user_models

runner = CliRunner()
#: Eight CLINC150 intents from two domains (banking, credit cards).
INTENTS = ("freeze_account", "report_lost_card", "pin_change", "balance", "transfer",
           "card_declined", "credit_limit", "interest_rate")  # fmt: skip


@pytest.fixture(scope="module")
def trained(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An intent model trained on 8 CLINC150 intents (40 texts each), 3 folds."""
    texts, labels = clinc(shared_data, "train.csv", INTENTS, 40)
    model_dir = tmp_path_factory.mktemp("model")
    train_user_model(
        task="intent", texts=texts, labels=labels, model_dir=model_dir, folds=3
    )
    return model_dir


def test_train_user_model_reports_cross_validated_figures(shared_data: Path, tmp_path: Path) -> None:  # fmt: skip
    texts, labels = clinc(shared_data, "train.csv", INTENTS, 40)
    steps: list[str] = []
    report = train_user_model(task="intent", texts=texts, labels=labels,
                              model_dir=tmp_path, folds=3, progress=steps.append)  # fmt: skip
    assert report.labels == tuple(sorted(INTENTS))
    assert report.n_texts == 320
    assert report.accuracy > 0.85
    assert report.macro_f1 > 0.85
    assert [f.support for f in report.per_label] == [40] * 8
    assert 0.0 < report.other_threshold < 1.0
    assert report.unknown_recall is not None
    assert any("fold 3 of 3" in s for s in steps)
    assert (tmp_path / "intent.npz").is_file()
    head = json.loads((tmp_path / "intent.json").read_text(encoding="utf-8"))
    assert head["meta"]["report"]["accuracy"] == report.accuracy


def test_user_models_label_held_out_texts_of_trained_intents(shared_data: Path, trained: Path) -> None:  # fmt: skip
    texts, labels = clinc(shared_data, "val.csv", INTENTS, 20)
    models = load_user_models(trained)
    found = models.predict("intent", texts)
    assert models.tasks == ("intent",)
    assert np.mean([f[0] == t for f, t in zip(found, labels, strict=True)]) > 0.8
    assert all(0.0 <= c <= 1.0 for _, c in found)


def test_user_models_send_unrelated_texts_to_other(shared_data: Path, trained: Path) -> None:  # fmt: skip
    oos, _ = clinc(shared_data, "val.csv", ("oos",), 100)
    found = load_user_models(trained).predict("intent", oos)
    assert np.mean([label == "other" for label, _ in found]) >= 0.5


def test_rows_labelled_other_tune_the_threshold_but_are_no_label(shared_data: Path, tmp_path: Path) -> None:  # fmt: skip
    texts, labels = clinc(shared_data, "train.csv", INTENTS[:3], 20)
    oos, _ = clinc(shared_data, "train.csv", ("oos",), 30)
    report = train_user_model(task="intent", texts=texts + oos, labels=labels + ["other"] * 30,
                              model_dir=tmp_path, folds=3)  # fmt: skip
    assert "other" not in report.labels
    assert report.n_texts == 90
    assert report.unknown_recall is not None
    assert load_user_models(tmp_path).labels("intent")[-1] == "other"


@pytest.mark.parametrize(
    ("labels", "message"),
    [(["a"] * 10, "at least 2 labels"),
     (["a"] * 8 + ["b"] * 2, "b (2)"),
     (["a"] * 5 + ["other"] * 5, "at least 2 labels")],
)  # fmt: skip
def test_train_user_model_rejects_too_few_labels_or_examples(tmp_path: Path, labels: list[str], message: str) -> None:  # fmt: skip
    with pytest.raises(
        InvalidInput, match=message.replace("(", r"\(").replace(")", r"\)")
    ):
        train_user_model(task="intent", texts=[f"text {i}" for i in range(len(labels))],
                         labels=labels, model_dir=tmp_path)  # fmt: skip


def test_train_user_model_rejects_unknown_task(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="unknown task 'topic'"):
        train_user_model(
            task="topic", texts=["a"] * 10, labels=["x", "y"] * 5, model_dir=tmp_path
        )


def _write_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["comment", "reason"])
        writer.writerows(rows)
    return path


def test_train_from_file_names_the_line_of_an_empty_text(tmp_path: Path) -> None:
    rows = [(f"退款 {i}", "refund") for i in range(6)] + [("", "refund")]
    rows += [(f"運費 {i}", "shipping") for i in range(6)]
    path = _write_csv(tmp_path / "labelled.csv", rows)
    with pytest.raises(InvalidInput, match=r"empty 'comment' at line\(s\) 8"):
        train_from_file(task="intent", input=path, text_column="comment",
                        label_column="reason", model_dir=tmp_path / "m")  # fmt: skip


def test_train_from_file_names_a_missing_column(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "labelled.csv", [("a", "b")])
    with pytest.raises(InvalidInput, match="no column 'label'"):
        train_from_file(task="intent", input=path, text_column="comment",
                        label_column="label", model_dir=tmp_path / "m")  # fmt: skip


def test_load_user_models_rejects_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        load_user_models(tmp_path / "nowhere")


def test_cli_text_train_prints_the_report_as_json(shared_data: Path, tmp_path: Path, cli_settings: Settings) -> None:  # fmt: skip
    texts, labels = clinc(shared_data, "train.csv", INTENTS[:4], 15)
    path = _write_csv(tmp_path / "labelled.csv", list(zip(texts, labels, strict=True)))
    result = runner.invoke(app, ["text", "train", "--task", "intent", "--input", str(path),
                                 "--text-column", "comment", "--label-column", "reason",
                                 "--model-dir", str(tmp_path / "m"), "--folds", "3", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["labels"] == sorted(INTENTS[:4])
    assert report["accuracy"] > 0.7
    assert (tmp_path / "m" / "intent.json").is_file()


def test_cli_text_train_explains_a_label_with_too_few_examples(tmp_path: Path, cli_settings: Settings) -> None:  # fmt: skip
    rows = [(f"退款 {i}", "refund") for i in range(6)] + [("運費太貴", "shipping")]
    path = _write_csv(tmp_path / "labelled.csv", rows)
    result = runner.invoke(app, ["text", "train", "--task", "intent", "--input", str(path),
                                 "--text-column", "comment", "--label-column", "reason",
                                 "--model-dir", str(tmp_path / "m")])  # fmt: skip
    assert result.exit_code != 0
    assert "shipping (1)" in str(result.exception) + result.output


def test_embeddings_backend_saves_and_uses_the_embedding_weights(shared_data: Path, tmp_path: Path) -> None:  # fmt: skip
    texts, labels = clinc(shared_data, "train.csv", INTENTS[:4], 8)
    report = train_user_model(task="intent", texts=texts, labels=labels, model_dir=tmp_path,
                              folds=2, backend="embeddings")  # fmt: skip
    assert report.backend == "embeddings"
    with np.load(tmp_path / "intent.embeddings.npz", allow_pickle=False) as arrays:
        assert arrays["coef"].shape == (4, 384)
    held_out, truth = clinc(shared_data, "val.csv", INTENTS[:4], 3)
    found = load_user_models(tmp_path).predict("intent", held_out)
    assert np.mean([f[0] == t for f, t in zip(found, truth, strict=True)]) >= 0.75


def _cantonese(shared_data: Path, part: str, n: int | None = None) -> tuple[list[str], list[str]]:  # fmt: skip
    """Positive and negative Cantonese forum comments (no shipped model saw them)."""
    from scripts.text_models.corpora import load_corpus

    corpus = load_corpus("hk_cantonese_forum_sentiment", shared_data)
    texts, labels = (corpus.train_texts, corpus.train_labels) if part == "train" else (
        corpus.test_texts, corpus.test_labels)  # fmt: skip
    pairs = [(t, y) for t, y in zip(texts, labels, strict=True) if y != "neutral"][:n]
    return [t for t, _ in pairs], [y for _, y in pairs]


def test_a_small_sentiment_model_is_averaged_with_the_shipped_one(shared_data: Path, tmp_path: Path) -> None:  # fmt: skip
    import dataclasses

    from cxloop.text.shipped_blend import mix, shipped_proba
    from cxloop.text.user_models import UserModel

    texts, labels = _cantonese(shared_data, "train", 300)
    report = train_user_model(task="sentiment", texts=texts, labels=labels, model_dir=tmp_path)  # fmt: skip
    blend = report.extra["shipped"]
    assert blend["measure"] == "accuracy"
    assert blend["with_shipped"] >= blend["alone"]  # out of fold: so it was kept
    meta = json.loads((tmp_path / "sentiment.json").read_text(encoding="utf-8"))["meta"]
    assert meta["shipped"]["shipped_weight"] == 0.5
    model = load_user_models(tmp_path).models["sentiment"]
    assert isinstance(model, UserModel)
    assert model.shipped_weight == 0.5
    held_out, truth = _cantonese(shared_data, "test")
    alone = dataclasses.replace(model, shipped_weight=0.0)
    averaged = model.proba(held_out)
    assert np.allclose(averaged, mix(alone.proba(held_out), shipped_proba("sentiment", model.labels, held_out), 0.5))  # fmt: skip

    def accuracy(proba: np.ndarray) -> float:
        return float(np.mean(np.array(model.labels)[proba.argmax(axis=1)] == np.array(truth)))  # fmt: skip

    assert accuracy(averaged) > accuracy(alone.proba(held_out)) + 0.02  # 0.680 -> 0.715


def test_intents_have_no_shipped_model_to_average_with(trained: Path) -> None:
    model = load_user_models(trained).models["intent"]
    meta = json.loads((trained / "intent.json").read_text(encoding="utf-8"))["meta"]
    assert "shipped" not in meta
    assert getattr(model, "shipped_weight", None) == 0.0


def test_a_shipped_weight_out_of_range_is_refused(shared_data: Path, tmp_path: Path) -> None:  # fmt: skip
    texts, labels = _cantonese(shared_data, "train", 60)
    train_user_model(task="sentiment", texts=texts, labels=labels, model_dir=tmp_path)
    path = tmp_path / "sentiment.json"
    head = json.loads(path.read_text(encoding="utf-8"))
    head["meta"]["shipped"] = {"shipped_weight": 2}
    path.write_text(json.dumps(head), encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"shipped_weight 2 is not in 0\.\.1"):
        load_user_models(tmp_path)
    head["meta"]["shipped"] = "half"
    path.write_text(json.dumps(head), encoding="utf-8")
    with pytest.raises(InvalidInput, match="shipped_weight 'half' is not in"):
        load_user_models(tmp_path)


def test_cli_text_train_says_whether_it_averages_with_the_shipped_model(shared_data: Path, tmp_path: Path, cli_settings: Settings) -> None:  # fmt: skip
    texts, labels = _cantonese(shared_data, "train", 120)
    source = tmp_path / "labelled.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("comment", "label"), *zip(texts, labels, strict=True)])  # fmt: skip
    result = CliRunner().invoke(app, ["text", "train", "--task", "sentiment", "--input",
                                      str(source), "--text-column", "comment",
                                      "--label-column", "label", "--model-dir",
                                      str(tmp_path / "models")])  # fmt: skip
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "cross-validated accuracy: your model alone" in said
    assert "averaged with the shipped model" in said
