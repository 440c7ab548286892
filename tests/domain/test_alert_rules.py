"""Alert rules (pure): parsing with clear errors, matching, metric drops."""

from __future__ import annotations

from datetime import date

import pytest

from cxloop.domain.alert_rules import (
    CHURN_WORDS,
    CaseAction,
    EmailAction,
    Facts,
    RuleKind,
    WebhookAction,
    action_to_dict,
    conditions_of,
    find_words,
    match,
    metric_drop,
    parse_rule,
    parse_rules,
    stored_rule,
)
from cxloop.domain.errors import InvalidInput
from cxloop.domain.metrics import ces, nps

CASE = {"type": "case"}


def _rule(**more: object) -> dict[str, object]:
    return {"key": "r", "kind": "detractor", "actions": [CASE], **more}


def _facts(**more: object) -> Facts:
    values: dict[str, object] = {
        "interaction_id": 1, "customer_id": 7, "channel": "store",
        "touchpoint": "台北信義店", "text": None, "sentiment": None, "intent": None,
    }  # fmt: skip
    return Facts(**(values | more))  # type: ignore[arg-type]


def test_parse_rules_reads_every_kind_and_action() -> None:
    rules = parse_rules(
        {"rules": [
            _rule(key="d", touchpoints=["台北信義店"], since="2024-01-01", actions=[
                {"type": "case", "priority": "high", "kind": "detractor"},
                {"type": "email", "to": ["lead@example.com"]},
                {"type": "webhook", "url": "https://h.example/x", "secret": "s", "timeout": 2},
            ]),
            _rule(key="n", kind="negative_sentiment", value_tiers=["top"], min_churn_risk=0.5),
            _rule(key="c", kind="churn_threat"),
            _rule(key="k", kind="keyword", words=["退款", "refund"]),
            _rule(key="m", kind="metric_drop", metric="csat", min_drop=5),
        ]},
        origin="rules.yaml",
    )  # fmt: skip
    d, n, c, k, m = rules
    assert d.actions == (
        CaseAction("high", "detractor"),
        EmailAction(("lead@example.com",)),
        WebhookAction("https://h.example/x", "s", 2.0),
    )
    assert (d.since, d.touchpoints, d.max_score) == (
        date(2024, 1, 1),
        ("台北信義店",),
        6,
    )
    assert (n.value_tiers, n.min_churn_risk) == (("top",), 0.5)
    assert c.words == CHURN_WORDS
    assert k.words == ("退款", "refund")
    assert (m.kind, m.metric, m.min_drop, m.min_answers) == (
        RuleKind.METRIC_DROP,
        "csat",
        5,
        10,
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (_rule(actions=[{"type": "webhook", "url": "file:///etc/passwd"}]),
         "rules[0].actions[0].url: 'file:///etc/passwd' is not an http(s) address"),
        (_rule(actions=[{"type": "email", "to": ["not-an-address"]}]), "rules[0].actions[0].to"),
        (_rule(actions=[{"type": "sms"}]), "rules[0].actions[0].type: 'sms': choose one of"),
        (_rule(actions=[]), "rules[0].actions: a rule needs"),
        (_rule(kind="sentiment"), "rules[0].kind: 'sentiment'"),
        (_rule(key="Bad Key"), "rules[0].key: 'Bad Key'"),
        (_rule(max_score=8), "rules[0].max_score: 8 is outside 0-6"),
        (_rule(kind="keyword"), "rules[0].words: a keyword rule needs"),
        (_rule(since="yesterday"), "rules[0].since: 'yesterday' is not a date"),
        (_rule(actions=[{"type": "webhook", "url": "http://h.example", "timeout": 99}]),
         "rules[0].actions[0].timeout: 99 is outside"),
    ],
)  # fmt: skip
def test_parse_rules_names_the_file_and_field_of_a_bad_value(
    raw: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_rules([raw], origin="rules.yaml")
    assert str(caught.value).startswith("rules.yaml: ")
    assert message in str(caught.value)


def test_parse_rules_refuses_a_key_used_twice() -> None:
    with pytest.raises(InvalidInput, match="'r' is used twice"):
        parse_rules([_rule(), _rule()], origin="f")


def test_stored_rule_round_trips_conditions_and_actions() -> None:
    rule = parse_rule(_rule(kind="churn_threat", keywords=["退會"], channels=["chat"],
                            actions=[{"type": "webhook", "url": "http://h.example"}]))  # fmt: skip
    again = stored_rule(
        key=rule.key, name=rule.name, kind=rule.kind.value,
        conditions=conditions_of(rule),
        actions=[action_to_dict(a) for a in rule.actions], active=True,
    )  # fmt: skip
    assert again == rule


def test_find_words_is_case_insensitive_and_keeps_latin_words_whole() -> None:
    text = "REFUND please! 我要退款, refunded already"
    assert find_words(text, ["refund", "退款", "fund", "already"]) == [
        "refund", "退款", "already",
    ]  # fmt: skip
    assert find_words("no refunds", ["refund"]) == []
    assert find_words(None, ["refund"]) == []


def test_match_detractor_fires_on_nps_up_to_max_score_in_scope() -> None:
    rule = parse_rule(_rule(touchpoints=["台北信義店"], max_score=4))
    assert match(rule, _facts(nps_scores=(3.0,))) == "NPS 3"
    assert match(rule, _facts(nps_scores=(5.0,))) is None
    assert match(rule, _facts(nps_scores=(3.0,), touchpoint="台中店")) is None
    assert match(rule, _facts()) is None


def test_match_negative_sentiment_needs_tier_and_risk_when_asked() -> None:
    rule = parse_rule(_rule(kind="negative_sentiment", value_tiers=["top", "high"],
                            min_churn_risk=0.3))  # fmt: skip
    hit = _facts(sentiment="negative", value_tier="top", churn_risk=0.4)
    assert match(rule, hit) == "negative sentiment (top value)"
    assert (
        match(rule, _facts(sentiment="negative", value_tier="low", churn_risk=0.9))
        is None
    )
    assert match(rule, _facts(sentiment="negative", value_tier="top")) is None
    assert match(rule, _facts(sentiment=None, value_tier="top", churn_risk=0.9)) is None


def test_match_churn_threat_uses_intent_then_words() -> None:
    rule = parse_rule(_rule(kind="churn_threat"))
    assert match(rule, _facts(intent="churn_threat")) == "churn-threat intent"
    assert match(rule, _facts(text="再這樣我就要解約了")) == "churn words: 解約"
    assert match(rule, _facts(text="Please CANCEL MY ACCOUNT")) == (
        "churn words: cancel my account"
    )
    assert match(rule, _facts(text="謝謝你們")) is None


def test_metric_drop_fires_on_a_significant_fall_only() -> None:
    rule = parse_rule(_rule(kind="metric_drop", min_answers=10))
    before = nps([10] * 15 + [8] * 5)
    assert metric_drop(rule, nps([2] * 12 + [9] * 8), before) is not None
    assert metric_drop(rule, nps([10] * 14 + [8] * 6), before) is None
    assert metric_drop(rule, nps([2] * 5), before) is None  # too few answers
    assert metric_drop(rule, before, nps([2] * 12 + [9] * 8)) is None  # a rise


def test_metric_drop_reads_a_rising_ces_as_worse_and_honours_min_drop() -> None:
    rule = parse_rule(_rule(kind="metric_drop", metric="ces", min_drop=3))
    easy, hard = ces([2] * 10 + [1] * 10), ces([5] * 10 + [6] * 10)
    assert metric_drop(rule, hard, easy) is not None
    small = parse_rule(_rule(kind="metric_drop", metric="ces", min_drop=5))
    assert metric_drop(small, hard, easy) is None
