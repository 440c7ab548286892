"""Key drivers on the demo company: the planted patterns are found, fields are checked.

The small demo is loaded once per seed (SQLite); one test runs the same analysis on
PostgreSQL, and the CLI is driven through CliRunner.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cxloop.analytics.drivers_service import DriverResult, key_drivers, servqual_file
from cxloop.cli import app
from cxloop.config import Settings
from cxloop.customers import profiles
from cxloop.demo import company as co
from cxloop.demo.service import load_demo
from cxloop.domain.errors import InvalidInput

STORES = [store.name for store in co.STORES]
LATE = f"attr:delivery_days>{co.LATE_AFTER_DAYS}"


def _demo(folder: Path, template: Path, seed: int) -> Settings:
    shutil.copy(template, folder / "store.db")
    settings = Settings(
        database_url=f"sqlite:///{folder / 'store.db'}",
        secret_key="test-secret-key-not-for-production",
        analytics_dir=str(folder / "analytics"),
        timezone="Asia/Taipei",
    )
    load_demo(settings=settings, size="small", seed=seed)
    return settings


@pytest.fixture(scope="module", params=[42, 7], ids=["seed42", "seed7"])
def demo(
    request: pytest.FixtureRequest,
    sqlite_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Settings:
    return _demo(tmp_path_factory.mktemp("drivers"), sqlite_template, request.param)


@pytest.fixture(scope="module")
def scored(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = _demo(tmp_path_factory.mktemp("scored"), sqlite_template, 42)
    profiles.score_customers(settings=settings)
    return settings


def _by_field(result: DriverResult) -> dict[str, int]:
    return {row.field: rank for rank, row in enumerate(result.drivers)}


def test_late_delivery_is_the_top_driver_of_nps(demo: Settings) -> None:
    result = key_drivers(settings=demo, outcome="nps", drivers=[LATE, "touchpoint=*"])
    top = result.drivers[0]
    assert top.field == LATE
    assert top.quadrant == "fix"
    runner_up = result.drivers[1]
    assert top.low > runner_up.percent  # clearly ahead, not by chance
    assert sum(row.percent for row in result.drivers) == pytest.approx(100.0)


def test_rude_store_is_the_worst_touchpoint_and_a_fix(demo: Settings) -> None:
    result = key_drivers(settings=demo, outcome="nps", drivers=["touchpoint=*"])
    touchpoints = {row.field.split("=", 1)[1]: row for row in result.drivers}
    worst = min(touchpoints, key=lambda name: touchpoints[name].performance)
    assert worst == co.RUDE_STORE
    assert result.drivers[0].field == f"touchpoint={co.RUDE_STORE}"
    assert touchpoints[co.RUDE_STORE].quadrant == "fix"
    stores = [touchpoints[s] for s in STORES if s in touchpoints]
    assert len(stores) >= 8


def test_shapley_agrees_with_relative_weights_on_the_order(demo: Settings) -> None:
    fields = ["csat", LATE, f"touchpoint={co.RUDE_STORE}", "channel=app"]
    rw = key_drivers(settings=demo, outcome="nps", drivers=fields, resamples=50)
    sv = key_drivers(
        settings=demo, outcome="nps", drivers=fields, method="shapley", resamples=50
    )
    assert [r.field for r in rw.drivers] == [r.field for r in sv.drivers]
    assert rw.r2 == pytest.approx(sv.r2)
    assert rw.drivers[0].field == "csat"


def test_customer_level_reads_the_relational_answer(demo: Settings) -> None:
    fields = [
        "nps@touchpoint=宅配",
        "nps@channel=store",
        "csat@channel=app",
        LATE,
        "cases:complaint",
    ]
    result = key_drivers(settings=demo, outcome="nps", drivers=fields, level="customer")
    assert 200 < result.n < 400  # one row per customer with a relationship answer
    assert result.r2 > 0.1
    coverage = {row.field: row.coverage for row in result.drivers}
    assert coverage["cases:complaint"] == 1.0  # a count: zero when nothing happened
    assert 0.2 < coverage["nps@touchpoint=宅配"] < 0.8  # a mean: gaps filled
    assert 0.2 < coverage[LATE] < 0.8  # a share among their deliveries


def test_churn_risk_outcome_has_a_row_per_scored_customer(scored: Settings) -> None:
    fields = [LATE, "cases:complaint", "profile:recency_days", "csat@channel=store"]
    result = key_drivers(
        settings=scored, outcome="churn", drivers=fields, level="customer"
    )
    assert 800 < result.n <= 1000  # the small demo's customers with a churn risk
    assert result.drivers[0].field == "profile:recency_days"  # what the model reads
    assert sum(row.percent for row in result.drivers) == pytest.approx(100.0)
    with pytest.raises(InvalidInput, match="needs --level customer"):
        key_drivers(settings=scored, outcome="churn", drivers=["csat"])


@pytest.mark.parametrize(
    ("fields", "level", "message"),
    [
        (["touchpoint=火星店"], "response", "known are .*宅配"),
        (["attr:weather"], "response", "known are .*delivery_days"),
        (["csat@touchpoint=宅配"], "response", "needs --level customer"),
        (["profile:shoe_size"], "customer", "churn_risk"),
        (["cases:lawsuit"], "customer", "known are .*complaint"),
        (["nps", "nps"], "response", "named twice"),
        (["banana"], "response", "is not a field"),
    ],
)
def test_unknown_fields_are_refused_with_what_exists(
    demo: Settings, fields: list[str], level: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        key_drivers(settings=demo, outcome="nps", drivers=fields, level=level)


def test_unknown_outcome_and_relational_survey_are_refused(demo: Settings) -> None:
    with pytest.raises(InvalidInput, match="nps, csat, ces, churn"):
        key_drivers(settings=demo, outcome="effort", drivers=["csat"])
    with pytest.raises(InvalidInput, match=r"surveys are .*delivery"):
        key_drivers(
            settings=demo, outcome="nps", drivers=["csat"], level="customer", survey="x"
        )


def test_drivers_on_postgres_match_sqlite(
    settings: Settings, sqlite_template: Path, tmp_path: Path
) -> None:
    load_demo(settings=settings, size="small", seed=42)
    fields = [LATE, f"touchpoint={co.RUDE_STORE}", "csat"]
    here = key_drivers(settings=settings, outcome="nps", drivers=fields, resamples=50)
    reference = key_drivers(
        settings=_demo(tmp_path, sqlite_template, 42),
        outcome="nps",
        drivers=fields,
        resamples=50,
    )
    assert [r.field for r in here.drivers] == [r.field for r in reference.drivers]
    assert here.r2 == pytest.approx(reference.r2)
    assert here.n == reference.n


def test_cli_drivers_json(demo: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from cxloop.config import get_settings

    monkeypatch.setenv("CXLOOP_DATABASE_URL", demo.database_url)
    monkeypatch.setenv("CXLOOP_SECRET_KEY", demo.secret_key)
    monkeypatch.setenv("CXLOOP_ANALYTICS_DIR", demo.analytics_dir)
    get_settings.cache_clear()
    try:
        args = ["drivers", "--outcome", "nps", "--drivers", f"{LATE},csat", "--json"]
        result = CliRunner().invoke(app, [*args, "--resamples", "20"])
        assert result.exit_code == 0, result.output
        payload = json.loads(result.output)
        assert payload["drivers"][0]["field"] == "csat"
        assert {d["quadrant"] for d in payload["drivers"]} <= {
            "fix",
            "maintain",
            "monitor",
        }
        table = CliRunner().invoke(
            app, ["drivers", "--outcome", "nps", "--drivers", LATE]
        )
        assert table.exit_code == 0, table.output
        assert "share" in table.output
    finally:
        get_settings.cache_clear()


def test_servqual_file_and_cli(tmp_path: Path) -> None:
    path = tmp_path / "servqual.csv"
    path.write_text(
        "id,E_reliability,P_reliability,E_empathy,P_empathy\n"
        "1,7,5,6,6\n2,7,4,5,6\n3,6,6,7,\n4,7,5,6,7\n",
        encoding="utf-8",
    )
    gaps = {g.dimension: g for g in servqual_file(path=path)}
    assert gaps["reliability"].gap == pytest.approx(-1.75)
    assert gaps["empathy"].n == 3
    result = CliRunner().invoke(
        app, ["drivers", "servqual", "--input", str(path), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert [g["dimension"] for g in json.loads(result.output)] == [
        "reliability",
        "empathy",
    ]


def test_servqual_file_names_the_bad_cell(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("E_empathy,P_empathy\n5,6\n5,很好\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"bad\.csv, line 3, column P_empathy"):
        servqual_file(path=path)
    lonely = tmp_path / "lonely.csv"
    lonely.write_text("E_empathy,P_tangibles\n5,6\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="empathy, tangibles"):
        servqual_file(path=lonely)
