"""Control charts over the store: the demo company's planted shifts, and signal cases."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from cxloop.cli import app
from cxloop.config import Settings
from cxloop.demo.service import load_demo
from cxloop.domain.errors import InvalidInput
from cxloop.improve.monitoring import control_chart, open_signal_case
from cxloop.store import tables
from cxloop.store.engine import UnitOfWork, dispose_engines, engine_for


@pytest.fixture(scope="module")
def demo(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    """The small demo company (seed 42) in one SQLite store for this module."""
    folder = tmp_path_factory.mktemp("monitor-demo")
    shutil.copyfile(sqlite_template, folder / "cxloop.db")
    settings = Settings(
        database_url=f"sqlite:///{folder / 'cxloop.db'}",
        secret_key="test-secret-key-not-for-production",
        analytics_dir=str(folder / "analytics"),
        timezone="Asia/Taipei",
    )
    load_demo(settings=settings, size="small", seed=42)
    yield settings
    dispose_engines()


def test_demo_monthly_nps_signals_the_price_change_month(demo: Settings) -> None:
    result = control_chart(settings=demo, metric="nps", period="month")
    assert result.chart.kind == "p"
    below = [s.period for s in result.chart.signals if s.rule == "beyond_limits"]
    assert below == ["2025-09-01"]
    assert result.chart.signals[0].side == "below"


def test_demo_app_ces_signals_from_march_2026_against_earlier_baseline(
    demo: Settings,
) -> None:
    result = control_chart(
        settings=demo, metric="ces", period="month", where={"channel": "app"},
        baseline_periods=(date(2024, 11, 1), date(2026, 2, 1)),
    )  # fmt: skip
    assert result.chart.kind == "xmr"
    beyond = [s.period for s in result.chart.signals if s.rule == "beyond_limits"]
    assert beyond[0] == "2026-03-01"
    assert all(p >= "2026-03-01" for p in beyond)
    assert all(s.side == "above" for s in result.chart.signals)
    assert result.baseline_periods == ("2024-11-01", "2026-02-01")


def test_demo_web_ces_shows_no_rise_in_effort(demo: Settings) -> None:
    result = control_chart(
        settings=demo, metric="ces", period="month", where={"channel": "web"},
        baseline_periods=(date(2024, 11, 1), date(2026, 2, 1)),
    )  # fmt: skip
    assert [s for s in result.chart.signals if s.side == "above"] == []


def test_monitor_chart_cli_opens_one_case_per_signal(
    demo: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cxloop.config import get_settings

    monkeypatch.setenv("CXLOOP_DATABASE_URL", demo.database_url)
    monkeypatch.setenv("CXLOOP_SECRET_KEY", demo.secret_key)
    monkeypatch.setenv("CXLOOP_ANALYTICS_DIR", demo.analytics_dir)
    get_settings.cache_clear()
    args = ["monitor", "chart", "ces", "--period", "month", "--where", "channel=app",
            "--baseline-from", "2024-11-01", "--baseline-to", "2026-02-01",
            "--open-case", "--json"]  # fmt: skip
    first = CliRunner().invoke(app, args)
    second = CliRunner().invoke(app, args)
    get_settings.cache_clear()
    assert first.exit_code == 0, first.output
    case_id = json.loads(first.output)["case_id"]
    assert case_id is not None
    assert json.loads(second.output)["case_id"] == case_id
    with UnitOfWork(engine_for(demo.database_url)).session() as session:
        case = session.get(tables.Case, case_id)
        assert case is not None
        assert (case.kind, case.source, case.channel) == ("request", "monitor", "app")
        assert "2026-10-01" in case.title


def _seed_weeks(settings: Settings, scores_by_week: list[list[int]]) -> None:
    start = datetime(2025, 1, 6, 4, tzinfo=UTC)  # a Monday, noon in Taipei
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        survey = tables.Survey(key="s", name="s")
        session.add(survey)
        session.flush()
        question = tables.Question(survey_id=survey.id, key="nps", metric="nps")
        session.add(question)
        session.flush()
        for week, scores in enumerate(scores_by_week):
            rows = [
                tables.Interaction(
                    occurred_at=start + timedelta(weeks=week), kind="survey_response",
                    source="t", external_id=f"w{week}-{i}", channel="phone",
                )
                for i in range(len(scores))
            ]  # fmt: skip
            session.add_all(rows)
            session.flush()
            session.add_all(
                tables.Answer(
                    interaction_id=r.id, question_id=question.id, metric="nps", value=s
                )
                for r, s in zip(rows, scores, strict=True)
            )


def test_weekly_shift_signals_and_opens_a_case_once(settings: Settings) -> None:
    steady = [10] * 20 + [8] * 15 + [3] * 15
    _seed_weeks(settings, [steady] * 6 + [[10] * 5 + [8] * 10 + [3] * 35])
    result = control_chart(settings=settings, metric="nps", period="week")
    assert [(s.period, s.rule) for s in result.chart.signals] == [
        ("2025-02-17", "beyond_limits")
    ]
    first = open_signal_case(settings=settings, result=result)
    assert first is not None
    assert open_signal_case(settings=settings, result=result) == first
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        assert session.scalar(select(func.count()).select_from(tables.Case)) == 1


def test_chart_refuses_a_metric_without_a_chart(settings: Settings) -> None:
    with pytest.raises(InvalidInput, match="choose nps, csat or ces"):
        control_chart(settings=settings, metric="fcr")
