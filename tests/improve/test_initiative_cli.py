"""``cxloop initiative ...`` through Typer's test runner on an SQLite store."""

from __future__ import annotations

import json
from typing import Any

import pytest
from initiative_seeding import Batch, repeat, seed
from typer.testing import CliRunner, Result

from cxloop.cli import app
from cxloop.config import Settings
from cxloop.domain.errors import Conflict, InvalidInput

BATCHES = [
    Batch("nps", repeat({10: 100, 8: 60, 3: 40}), "2025-01-15"),  # 30
    Batch("nps", repeat({10: 140, 8: 40, 3: 20}), "2025-02-15"),  # 60
    Batch("nps", repeat({10: 80, 8: 80, 3: 40}), "2025-01-15", touchpoint="超商取貨"),
    Batch("nps", repeat({10: 80, 8: 80, 3: 40}), "2025-02-15", touchpoint="超商取貨"),
]


@pytest.fixture
def seeded(cli_settings: Settings) -> Settings:
    seed(cli_settings, BATCHES)
    return cli_settings


def run(*args: str) -> Result:
    return CliRunner().invoke(app, ["initiative", *args])


def ok(*args: str) -> Result:
    result = run(*args)
    assert result.exit_code == 0, result.output
    return result


def as_json(*args: str) -> Any:
    return json.loads(ok(*args, "--json").stdout)


def _create() -> None:
    ok("create", "--title", "準時宅配", "--metric", "nps", "--scope", "touchpoint=宅配",
       "--comparison", "touchpoint=超商取貨", "--baseline-from", "2025-01-01",
       "--baseline-to", "2025-01-31", "--target", "45", "--owner", "物流組",
       "--problem", "宅配常遲到", "--evidence", "topic=配送")  # fmt: skip


def test_cli_walks_an_initiative_from_plan_to_standard(seeded: Settings) -> None:
    _create()
    ok("action", "add", "1", "--title", "加派司機", "--owner", "陳經理",
       "--due", "2025-01-25")  # fmt: skip
    ok("action", "done", "1")
    ok("advance", "1", "--to", "do", "--change-date", "2025-02-01")
    check = as_json("check", "1", "--as-of", "2025-02-28")
    assert check["outcome"] == "improved"
    assert check["did"]["estimate"] == pytest.approx(30.0)
    assert check["after"]["last"] == "2025-02-28"
    ok("advance", "1", "--to", "check")
    ok("act", "1", "--standardise", "每日兩班配送")
    shown = as_json("show", "1")
    assert (shown["stage"], shown["standard"]) == ("closed", "每日兩班配送")
    assert shown["baseline"]["value"] == pytest.approx(30.0)
    assert shown["scope"] == {"touchpoint": "宅配"}
    assert shown["evidence"] == {"kind": "topic", "value": "配送"}
    assert [a["title"] for a in shown["actions"]] == ["加派司機"]
    assert shown["actions"][0]["done_at"] is not None
    assert len(shown["checks"]) == 2
    assert list(shown["stage_dates"]) == ["plan", "do", "check", "act", "closed"]


def test_cli_check_table_prints_plain_summary(seeded: Settings) -> None:
    _create()
    ok("advance", "1", "--to", "do", "--change-date", "2025-02-01")
    result = ok("check", "1")
    assert "check of initiative 1: improved" in result.stdout
    assert "Verdict: improved." in " ".join(result.stdout.split())


def test_cli_adjust_opens_new_plan_and_list_shows_both(seeded: Settings) -> None:
    _create()
    ok("advance", "1", "--to", "do", "--change-date", "2025-02-01")
    ok("advance", "1", "--to", "check")
    ok("act", "1", "--adjust", "--title", "第二輪")
    listed = as_json("list")
    assert [(i["id"], i["stage"], i["parent_id"]) for i in listed] == [
        (2, "plan", 1), (1, "closed", None)
    ]  # fmt: skip
    assert [i["id"] for i in as_json("list", "--stage", "plan")] == [2]
    assert "準時宅配" in ok("list").stdout


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [(("create", "--title", "t", "--scope", "touchpoint"), InvalidInput,
      "must look like FIELD=VALUE"),
     (("create", "--title", "t", "--scope", "value=1"), InvalidInput,
      "choose one of channel, touchpoint"),
     (("advance", "1", "--to", "do"), InvalidInput, "Do needs the change date"),
     (("advance", "1", "--to", "act"), Conflict, "the next stage is do"),
     (("act", "1", "--adjust", "--standardise", "x"), InvalidInput, "exactly one"),
     (("create", "--title", "t", "--evidence", "配送"), InvalidInput, "KIND=VALUE")],
)  # fmt: skip
def test_cli_refuses_bad_requests_with_message(
    seeded: Settings, args: tuple[str, ...], error: type[Exception], message: str
) -> None:
    _create()
    result = run(*args)
    assert isinstance(result.exception, error), result.output
    assert message in str(result.exception)


def test_cli_bad_date_is_refused_by_option_parser(seeded: Settings) -> None:
    result = run("create", "--title", "t", "--baseline-from", "2025-13-01")
    assert result.exit_code == 2
    assert "--baseline-from" in result.output
