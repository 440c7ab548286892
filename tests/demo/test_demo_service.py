"""Loading the demo company through the real importers, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, func, select
from typer.testing import CliRunner

from cxloop import lifecycle
from cxloop.accounts import service as accounts
from cxloop.cli import app
from cxloop.config import Settings
from cxloop.customers.segments import list_segments
from cxloop.demo.casework import agent_email
from cxloop.demo.generator import generate
from cxloop.demo.service import DEMO_EMAIL, DEMO_PASSWORD, load_demo
from cxloop.demo.surveys import DEMO_SURVEY
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import Answer, Case, Customer, Interaction, Transaction
from cxloop.surveys.definitions import get_survey


def _count(url: str, table: type) -> int:
    engine = create_engine(url)
    with engine.connect() as connection:
        n = connection.scalar(select(func.count()).select_from(table))
    engine.dispose()
    return int(n or 0)


def test_load_demo_stores_every_row_and_the_login(settings: Settings) -> None:
    expected = generate(seed=42, size="small")
    steps: list[str] = []
    summary = load_demo(
        settings=settings,
        size="small",
        progress=lambda step, _done, _total: steps.append(step),
    )
    assert summary.rejected == 0
    assert summary.user_created
    assert steps[0] == "generate"
    assert steps[-1] == "done"
    inserted = {c.kind: c.inserted for c in summary.counts}
    assert inserted == {kind: len(f) for kind, f in expected.frames().items()}
    url = settings.database_url
    assert _count(url, Customer) == len(expected.customers)
    assert _count(url, Transaction) == len(expected.transactions)
    events = len(expected.feedback) + len(expected.interactions)
    assert _count(url, Interaction) == events
    assert _count(url, Case) == len(expected.cases)
    scores = expected.feedback[["nps", "csat", "ces"]].notna().sum().sum()
    assert _count(url, Answer) >= scores
    user = accounts.authenticate(
        settings=settings, email=DEMO_EMAIL, password=DEMO_PASSWORD
    )
    assert user is not None
    assert user.role == "admin"


def test_load_demo_twice_adds_nothing(settings: Settings) -> None:
    load_demo(settings=settings, size="small", seed=3)
    before = _count(settings.database_url, Interaction)
    again = load_demo(settings=settings, size="small", seed=3)
    assert not again.user_created
    assert all(c.inserted == 0 for c in again.counts)
    assert all(c.duplicate == c.read for c in again.counts)
    assert _count(settings.database_url, Interaction) == before


def test_cli_demo_if_empty_loads_once_then_adds_nothing(cli_settings: Settings) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["demo", "--size", "small", "--if-empty"])
    assert first.exit_code == 0, first.output
    assert "demo@cxloop.local" in first.output
    assert "cxloop-demo" in first.output
    assert not lifecycle.database_is_empty(cli_settings)
    survey = get_survey(settings=cli_settings, key=DEMO_SURVEY)
    assert survey.accepts_answers
    assert survey.spec.name.zh.startswith("禾光生活")
    segments = {s.key: s.members for s in list_segments(settings=cli_settings)}
    assert segments["vip"] > 0
    assert "unhappy_big_spenders" in segments
    _assert_casework(cli_settings)
    count = _count(cli_settings.database_url, Interaction)
    second = runner.invoke(app, ["demo", "--size", "small", "--if-empty"])
    assert second.exit_code == 0, second.output
    assert "already holds data" in second.output
    assert "demo@cxloop.local" in second.output  # make run prints the login every time
    assert _count(cli_settings.database_url, Interaction) == count


def _assert_casework(settings: Settings) -> None:
    """The demo's desk: agents sign in, imported cases have team, owner and due times,
    recent detractors became routed cases."""
    agent = accounts.authenticate(
        settings=settings, email=agent_email("logistics", 0), password="cxloop-demo"
    )
    assert agent is not None
    assert agent.role == "agent"
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        cases = session.scalars(select(Case)).all()
        imported = [c for c in cases if c.source == "demo"]
        opened = [c for c in cases if c.alert_rule_id is not None]
        assert imported
        assert all(c.team_id is not None for c in imported)
        assert all(c.first_response_due_at is not None for c in imported)
        assert opened
        assert all(c.team_id is not None and c.priority == "high" for c in opened)


def test_cli_demo_out_writes_csv_files_only(
    cli_settings: Settings, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        app, ["demo", "--size", "small", "--seed", "5", "--out", str(tmp_path / "csv")]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "csv").iterdir()) == [
        "cases.csv",
        "customers.csv",
        "feedback.csv",
        "interactions.csv",
        "transactions.csv",
    ]
    assert lifecycle.database_is_empty(cli_settings)


def test_cli_demo_refuses_an_unknown_size(cli_settings: Settings) -> None:
    result = CliRunner().invoke(app, ["demo", "--size", "huge"])
    assert result.exit_code != 0
    assert "small or full" in str(result.exception)
    assert lifecycle.database_is_empty(cli_settings)
