"""Routing on a real store: rules to teams, assignment in teams, the routing file."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from routing_seeding import (
    add_agents,
    add_case,
    add_customer,
    events,
    get_case,
    open_routed_case,
)
from typer.testing import CliRunner

from cxloop.cli import app
from cxloop.config import Settings
from cxloop.domain.errors import Conflict, InvalidInput, NotFound
from cxloop.loop import teams

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "routing.yaml"
EXAMPLE_AGENTS = (
    "pj.lin@heguang.example", "jm.chang@heguang.example", "amy.lo@heguang.example",
    "wr.tsai@heguang.example", "cindy.wang@heguang.example", "yx.liu@heguang.example",
)  # fmt: skip
T0 = datetime(2026, 3, 9, 2, 0, tzinfo=UTC)  # Monday 10:00 in Taipei


def _apply(settings: Settings, document: dict[str, object]) -> None:
    teams.save_routing_rules(settings=settings, document=document)


def _desk(settings: Settings, assignment: str, agents: int = 3) -> list[int]:
    emails = [f"agent{i}@heguang.example" for i in range(agents)]
    ids = add_agents(settings, *emails)
    _apply(settings, {
        "teams": [{"key": "desk", "name": "客服中心", "assignment": assignment,
                   "lead": "lead@heguang.example", "members": emails},
                  {"key": "logistics", "name": "物流配送組"}],
        "rules": [{"name": "配送", "team": "logistics", "when": {"topic": "delivery"}},
                  {"name": "email", "team": "desk", "when": {"channel": "email"}}],
    })  # fmt: skip
    return ids


def test_route_case_sends_matching_case_to_team_and_writes_events(
    settings: Settings,
) -> None:
    ids = _desk(settings, "round_robin")
    case_id = open_routed_case(settings, now=T0, channel="email")
    case = get_case(settings, case_id)
    assert (case.team, case.owner_id) == ("desk", ids[0])
    routed, assigned = (
        events(settings, case_id, "routed"),
        events(settings, case_id, "assigned"),
    )
    assert routed[0] == {"team": "desk", "team_id": case.team_id, "rule": "email",
                              "rule_id": routed[0]["rule_id"]}  # fmt: skip
    assert assigned[0] == {"owner_id": ids[0], "owner": "agent0@heguang.example",
                                "team": "desk", "method": "round_robin"}  # fmt: skip


def test_route_case_first_rule_wins_and_team_without_agents_leaves_owner_empty(
    settings: Settings,
) -> None:
    _desk(settings, "round_robin")
    case_id = open_routed_case(settings, now=T0, channel="email", topics=["Delivery"])
    case = get_case(settings, case_id)
    assert (case.team, case.owner_id) == ("logistics", None)
    assert events(settings, case_id, "assigned") == []


def test_route_case_without_matching_rule_stays_unassigned(settings: Settings) -> None:
    _desk(settings, "round_robin")
    case_id = open_routed_case(settings, now=T0, channel="phone")
    case = get_case(settings, case_id)
    assert (case.team_id, case.owner_id) == (None, None)
    assert events(settings, case_id, "routed")[0]["team"] is None


def test_round_robin_spreads_cases_evenly_and_skips_away_agents(
    settings: Settings,
) -> None:
    ids = _desk(settings, "round_robin")
    owners = [
        get_case(settings, open_routed_case(
            settings, now=T0 + timedelta(minutes=i), channel="email")).owner_id
        for i in range(9)
    ]  # fmt: skip
    assert Counter(owners) == {ids[0]: 3, ids[1]: 3, ids[2]: 3}
    assert owners[:3] == ids
    teams.set_away(settings=settings, email="agent1@heguang.example")
    later = [
        get_case(settings, open_routed_case(
            settings, now=T0 + timedelta(hours=1, minutes=i), channel="email")).owner_id
        for i in range(4)
    ]  # fmt: skip
    assert Counter(later) == {ids[0]: 2, ids[2]: 2}


def test_least_loaded_gives_the_case_to_the_agent_with_fewest_open_cases(
    settings: Settings,
) -> None:
    ids = _desk(settings, "least_loaded")
    for owner, count in ((ids[0], 2), (ids[1], 1), (ids[2], 3)):
        for _ in range(count):
            add_case(settings, owner_id=owner, opened_at=T0, status="in_progress")
    add_case(settings, owner_id=ids[1], opened_at=T0, status="resolved")
    first = open_routed_case(settings, now=T0, channel="email")
    second = open_routed_case(settings, now=T0, channel="email")
    assert get_case(settings, first).owner_id == ids[1]
    assert get_case(settings, second).owner_id == ids[0]  # tie: assigned longest ago


def test_manual_team_gets_cases_without_owner(settings: Settings) -> None:
    _desk(settings, "manual")
    case = get_case(settings, open_routed_case(settings, now=T0, channel="email"))
    assert (case.team, case.owner_id) == ("desk", None)


def test_route_case_matches_saved_and_plain_segments_of_the_customer(
    settings: Settings,
) -> None:
    add_agents(settings, "vip@heguang.example")
    _apply(settings, {
        "teams": [{"key": "vip", "name": "VIP", "members": ["vip@heguang.example"]}],
        "rules": [{"name": "vip", "team": "vip", "when": {"segment": ["champions", "gold"]}}],
    })  # fmt: skip
    saved = add_customer(settings, saved=["champions"])
    plain = add_customer(settings, segment="gold")
    other = add_customer(settings, segment="bronze", saved=["new"])
    routed = [get_case(settings, open_routed_case(settings, now=T0, customer_id=c)).team
              for c in (saved, plain, other)]  # fmt: skip
    assert routed == ["vip", "vip", None]


def test_apply_example_routing_file_creates_teams_rules_and_policies(
    settings: Settings,
) -> None:
    add_agents(settings, *EXAMPLE_AGENTS)
    summary = teams.apply_routing_file(settings=settings, path=EXAMPLE)
    assert summary.teams_created == ("logistics", "service-desk", "vip")
    assert (summary.members, summary.rules, summary.policies) == (6, 4, 4)
    found = {t.key: t for t in teams.list_teams(settings=settings)}
    assert found["service-desk"].assignment == "least_loaded"
    assert [m.email for m in found["logistics"].members] == sorted(EXAMPLE_AGENTS[:3])
    customer = add_customer(settings, segment="vip")
    vip = open_routed_case(settings, now=T0, customer_id=customer)
    english = open_routed_case(settings, now=T0, language="en", channel="chat")
    other = open_routed_case(settings, now=T0, channel="phone", topics=["配送"])
    assert [get_case(settings, c).team for c in (vip, english, other)] == [
        "vip", "service-desk", "logistics"]  # fmt: skip


def test_apply_again_replaces_members_and_rules_but_keeps_away(
    settings: Settings,
) -> None:
    add_agents(settings, "a@heguang.example", "b@heguang.example")
    first = {"teams": [{"key": "desk", "name": "Desk",
                        "members": ["a@heguang.example", "b@heguang.example"]}],
             "rules": [{"name": "all", "team": "desk"}]}  # fmt: skip
    _apply(settings, first)
    teams.set_away(settings=settings, email="a@heguang.example", team_key="desk")
    _apply(settings, {"teams": [{"key": "desk", "name": "客服",
                                 "members": ["a@heguang.example"]}]})  # fmt: skip
    (desk,) = teams.list_teams(settings=settings)
    assert desk.name == "客服"
    assert [(m.email, m.away) for m in desk.members] == [("a@heguang.example", True)]
    case = get_case(settings, open_routed_case(settings, now=T0))
    assert case.team_id is None  # the rules were replaced by none


@pytest.mark.parametrize(
    ("document", "error", "message"),
    [
        ({"teams": [{"key": "desk", "members": ["ghost@heguang.example"]}]}, NotFound,
         r"teams\[1\].members\[1\]: no user ghost@heguang.example"),
        ({"rules": [{"name": "x", "team": "nowhere"}]}, InvalidInput,
         r"rules\[1\].team: no team 'nowhere'"),
        ({"teams": [{"key": "desk", "calendar": "missing.yaml"}]}, InvalidInput,
         r"teams\[1\].calendar: .*missing.yaml: no such calendar file"),
    ],
)  # fmt: skip
def test_save_routing_rules_refuses_unknown_users_teams_and_calendars(
    settings: Settings,
    document: dict[str, object],
    error: type[Exception],
    message: str,
) -> None:
    with pytest.raises(error, match=message):
        _apply(settings, document)
    assert teams.list_teams(settings=settings) == []


def test_create_team_add_member_and_set_away_errors(settings: Settings) -> None:
    add_agents(settings, "a@heguang.example")
    teams.create_team(settings=settings, key="desk", name="Desk")
    with pytest.raises(Conflict, match="team 'desk' already exists"):
        teams.create_team(settings=settings, key="desk", name="Desk")
    with pytest.raises(NotFound, match="is not a member of any team"):
        teams.set_away(settings=settings, email="a@heguang.example")
    info = teams.add_member(
        settings=settings, team_key="desk", email="A@heguang.example"
    )
    assert [m.email for m in info.members] == ["a@heguang.example"]
    with pytest.raises(NotFound, match="no team 'sales'"):
        teams.add_member(settings=settings, team_key="sales", email="a@heguang.example")
    assert teams.set_away(settings=settings, email="a@heguang.example", away=False) == 1


def test_team_cli_applies_lists_and_marks_away(
    cli_settings: Settings, tmp_path: Path
) -> None:
    add_agents(cli_settings, *EXAMPLE_AGENTS)
    runner = CliRunner()
    result = runner.invoke(app, ["team", "apply", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "teams created: logistics, service-desk, vip" in result.output
    result = runner.invoke(app, ["team", "away", "amy.lo@heguang.example"])
    assert result.exit_code == 0, result.output
    listed = json.loads(runner.invoke(app, ["team", "list", "--json"]).stdout)
    logistics = next(t for t in listed if t["key"] == "logistics")
    assert {m["email"]: m["away"] for m in logistics["members"]}[
        "amy.lo@heguang.example"
    ]
    result = runner.invoke(app, ["team", "away", "amy.lo@heguang.example", "--back"])
    assert "is back in 1 team(s)" in result.output
    bad = tmp_path / "routing.yaml"
    bad.write_text("rules:\n  - {name: x, team: desk, when: {channel: fax}}\n", "utf-8")
    result = runner.invoke(app, ["team", "apply", str(bad)])
    assert result.exit_code != 0
    assert "rules[1].when.channel: 'fax' is not a channel" in str(result.exception)
