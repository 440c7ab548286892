"""File formats and structural errors: encodings, XLSX, JSON Lines, malformed files."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
from ingest_files import count, fetch, write_csv
from sqlalchemy import select

from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput
from cxloop.ingest.service import import_file
from cxloop.store.tables import Answer, ImportRun, Interaction

HEADER = ["response_id", "submitted_at", "channel", "nps", "comment"]
ROWS = [
    ["F1", "2024-03-01 09:30", "門市", "9", "店員很親切 <b>讚</b>"],
    ["F2", "2024-03-02", "客服專線", "4", "電話等很久"],
]


def _stored(settings: Settings) -> list[tuple[object, ...]]:
    statement = (
        select(
            Interaction.external_id, Interaction.channel, Interaction.text, Answer.value
        )
        .join(Answer)
        .order_by(Interaction.external_id)
    )
    return [tuple(row) for row in fetch(settings.database_url, statement)]


EXPECTED = [
    ("F1", "store", "店員很親切 <b>讚</b>", 9.0),
    ("F2", "phone", "電話等很久", 4.0),
]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "big5", "cp950"])
def test_csv_in_utf8_bom_and_big5_reads_the_same(
    settings: Settings, tmp_path: Path, encoding: str
) -> None:
    path = write_csv(tmp_path / "f.csv", HEADER, ROWS, encoding=encoding)
    summary = import_file(settings=settings, kind="feedback", path=path)
    assert summary.inserted == 2
    assert _stored(settings) == EXPECTED


def test_xlsx_first_sheet_reads_cells_as_text(
    settings: Settings, tmp_path: Path
) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append(["F1", datetime(2024, 3, 1, 9, 30), "門市", 9, "店員很親切 <b>讚</b>"])  # noqa: DTZ001
    sheet.append([None, None, None, None, None])
    sheet.append(["F2", "2024-03-02", "客服專線", 4.0, "電話等很久"])
    path = tmp_path / "f.xlsx"
    workbook.save(path)
    summary = import_file(settings=settings, kind="feedback", path=path)
    assert summary.inserted == 2
    assert _stored(settings) == EXPECTED
    times = fetch(
        settings.database_url,
        select(Interaction.occurred_at).order_by(Interaction.external_id),
    )
    assert times[0][0] == datetime(2024, 3, 1, 1, 30, tzinfo=UTC)


def test_xlsx_rejects_name_the_sheet_row(settings: Settings, tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append(["F1", "2024-03-01", "web", 9, ""])
    sheet.append([])
    sheet.append(["F2", "2024-03-01", "web", 12, ""])
    path = tmp_path / "f.xlsx"
    workbook.save(path)
    summary = import_file(settings=settings, kind="feedback", path=path)
    assert summary.first_rejects[0].line == 4
    assert summary.first_rejects[0].field == "nps"


def test_jsonl_reads_objects_and_names_lines(
    settings: Settings, tmp_path: Path
) -> None:
    records = [dict(zip(HEADER, row, strict=True)) for row in ROWS]
    records[1]["nps"] = 4  # a JSON number
    lines = [
        json.dumps(records[0], ensure_ascii=False),
        "",
        json.dumps(records[1], ensure_ascii=False),
    ]
    path = tmp_path / "f.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert import_file(settings=settings, kind="feedback", path=path).inserted == 2
    assert _stored(settings) == EXPECTED


def test_jsonl_bad_line_is_named(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    path.write_text(
        '{"response_id": "A", "submitted_at": "2024-01-01"}\n{"response_id": \n',
        encoding="utf-8",
    )
    with pytest.raises(InvalidInput, match=r"f\.jsonl line 2: not valid JSON"):
        import_file(settings=settings, kind="feedback", path=path)
    assert count(settings.database_url, Interaction) == 0


def test_csv_lines_count_newlines_inside_quoted_values(
    settings: Settings, tmp_path: Path
) -> None:
    rows = [
        ["Q1", "2024-03-01", "web", "9", "第一行\n第二行\n第三行"],
        ["Q2", "2024-03-01", "web", "99", ""],
    ]
    path = write_csv(tmp_path / "q.csv", HEADER, rows)
    summary = import_file(settings=settings, kind="feedback", path=path)
    assert [(r.line, r.field) for r in summary.first_rejects] == [(5, "nps")]


def test_csv_blank_lines_keep_physical_line_numbers(
    settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "blank.csv"
    path.write_text(
        "response_id,submitted_at,nps\n\nA,2024-03-01,5\n\nB,2024-03-01,x\n",
        encoding="utf-8",
    )
    summary = import_file(settings=settings, kind="feedback", path=path)
    assert [(r.line, r.field) for r in summary.first_rejects] == [(5, "nps")]


def test_na_and_null_text_is_kept_not_read_as_missing(
    settings: Settings, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "na.csv", HEADER, [["NA", "2024-03-01", "", "", "NULL"]]
    )
    import_file(settings=settings, kind="feedback", path=path)
    rows = fetch(
        settings.database_url, select(Interaction.external_id, Interaction.text)
    )
    assert tuple(rows[0]) == ("NA", "NULL")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", r"empty\.csv: the file is empty"),
        (
            b"response_id,submitted_at\n",
            r"empty\.csv: the file has a header but no data rows",
        ),
        (
            b"response_id,submitted_at\nA,2024-01-01,extra\n",
            r"empty\.csv line 2: expected 2 columns, found 3",
        ),
        (
            b'response_id,submitted_at\nA,"2024-01-01\n',
            r"empty\.csv line 2: malformed CSV",
        ),
        (
            b"response_id,,submitted_at\nA,,2024-01-01\n",
            r"empty\.csv line 1: column 2 has no name",
        ),
        (
            b"nps,NPS,submitted_at\n1,2,2024-01-01\n",
            r"empty\.csv line 1: column 'NPS' appears twice",
        ),
        (
            "response_id,submitted_at\nA,2024-01-01\nB,\u00e9t\u00e9\n".encode(
                "latin-1"
            ),
            r"empty\.csv line 3: the file is neither UTF-8 nor Big5",
        ),
    ],
)
def test_structural_problems_stop_before_anything_is_written(
    settings: Settings, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(InvalidInput, match=message):
        import_file(settings=settings, kind="feedback", path=path)
    assert count(settings.database_url, ImportRun) == 0
    assert not (tmp_path / "empty.csv.rejects.csv").exists()


def test_unknown_file_type_is_refused(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "f.parquet"
    path.write_bytes(b"PAR1")
    with pytest.raises(InvalidInput, match=r"unknown file type '\.parquet'"):
        import_file(settings=settings, kind="feedback", path=path)


def test_broken_xlsx_is_refused(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "f.xlsx"
    path.write_bytes(b"not a zip")
    with pytest.raises(InvalidInput, match=r"f\.xlsx: not a readable XLSX workbook"):
        import_file(settings=settings, kind="feedback", path=path)
