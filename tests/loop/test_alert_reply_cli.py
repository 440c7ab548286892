"""``cxloop alert`` and ``cxloop reply`` through the command line, with the doc examples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alert_seeding import import_feedback
from typer.testing import CliRunner

from cxloop.cli import app
from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


def _ok(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.output


def test_alert_commands_apply_the_example_run_and_list_events(
    cli_settings: Settings, tmp_path: Path
) -> None:
    assert "new: store-detractor, vip-unhappy" in _ok(
        ["alert", "apply", str(EXAMPLES / "alert-rules.yaml")]
    )
    assert "unchanged: store-detractor" in _ok(
        ["alert", "apply", str(EXAMPLES / "alert-rules.yaml")]
    )
    import_feedback(cli_settings, tmp_path, [
        ["R1", "amy@example.com", "2024-03-18 10:00", "store", "台北信義店", "2", "吃完拉肚子"],
    ])  # fmt: skip
    summary = json.loads(_ok(["alert", "run", "--json"]))
    assert (summary["fired"], summary["cases_opened"]) == (2, 2)
    assert len(summary["failures"]) == 1  # the example's webhook host does not exist
    rules = json.loads(_ok(["alert", "list", "--json"]))
    fired = {rule["key"]: rule["events"] for rule in rules}
    assert fired == {"churn-threat": 0, "food-safety": 1, "store-detractor": 1,
                     "vip-unhappy": 0, "weekly-nps-drop": 0}  # fmt: skip
    events = json.loads(_ok(["alert", "events", "--rule", "food-safety", "--json"]))
    assert [e["summary"] for e in events] == ["keywords: 拉肚子"]
    assert "NPS 2" in _ok(["alert", "events"])


def test_alert_apply_with_a_bad_rule_raises_invalid_input_naming_the_field(
    cli_settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("- {key: x, kind: detractor, actions: [{type: fax}]}\n", "utf-8")
    result = runner.invoke(app, ["alert", "apply", str(path)])
    assert isinstance(result.exception, InvalidInput)  # main() prints it, exit 2
    assert "bad.yaml: rules[0].actions[0].type: 'fax'" in str(result.exception)


@pytest.mark.usefixtures("cli_settings")
def test_reply_commands_apply_the_example_and_suggest_for_a_case(
    tmp_path: Path,
) -> None:
    assert "new: delivery-delay, refund-status, delivery-delay-en" in _ok(
        ["reply", "templates", "apply", str(EXAMPLES / "reply-templates.yaml")]
    )
    faq = tmp_path / "faq.csv"
    faq.write_text("id,q,a\nlate,包裹延遲怎麼辦,請提供訂單編號\n", encoding="utf-8")
    _ok(["kb", "import", "--id-column", "id", "--question-column", "q",
         "--answer-column", "a", str(faq)])  # fmt: skip
    from cxloop.config import get_settings
    from cxloop.loop.cases import open_case

    case = open_case(settings=get_settings(), customer_id=None, title="包裹延遲三天")
    found = json.loads(_ok(["reply", "suggest", str(case.id), "--json"]))
    assert [a["external_id"] for a in found["articles"]] == ["late"]
    assert found["templates"][0]["key"] == "delivery-delay"
    assert f"案件編號：{case.id}" in found["templates"][0]["body"]
    assert "delivery-delay" in _ok(["reply", "suggest", str(case.id)])
