"""Routing rules, assignment fairness and the routing file, as pure functions."""

from __future__ import annotations

import doctest
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxloop.domain import routing_config, routing_rules
from cxloop.domain.errors import InvalidInput
from cxloop.domain.routing_config import parse_minutes, parse_routing
from cxloop.domain.routing_rules import (
    CaseFacts,
    Member,
    choose_member,
    first_match,
    least_loaded,
    matches,
    parse_conditions,
    raised_priority,
    round_robin,
)

T0 = datetime(2026, 3, 9, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize("module", [routing_rules, routing_config])
def test_docstring_examples_hold(module: object) -> None:
    result = doctest.testmod(module)  # type: ignore[arg-type]
    assert result.attempted > 0
    assert result.failed == 0


def test_rule_needs_every_condition_and_any_listed_value() -> None:
    rule = parse_conditions({"topic": ["Refund", "billing"], "channel": "email"})
    assert matches(rule, CaseFacts(topics=frozenset({"refund", "x"}), channel="EMAIL"))
    assert not matches(rule, CaseFacts(topics=frozenset({"refund"}), channel="chat"))
    assert not matches(rule, CaseFacts(channel="email"))


def test_rule_language_prefix_accepts_regional_variants() -> None:
    rule = parse_conditions({"language": "zh"})
    assert matches(rule, CaseFacts(language="zh-TW"))
    assert not matches(rule, CaseFacts(language="zhx"))
    assert not matches(rule, CaseFacts())


def test_rule_segment_intent_touchpoint_kind_priority_are_tested() -> None:
    rule = parse_conditions({"segment": ["vip"], "intent": "churn_threat",
                             "touchpoint": "checkout", "kind": "detractor",
                             "priority": ["high", "urgent"]})  # fmt: skip
    facts = CaseFacts(segments=frozenset({"VIP", "new"}), intent="churn_threat",
                      touchpoint="Checkout", kind="detractor", priority="high")  # fmt: skip
    assert matches(rule, facts)
    assert not matches(rule, CaseFacts(**{**facts.__dict__, "priority": "normal"}))


def test_first_match_takes_rules_in_order_and_empty_rule_catches_all() -> None:
    rules = [parse_conditions({"channel": "phone"}), parse_conditions(None), {}]
    assert first_match(rules, CaseFacts(channel="phone")) == 0
    assert first_match(rules, CaseFacts(channel="web")) == 1
    assert first_match(rules[:1], CaseFacts(channel="web")) is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"colour": "red"}, "conditions.colour: unknown condition"),
        ({"channel": "fax"}, "conditions.channel: 'fax' is not a channel"),
        ({"priority": "asap"}, "is not a priority; use low, normal, high, urgent"),
        ({"topic": []}, "conditions.topic: give at least one value"),
        ({"topic": [{"a": 1}]}, "is not a text value"),
        ({"topic": True}, "is not a text value"),
        (["topic"], "conditions: must map fields"),
    ],
)
def test_conditions_refuse_bad_input_naming_the_field(
    raw: object, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_conditions(raw)


def _hand_out(members: list[Member], cases: int, method: str) -> dict[int, int]:
    """Give ``cases`` cases one after another, updating what assignment looks at."""
    counts = {m.user_id: 0 for m in members}
    state = {m.user_id: m for m in members}
    for i in range(cases):
        chosen = choose_member(method, list(state.values()))
        if chosen is None:
            break
        counts[chosen] += 1
        old = state[chosen]
        # Each assignment happens after every earlier one (history ends at T0).
        state[chosen] = Member(chosen, old.away, T0 + timedelta(minutes=i + 1),
                               old.open_cases + 1)  # fmt: skip
    return counts


@settings(max_examples=60, deadline=None)
@given(
    away=st.lists(st.booleans(), min_size=1, max_size=8),
    history=st.lists(st.integers(0, 500) | st.none(), min_size=8, max_size=8),
    cases=st.integers(0, 120),
    method=st.sampled_from(["round_robin", "least_loaded"]),
)
def test_assignment_spreads_evenly_over_present_members(
    away: list[bool], history: list[int | None], cases: int, method: str
) -> None:
    members = [
        Member(
            i + 1,
            away=a,
            last_assigned_at=None if h is None else T0 - timedelta(hours=h),
        )
        for i, (a, h) in enumerate(zip(away, history, strict=False))
    ]
    counts = _hand_out(members, cases, method)
    present = [counts[m.user_id] for m in members if not m.away]
    assert all(counts[m.user_id] == 0 for m in members if m.away)
    if present:
        assert sum(present) == cases
        assert max(present) - min(present) <= 1
    else:
        assert sum(counts.values()) == 0


def test_round_robin_starts_with_never_assigned_then_oldest() -> None:
    members = [Member(1, last_assigned_at=T0), Member(2, last_assigned_at=T0 - timedelta(1)),
               Member(3)]  # fmt: skip
    assert round_robin(members) == 3
    assert round_robin(members[:2]) == 2


def test_least_loaded_picks_the_emptiest_present_member() -> None:
    members = [Member(1, open_cases=2), Member(2, open_cases=0, away=True),
               Member(3, open_cases=1), Member(4, open_cases=1, last_assigned_at=T0)]  # fmt: skip
    assert least_loaded(members) == 3
    assert least_loaded([Member(5, away=True)]) is None


def test_manual_assignment_and_empty_team_give_nobody() -> None:
    assert choose_member("manual", [Member(1)]) is None
    assert choose_member("round_robin", []) is None
    with pytest.raises(InvalidInput, match="assignment 'random' is unknown"):
        choose_member("random", [Member(1)])


def test_raised_priority_moves_one_step_and_stops_at_urgent() -> None:
    steps = [raised_priority(p) for p in ("low", "normal", "high", "urgent")]
    assert steps == ["normal", "high", "urgent", "urgent"]
    with pytest.raises(InvalidInput):
        raised_priority("asap")


def test_routing_file_reads_teams_members_rules_and_policies() -> None:
    config = parse_routing({
        "teams": [{"key": "desk", "name": "客服中心", "lead": "Lead@X.example",
                   "assignment": "least_loaded",
                   "members": ["a@x.example", {"email": "b@x.example", "away": True}]}],
        "rules": [{"name": "all", "team": "desk"},
                  {"name": "off", "team": "desk", "when": {"kind": "detractor"},
                   "active": False}],
        "sla": {"low": {"first_response": 90, "resolution": "2h30m"}},
    })  # fmt: skip
    team = config.teams[0]
    assert (team.lead_email, team.assignment) == ("lead@x.example", "least_loaded")
    assert [(m.email, m.away) for m in team.members] == [
        ("a@x.example", None), ("b@x.example", True)]  # fmt: skip
    assert [r.active for r in config.rules] == [True, False]
    assert config.rules[0].conditions == {}
    policy = config.policies[0]
    assert (policy.priority, policy.first_response_minutes, policy.resolution_minutes) == (
        "low", 90, 150)  # fmt: skip


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"team": []}, "team: unknown field; use teams, rules, sla"),
        ({"teams": [{"key": "Desk"}]}, r"teams\[1\].key: 'Desk' must be lower-case"),
        ({"teams": [{"key": "a"}, {"key": "a"}]}, r"teams\[2\].key: team 'a' is listed twice"),
        ({"teams": [{"key": "a", "members": ["nobody"]}]},
         r"teams\[1\].members\[1\]: 'nobody' is not an e-mail address"),
        ({"teams": [{"key": "a", "assignment": "random"}]}, r"teams\[1\].assignment"),
        ({"rules": [{"name": "x", "team": "a", "when": {"channel": "fax"}}]},
         r"rules\[1\].when.channel: 'fax' is not a channel"),
        ({"rules": [{"team": "a"}]}, r"rules\[1\].name: must be a text"),
        ({"sla": {"asap": {}}}, "sla.asap: unknown field"),
        ({"sla": {"high": {"first_response": "5h", "resolution": "4h"}}},
         "sla.high: first_response .300 min. exceeds resolution .240 min."),
        ({"sla": {"high": {"first_response": "soon", "resolution": "4h"}}},
         "sla.high.first_response: 'soon' is not a duration"),
        ("teams: []", "the routing file must be a mapping"),
    ],
)  # fmt: skip
def test_routing_file_errors_name_the_path(document: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_routing(document)


@pytest.mark.parametrize("raw", [0, -5, "0h", "", "h", True, 1.5])
def test_minutes_refuse_what_is_not_a_positive_duration(raw: object) -> None:
    with pytest.raises(InvalidInput, match="duration"):
        parse_minutes(raw, "duration")
