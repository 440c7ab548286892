"""The taxonomy's ignore_terms: the company's own names are taken out before reading."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from cxloop.cli import app
from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput
from cxloop.text.ignore_terms import drop_terms
from cxloop.text.scoring import TextModels, default_models, score_texts, text_version
from cxloop.text.taxonomy import default_taxonomy_path, load_taxonomy
from scripts.text_models.corpora import load_corpus

BRAND = ["#禾光生活", "Heguang Living", "@heguang_tw"]


def _with_terms(tmp_path: Path, terms: list[str] | str) -> Path:
    base = default_taxonomy_path().read_text(encoding="utf-8")
    path = tmp_path / "taxonomy.yaml"
    listed = terms if isinstance(terms, str) else "[" + ", ".join(f'"{t}"' for t in terms) + "]"  # fmt: skip
    assert "\nignore_terms: []\n" in base
    path.write_text(
        base.replace("\nignore_terms: []\n", f"\nignore_terms: {listed}\n"),
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [("It was okay. #HeguangLiving", "It was okay."),
     ("#禾光生活# 門市很乾淨", "門市很乾淨"),
     ("禾光生活的店員很親切", "的店員很親切"),
     ("禾光生活的店员很亲切", "的店员很亲切"),
     ("HEGUANG  LIVING rocks @heguang_tw", "rocks"),
     ("Heguangville is far", "Heguangville is far"),
     ("#禾光生活", "")],
)  # fmt: skip
def test_drop_terms_takes_names_out_in_every_form(text: str, expected: str) -> None:
    assert drop_terms([text], BRAND) == [expected]


def test_the_taxonomy_reads_validates_and_versions_its_ignore_terms(tmp_path: Path) -> None:  # fmt: skip
    taxonomy = load_taxonomy(_with_terms(tmp_path, BRAND))
    assert taxonomy.ignore_terms == tuple(BRAND)
    plain = load_taxonomy()
    assert plain.ignore_terms == ()
    assert taxonomy.version != plain.version
    assert load_taxonomy(_with_terms(tmp_path, [])).version == plain.version
    for bad, message in [("brand", "must be a list"), ('["#!"]', "no letter or digit"),
                         ('[""]', "must not be empty"), ("[[1]]", "must be text"),
                         ("[" + ", ".join(["x"] * 501) + "]", "more than 500")]:  # fmt: skip
        with pytest.raises(InvalidInput, match=message):
            load_taxonomy(_with_terms(tmp_path, bad))


def test_score_texts_reads_the_text_without_the_brand(tmp_path: Path) -> None:
    models = TextModels.load(taxonomy_path=_with_terms(tmp_path, BRAND))
    texts = ["It was okay. #HeguangLiving",
             "Delivery was 3 days late and nobody told me. #HeguangLiving",
             "禾光生活的門市很乾淨 #禾光生活", "#禾光生活"]  # fmt: skip
    before = score_texts(texts)
    after = score_texts(texts, models=models)
    assert before[0].sentiment == "positive"  # the tag's letters alone
    assert after[0].sentiment == "neutral"  # a middling remark
    assert after[1].sentiment == "negative"
    assert after[2].language == "zh-Hant"
    assert after[2].sentiment == "positive"
    assert not any("禾光" in word for word in after[2].keywords)
    assert after[3].supported is False  # nothing but the brand: nothing to read
    assert text_version(models) != text_version(default_models())


def test_a_brand_tag_costs_nothing_once_ignored(shared_data: Path, tmp_path: Path) -> None:  # fmt: skip
    corpus = load_corpus("uci_sentiment_labelled_yelp", shared_data)
    models = TextModels.load(taxonomy_path=_with_terms(tmp_path, BRAND))
    truth = np.array(corpus.test_labels)

    def accuracy(texts: list[str], chosen: TextModels) -> float:
        found = score_texts(texts, models=chosen, parts=frozenset({"sentiment"}))
        sign = ["positive" if (f.sentiment_score or 0) >= 0 else "negative" for f in found]  # fmt: skip
        return float(np.mean(np.array(sign) == truth))

    tagged = [text + " #HeguangLiving" for text in corpus.test_texts]
    plain = accuracy(corpus.test_texts, default_models())
    assert accuracy(tagged, default_models()) < plain - 0.05  # 0.885 -> 0.775
    assert accuracy(tagged, models) == plain


def test_cli_topics_shows_the_ignored_names(cli_settings: Settings, tmp_path: Path) -> None:  # fmt: skip
    path = _with_terms(tmp_path, BRAND)
    shown = CliRunner().invoke(app, ["text", "topics", "--taxonomy", str(path)])
    assert shown.exit_code == 0, shown.output
    assert "Ignored names (3): #禾光生活, Heguang Living, @heguang_tw" in shown.output
    data = json.loads(CliRunner().invoke(app, ["text", "topics", "--json", "--taxonomy", str(path)]).output)  # fmt: skip
    assert data["ignore_terms"] == BRAND
