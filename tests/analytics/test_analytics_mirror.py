"""The analytics engines see new data: the incremental DuckDB mirror and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from analytics_seeding import Seeder
from sqlalchemy import text
from typer.testing import CliRunner

from cxloop.analytics.mirror import mirror_path
from cxloop.analytics.service import metric_frame, rebuild_mirror
from cxloop.cli import app
from cxloop.config import Settings
from cxloop.store.engine import make_engine, sqlite_path

MAY = datetime(2024, 5, 2, 4, tzinfo=UTC)


def _mirror(settings: Settings) -> Path:
    database = sqlite_path(settings.database_url)
    assert database is not None
    return mirror_path(database, settings.analytics_dir)


def test_new_answers_are_counted_when_added_after_first_query(
    settings: Settings, seeder: Seeder
) -> None:
    seeder.answers("nps", [10, 9, 0], at=MAY, channel="web")
    first = metric_frame(settings=settings, metric="nps", by=["channel"])

    seeder.answers("nps", [0, 0], at=MAY, channel="web")
    seeder.answers("nps", [10], at=MAY, channel="app")
    second = metric_frame(settings=settings, metric="nps", by=["channel"])

    assert first["n"].tolist() == [3]
    assert second["channel"].tolist() == ["app", "web"]
    assert second["n"].tolist() == [1, 5]
    assert second["value"].tolist()[1] == pytest.approx(-20.0)


def test_attribute_change_is_seen_when_customer_updated(
    settings: Settings, seeder: Seeder
) -> None:
    seeder.customer("c1", attributes={"tier": "gold"})
    seeder.customer("c2", attributes={"tier": "silver"})
    seeder.answers("csat", [5, 4], at=MAY, customer="c1")
    seeder.answers("csat", [1], at=MAY, customer="c2")
    before = metric_frame(settings=settings, metric="csat", by=["tier"])

    seeder.update_customer("c2", attributes={"tier": "gold"})
    after = metric_frame(settings=settings, metric="csat", by=["tier"])

    assert before[["tier", "n"]].values.tolist() == [["gold", 2], ["silver", 1]]
    assert after[["tier", "n"]].values.tolist() == [["gold", 3]]


def test_mirror_copies_only_new_answers_when_refreshed(
    sqlite_settings: Settings,
) -> None:
    engine = make_engine(sqlite_settings.database_url)
    seeder = Seeder(engine)
    seeder.answers("nps", [10, 10], at=MAY, channel="web")
    metric_frame(settings=sqlite_settings, metric="nps")
    # Mark the copied rows in the mirror: a full rebuild would wipe the mark.
    with duckdb.connect(str(_mirror(sqlite_settings))) as con:
        con.execute("UPDATE answer_fact SET channel = 'marked'")

    seeder.answers("nps", [0], at=MAY, channel="web")
    frame = metric_frame(settings=sqlite_settings, metric="nps", by=["channel"])
    engine.dispose()

    assert frame[["channel", "n"]].values.tolist() == [["marked", 2], ["web", 1]]


def test_mirror_is_rebuilt_when_schema_version_differs(
    sqlite_settings: Settings,
) -> None:
    engine = make_engine(sqlite_settings.database_url)
    Seeder(engine).answers("nps", [10, 0, 7], at=MAY, channel="web")
    engine.dispose()
    metric_frame(settings=sqlite_settings, metric="nps")
    with duckdb.connect(str(_mirror(sqlite_settings))) as con:
        con.execute("UPDATE answer_fact SET channel = 'marked'")
        con.execute("UPDATE mirror_meta SET value = '0' WHERE key = 'schema_version'")

    frame = metric_frame(settings=sqlite_settings, metric="nps", by=["channel"])

    assert frame[["channel", "n"]].values.tolist() == [["web", 3]]


def test_mirror_is_rebuilt_when_business_zone_changes(
    sqlite_settings: Settings,
) -> None:
    engine = make_engine(sqlite_settings.database_url)
    # 16:30 UTC on 31 March is 1 April in Taipei but still 31 March in UTC.
    Seeder(engine).answers("nps", [10], at=datetime(2024, 3, 31, 16, 30, tzinfo=UTC))
    engine.dispose()
    utc = sqlite_settings.model_copy(update={"timezone": "UTC"})

    taipei = metric_frame(settings=sqlite_settings, metric="nps", period="month")
    in_utc = metric_frame(settings=utc, metric="nps", period="month")

    assert taipei["period"].tolist() == ["2024-04-01"]
    assert in_utc["period"].tolist() == ["2024-03-01"]


def test_concurrent_queries_agree_when_mirror_is_cold(
    sqlite_settings: Settings,
) -> None:
    engine = make_engine(sqlite_settings.database_url)
    Seeder(engine).answers("nps", [10, 9, 8, 3] * 25, at=MAY, channel="web")
    engine.dispose()

    def query(_: int) -> list[int]:
        frame = metric_frame(settings=sqlite_settings, metric="nps", by=["channel"])
        return frame["n"].tolist()

    with ThreadPoolExecutor(max_workers=4) as pool:
        counts = list(pool.map(query, range(8)))

    assert counts == [[100]] * 8
    assert _mirror(sqlite_settings).exists()


def test_mirror_is_rebuilt_when_file_is_not_a_database(
    sqlite_settings: Settings,
) -> None:
    engine = make_engine(sqlite_settings.database_url)
    Seeder(engine).answers("csat", [5, 4, 2], at=MAY, channel="web")
    engine.dispose()
    mirror = _mirror(sqlite_settings)
    mirror.parent.mkdir(parents=True, exist_ok=True)
    mirror.write_bytes(b"not a duckdb file" * 100)

    frame = metric_frame(settings=sqlite_settings, metric="csat")

    assert frame["n"].tolist() == [3]
    assert frame["value"].tolist() == [pytest.approx(200 / 3)]


def test_rebuild_picks_up_an_edit_the_incremental_refresh_cannot_see(
    settings: Settings, seeder: Seeder
) -> None:
    seeder.answers("nps", [10, 9, 0], at=MAY, channel="web")
    assert metric_frame(settings=settings, metric="nps", by=["channel"])[
        "channel"
    ].tolist() == ["web"]
    engine = make_engine(settings.database_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE interaction SET channel = 'app'"))
    engine.dispose()

    rebuilt = rebuild_mirror(settings=settings)

    after = metric_frame(settings=settings, metric="nps", by=["channel"])
    assert after["channel"].tolist() == ["app"]
    assert after["n"].tolist() == [3]
    is_sqlite = settings.database_url.startswith("sqlite")
    assert rebuilt == (3 if is_sqlite else None)


def test_cli_rebuild_analytics_reports_the_answers_mirrored(
    cli_settings: Settings,
) -> None:
    result = CliRunner().invoke(app, ["db", "rebuild-analytics"])
    assert result.exit_code == 0, result.output
    assert "analytics mirror rebuilt: 0 scored answers" in result.output
    assert _mirror(cli_settings).exists()
