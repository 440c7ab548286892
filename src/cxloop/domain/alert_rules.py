"""Alert rules: what to watch in new feedback and what to do when it is seen (pure).

A rule file (YAML or JSON) holds a list of rules, or a mapping with a ``rules`` list::

    rules:
      - key: detractor-store          # lower-case letters, digits, - and _
        name: 門市貶損者
        kind: detractor               # detractor, negative_sentiment, churn_threat,
        max_score: 6                  #   keyword, metric_drop
        touchpoints: [台北信義店]      # optional filters on the interaction
        channels: [store]
        since: 2024-01-01             # optional: also look at feedback from this day
        actions:
          - {type: case, priority: high, kind: detractor}
          - {type: email, to: [cx-lead@example.com]}
          - {type: webhook, url: https://hooks.example.com/cx, secret: s3cret}

Kinds and their conditions:

- ``detractor``: an NPS answer of at most ``max_score`` (0-6, default 6).
- ``negative_sentiment``: the interaction's sentiment is ``negative``; optionally only
  for customers in ``value_tiers`` or with ``min_churn_risk`` or more. Sentiment comes
  from text scoring: until text has been scored, this kind matches nothing.
- ``churn_threat``: the interaction's intent is ``churn_threat``, or (as a fallback
  for unscored text) its text contains one of ``keywords`` (defaults:
  :data:`CHURN_WORDS`).
- ``keyword``: the text contains any of ``words`` (case-insensitive; a word that
  starts or ends with a Latin letter or digit must stand as a whole word there).
- ``metric_drop``: the weekly ``metric`` (nps, csat or ces) of a touchpoint fell
  against the previous week by more than the 95 % margin of error of the difference
  (a significant change for the worse; for CES a rise), and by at least ``min_drop``; ``touchpoints`` limits
  which touchpoints are watched, ``min_answers`` (default 10) the answers each week
  needs.

Every kind but ``metric_drop`` accepts the ``touchpoints`` and ``channels`` filters.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from cxloop.domain.errors import InvalidInput
from cxloop.domain.metrics import Z_95, Change, MetricResult, compare
from cxloop.domain.vocab import CaseKind, CasePriority, MetricKind

_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
#: Phrases that say a customer is leaving, used when text has no scored intent.
CHURN_WORDS = (
    "解約", "取消會員", "取消訂閱", "退會", "不會再來", "不會再買", "再也不", "轉去別家",
    "cancel my account", "cancel my subscription", "close my account", "never again",
    "switching to",
)  # fmt: skip
#: Longest time a webhook call may take, in seconds.
MAX_WEBHOOK_TIMEOUT = 30.0


class RuleKind(StrEnum):
    DETRACTOR = "detractor"
    NEGATIVE_SENTIMENT = "negative_sentiment"
    CHURN_THREAT = "churn_threat"
    KEYWORD = "keyword"
    METRIC_DROP = "metric_drop"


@dataclass(frozen=True)
class CaseAction:
    """Open a case (or add to the customer's open case from this rule)."""

    priority: str = CasePriority.NORMAL.value
    kind: str = CaseKind.COMPLAINT.value


@dataclass(frozen=True)
class EmailAction:
    """Send an e-mail about the alert to fixed addresses."""

    to: tuple[str, ...]


@dataclass(frozen=True)
class WebhookAction:
    """POST the alert as JSON; signed with HMAC-SHA256 when a secret is given."""

    url: str
    secret: str | None = None
    timeout: float = 10.0


Action = CaseAction | EmailAction | WebhookAction


@dataclass(frozen=True)
class RuleSpec:
    """One alert rule as written in a rule file."""

    key: str
    name: str
    kind: RuleKind
    actions: tuple[Action, ...]
    active: bool = True
    since: date | None = None
    touchpoints: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    max_score: float = 6.0
    value_tiers: tuple[str, ...] = ()
    min_churn_risk: float | None = None
    words: tuple[str, ...] = ()
    metric: str = MetricKind.NPS.value
    min_drop: float = 0.0
    min_answers: int = 10


@dataclass(frozen=True)
class Facts:
    """What a rule may look at about one interaction and its customer."""

    interaction_id: int
    customer_id: int | None
    channel: str | None
    touchpoint: str | None
    text: str | None
    sentiment: str | None
    intent: str | None
    nps_scores: tuple[float, ...] = ()
    value_tier: str | None = None
    churn_risk: float | None = None


class _Reader:
    """Reads one rule mapping, naming the path of every bad value."""

    def __init__(self, raw: Mapping[str, Any], where: str) -> None:
        self.raw, self.where = raw, where

    def fail(self, name: str, problem: str) -> InvalidInput:
        return InvalidInput(f"{self.where}.{name}: {problem}")

    def text(self, name: str, default: str | None = None, limit: int = 200) -> str:
        value = self.raw.get(name, default)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(name, "a non-empty text is required")
        if len(value) > limit:
            raise self.fail(name, f"longer than {limit} characters")
        return value.strip()

    def texts(self, name: str) -> tuple[str, ...]:
        value = self.raw.get(name, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(
            isinstance(v, str) and v.strip() for v in value
        ):
            raise self.fail(name, "a list of non-empty texts is required")
        return tuple(v.strip() for v in value)

    def number(self, name: str, default: float, low: float, high: float) -> float:
        value = self.raw.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(name, f"a number is required, got {value!r}")
        if not math.isfinite(value) or not low <= value <= high:
            raise self.fail(name, f"{value!r} is outside {low:g}-{high:g}")
        return float(value)

    def choice(self, name: str, default: str, allowed: Sequence[str]) -> str:
        value = self.raw.get(name, default)
        if value not in allowed:
            raise self.fail(name, f"{value!r}: choose one of {', '.join(allowed)}")
        return str(value)


def _since(reader: _Reader) -> date | None:
    value = reader.raw.get("since")
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise reader.fail("since", f"{value!r} is not a date (YYYY-MM-DD)") from None


def _webhook(reader: _Reader) -> WebhookAction:
    url = reader.text("url", limit=2000)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise reader.fail("url", f"{url!r} is not an http(s) address")
    secret = reader.raw.get("secret")
    if secret is not None and (not isinstance(secret, str) or not secret):
        raise reader.fail("secret", "a non-empty text is required")
    timeout = reader.number("timeout", 10.0, 0.1, MAX_WEBHOOK_TIMEOUT)
    return WebhookAction(url, secret, timeout)


def _action(raw: object, where: str) -> Action:
    if not isinstance(raw, Mapping):
        raise InvalidInput(f"{where}: an action must be a mapping with a type")
    reader = _Reader(raw, where)
    kind = reader.choice("type", "", ("case", "email", "webhook"))
    if kind == "case":
        return CaseAction(
            reader.choice("priority", "normal", [p.value for p in CasePriority]),
            reader.choice("kind", "complaint", [k.value for k in CaseKind]),
        )
    if kind == "email":
        to = reader.texts("to")
        bad = [address for address in to if not _EMAIL.match(address)]
        if not to or bad:
            raise reader.fail("to", f"e-mail addresses are required, got {bad or to}")
        return EmailAction(to)
    return _webhook(reader)


def _conditions(reader: _Reader, kind: RuleKind) -> dict[str, Any]:
    found: dict[str, Any] = {
        "touchpoints": reader.texts("touchpoints"),
        "channels": reader.texts("channels"),
    }
    if kind is RuleKind.DETRACTOR:
        found["max_score"] = reader.number("max_score", 6, 0, 6)
    elif kind is RuleKind.NEGATIVE_SENTIMENT:
        found["value_tiers"] = reader.texts("value_tiers")
        if "min_churn_risk" in reader.raw:
            found["min_churn_risk"] = reader.number("min_churn_risk", 0, 0, 1)
    elif kind is RuleKind.CHURN_THREAT:
        found["words"] = reader.texts("keywords") or CHURN_WORDS
    elif kind is RuleKind.KEYWORD:
        found["words"] = reader.texts("words")
        if not found["words"]:
            raise reader.fail("words", "a keyword rule needs at least one word")
    else:
        scored = ("nps", "csat", "ces")
        found["metric"] = reader.choice("metric", "nps", scored)
        found["min_drop"] = reader.number("min_drop", 0, 0, 200)
        found["min_answers"] = int(reader.number("min_answers", 10, 2, 1_000_000))
    return found


def parse_rule(raw: object, where: str = "rule") -> RuleSpec:
    """One rule from its mapping; errors name ``where`` and the field."""
    if not isinstance(raw, Mapping):
        raise InvalidInput(f"{where}: a rule must be a mapping")
    reader = _Reader(raw, where)
    key = reader.text("key", limit=64)
    if not _KEY.match(key):
        raise reader.fail("key", f"{key!r}: use lower-case letters, digits, - and _")
    kind = RuleKind(reader.choice("kind", "", [k.value for k in RuleKind]))
    actions = raw.get("actions")
    if not isinstance(actions, list) or not actions:
        raise reader.fail("actions", "a rule needs a list of at least one action")
    active = raw.get("active", True)
    if not isinstance(active, bool):
        raise reader.fail("active", "true or false is required")
    return RuleSpec(
        key=key,
        name=reader.text("name", key),
        kind=kind,
        actions=tuple(
            _action(a, f"{where}.actions[{n}]") for n, a in enumerate(actions)
        ),
        active=active,
        since=_since(reader),
        **_conditions(reader, kind),
    )


def parse_rules(document: object, *, origin: str) -> list[RuleSpec]:
    """Every rule of a parsed rule file; keys must be distinct.

    >>> [r.key for r in parse_rules({"rules": [{"key": "d", "kind": "detractor",
    ...     "actions": [{"type": "case"}]}]}, origin="f.yaml")]
    ['d']
    """
    if isinstance(document, Mapping):
        document = document.get("rules")
    if not isinstance(document, list) or not document:
        raise InvalidInput(f"{origin}: expected a list of rules (or rules: [...])")
    rules = [parse_rule(raw, f"{origin}: rules[{n}]") for n, raw in enumerate(document)]
    seen: set[str] = set()
    for rule in rules:
        if rule.key in seen:
            raise InvalidInput(f"{origin}: the key {rule.key!r} is used twice")
        seen.add(rule.key)
    return rules


def conditions_of(rule: RuleSpec) -> dict[str, Any]:
    """The rule's conditions as JSON-ready values (what the store keeps)."""
    values: dict[str, Any] = {
        "touchpoints": list(rule.touchpoints),
        "channels": list(rule.channels),
        "since": rule.since.isoformat() if rule.since else None,
    }
    if rule.kind is RuleKind.DETRACTOR:
        values["max_score"] = rule.max_score
    elif rule.kind is RuleKind.NEGATIVE_SENTIMENT:
        values["value_tiers"] = list(rule.value_tiers)
        values["min_churn_risk"] = rule.min_churn_risk
    elif rule.kind is RuleKind.CHURN_THREAT:
        values["keywords"] = list(rule.words)
    elif rule.kind is RuleKind.KEYWORD:
        values["words"] = list(rule.words)
    else:
        values |= {"metric": rule.metric, "min_drop": rule.min_drop}
        values["min_answers"] = rule.min_answers
    return {k: v for k, v in values.items() if v is not None}


def action_to_dict(action: Action) -> dict[str, Any]:
    """An action as JSON-ready values, with its ``type``."""
    if isinstance(action, CaseAction):
        return {"type": "case", "priority": action.priority, "kind": action.kind}
    if isinstance(action, EmailAction):
        return {"type": "email", "to": list(action.to)}
    found = {"type": "webhook", "url": action.url, "timeout": action.timeout}
    return found | ({"secret": action.secret} if action.secret else {})


def stored_rule(
    *, key: str, name: str, kind: str, conditions: Mapping[str, Any],
    actions: Sequence[Any], active: bool,
) -> RuleSpec:  # fmt: skip
    """A rule rebuilt from what the store keeps."""
    raw = {**conditions, "key": key, "name": name, "kind": kind}
    return parse_rule(raw | {"actions": list(actions), "active": active}, key)


def _word_pattern(word: str) -> re.Pattern[str]:
    word = word.casefold()
    left = r"(?<![^\W_])" if re.match(r"[a-z0-9]", word) else ""
    right = r"(?![^\W_])" if re.search(r"[a-z0-9]$", word) else ""
    return re.compile(left + re.escape(word) + right)


def find_words(text: str | None, words: Sequence[str]) -> list[str]:
    """The ``words`` found in ``text`` (case-insensitive; Latin words whole).

    >>> find_words("I want to CANCEL my account!", ["cancel my account", "can"])
    ['cancel my account']
    >>> find_words("我要解約", ["解約"])
    ['解約']
    """
    if not text:
        return []
    folded = text.casefold()
    return [word for word in words if _word_pattern(word).search(folded)]


def _in_scope(rule: RuleSpec, facts: Facts) -> bool:
    if rule.touchpoints and facts.touchpoint not in rule.touchpoints:
        return False
    return not rule.channels or facts.channel in rule.channels


def match(rule: RuleSpec, facts: Facts) -> str | None:
    """Why ``rule`` fires on ``facts`` (a short English line), or None."""
    if rule.kind is RuleKind.METRIC_DROP or not _in_scope(rule, facts):
        return None
    if rule.kind is RuleKind.DETRACTOR:
        low = [s for s in facts.nps_scores if s <= rule.max_score]
        return f"NPS {min(low):g}" if low else None
    if rule.kind is RuleKind.NEGATIVE_SENTIMENT:
        return _negative(rule, facts)
    if rule.kind is RuleKind.CHURN_THREAT:
        if facts.intent == "churn_threat":
            return "churn-threat intent"
        found = find_words(facts.text, rule.words)
        return f"churn words: {', '.join(found)}" if found else None
    found = find_words(facts.text, rule.words)
    return f"keywords: {', '.join(found)}" if found else None


def _negative(rule: RuleSpec, facts: Facts) -> str | None:
    if facts.sentiment != "negative":
        return None
    if rule.value_tiers and facts.value_tier not in rule.value_tiers:
        return None
    if rule.min_churn_risk is not None and (
        facts.churn_risk is None or facts.churn_risk < rule.min_churn_risk
    ):
        return None
    tier = f" ({facts.value_tier} value)" if facts.value_tier else ""
    return f"negative sentiment{tier}"


def weekly_result(metric: str, value: float, n: int, moe: float | None) -> MetricResult:
    """A week's figure from ``metric_frame``'s value, n and margin of error."""
    se = moe / Z_95 if moe is not None and math.isfinite(moe) else None
    return MetricResult(MetricKind(metric), value, n, moe, se)


def metric_drop(
    rule: RuleSpec, current: MetricResult, previous: MetricResult
) -> Change | None:
    """The change when it is a worsening the rule fires on, else None.

    It fires when both weeks have ``min_answers``, the change is significant (larger
    than the 95 % margin of error of the difference), for the worse (a lower NPS or
    CSAT; a higher CES, where lower means less effort) and at least ``min_drop``.
    """
    if min(current.n, previous.n) < rule.min_answers:
        return None
    change = compare(current, previous)
    if change.tone != "worse" or change.difference is None:
        return None
    return change if abs(change.difference) >= rule.min_drop else None
