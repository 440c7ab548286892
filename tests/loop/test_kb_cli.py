"""``cxloop kb``: import and search through the command line, on the E.SUN bank FAQ."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cxloop.cli import app
from cxloop.config import Settings

runner = CliRunner()
IMPORT = ["kb", "import", "--id-column", "pid", "--question-column", "question"]


def _split_esun_faq(shared_data: Path, tmp_path: Path) -> tuple[Path, Path]:
    """Hold out the last question of every pid with two or more.

    The article stays in the knowledge base with all its answers; only that phrasing
    of its question is held out (its row keeps the answer under the pid's first
    question, which the import counts once).
    """
    faq = pd.read_csv(
        shared_data / "esun_bank_faq_zh_hant" / "faq_kb.csv",
        keep_default_na=False,
        dtype=str,
    )
    several = faq.groupby("pid")["pid"].transform("size") >= 2
    held = faq[several].groupby("pid").tail(1)
    first = faq.groupby("pid")["question"].transform("first")
    kept_rows = faq.copy()
    kept_rows.loc[held.index, "question"] = first[held.index]
    kept = tmp_path / "faq_kept.csv"
    kept_rows.to_csv(kept, index=False)
    queries = tmp_path / "queries.csv"
    held[["pid", "question"]].to_csv(queries, index=False)
    return kept, queries


def _held_out_accuracy(
    kept: Path, queries: Path, tmp_path: Path
) -> tuple[float, float]:
    imported = runner.invoke(app, [*IMPORT, "--answer-column", "answer", str(kept)])
    assert imported.exit_code == 0, imported.output
    output = tmp_path / "matches.csv"
    searched = runner.invoke(app, [
        "kb", "search", "--input", str(queries), "--query-column", "question",
        "--top", "3", "--output", str(output),
    ])  # fmt: skip
    assert searched.exit_code == 0, searched.output
    result = pd.read_csv(output, keep_default_na=False, dtype=str)
    assert len(result) == 518
    top1 = (result["match_1"] == result["pid"]).mean()
    top3 = (
        result[["match_1", "match_2", "match_3"]]
        .eq(result["pid"], axis=0)
        .any(axis=1)
        .mean()
    )
    return float(top1), float(top3)


def _counts(output: str) -> list[int]:
    """The numbers of the import table: rows, rejected, articles new/updated, questions."""
    row = next(line for line in output.splitlines() if line.startswith("│"))
    return [int(cell.replace(",", "")) for cell in row.strip("│ ").split("│")]


def test_kb_search_with_embeddings_meets_the_esun_faq_targets(
    cli_settings: Settings, shared_data: Path, tmp_path: Path
) -> None:
    kept, queries = _split_esun_faq(shared_data, tmp_path)
    top1, top3 = _held_out_accuracy(kept, queries, tmp_path)
    # The targets; measured 0.728 / 0.905 (docs/en/knowledge-base.md).
    assert top1 >= 0.70
    assert top3 >= 0.90


def test_kb_search_bm25_only_finds_most_held_out_questions(
    cli_settings: Settings,
    shared_data: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cxloop.config import get_settings

    monkeypatch.setenv("CXLOOP_EMBEDDINGS", "none")
    get_settings.cache_clear()
    kept, queries = _split_esun_faq(shared_data, tmp_path)
    top1, top3 = _held_out_accuracy(kept, queries, tmp_path)
    # Measured 0.695 / 0.878 without a local model; floors guard regressions.
    assert top1 >= 0.68
    assert top3 >= 0.86


def test_kb_import_twice_inserts_nothing_the_second_time(
    cli_settings: Settings, tmp_path: Path
) -> None:
    faq = tmp_path / "faq.jsonl"
    faq.write_text(
        '{"id": "reset", "q": "How do I reset my PIN?", "a": "Use the app."}\n'
        '{"id": "reset", "q": "Forgot my PIN", "a": "Use the app."}\n',
        encoding="utf-8",
    )
    args = ["kb", "import", "--id-column", "id", "--question-column", "q",
            "--answer-column", "a", "--language", "en", str(faq)]  # fmt: skip
    first = runner.invoke(app, args)
    second = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert _counts(first.output) == [2, 0, 1, 0, 2, 0]
    assert _counts(second.output) == [2, 0, 0, 0, 0, 2]


def test_kb_import_with_a_bad_row_exits_2_and_names_the_line(
    cli_settings: Settings, tmp_path: Path
) -> None:
    faq = tmp_path / "faq.csv"
    faq.write_text("pid,question,answer\n1,問題一?,答案\n2,,答案\n", encoding="utf-8")
    result = runner.invoke(app, [*IMPORT, "--answer-column", "answer", str(faq)])
    assert result.exit_code == 2
    assert "line 3: question is empty" in result.output
    with (tmp_path / "faq.csv.rejects.csv").open(encoding="utf-8-sig") as handle:
        assert list(csv.reader(handle))[1] == [
            "3",
            "question",
            "question is empty",
            "2",
            "",
            "答案",
        ]


def test_kb_search_query_prints_the_best_articles_as_json(
    cli_settings: Settings, tmp_path: Path
) -> None:
    faq = tmp_path / "faq.csv"
    faq.write_text(
        "pid,question,answer\n1,信用卡遺失怎麼辦?,請掛失\n2,外幣匯款手續費?,依幣別\n",
        encoding="utf-8",
    )
    assert (
        runner.invoke(app, [*IMPORT, "--answer-column", "answer", str(faq)]).exit_code
        == 0
    )
    result = runner.invoke(app, ["kb", "search", "--query", "信用卡不見了", "--json"])
    assert result.exit_code == 0, result.output
    matches = json.loads(result.output)
    assert [m["external_id"] for m in matches] == ["1"]
    assert matches[0]["source"] == "faq"


def test_kb_search_without_query_or_input_is_a_usage_error(
    cli_settings: Settings,
) -> None:
    result = runner.invoke(app, ["kb", "search"])
    assert result.exit_code == 2
    assert "--query or --input" in result.output
