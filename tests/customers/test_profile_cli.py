"""``cxloop customers score|show|outreach`` and ``cxloop segments`` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from cxloop.cli import app
from cxloop.config import Settings
from cxloop.demo.service import load_demo
from cxloop.domain.errors import NotFound

runner = CliRunner()


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_score_then_segments_show_and_outreach(
    cli_settings: Settings, tmp_path: Path
) -> None:
    load_demo(settings=cli_settings, size="small", seed=5)
    assert "churn model AUC" in _run("customers", "score")
    pyramid = json.loads(_run("segments", "pyramid", "--json"))
    assert [row["tier"] for row in pyramid] == ["top", "high", "medium", "low"]
    assert sum(row["customers"] for row in pyramid) == 1_000
    rfm = json.loads(_run("segments", "rfm", "--json", "--language", "zh-TW"))
    assert all(row["action"] for row in rfm)
    assert "frequent" in _run("segments", "clusters") or "recent" in _run(
        "segments", "clusters"
    )
    shown = json.loads(_run("customers", "show", "C000001", "--json", "--events", "5"))
    assert shown["external_id"] == "C000001"
    assert len(shown["timeline"]) <= 5
    export = tmp_path / "outreach.csv"
    out = _run("customers", "outreach", "--min-risk", "0.4", "--limit", "10",
               "--export", str(export), "--create-cases")  # fmt: skip
    listed = pd.read_csv(export)
    assert 0 < len(listed) <= 10
    assert f"{len(listed):,} opened" in out
    again = _run("customers", "outreach", "--min-risk", "0.4", "--limit", "10",
                 "--create-cases")  # fmt: skip
    assert "0 opened" in again


def test_saved_segments_from_a_yaml_file(
    cli_settings: Settings, tmp_path: Path
) -> None:
    load_demo(settings=cli_settings, size="small", seed=5)
    _run("customers", "score")
    rules = tmp_path / "segments.yaml"
    rules.write_text(
        "- key: vip-north\n  name: 北部貴賓\n  conditions:\n"
        "    - {field: region, op: eq, value: 北部}\n"
        "    - {field: value_tier, op: in, value: [top, high]}\n",
        encoding="utf-8",
    )
    assert "vip-north" in _run("segments", "create", str(rules))
    (saved,) = json.loads(_run("segments", "list", "--json"))
    members = _run("segments", "members", "vip-north").split()
    assert saved["members"] == len(members) > 0
    nps = json.loads(_run("metrics", "nps", "--where", "in_segment=vip-north",
                          "--format", "json"))  # fmt: skip
    assert nps[0]["n"] > 0
    _run("segments", "delete", "vip-north")
    result = runner.invoke(app, ["segments", "members", "vip-north"])
    assert isinstance(result.exception, NotFound)
    assert "no saved segment vip-north" in str(result.exception)
