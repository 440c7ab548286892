"""Text scoring on Spark: the same scores as one process, through a real local Spark.

The local Spark session (two cores) is the `spark` fixture of tests/conftest.py.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from pyspark.sql import functions as F
from typer.testing import CliRunner

from cxloop.cli import app
from cxloop.domain.errors import InvalidInput
from cxloop.text.chinese import to_traditional
from cxloop.text.score_file import OUTPUT_COLUMNS, score_columns
from cxloop.text.scoring import TextModels, parse_parts, score_texts
from cxloop.text.spark_scoring import score_dataframe
from cxloop.text.training import train_user_model
from tests.spark_warnings import SPARK_WARNINGS
from tests.text.clinc_sample import clinc

pytestmark = SPARK_WARNINGS
runner = CliRunner()
HTML = '<img src=x onerror="alert(1)">The delivery was <b>late</b> again'
LONG = "房間乾淨，早餐好吃，" * 500
INTENTS = ("freeze_account", "report_lost_card", "pin_change", "balance", "transfer",
           "card_declined", "credit_limit", "interest_rate")  # fmt: skip


def _texts(shared_data: Path) -> list[str | None]:
    """Reviews (zh-Hans, zh-Hant), tweets (en) and the hard cases, 150 texts."""
    with (shared_data / "waimai_10k" / "waimai_10k.csv").open(encoding="utf-8") as fh:
        waimai = [row["review"] for row in csv.DictReader(fh)][::200][:60]
    with (shared_data / "tweeteval_sentiment" / "val.csv").open(encoding="utf-8") as fh:
        tweets = [row["text"] for row in csv.DictReader(fh)][:40]
    hard = ["", None, "😀😀🎉", "？！…", HTML, LONG, "送餐很慢 but the food was ok",
            "Das Essen war gut", "외부 음식은 맛있어요"]  # fmt: skip
    return [*waimai, *(to_traditional(text) for text in waimai[:40]), *tweets, *hard]


def _local(texts: list[str | None], models: TextModels | None = None) -> list[dict[str, Any]]:  # fmt: skip
    columns = score_columns(score_texts(texts, models=models))
    return [{name: columns[name][i].as_py() for name in OUTPUT_COLUMNS}
            for i in range(len(texts))]  # fmt: skip


def _spark_rows(frame: Any) -> list[dict[str, Any]]:
    rows = [row.asDict(recursive=True) for row in frame.orderBy("id").collect()]
    return [{name: row[name] for name in OUTPUT_COLUMNS} for row in rows]


def test_spark_scores_every_text_as_one_process_does(spark: Any, shared_data: Path) -> None:  # fmt: skip
    texts = _texts(shared_data)
    frame = spark.createDataFrame(list(enumerate(texts)), "id long, text string")
    scored = score_dataframe(frame.repartition(3), "text")
    assert scored.columns == ["id", "text", *OUTPUT_COLUMNS]
    assert _spark_rows(scored) == _local(texts)
    languages = {row["language"] for row in _spark_rows(scored)}
    assert {"zh-Hans", "zh-Hant", "en", "und", "de"} <= languages


def test_spark_replaces_old_score_columns_and_reads_numbers_as_text(spark: Any) -> None:
    frame = spark.createDataFrame(
        [(1, "服務人員態度很好", "stale"), (2, None, "stale")],
        "id long, comment string, sentiment string",
    ).withColumn("number", F.lit(42))
    rows = score_dataframe(frame, "comment").orderBy("id").collect()
    assert rows[0]["sentiment"] == "positive"
    assert rows[1]["sentiment"] is None
    assert rows[1]["language"] == "und"
    numbers = score_dataframe(frame, "number").first()
    assert numbers is not None
    assert numbers["supported"] is False


def test_spark_uses_the_users_model_folder_shipped_to_the_workers(
    spark: Any, shared_data: Path, tmp_path: Path
) -> None:
    texts, labels = clinc(shared_data, "train.csv", INTENTS, 30)
    model_dir = tmp_path / "bank-intents"
    train_user_model(task="intent", texts=texts, labels=labels, model_dir=model_dir,
                     folds=3)  # fmt: skip
    held_out, truth = clinc(shared_data, "val.csv", INTENTS, 5)
    frame = spark.createDataFrame(list(enumerate(held_out)), "id long, text string")
    scored = _spark_rows(score_dataframe(frame, "text", model_dir=model_dir))
    expected = _local(held_out, TextModels.load(model_dir=model_dir))
    assert scored == expected
    right = sum(
        row["intent"] == label for row, label in zip(scored, truth, strict=True)
    )
    assert right / len(truth) >= 0.7
    assert {row["intent"] for row in scored} <= {*INTENTS, "other"}


def test_spark_refuses_a_missing_column_or_model_folder(spark: Any, tmp_path: Path) -> None:  # fmt: skip
    frame = spark.createDataFrame([(1, "好")], "id long, text string")
    with pytest.raises(InvalidInput, match="no column 'comment'"):
        score_dataframe(frame, "comment")
    with pytest.raises(InvalidInput, match="no such model directory"):
        score_dataframe(frame, "text", model_dir=tmp_path / "missing")


# --- cxloop text score-spark ---------------------------------------------------------


def _score_spark(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["text", "score-spark", "--master", "local[2]", "--json", *args])  # fmt: skip
    assert result.exit_code == 0, result.output
    summary: dict[str, Any] = json.loads(result.output.strip().splitlines()[-1])
    return summary


def _read_csv_folder(folder: Path) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for part in sorted(folder.glob("part-*.csv")):
        with part.open(encoding="utf-8", newline="") as handle:
            rows += list(csv.DictReader(handle))
    return rows


def test_cli_score_spark_writes_csv_and_sets_bad_rows_aside(spark: Any, tmp_path: Path) -> None:  # fmt: skip
    source = tmp_path / "comments.csv"
    with source.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "comment"])
        writer.writerows([("a1", "外送太慢了，餐點都冷掉"), ("a2", HTML),
                          ("a3", "多行\n文字：店員很親切"), ("a1", "價格太貴")])  # fmt: skip
        handle.write('a4,"ok",one field too many\n')
    output = tmp_path / "scored"
    summary = _score_spark("--input", str(source), "--text-column", "comment",
                           "--id-column", "id", "--output", str(output),
                           "--output-format", "csv")  # fmt: skip
    assert summary["rows"] == 4
    assert summary["rejects"] == 1
    assert summary["languages"] == {"zh-Hant": 3, "en": 1}
    problems = " ".join(summary["problems"])
    assert "1 ids in 'id' appear more than once ('a1')" in problems
    rows = _read_csv_folder(output)
    by_id = {(row["id"], row["comment"][:4]): row for row in rows}
    late = by_id[("a1", "外送太慢")]
    assert late["sentiment"] == "negative"
    assert late["intent"] == "complaint"
    assert [hit["topic"] for hit in json.loads(late["topics"])] == ["delivery", "waiting_time"]  # fmt: skip
    assert by_id[("a2", HTML[:4])]["comment"] == HTML  # kept as text, never rendered
    assert by_id[("a3", "多行\n文")]["comment"] == "多行\n文字：店員很親切"
    rejects = _read_csv_folder(Path(summary["rejects_path"]))
    assert [row["record"] for row in rejects] == ['a4,"ok",one field too many']
    # An earlier output of the command is replaced; any other existing path is refused.
    again = _score_spark("--input", str(source), "--text-column", "comment",
                         "--output", str(output), "--output-format", "csv")  # fmt: skip
    assert again["rows"] == 4
    assert len(_read_csv_folder(output)) == 4
    result = runner.invoke(app, ["text", "score-spark", "--input", str(source),
                                 "--text-column", "comment", "--output", str(tmp_path)])  # fmt: skip
    assert isinstance(result.exception, InvalidInput)
    assert "not an earlier Spark output" in str(result.exception)


def test_cli_score_spark_reads_parquet_parts_and_keeps_nested_lists(
    spark: Any, tmp_path: Path
) -> None:
    source = tmp_path / "in.parquet"
    texts = ["服務人員態度很好", "The app keeps crashing when I pay", "", "价格太贵了"]
    spark.createDataFrame(list(enumerate(texts)), "id long, body string").repartition(
        2
    ).write.parquet(str(source))
    output = tmp_path / "out.parquet"
    summary = _score_spark("--input", str(source), "--text-column", "body",
                           "--output", str(output), "--parts", "sentiment,topics",
                           "--partitions", "3")  # fmt: skip
    assert summary["rows"] == 4
    assert summary["unsupported"] == 1
    table = pq.read_table(output).sort_by("id")
    assert table.column_names == ["id", "body", *OUTPUT_COLUMNS]
    expected = score_columns(score_texts(texts, parts=parse_parts("sentiment,topics")),
                             parse_parts("sentiment,topics"))  # fmt: skip
    for name in ("language", "sentiment", "sentiment_score", "topics", "emotion"):
        assert table.column(name).to_pylist() == expected[name].to_pylist(), name
    assert table.column("emotion").null_count == 4  # not asked for


def test_cli_score_spark_reads_jsonl_and_rejects_lines_that_are_not_objects(
    spark: Any, tmp_path: Path
) -> None:
    source = tmp_path / "chats.jsonl"
    source.write_text('{"id": 1, "text": "謝謝你們的幫忙"}\nnot json at all\n'
                      '{"id": 2, "text": "Where is my refund?"}\n', encoding="utf-8")  # fmt: skip
    output = tmp_path / "chats-scored"
    summary = _score_spark("--input", str(source), "--text-column", "text",
                           "--output", str(output), "--output-format", "jsonl")  # fmt: skip
    assert summary["rows"] == 2
    assert summary["rejects"] == 1
    lines = [json.loads(line) for part in sorted(output.glob("part-*.json"))
             for line in part.read_text(encoding="utf-8").splitlines()]  # fmt: skip
    assert sorted(row["id"] for row in lines) == [1, 2]
    assert all(set(OUTPUT_COLUMNS) <= set(row) for row in lines)
    rejects = _read_csv_folder(Path(summary["rejects_path"]))
    assert [row["record"] for row in rejects] == ["not json at all"]


def test_cli_score_spark_explains_bad_requests(spark: Any, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("id,comment\n1,好\n", encoding="utf-8")
    cases = [
        (["--input", str(source), "--text-column", "body"], "no column 'body'"),
        (["--input", str(tmp_path / "data"), "--text-column", "comment"],
         "cannot tell the format"),
        (["--input", str(source), "--text-column", "comment", "--output-format", "xml"],
         "unknown output format"),
    ]  # fmt: skip
    for args, message in cases:
        result = runner.invoke(app, ["text", "score-spark", "--master", "local[2]",
                                     "--output", str(tmp_path / "out"), *args])  # fmt: skip
        assert isinstance(result.exception, InvalidInput), result.output
        assert message in str(result.exception)
