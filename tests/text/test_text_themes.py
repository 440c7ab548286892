"""Keywords, theme discovery and the ``text topics`` / ``text themes`` commands."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import opencc
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from cxloop.cli import app
from cxloop.config import Settings
from cxloop.text.keywords import extract_keywords
from cxloop.text.recurring_names import RecurringName, recurring_names
from cxloop.text.taxonomy import Taxonomy, load_taxonomy, parse_taxonomy
from cxloop.text.themes import discover_themes, themes_to_yaml


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return load_taxonomy()


@pytest.fixture(scope="module")
def shopping(shared_data: Path) -> list[str]:
    """Book and clothing reviews: much of them matches no default topic."""
    path = (
        shared_data / "online_shopping_10_cats" / "online_shopping_10_cats_dev.csv.gz"
    )
    frame = pd.read_csv(path, keep_default_na=False)
    parts = [frame[frame["cat"] == cat]["review"][:150] for cat in ("书籍", "衣服")]
    return [text for part in parts for text in part]


def test_keywords_are_shown_in_the_original_script() -> None:
    text = "配送遲到了三天，外送員態度很差，便當都涼了"
    simplified = opencc.OpenCC("tw2sp").convert(text)
    hant, hans = extract_keywords([text, simplified], ["zh-Hant", "zh-Hans"], top=3)
    assert len(hant) == 3
    assert all(word in text for word in hant)
    assert all(word in simplified for word in hans)
    assert [opencc.OpenCC("tw2s").convert(w) for w in hant] == list(hans)


def test_english_keywords_drop_stop_words() -> None:
    (words,) = extract_keywords(
        ["The delivery driver was rude and the pizza was cold"], ["en"], top=5
    )
    assert "delivery" in words
    assert "pizza" in words
    assert not {"the", "was", "and"} & set(words)


def test_keywords_of_empty_and_unsupported_texts_are_empty() -> None:
    assert extract_keywords(["", "Bonjour tout le monde"], ["und", "fr"]) == [(), ()]


def test_themes_cluster_the_texts_with_no_topic(
    shopping: list[str], taxonomy: Taxonomy
) -> None:
    themes = discover_themes(shopping, ["zh-Hans"] * len(shopping), taxonomy=taxonomy,
                             n_themes=4, examples=2)  # fmt: skip
    assert 1 <= len(themes) <= 4
    assert [t.size for t in themes] == sorted((t.size for t in themes), reverse=True)
    assert sum(t.size for t in themes) < len(shopping)
    for theme in themes:
        assert theme.keywords
        assert len(theme.examples) <= 2
        assert all(example[:20] in " ".join(shopping) for example in theme.examples)
    words = {w for theme in themes for w in theme.keywords}
    assert words & {"书", "内容", "作者", "孩子", "故事", "本书", "这本书"}


def test_themes_yaml_is_a_valid_taxonomy(
    shopping: list[str], taxonomy: Taxonomy
) -> None:
    themes = discover_themes(
        shopping, ["zh-Hans"] * len(shopping), taxonomy=taxonomy, n_themes=3
    )
    proposed = parse_taxonomy(
        yaml.safe_load(themes_to_yaml(themes)), source="themes.yaml"
    )
    assert [t.key for t in proposed.topics] == [t.key for t in themes]


def test_too_few_texts_give_no_themes(taxonomy: Taxonomy) -> None:
    assert discover_themes(["只有一句話"], ["zh-Hant"], taxonomy=taxonomy) == []


def test_cli_topics_lists_the_taxonomy(cli_settings: Settings) -> None:
    result = CliRunner().invoke(app, ["text", "topics", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert "delivery" in [topic["key"] for topic in data["topics"]]


def test_cli_topics_reports_a_bad_taxonomy(
    cli_settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("topics:\n  - key: 9x\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["text", "topics", "--taxonomy", str(path)])
    assert result.exit_code != 0
    assert "topics[0].key" in result.output or "topics[0].key" in str(result.exception)


def test_cli_themes_writes_proposed_topics(
    cli_settings: Settings, shopping: list[str], tmp_path: Path
) -> None:
    source = tmp_path / "comments.csv"
    pd.DataFrame({"comment": shopping}).to_csv(source, index=False)
    out = tmp_path / "themes.yaml"
    result = CliRunner().invoke(app, ["text", "themes", "--input", str(source), "--text-column",
                                      "comment", "--n-themes", "3", "--output", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "themes" in result.output
    assert parse_taxonomy(yaml.safe_load(out.read_text(encoding="utf-8"))).topics


def test_cli_themes_names_a_missing_column(
    cli_settings: Settings, tmp_path: Path
) -> None:
    source = tmp_path / "comments.csv"
    source.write_text("text\n好\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["text", "themes", "--input", str(source),
                                      "--text-column", "comment"])  # fmt: skip
    assert result.exit_code != 0
    assert "comment" in result.output + str(result.exception)


def test_the_companys_own_names_are_no_theme_words(
    shopping: list[str], taxonomy: Taxonomy
) -> None:
    branded = [text + " 禾光書店" if i % 3 == 0 else text for i, text in enumerate(shopping)]  # fmt: skip
    languages = ["zh-Hans"] * len(branded)
    before = discover_themes(branded, languages, taxonomy=taxonomy, n_themes=4)
    assert any("書店" in theme.keywords for theme in before)  # never in the reviews
    ignoring = dataclasses.replace(taxonomy, ignore_terms=("禾光書店",))
    after = discover_themes(branded, languages, taxonomy=ignoring, n_themes=4)
    assert after
    assert not any("書店" in theme.keywords for theme in after)
    joined = " ".join(branded)  # the examples are the texts as written (shortened)
    assert all(example[:20] in joined for theme in after for example in theme.examples)


def test_recurring_tags_and_accounts_are_proposed_as_names() -> None:
    posts = (["門市很乾淨 #禾光生活", "排隊好久 #禾光生活#", "店员亲切 #禾光生活",
              "Great staff #HeguangLiving @heguang_tw", "Slow app @Heguang_TW #heguangliving",
              "Nice #HeguangLiving", "email me at ann@example.com", "訂單 #12 沒到",
              "一次性的 #好吃", "#!!!# 太慢"] * 3)  # fmt: skip
    found = recurring_names(posts, min_share=0.2)
    assert [(n.name, n.texts) for n in found] == [
        ("#禾光生活", 9), ("#HeguangLiving", 9), ("@heguang_tw", 6)]  # fmt: skip
    assert recurring_names(posts, ignore_terms=["禾光生活", "Heguang Living"],
                           min_share=0.2) == [RecurringName("@heguang_tw", 6)]  # fmt: skip
    assert recurring_names(["好 #禾光", "差 #禾光"]) == []  # in fewer than three texts
    assert recurring_names(["#" + "長" * 45] * 9) == []  # longer than a taxonomy takes
    with pytest.raises(ValueError, match="min_share"):
        recurring_names(posts, min_share=0)


def test_cli_themes_proposes_the_recurring_tags_as_ignore_terms(
    cli_settings: Settings, shopping: list[str], tmp_path: Path
) -> None:
    tagged = [text + (" #禾光書店" if i % 4 == 0 else "") for i, text in enumerate(shopping)]  # fmt: skip
    source = tmp_path / "comments.csv"
    pd.DataFrame({"comment": tagged}).to_csv(source, index=False)
    out = tmp_path / "mine.yaml"
    args = ["text", "themes", "--input", str(source), "--text-column", "comment",
            "--n-themes", "3"]  # fmt: skip
    result = CliRunner().invoke(app, [*args, "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "#禾光書店 (75)" in " ".join(result.output.split())
    mine = load_taxonomy(out)  # usable as it is: the default topics, plus the themes
    assert mine.ignore_terms == ("#禾光書店",)
    assert set(load_taxonomy().keys) < set(mine.keys)
    assert len(mine.keys) == len(load_taxonomy().keys) + 3
    again = CliRunner().invoke(app, [*args, "--taxonomy", str(out), "--json"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.output)["names"] == []  # listed now: not proposed again


def test_cli_themes_never_writes_over_its_taxonomy_or_input(
    cli_settings: Settings, tmp_path: Path
) -> None:
    source = tmp_path / "comments.csv"
    source.write_text("comment\n好\n", encoding="utf-8")
    mine = tmp_path / "mine.yaml"
    mine.write_text("extends: default\nignore_terms: [禾光生活]\n", encoding="utf-8")
    for output, taxonomy in ((mine, mine), (source, None)):
        args = ["text", "themes", "--input", str(source), "--text-column", "comment",
                "--output", str(output)]  # fmt: skip
        if taxonomy is not None:
            args += ["--taxonomy", str(taxonomy)]
        result = CliRunner().invoke(app, args)
        assert result.exit_code != 0
        assert "must not overwrite" in result.output + str(result.exception)
    assert mine.read_text(encoding="utf-8").startswith("extends: default\nignore_terms")
    assert source.read_text(encoding="utf-8") == "comment\n好\n"


def test_themes_read_the_customers_turns_of_a_transcript(
    cli_settings: Settings, shopping: list[str], tmp_path: Path
) -> None:
    chats = [f"顧客：{text}\n客服：已為您記錄，將儘快處理，謝謝您的耐心。" for text in shopping]  # fmt: skip
    source = tmp_path / "chats.csv"
    pd.DataFrame({"chat": chats}).to_csv(source, index=False)
    result = CliRunner().invoke(app, ["text", "themes", "--input", str(source),
                                      "--text-column", "chat", "--n-themes", "3", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    themes = json.loads(result.output)["themes"]
    assert themes
    words = {word for theme in themes for word in theme["keywords"]}
    assert not words & {
        "記錄",
        "处理",
        "處理",
        "耐心",
        "顧客",
        "客服",
    }  # the agent's lines
    examples = [example for theme in themes for example in theme["examples"]]
    assert all("客服：" not in e and "顧客：" not in e for e in examples)
