"""``cxloop text score`` and ``cxloop text rescore`` through the real CLI."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cxloop.cli import app
from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput
from cxloop.store.engine import engine_for
from cxloop.store.tables import Interaction
from cxloop.text.chinese import to_traditional
from cxloop.text.score_file import OUTPUT_COLUMNS

runner = CliRunner()
HTML = '<img src=x onerror="alert(1)">The delivery was <b>late</b> again'
SIMPLIFIED_ONLY = set("没这们个时还说单给对吗")
LONG = "房間乾淨，早餐好吃，" * 5_000


def _waimai(shared_data: Path, n: int) -> list[str]:
    """The first ``n`` reviews written with characters only Simplified Chinese uses."""
    with (shared_data / "waimai_10k" / "waimai_10k.csv").open(encoding="utf-8") as fh:
        reviews = [row["review"] for row in csv.DictReader(fh)]
    return [text for text in reviews if set(text) & SIMPLIFIED_ONLY][:n]


def _comments(shared_data: Path) -> list[dict[str, str]]:
    hans = _waimai(shared_data, 3)
    texts = [to_traditional(hans[0]), *hans, "Great food, fast delivery, thanks!",
             "😀😀🎉", "", HTML, LONG, "送餐很慢 but the food was ok"]  # fmt: skip
    return [
        {"id": f"r{i}", "channel": "app", "comment": t} for i, t in enumerate(texts)
    ]


def _write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _score(*args: str) -> str:
    result = runner.invoke(app, ["text", "score", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_text_score_writes_every_input_column_and_the_scores_to_csv(
    tmp_path: Path, shared_data: Path
) -> None:
    rows = _comments(shared_data)
    _write_csv(tmp_path / "in.csv", rows)
    out = tmp_path / "out.csv"
    _score("--input", str(tmp_path / "in.csv"), "--text-column", "comment",
           "--id-column", "id", "--output", str(out))  # fmt: skip
    with out.open(encoding="utf-8-sig", newline="") as handle:
        got = list(csv.DictReader(handle))
    assert list(got[0]) == ["id", "channel", "comment", *OUTPUT_COLUMNS]
    assert [row["comment"] for row in got] == [row["comment"] for row in rows]
    by_id = {row["id"]: row for row in got}
    assert by_id["r0"]["language"] == "zh-Hant"
    assert by_id["r1"]["language"] == "zh-Hans"
    assert by_id["r0"]["sentiment"] == by_id["r1"]["sentiment"]
    assert (by_id["r4"]["language"], by_id["r4"]["sentiment"]) == ("en", "positive")
    for emptyish in ("r5", "r6"):
        assert by_id[emptyish]["supported"] == "false"
        assert by_id[emptyish]["sentiment"] == by_id[emptyish]["sentiment_score"] == ""
    assert by_id["r7"]["language"] == "en"
    assert by_id["r8"]["language"] == "zh-Hant"
    assert by_id["r9"]["language"].startswith("zh")
    for row in got:
        if row["supported"] == "true":
            assert isinstance(json.loads(row["topics"]), list)
            assert isinstance(json.loads(row["keywords"]), list)
        else:
            assert row["topics"] == row["keywords"] == row["intent"] == ""


def test_text_score_reads_jsonl_and_writes_parquet_with_native_lists(
    tmp_path: Path, shared_data: Path
) -> None:
    source = tmp_path / "in.jsonl"
    lines = [json.dumps(row, ensure_ascii=False) for row in _comments(shared_data)]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    output = _score("--input", str(source), "--text-column", "comment",
                    "--output", str(tmp_path / "out.parquet"), "--json")  # fmt: skip
    summary = json.loads(output)
    assert (summary["rows"], summary["rejects"], summary["truncated"]) == (10, 0, 1)
    table = pq.read_table(tmp_path / "out.parquet")
    assert table.schema.field("keywords").type.value_type == "string"
    first = table.to_pylist()[0]
    assert isinstance(first["topics"], list)
    assert first["supported"] is True


def test_text_score_reads_parquet_and_writes_jsonl(tmp_path: Path) -> None:
    import pyarrow as pa

    table = pa.table({"n": [1, 2], "comment": ["服務人員很親切", None]})
    pq.write_table(table, tmp_path / "in.parquet")
    _score("--input", str(tmp_path / "in.parquet"), "--text-column", "comment",
           "--output", str(tmp_path / "out.jsonl"))  # fmt: skip
    rows = [json.loads(line) for line in
            (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]  # fmt: skip
    assert [row["n"] for row in rows] == [1, 2]
    assert rows[0]["sentiment"] == "positive"
    assert (rows[1]["language"], rows[1]["sentiment"]) == ("und", None)
    assert (rows[1]["topics"], rows[1]["keywords"]) == (None, None)
    assert isinstance(rows[0]["topics"], list)


def test_text_score_leaves_the_parts_not_asked_for_empty(tmp_path: Path) -> None:
    _write_csv(
        tmp_path / "in.csv", [{"id": "1", "comment": "外送員態度很差，餐點灑了一半"}]
    )
    _score("--input", str(tmp_path / "in.csv"), "--text-column", "comment",
           "--parts", "sentiment", "--output", str(tmp_path / "out.jsonl"))  # fmt: skip
    row = json.loads((tmp_path / "out.jsonl").read_text(encoding="utf-8"))
    assert (row["language"], row["sentiment"]) == ("zh-Hant", "negative")
    assert (row["topics"], row["intent"], row["emotion"], row["keywords"]) == (
        None,
        None,
        None,
        None,
    )


def test_text_score_reports_the_line_that_is_not_utf8(tmp_path: Path) -> None:
    source = tmp_path / "bad.csv"
    source.write_bytes(
        "id,comment\n1,客服很有耐心\n".encode() + b"2,bad \xff\xfe bytes\n"
        + "3,退款一直沒下來\n".encode()
    )  # fmt: skip
    out = tmp_path / "scored.csv"
    output = _score("--input", str(source), "--text-column", "comment",
                    "--output", str(out))  # fmt: skip
    assert "line 3: not UTF-8 text" in output
    with out.open(encoding="utf-8-sig", newline="") as handle:
        assert [row["id"] for row in csv.DictReader(handle)] == ["1", "3"]
    rejects = (tmp_path / "scored.rejects.csv").read_text(encoding="utf-8-sig")
    assert rejects.splitlines()[1].startswith("3,not UTF-8 text,")


def test_text_score_names_a_missing_column(tmp_path: Path) -> None:
    _write_csv(tmp_path / "in.csv", [{"id": "1", "body": "hello"}])
    result = runner.invoke(app, ["text", "score", "--input", str(tmp_path / "in.csv"),
                                 "--text-column", "comment",
                                 "--output", str(tmp_path / "o.csv")])  # fmt: skip
    assert isinstance(result.exception, InvalidInput)
    assert "no column 'comment'; the columns are 'id', 'body'" in str(result.exception)


def test_text_rescore_scores_the_stored_texts(cli_settings: Settings) -> None:
    with Session(engine_for(cli_settings.database_url)) as session:
        session.add(Interaction(occurred_at=datetime(2025, 1, 2, tzinfo=UTC),
                                kind="feedback", source="t", external_id="1",
                                text="櫃檯人員態度很差"))  # fmt: skip
        session.commit()
    result = runner.invoke(app, ["text", "rescore", "--only-new", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["scored"] == 1
    again = runner.invoke(app, ["text", "rescore", "--only-new", "--json"])
    assert json.loads(again.output)["scored"] == 0
    every = runner.invoke(app, ["text", "rescore"])
    assert every.exit_code == 0, every.output
    assert "scored" in every.output
