"""Knowledge-base import and search against a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput
from cxloop.loop.kb_service import KbImportSummary, import_faq, search, search_file
from cxloop.store.engine import engine_for
from cxloop.store.tables import KbArticle, KbQuestion

FAQ_ROWS = [
    ("card-lost", "信用卡遺失怎麼辦?", "請立即致電客服掛失。"),
    ("card-lost", "卡片掉了要如何掛失?", "也可在行動銀行掛失。"),
    ("apply", "如何申請信用卡?", "可於官網線上申請。"),
    ("fx-fee", "外幣匯款的手續費是多少?", "依幣別與金額收費。"),
]


def _write_csv(path: Path, header: list[str], rows: Sequence[Sequence[str]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _import(
    settings: Settings, path: Path, *, allow_rejects: bool = False
) -> KbImportSummary:
    return import_faq(
        settings=settings, path=path, id_column="id", question_column="q",
        answer_column="a", allow_rejects=allow_rejects,
    )  # fmt: skip


def _counts(settings: Settings) -> tuple[int, int]:
    with engine_for(settings.database_url).connect() as connection:
        articles = connection.scalar(select(func.count()).select_from(KbArticle))
        questions = connection.scalar(select(func.count()).select_from(KbQuestion))
    return int(articles or 0), int(questions or 0)


def test_import_faq_groups_questions_by_id_and_is_idempotent(
    settings: Settings, tmp_path: Path
) -> None:
    path = _write_csv(tmp_path / "faq.csv", ["id", "q", "a"], FAQ_ROWS)
    first = _import(settings, path)
    again = _import(settings, path)
    assert (first.articles_inserted, first.questions_inserted) == (3, 4)
    assert (again.articles_inserted, again.articles_updated) == (0, 0)
    assert (again.questions_inserted, again.questions_existing) == (0, 4)
    assert _counts(settings) == (3, 4)
    with engine_for(settings.database_url).connect() as connection:
        answer = connection.scalar(
            select(KbArticle.answer).where(KbArticle.external_id == "card-lost")
        )
    assert answer == "請立即致電客服掛失。\n也可在行動銀行掛失。"


def test_import_faq_with_empty_cells_rejects_lines_and_writes_nothing(
    settings: Settings, tmp_path: Path
) -> None:
    rows = [*FAQ_ROWS, ("", "沒有編號的問題?", "答案"), ("x", "有問題?", "")]
    path = _write_csv(tmp_path / "faq.csv", ["id", "q", "a"], rows)
    summary = _import(settings, path)
    assert [(r.line, r.field) for r in summary.rejects] == [(6, "id"), (7, "a")]
    assert not summary.committed
    assert _counts(settings) == (0, 0)
    with (tmp_path / "faq.csv.rejects.csv").open(encoding="utf-8-sig") as handle:
        written = list(csv.reader(handle))
    assert written[0] == ["line", "field", "reason", "id", "q", "a"]
    assert written[1][:4] == ["6", "id", "id is empty", ""]


def test_import_faq_with_allow_rejects_imports_the_good_rows(
    settings: Settings, tmp_path: Path
) -> None:
    rows = [*FAQ_ROWS, ("x", "", "答案")]
    path = _write_csv(tmp_path / "faq.csv", ["id", "q", "a"], rows)
    summary = _import(settings, path, allow_rejects=True)
    assert summary.committed
    assert len(summary.rejects) == 1
    assert _counts(settings) == (3, 4)


def test_import_faq_with_unknown_column_names_file_and_column(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    path = _write_csv(tmp_path / "faq.csv", ["id", "question", "a"], FAQ_ROWS)
    with pytest.raises(InvalidInput, match=r"faq\.csv: no question column 'q'"):
        _import(sqlite_settings, path)


def test_search_ranks_the_matching_article_first(
    settings: Settings, tmp_path: Path
) -> None:
    _import(settings, _write_csv(tmp_path / "faq.csv", ["id", "q", "a"], FAQ_ROWS))
    results = search(settings=settings, queries=["我的信用卡遺失了", "匯款費用"], top=2)
    assert results[0][0].external_id == "card-lost"
    assert results[1][0].external_id == "fx-fee"
    assert results[0][0].score > results[0][1].score > 0


def test_search_file_reads_jsonl_and_writes_every_column_plus_matches(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    _import(
        sqlite_settings, _write_csv(tmp_path / "faq.csv", ["id", "q", "a"], FAQ_ROWS)
    )
    source = tmp_path / "queries.jsonl"
    source.write_text(
        '{"ticket": "T1", "text": "信用卡要怎麼申請"}\n{"ticket": "T2", "text": "zzz"}\n',
        encoding="utf-8",
    )
    output = tmp_path / "out.jsonl"
    summary = search_file(
        settings=sqlite_settings,
        input_path=source,
        query_column="text",
        output=output,
        top=2,
    )
    rows = [
        json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()
    ]
    assert summary.rows == 2
    assert summary.articles == 3
    assert list(rows[0]) == [
        "ticket",
        "text",
        "match_1",
        "score_1",
        "match_2",
        "score_2",
    ]
    assert rows[0]["match_1"] == "apply"
    assert rows[0]["score_1"] > 0
    assert rows[1]["match_1"] is None
    assert rows[1]["score_1"] is None


def test_search_with_an_empty_knowledge_base_says_to_import_first(
    sqlite_settings: Settings,
) -> None:
    with pytest.raises(InvalidInput, match="kb import"):
        search(settings=sqlite_settings, queries=["hello"])


def test_import_faq_with_one_column_for_two_roles_is_refused(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    path = _write_csv(tmp_path / "faq.csv", ["id", "q", "a"], FAQ_ROWS)
    with pytest.raises(InvalidInput, match="three different columns"):
        import_faq(
            settings=sqlite_settings, path=path, id_column="id", question_column="q",
            answer_column="q",
        )  # fmt: skip


def test_import_faq_with_an_overlong_id_rejects_the_line(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    rows = [*FAQ_ROWS, ("x" * 201, "問題?", "答案")]
    path = _write_csv(tmp_path / "faq.csv", ["id", "q", "a"], rows)
    summary = _import(sqlite_settings, path)
    assert [(r.line, r.reason) for r in summary.rejects] == [
        (6, "id is longer than 200 characters")
    ]
