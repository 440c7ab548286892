"""Reading and writing the files of ``cxloop text score`` (CSV, JSON Lines, Parquet)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cxloop.domain.errors import InvalidInput
from cxloop.text.files import column_texts, read_input, write_output

HEADER = "id,comment\n"


def test_read_csv_keeps_every_column_and_the_lines_when_utf8_with_bom(
    tmp_path: Path,
) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(
        ("\ufeff" + HEADER + '1,"服務很好,下次再來"\n2,"two\nlines"\n3,ok\n').encode()
    )
    found = read_input(path, required=("comment",))
    assert found.columns == ["id", "comment"]
    assert column_texts(found.table, "comment") == [
        "服務很好,下次再來",
        "two\nlines",
        "ok",
    ]
    assert found.lines == [2, 3, 5]
    assert found.rejects == ()


def test_read_csv_transcodes_big5(tmp_path: Path) -> None:
    path = tmp_path / "big5.csv"
    path.write_bytes((HEADER + "1,外送太慢了\n2,餐點好吃\n").encode("cp950"))
    found = read_input(path, required=("comment",))
    assert column_texts(found.table, "comment") == ["外送太慢了", "餐點好吃"]


def test_read_csv_rejects_the_line_that_is_not_utf8_and_keeps_the_rest(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(
        HEADER.encode()
        + "1,房間很乾淨\n".encode()
        + b"2,caf\xe9 \xff broken\n"
        + '3,"多行\n評論"\n'.encode()
        + "4,價格實惠\n".encode()
    )
    found = read_input(path, required=("comment",))
    assert column_texts(found.table, "id") == ["1", "3", "4"]
    assert found.lines == [2, 4, 6]
    assert [(r.line, r.reason) for r in found.rejects] == [(3, "not UTF-8 text")]
    assert "\ufffd" in found.rejects[0].text
    assert found.rejects[0].text.startswith("2,caf")


def test_read_missing_column_names_the_column_and_the_columns_present(
    tmp_path: Path,
) -> None:
    path = tmp_path / "in.csv"
    path.write_text(HEADER + "1,hello\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        read_input(path, required=("text",))
    message = str(caught.value)
    assert "no column 'text'" in message
    assert "'id', 'comment'" in message
    assert str(path) in message


def test_read_unknown_suffix_names_the_known_ones(tmp_path: Path) -> None:
    path = tmp_path / "in.docx"
    path.write_text("x", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"unknown file type '\.docx'.*\.parquet"):
        read_input(path, required=())


def test_read_jsonl_rejects_bad_lines_with_their_reason(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(
        b'{"id": 1, "comment": "great app"}\n'
        b"\n"
        b'{"id": 2, "comment": "\xff\xfe"}\n'
        b"not json\n"
        b"[1, 2]\n" + '{"id": 3, "comment": "客服態度差", "extra": {"a": 1}}\n'.encode()
    )
    found = read_input(path, required=("comment",))
    assert column_texts(found.table, "comment") == ["great app", "客服態度差"]
    assert found.columns == ["id", "comment", "extra"]
    assert found.lines == [1, 6]
    reasons = [(r.line, r.reason.split(" (")[0]) for r in found.rejects]
    assert reasons == [(3, "not UTF-8 text"), (4, "not valid JSON"),
                       (5, "expected a JSON object, got list")]  # fmt: skip


def test_read_parquet_numbers_rows_from_one(tmp_path: Path) -> None:
    path = tmp_path / "in.parquet"
    pq.write_table(pa.table({"n": [7, 8], "comment": ["a", None]}), path)
    found = read_input(path, required=("comment",))
    assert column_texts(found.table, "comment") == ["a", ""]
    assert column_texts(found.table, "n") == ["7", "8"]
    assert found.lines == [1, 2]


def _scored_table() -> pa.Table:
    topic = {"topic": "delivery", "sentiment": "negative", "score": -0.8,
             "matches": ["外送"], "source": "rule"}  # fmt: skip
    return pa.table({
        "comment": ["外送太慢<b>了</b>", "=1+1"],
        "supported": [True, False],
        "topics": [[topic], []],
        "keywords": [["外送", "太慢"], []],
    })  # fmt: skip


def test_write_csv_puts_lists_as_json_text(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    write_output(_scored_table(), path)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["comment"] == "外送太慢<b>了</b>"
    assert rows[0]["supported"] == "true"
    assert json.loads(rows[0]["topics"])[0]["matches"] == ["外送"]
    assert json.loads(rows[0]["keywords"]) == ["外送", "太慢"]
    assert rows[1]["topics"] == "[]"


def test_write_parquet_and_jsonl_keep_native_lists(tmp_path: Path) -> None:
    write_output(_scored_table(), tmp_path / "out.parquet")
    back = pq.read_table(tmp_path / "out.parquet").to_pylist()
    assert back[0]["topics"][0]["topic"] == "delivery"
    assert back[0]["keywords"] == ["外送", "太慢"]
    write_output(_scored_table(), tmp_path / "out.jsonl")
    lines = (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    assert first["topics"][0]["score"] == -0.8
    assert first["supported"] is True
    assert "外送" in lines[0]  # not \u-escaped
