"""Peak-end analysis on the demo company (pattern 6) and on hand-made journeys."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cxloop.analytics.peak_end_frames import analyse, journeys, peak_end_analysis
from cxloop.cli import app
from cxloop.config import Settings
from cxloop.demo import company as co
from cxloop.demo.service import load_demo
from cxloop.domain.errors import InvalidInput, NotFound


@pytest.fixture(scope="module", params=[42, 2024], ids=["seed42", "seed2024"])
def demo(
    request: pytest.FixtureRequest,
    sqlite_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Settings:
    folder = tmp_path_factory.mktemp("peak_end")
    shutil.copy(sqlite_template, folder / "store.db")
    settings = Settings(
        database_url=f"sqlite:///{folder / 'store.db'}",
        secret_key="test-secret-key-not-for-production",
        analytics_dir=str(folder / "analytics"),
        timezone="Asia/Taipei",
    )
    load_demo(settings=settings, size="small", seed=request.param)
    return settings


def test_peak_end_explains_the_relational_score_better_than_the_average(
    demo: Settings,
) -> None:
    result = peak_end_analysis(settings=demo)
    fits = {fit.predictor: fit for fit in result.fits}
    assert result.fits[0].predictor == "peak_end"
    assert fits["peak_end"].r2 > fits["average"].r2
    assert result.gain_low > 0  # the gain is not chance
    assert all(fit.low > 0 for fit in result.fits)  # better moments, higher NPS
    assert result.journeys > 150
    assert 2.0 <= result.touchpoints < 4.0


def test_home_delivery_is_the_usual_peak_of_bad_journeys(demo: Settings) -> None:
    result = peak_end_analysis(settings=demo)
    assert result.bad_journeys > 20
    top = max(result.moments, key=lambda m: m.peak)
    assert top.touchpoint == co.HOME_DELIVERY
    assert sum(m.peak for m in result.moments) == result.bad_journeys
    assert sum(m.end for m in result.moments) == result.bad_journeys


def test_touchpoints_narrow_the_journey(demo: Settings) -> None:
    stores = [store.name for store in co.STORES]
    narrow = peak_end_analysis(settings=demo, touchpoints=[*stores, co.HOME_DELIVERY])
    wide = peak_end_analysis(settings=demo)
    assert narrow.journeys < wide.journeys
    assert {m.touchpoint for m in narrow.moments} <= {*stores, co.HOME_DELIVERY}
    retail = peak_end_analysis(settings=demo, journey="retail")  # the shipped journey
    assert retail.journeys == wide.journeys
    with pytest.raises(NotFound, match="retail"):
        peak_end_analysis(settings=demo, journey="wedding-registry")


def _responses(rows: list[tuple[int, str, str, float | None]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["customer_id", "at", "survey", "nps"])
    frame["occurred_at"] = pd.to_datetime(frame.pop("at"), utc=True)
    frame["touchpoint"] = np.where(frame["survey"] == "relationship", "會員", "宅配")
    frame["csat"] = np.nan
    frame["ces"] = np.nan
    return frame


def test_journeys_take_the_window_before_each_answer() -> None:
    responses = _responses(
        [
            (1, "2025-01-01", "delivery", 2.0),  # more than 90 days before: left out
            (1, "2025-05-01", "delivery", 10.0),
            (1, "2025-05-20", "store", 4.0),
            (1, "2025-06-01", "relationship", 5.0),
            (1, "2025-06-02", "delivery", 0.0),  # after the answer: left out
            (2, "2025-05-01", "delivery", 9.0),  # one touchpoint only: left out
            (2, "2025-06-01", "relationship", 9.0),
        ]
    )
    found = journeys(responses)
    assert found.rows["journey"].unique().tolist() == [0]
    assert found.rows["score"].tolist() == [1.0, 0.4]
    with pytest.raises(InvalidInput, match=r"1 journeys .* need 10"):
        analyse(found)
    with pytest.raises(InvalidInput, match="surveys are delivery, relationship"):
        journeys(responses, survey="nps-2025")


def test_cli_peak_end_json(demo: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from cxloop.config import get_settings

    monkeypatch.setenv("CXLOOP_DATABASE_URL", demo.database_url)
    monkeypatch.setenv("CXLOOP_SECRET_KEY", demo.secret_key)
    monkeypatch.setenv("CXLOOP_ANALYTICS_DIR", demo.analytics_dir)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["journey", "peak-end", "--json"])
        assert result.exit_code == 0, result.output
        payload = json.loads(result.output)
        assert payload["fits"][0]["predictor"] == "peak_end"
        assert payload["window_days"] == 90
        table = CliRunner().invoke(app, ["journey", "peak-end"])
        assert table.exit_code == 0, table.output
        assert "bad journeys" in table.output
    finally:
        get_settings.cache_clear()
