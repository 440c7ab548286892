"""The metric definitions on Spark: the same answers as the embedded engine.

A store is seeded once, exported with ``cxloop analytics export`` (Parquet) and read
back on one real local Spark session (two cores) that serves the whole module; each
request runs on the embedded engine (the DuckDB mirror, or PostgreSQL in place) and on
Spark, and the two frames must agree.
"""

from __future__ import annotations

import json
import random
import shutil
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from analytics_seeding import Seeder
from typer.testing import CliRunner

from cxloop.analytics import service
from cxloop.analytics.engines import CUSTOMER_COLUMNS, FACT_COLUMNS, connect
from cxloop.analytics.exports import FACT_TYPES, export_tables
from cxloop.analytics.segment_rules import Condition, SegmentDefinition
from cxloop.cli import app
from cxloop.config import Settings, get_settings
from cxloop.customers.segments import save_segments
from cxloop.domain.errors import InvalidInput
from cxloop.store.engine import dispose_engines, make_engine
from tests.spark_warnings import SPARK_WARNINGS

TAIPEI = ZoneInfo("Asia/Taipei")
RANGES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
CHANNELS = ("web", "app", "phone", None)
#: Local times on both sides of a month and quarter boundary: a shift moves them.
EDGES = (datetime(2024, 3, 31, 23, 30), datetime(2024, 4, 1, 0, 30))  # noqa: DTZ001
Request = dict[str, Any]
FIRST = datetime(2023, 11, 1, 8)  # noqa: DTZ001 - a local time, zone added when seeding
pytestmark = SPARK_WARNINGS


def _settings(url: str, folder: Path, **extra: Any) -> Settings:
    return Settings(
        database_url=url,
        secret_key="test-secret-key-not-for-production",
        analytics_dir=str(folder / "analytics"),
        timezone="Asia/Taipei",
        spark_master="local[2]",
        **extra,
    )


def _on_spark(settings: Settings, folder: str | Path) -> Settings:
    return settings.model_copy(
        update={"analytics_engine": "spark", "spark_data_dir": str(folder)}
    )


def seed(settings: Settings, answers: int = 90) -> None:
    """Customers with regions and attributes, and ``answers`` answers per metric."""
    engine = make_engine(settings.database_url)
    try:
        _seed(Seeder(engine), answers)
    finally:
        engine.dispose()
    north = Condition(field="region", op="eq", value="north")
    save_segments(
        settings=settings,
        definitions=[SegmentDefinition(key="north", name="北區", conditions=[north])],
    )


def _seed(seeder: Seeder, answers: int) -> None:
    people: dict[str, dict[str, Any]] = {
        "c1": {"region": "north", "attributes": {"tier": "gold", "age": 31}},
        "c2": {"region": "south", "attributes": {"tier": "silver", "會員等級": "金卡"}},
        "c3": {"region": "north", "segment": "b2b", "attributes": {"tier": None}},
        "c4": {"attributes": {"會員等級": "一般", "age": 2.5}},
    }
    for key, fields in people.items():
        seeder.customer(key, **fields)
    rng = random.Random("spark-engine")  # noqa: S311 - test data, not secrets
    for metric, (low, high) in RANGES.items():
        for k in range(answers):
            local = (
                EDGES[k % 2]
                if k < 6
                else FIRST + timedelta(hours=rng.randrange(24 * 240))
            )
            seeder.answers(
                metric,
                [rng.randint(low, high)],
                at=local.replace(tzinfo=TAIPEI),
                channel=rng.choice(CHANNELS),
                touchpoint=rng.choice(("checkout", "delivery")),
                customer=rng.choice([*people, None]),
            )


@pytest.fixture(scope="module")
def sqlite_store(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Settings, Settings]:
    """A seeded SQLite store and the settings of its export on Spark."""
    folder = tmp_path_factory.mktemp("spark-engine")
    shutil.copyfile(sqlite_template, folder / "cxloop.db")
    embedded = _settings(f"sqlite:///{folder / 'cxloop.db'}", folder)
    seed(embedded)
    export_tables(settings=embedded, to=folder / "export")
    return embedded, _on_spark(embedded, folder / "export")


def assert_same_frame(embedded: pd.DataFrame, spark: pd.DataFrame) -> None:
    assert not embedded.empty
    pd.testing.assert_frame_equal(
        spark, embedded, check_dtype=False, check_exact=False, rtol=1e-9
    )


REQUESTS: dict[str, Request] = {
    "nps-by-channel": {"metric": "nps", "by": ["channel"]},
    "nps-by-channel-month": {"metric": "nps", "by": ["channel"], "period": "month"},
    "csat-by-touchpoint-region-quarter": {
        "metric": "csat",
        "by": ["touchpoint", "region"],
        "period": "quarter",
    },
    "ces-week-from": {
        "metric": "ces",
        "period": "week",
        "date_from": date(2024, 3, 20),
    },
    "nps-by-attribute-month-where-region": {
        "metric": "nps",
        "by": ["tier"],
        "period": "month",
        "where": {"region": "north"},
    },
    "csat-by-channel-window": {
        "metric": "csat",
        "by": ["channel"],
        "date_from": date(2024, 3, 1),
        "date_to": date(2024, 3, 31),
    },
    "ces-by-cjk-and-number-attributes": {
        "metric": "ces",
        "by": ["會員等級", "age"],
        "where": {"touchpoint": "delivery"},
    },
    "nps-in-saved-segment-quarter-to": {
        "metric": "nps",
        "by": ["segment"],
        "period": "quarter",
        "where": {"in_segment": "north"},
        "date_to": date(2024, 5, 31),
    },
}


@pytest.mark.parametrize("request_", list(REQUESTS.values()), ids=list(REQUESTS))
def test_metric_frame_on_spark_equals_embedded(
    spark: Any, sqlite_store: tuple[Settings, Settings], request_: Request
) -> None:
    embedded, on_spark = sqlite_store
    expected = service.metric_frame(settings=embedded, **request_)
    assert_same_frame(expected, service.metric_frame(settings=on_spark, **request_))


def test_month_of_an_answer_at_local_midnight_is_not_shifted_on_spark(
    spark: Any, sqlite_store: tuple[Settings, Settings]
) -> None:
    embedded, on_spark = sqlite_store
    columns = ["answer_id", "occurred_local", "occurred_on", "month_start"]
    frames = []
    for settings in (embedded, on_spark):
        with connect(settings) as source:
            facts = source.facts
            frames.append(facts.select(columns).order_by("answer_id").to_pandas())
    assert_same_frame(frames[0], frames[1])
    edges = frames[1][frames[1]["occurred_local"].isin(EDGES)]
    assert {str(m)[:10] for m in edges["month_start"]} == {"2024-03-01", "2024-04-01"}


def test_summary_values_and_range_on_spark_equal_embedded(
    spark: Any, sqlite_store: tuple[Settings, Settings]
) -> None:
    embedded, on_spark = sqlite_store
    window = {"date_from": date(2024, 2, 1), "date_to": date(2024, 4, 15)}
    for request_ in ({"metric": "nps"}, {"metric": "csat", **window},
                     {"metric": "ces", "where": {"tier": "gold"}}):  # fmt: skip
        expected = service.metric_summary(settings=embedded, **request_)
        assert expected.current.n > 0
        assert service.metric_summary(settings=on_spark, **request_) == expected
    for field in ("channel", "region", "tier", "會員等級", "age"):
        expected_values = service.available_values(settings=embedded, field=field)
        assert service.available_values(settings=on_spark, field=field) == (
            expected_values
        )
    assert service.available_values(settings=on_spark, field="age") == ["2.5", "31"]
    assert service.data_range(settings=on_spark) == service.data_range(
        settings=embedded
    )


def test_overview_on_spark_equals_embedded(
    spark: Any, sqlite_store: tuple[Settings, Settings]
) -> None:
    embedded, on_spark = sqlite_store
    expected = service.overview(settings=embedded, fields=["channel", "region"])
    assert expected.summary["nps"].current.n > 0
    assert service.overview(settings=on_spark, fields=["channel", "region"]) == expected


def test_unknown_attribute_is_refused_on_spark(
    spark: Any, sqlite_store: tuple[Settings, Settings]
) -> None:
    _, on_spark = sqlite_store
    with pytest.raises(InvalidInput, match="unknown field 'shoe_size'"):
        service.metric_frame(settings=on_spark, metric="nps", by=["shoe_size"])


def test_export_writes_typed_parquet_tables_and_a_manifest(
    sqlite_store: tuple[Settings, Settings],
) -> None:
    _, on_spark = sqlite_store
    folder = Path(on_spark.spark_data_dir)
    facts = pq.read_table(folder / "answer_fact")
    customers = pq.read_table(folder / "customer_dim")
    assert tuple(FACT_TYPES) == FACT_COLUMNS
    assert tuple(facts.column_names) == FACT_COLUMNS
    assert tuple(customers.column_names) == CUSTOMER_COLUMNS
    assert facts.schema.field("occurred_local").type == pa.timestamp("us")
    assert facts.schema.field("month_start").type == pa.date32()
    manifest = json.loads((folder / "export.json").read_text(encoding="utf-8"))
    assert manifest["timezone"] == "Asia/Taipei"
    assert manifest["rows"] == {"answer_fact": 270, "customer_dim": 4}
    assert facts.num_rows == 270
    assert sorted(p.name for p in folder.iterdir()) == [
        "answer_fact", "customer_dim", "export.json"]  # fmt: skip


def test_export_again_replaces_tables_and_a_failed_export_keeps_them(
    sqlite_url: str, tmp_path: Path
) -> None:
    settings = _settings(sqlite_url, tmp_path)
    seed(settings, answers=4)
    folder = tmp_path / "export"
    (folder / "answer_fact").mkdir(parents=True)
    (folder / "answer_fact" / "stale.parquet").write_bytes(b"old")
    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    assert export_tables(settings=settings, to=folder).rows["answer_fact"] == 12
    assert [p.name for p in (folder / "answer_fact").iterdir()] == [
        "part-00000.parquet"
    ]
    missing = _settings(f"sqlite:///{tmp_path / 'missing.db'}", tmp_path)
    with pytest.raises(InvalidInput, match="does not exist"):
        export_tables(settings=missing, to=folder)
    assert pq.read_table(folder / "answer_fact").num_rows == 12
    assert sorted(p.name for p in folder.iterdir()) == [
        "answer_fact", "customer_dim", "export.json", "notes.txt"]  # fmt: skip


def test_export_refuses_a_file_or_a_url(sqlite_url: str, tmp_path: Path) -> None:
    settings = _settings(sqlite_url, tmp_path)
    a_file = tmp_path / "file.parquet"
    a_file.write_bytes(b"")
    with pytest.raises(InvalidInput, match="is a file, not a folder"):
        export_tables(settings=settings, to=a_file)
    with pytest.raises(InvalidInput, match="local folder"):
        export_tables(settings=settings, to="s3a://bucket/cx")
    with pytest.raises(InvalidInput, match="cannot write"):
        export_tables(settings=settings, to=a_file / "below")


def test_spark_engine_refuses_a_missing_folder_or_tables(
    spark: Any, sqlite_url: str, tmp_path: Path
) -> None:
    settings = _settings(sqlite_url, tmp_path, analytics_engine="spark")
    cases = {
        "": "CXLOOP_SPARK_DATA_DIR is not set",
        str(tmp_path / "nowhere"): "does not exist",
        str(tmp_path): "holds no answer_fact or customer_dim table",
    }
    for folder, message in cases.items():
        with pytest.raises(InvalidInput, match=message):
            service.metric_frame(settings=_on_spark(settings, folder), metric="nps")
    for name in ("answer_fact", "customer_dim"):
        (tmp_path / name).mkdir()
    with pytest.raises(InvalidInput, match="cannot read the answer_fact table"):
        service.metric_frame(settings=_on_spark(settings, tmp_path), metric="nps")


def test_spark_engine_refuses_an_export_of_another_zone_or_engine_name(
    sqlite_store: tuple[Settings, Settings],
) -> None:
    _, on_spark = sqlite_store
    elsewhere = on_spark.model_copy(update={"timezone": "Europe/Berlin"})
    with pytest.raises(InvalidInput, match="local times in Asia/Taipei"):
        service.metric_frame(settings=elsewhere, metric="nps")
    unknown = on_spark.model_copy(update={"analytics_engine": "hadoop"})
    with pytest.raises(InvalidInput, match="not one of embedded, spark"):
        service.metric_frame(settings=unknown, metric="nps")


def test_spark_engine_names_the_extra_when_pyspark_is_missing(
    sqlite_store: tuple[Settings, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, on_spark = sqlite_store
    monkeypatch.setitem(sys.modules, "pyspark", None)  # as if the extra were absent
    with pytest.raises(InvalidInput, match=r"pip install 'cxloop\[spark\]'"):
        service.metric_frame(settings=on_spark, metric="nps")


def test_cli_exports_and_metrics_run_on_spark_from_the_environment(
    spark: Any, cli_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(cli_settings, answers=6)
    runner = CliRunner()
    exported = runner.invoke(app, ["analytics", "export", "--to", str(tmp_path / "x")])
    assert exported.exit_code == 0, exported.output
    assert "answer_fact" in exported.output
    assert "18" in exported.output
    args = [
        "metrics",
        "nps",
        "--by",
        "channel",
        "--period",
        "month",
        "--format",
        "json",
    ]
    embedded = runner.invoke(app, args)
    monkeypatch.setenv("CXLOOP_ANALYTICS_ENGINE", "spark")
    monkeypatch.setenv("CXLOOP_SPARK_DATA_DIR", str(tmp_path / "x"))
    get_settings.cache_clear()
    on_spark = runner.invoke(app, args)
    assert on_spark.exit_code == 0, on_spark.output
    assert json.loads(on_spark.output) == json.loads(embedded.output) != []


@pytest.mark.postgres
def test_postgres_export_on_spark_equals_postgres(
    spark: Any, postgres_url: str, tmp_path: Path
) -> None:
    embedded = _settings(postgres_url, tmp_path)
    seed(embedded, answers=30)
    summary = export_tables(settings=embedded, to=tmp_path / "export")
    dispose_engines()
    assert summary.rows == {"answer_fact": 90, "customer_dim": 4}
    on_spark = _on_spark(embedded, tmp_path / "export")
    for name in ("nps-by-channel-month", "nps-by-attribute-month-where-region",
                 "ces-by-cjk-and-number-attributes"):  # fmt: skip
        request_ = REQUESTS[name]
        expected = service.metric_frame(settings=embedded, **request_)
        assert_same_frame(expected, service.metric_frame(settings=on_spark, **request_))
