"""Alert rules edited one at a time (the dashboard's rule pages).

A rule is saved from its mapping (the fields of the rule form) or from YAML typed
into a page (one rule, a list of rules, or ``rules: [...]``, as in a rule file).
Everything is checked by :func:`cxloop.domain.alert_rules.parse_rule` before anything
is written; a bad value is named by its path and, in YAML, by its line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import yaml
from sqlalchemy import delete, func, select, update

from cxloop.config import Settings
from cxloop.domain.alert_rules import RuleSpec, parse_rule, parse_rules
from cxloop.domain.errors import Conflict, InvalidInput, NotFound
from cxloop.loop.alerts import RulesSaved, save_rule_specs
from cxloop.loop.yaml_places import PathStyle, load_yaml_text, placed
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import AlertEvent, AlertRule, Case
from cxloop.store.types import utcnow

#: The window of "fired lately" on the rule list.
RECENT = timedelta(days=7)
_ORIGIN = "YAML"
#: Shown instead of a stored webhook secret; saved back, it keeps the stored secret.
SECRET_MASK = "********"  # noqa: S105 - a mask, not a password


@dataclass(frozen=True)
class RuleView:
    """A stored rule with everything the rule pages show."""

    key: str
    name: str
    kind: str
    active: bool
    conditions: dict[str, Any]
    actions: list[dict[str, Any]]
    last_run_at: datetime | None
    fired: int
    fired_recently: int

    def definition(self, *, hide_secrets: bool = False) -> dict[str, Any]:
        """The rule as a mapping in the rule-file format (what the YAML shows).

        With ``hide_secrets`` a webhook secret reads :data:`SECRET_MASK`, which
        :func:`save_rule` and :func:`save_rule_yaml` turn back into the stored one.
        """
        found: dict[str, Any] = {"key": self.key, "name": self.name, "kind": self.kind}
        found |= {k: _plain(v) for k, v in self.conditions.items()
                  if v not in (None, [], "")}  # fmt: skip
        if not self.active:
            found["active"] = False
        actions = [
            a | {"secret": SECRET_MASK} if hide_secrets and a.get("secret") else dict(a)
            for a in self.actions
        ]
        return found | {"actions": actions}

    def as_yaml(self, *, hide_secrets: bool = False) -> str:
        """:meth:`definition` written as YAML."""
        return yaml.safe_dump(
            self.definition(hide_secrets=hide_secrets), allow_unicode=True,
            sort_keys=False, width=100,
        )  # fmt: skip


def _plain(value: Any) -> Any:
    """A whole float as an int (``6`` rather than ``6.0`` in the YAML)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _uow(settings: Settings) -> UnitOfWork:
    return UnitOfWork(engine_for(settings.database_url))


def _counts(session: Any, since: datetime | None) -> dict[int, int]:
    query = select(AlertEvent.rule_id, func.count()).group_by(AlertEvent.rule_id)
    if since is not None:
        query = query.where(AlertEvent.at >= since)
    return {rule_id: int(n) for rule_id, n in session.execute(query).all()}


def _view(row: AlertRule, fired: int, recent: int) -> RuleView:
    return RuleView(
        row.key, row.name, row.kind, row.active, dict(row.conditions or {}),
        [dict(a) for a in row.actions or []], row.last_run_at, fired, recent,
    )  # fmt: skip


def rule_views(*, settings: Settings, now: datetime | None = None) -> list[RuleView]:
    """Every stored rule by key, with how often it fired in all and in the last week."""
    since = (now or utcnow()) - RECENT
    with _uow(settings).session() as session:
        total, recent = _counts(session, None), _counts(session, since)
        rows = session.scalars(select(AlertRule).order_by(AlertRule.key))
        return [_view(r, total.get(r.id, 0), recent.get(r.id, 0)) for r in rows]


def get_rule(*, settings: Settings, key: str, now: datetime | None = None) -> RuleView:
    """The stored rule ``key``; NotFound when there is none."""
    for view in rule_views(settings=settings, now=now):
        if view.key == key:
            return view
    msg = f"no alert rule with key {key!r}"
    raise NotFound(msg)


def _stored_keys(settings: Settings) -> set[str]:
    with _uow(settings).session() as session:
        return set(session.scalars(select(AlertRule.key)))


def _check_target(rules: list[RuleSpec], settings: Settings, key: str | None) -> None:
    """A new rule must not take a used key; an edit keeps its one rule and key."""
    stored = _stored_keys(settings)
    if key is None:
        taken = [r.key for r in rules if r.key in stored]
        if taken:
            msg = f"key: an alert rule {taken[0]!r} already exists; edit it instead"
            raise Conflict(msg)
        return
    if key not in stored:
        msg = f"no alert rule with key {key!r}"
        raise NotFound(msg)
    if len(rules) != 1 or rules[0].key != key:
        msg = f"key: this page edits the rule {key!r}; its key cannot change"
        raise InvalidInput(msg)


def save_rule(
    *, settings: Settings, definition: Mapping[str, Any], key: str | None = None
) -> RulesSaved:
    """Save one rule from its mapping: a new one (``key`` None) or rule ``key``.

    Errors name the field as ``rule.<field>`` (``rule.actions[1].to``); Conflict
    when a new rule takes a used key. Nothing is written on an error.
    """
    definition = _with_stored_secrets(dict(definition), settings, key, "rule")
    rule = parse_rule(definition, "rule")
    _check_target([rule], settings, key)
    return save_rule_specs(settings=settings, rules=[rule])


def _stored_webhooks(settings: Settings, key: str | None) -> list[dict[str, Any]]:
    if key is None:
        return []
    with _uow(settings).session() as session:
        row = session.scalars(select(AlertRule).where(AlertRule.key == key)).first()
        actions = list(row.actions or []) if row is not None else []
    return [dict(a) for a in actions if a.get("type") == "webhook"]


def _with_stored_secrets(
    rule: Any, settings: Settings, key: str | None, path: str
) -> Any:
    """``rule`` with each masked webhook secret replaced by the stored one.

    Webhooks are matched by their order among the rule's webhooks. A mask with no
    stored secret behind it is refused: it would otherwise be saved as the secret.
    """
    if not isinstance(rule, Mapping) or not isinstance(rule.get("actions"), list):
        return rule
    stored = _stored_webhooks(settings, key) if rule.get("key") == key else []
    actions, seen = [], 0
    for index, action in enumerate(rule["actions"]):
        if isinstance(action, Mapping) and action.get("type") == "webhook":
            if action.get("secret") == SECRET_MASK:
                kept = stored[seen].get("secret") if seen < len(stored) else None
                if not kept:
                    msg = (f"{path}.actions[{index}].secret: {SECRET_MASK} stands "
                           "for a stored secret and there is none: type the secret")  # fmt: skip
                    raise InvalidInput(msg)
                action = {**action, "secret": kept}
            seen += 1
        actions.append(action)
    return {**rule, "actions": actions}


def save_rule_yaml(
    *, settings: Settings, text: str, key: str | None = None
) -> RulesSaved:
    """Save the rules of YAML ``text`` (one rule, a list, or ``rules: [...]``).

    With ``key`` the text must hold that one rule. InvalidInput names the line and
    path of a bad value (:class:`cxloop.loop.yaml_places.PlacedInput`).
    """
    document = load_yaml_text(text)
    single = isinstance(document, Mapping) and "rules" not in document
    style = PathStyle(root="rule" if single else "rules" if isinstance(
        document, list) else None)  # fmt: skip
    try:
        document = _document_secrets(document, settings, key)
        if single:
            rules = [parse_rule(document, "rule")]
        else:
            rules = parse_rules(document, origin=_ORIGIN)
        _check_target(rules, settings, key)
    except Conflict:
        raise
    except InvalidInput as exc:
        cleaned = InvalidInput(str(exc).removeprefix(f"{_ORIGIN}: "))
        raise placed(cleaned, text, style) from None
    return save_rule_specs(settings=settings, rules=rules)


def _document_secrets(document: Any, settings: Settings, key: str | None) -> Any:
    """The YAML document with masked webhook secrets restored (see above)."""
    if isinstance(document, Mapping) and "rules" in document:
        items = document["rules"]
        if isinstance(items, list):
            restored = [_with_stored_secrets(r, settings, key, f"rules[{i}]")
                        for i, r in enumerate(items)]  # fmt: skip
            return {**document, "rules": restored}
        return document
    if isinstance(document, list):
        return [_with_stored_secrets(r, settings, key, f"rules[{i}]")
                for i, r in enumerate(document)]  # fmt: skip
    return _with_stored_secrets(document, settings, key, "rule")


def set_rule_active(*, settings: Settings, key: str, active: bool) -> None:
    """Turn rule ``key`` on or off; NotFound when there is none."""
    with _uow(settings).session() as session:
        row = session.scalar(select(AlertRule).where(AlertRule.key == key))
        if row is None:
            msg = f"no alert rule with key {key!r}"
            raise NotFound(msg)
        row.active = active


def delete_rule(*, settings: Settings, key: str) -> None:
    """Delete rule ``key`` and its alert events; the cases it opened stay.

    NotFound when there is none.
    """
    with _uow(settings).session() as session:
        rule_id = session.scalar(select(AlertRule.id).where(AlertRule.key == key))
        if rule_id is None:
            msg = f"no alert rule with key {key!r}"
            raise NotFound(msg)
        session.execute(
            update(Case).where(Case.alert_rule_id == rule_id).values(alert_rule_id=None)
        )
        session.execute(delete(AlertEvent).where(AlertEvent.rule_id == rule_id))
        session.execute(delete(AlertRule).where(AlertRule.id == rule_id))
