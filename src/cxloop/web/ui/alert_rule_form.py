"""The alert rule form: posted fields to a rule mapping, a stored rule back to fields.

The form works without JavaScript: it shows the fields of every kind, and only those
of the chosen kind go into the rule. Lists (touchpoints, words, addresses) are typed
one a line or separated by commas. A number that is not a number is passed on as
typed, so the rule parser names the field. An error path such as
``rule.actions[1].to`` is turned back into the form field it came from
(:func:`field_of`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from cxloop.domain.alert_rules import RuleKind

KINDS = tuple(kind.value for kind in RuleKind)
#: Condition fields of each kind (beside touchpoints and channels).
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "detractor": ("max_score",),
    "negative_sentiment": ("value_tiers", "min_churn_risk"),
    "churn_threat": ("keywords",),
    "keyword": ("words",),
    "metric_drop": ("metric", "min_drop", "min_answers"),
}
_LISTS = ("touchpoints", "channels", "value_tiers", "keywords", "words")
_NUMBERS = ("max_score", "min_churn_risk", "min_drop", "min_answers")
_ACTIONS = ("case", "email", "webhook")
_PATH = re.compile(r"^(?:rule\.)?([a-z_]+)(?:\[(\d+)\]\.([a-z_]+))?:")


@dataclass(frozen=True)
class RuleForm:
    """Every field of the rule form, as typed."""

    key: str = ""
    name: str = ""
    kind: str = "detractor"
    active: bool = True
    touchpoints: str = ""
    channels: str = ""
    since: str = ""
    max_score: str = "6"
    value_tiers: str = ""
    min_churn_risk: str = ""
    keywords: str = ""
    words: str = ""
    metric: str = "nps"
    min_drop: str = "0"
    min_answers: str = "10"
    case: bool = True
    case_priority: str = "normal"
    case_kind: str = "complaint"
    email: bool = False
    email_to: str = ""
    webhook: bool = False
    webhook_url: str = ""
    webhook_secret: str = ""
    webhook_timeout: str = "10"


_CHECKS = ("active", "case", "email", "webhook")


def form_from_post(data: Mapping[str, Any]) -> RuleForm:
    """The form as posted (``data`` is the request's form)."""
    values: dict[str, Any] = {}
    for item in fields(RuleForm):
        if item.name in _CHECKS:
            values[item.name] = item.name in data
        else:
            raw = data.get(item.name)
            values[item.name] = raw.strip() if isinstance(raw, str) else ""
    return RuleForm(**values)


def _items(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,\n，、]", text) if part.strip()]


def _number(text: str) -> float | int | str:
    try:
        value = float(text)
    except ValueError:
        return text
    return int(value) if value.is_integer() else value


def _actions(form: RuleForm) -> tuple[list[dict[str, Any]], list[str]]:
    actions: list[dict[str, Any]] = []
    names: list[str] = []
    if form.case:
        actions.append({"type": "case", "priority": form.case_priority,
                        "kind": form.case_kind})  # fmt: skip
        names.append("case")
    if form.email:
        actions.append({"type": "email", "to": _items(form.email_to)})
        names.append("email")
    if form.webhook:
        hook: dict[str, Any] = {"type": "webhook", "url": form.webhook_url,
                                "timeout": _number(form.webhook_timeout or "10")}  # fmt: skip
        if form.webhook_secret:
            hook["secret"] = form.webhook_secret
        actions.append(hook)
        names.append("webhook")
    return actions, names


def to_definition(form: RuleForm) -> tuple[dict[str, Any], list[str]]:
    """The rule mapping of the form, and the form name of each action in order."""
    definition: dict[str, Any] = {"key": form.key, "name": form.name or form.key,
                                  "kind": form.kind, "active": form.active}  # fmt: skip
    for name in ("touchpoints", "channels", *KIND_FIELDS.get(form.kind, ())):
        raw = getattr(form, name)
        if name in _LISTS:
            definition[name] = _items(raw)
        elif raw != "":
            definition[name] = _number(raw) if name in _NUMBERS else raw
    if form.since:
        definition["since"] = form.since
    actions, names = _actions(form)
    return definition | {"actions": actions}, names


def field_of(message: str, action_names: list[str]) -> str | None:
    """The form field an error message (``rule.<path>: ...``) is about, if any.

    >>> field_of("rule.actions[1].to: e-mail addresses are required", ["case", "email"])
    'email_to'
    >>> field_of("rule.max_score: 9 is outside 0-6", [])
    'max_score'
    """
    found = _PATH.match(message)
    if found is None:
        return None
    name, index, part = found.groups()
    if index is None:
        return name
    position = int(index)
    if not 0 <= position < len(action_names):
        return "actions"
    return f"{action_names[position]}_{part}"


def _joined(values: Any) -> str:
    if isinstance(values, list | tuple):
        return ", ".join(str(v) for v in values)
    return "" if values is None else str(values)


def _plain(value: Any, default: str) -> str:
    if value is None:
        return default
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def form_from_rule(definition: Mapping[str, Any]) -> RuleForm:
    """The form showing a stored rule (:meth:`RuleView.definition`)."""
    values: dict[str, Any] = {
        "key": str(definition.get("key") or ""),
        "name": str(definition.get("name") or ""),
        "kind": str(definition.get("kind") or "detractor"),
        "active": bool(definition.get("active", True)),
        "since": _plain(definition.get("since"), ""),
        "metric": str(definition.get("metric") or "nps"),
    }
    values |= {name: _joined(definition.get(name)) for name in _LISTS}
    defaults = {"max_score": "6", "min_churn_risk": "", "min_drop": "0",
                "min_answers": "10"}  # fmt: skip
    values |= {n: _plain(definition.get(n), d) for n, d in defaults.items()}
    values |= dict.fromkeys(_ACTIONS, False)
    for action in definition.get("actions") or []:
        kind = str(action.get("type"))
        values[kind] = True
        for part, value in action.items():
            if part != "type" and f"{kind}_{part}" in _FIELD_NAMES:
                values[f"{kind}_{part}"] = _joined(value) if part == "to" else _plain(
                    value, "")  # fmt: skip
    return RuleForm(**values)


_FIELD_NAMES = frozenset(item.name for item in fields(RuleForm))
