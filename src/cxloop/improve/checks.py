"""The Check of an initiative: did the goal metric move after the change?

The goal metric in the initiative's scope over the baseline window ("before") is
compared with the same metric from the change date to ``as_of`` ("after"): the
difference, its 95 % confidence interval and p-value
(:func:`cxloop.domain.experiments.before_after`). With a comparison group (filters of
customers the change did not touch) the same is measured there and the effect is the
difference-in-differences, which removes what moved for everybody. The verdict reads
the direction for the metric (a fall is good news for CES), says whether the target was
reached and, when nothing is detectable, how many more responses would detect the
target effect. Each Check is stored and becomes the initiative's outcome.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from cxloop.analytics.service import open_session
from cxloop.analytics.session import Session
from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput
from cxloop.domain.experiments import (
    EffectEstimate,
    GroupStat,
    before_after,
    difference_in_differences,
    responses_needed,
)
from cxloop.domain.metrics import HIGHER_IS_BETTER, MetricResult
from cxloop.domain.vocab import MetricKind
from cxloop.improve.initiatives import (
    BASELINE_DAYS,
    InitiativeView,
    get_initiative,
    measure,
    record_check,
)

#: The effect looked for when an initiative has no target (in the metric's unit).
DEFAULT_EFFECT = {"nps": 5.0, "csat": 5.0, "ces": 0.25}


@dataclass(frozen=True)
class Window:
    """The metric over one window of one group."""

    first: date
    last: date
    value: float | None
    n: int
    moe: float | None
    se: float | None


@dataclass(frozen=True)
class Effect:
    """An estimated effect with its confidence interval and two-sided p-value."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    alpha: float
    significant: bool


@dataclass(frozen=True)
class CheckResult:
    """What a Check found; ``effect`` is the DiD when there is a comparison group."""

    initiative_id: int
    check_id: int
    checked_at: datetime
    metric: str
    as_of: date
    outcome: str
    before: Window
    after: Window
    change: Effect
    comparison_before: Window | None
    comparison_after: Window | None
    did: Effect | None
    target_value: float | None
    target_reached: bool | None
    target_effect: float
    responses_needed: int | None
    summary: dict[str, str]

    @property
    def effect(self) -> Effect:
        """The effect the verdict reads: the DiD when there is one, else the change."""
        return self.did or self.change

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values (dates as ISO text)."""
        plain: dict[str, Any] = _plain(asdict(self))
        return plain


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, date):
        return value.isoformat()
    return value


def check_initiative(
    *, settings: Settings, initiative_id: int, as_of: date | None = None
) -> CheckResult:
    """Measure the initiative's effect up to ``as_of`` (the last day with data).

    The initiative needs a change date (it has entered Do) and answers in its scope on
    both sides of it; the result is stored as a Check and becomes its outcome.
    """
    view = get_initiative(settings=settings, initiative_id=initiative_id)
    if view.change_date is None:
        msg = f"initiative {view.id} has no change date yet: advance it to do first"
        raise InvalidInput(msg)
    with open_session(settings=settings) as session:
        measured = _measure_all(session, view, as_of)
    fields = _judge(view, *measured[1:])
    stored = record_check(
        settings=settings, initiative_id=view.id, outcome=fields["outcome"],
        result=_plain({**_as_dicts(fields), "as_of": measured[0]}),
    )  # fmt: skip
    return CheckResult(
        initiative_id=view.id, check_id=stored.id, checked_at=stored.checked_at,
        metric=view.metric, as_of=measured[0], **fields,
    )  # fmt: skip


Measured = tuple[date, Window, Window, Window | None, Window | None]


def _measure_all(
    session: Session, view: InitiativeView, as_of: date | None
) -> Measured:
    assert view.change_date is not None  # noqa: S101 - checked by the caller
    change = view.change_date
    last = as_of or _data_end(session, change)
    if last < change:
        msg = f"as of {last} is before the change date {change}: nothing to check yet"
        raise InvalidInput(msg)
    first_b = view.baseline_from or change - timedelta(days=BASELINE_DAYS)
    last_b = view.baseline_to or change - timedelta(days=1)
    windows = ((first_b, last_b), (change, last))
    treated = [_window(session, view.metric, view.scope, *w) for w in windows]
    control: list[Window | None] = [None, None]
    if view.comparison:
        control = [_window(session, view.metric, view.comparison, *w) for w in windows]
    for name, found in (("scope", treated), ("comparison group", control)):
        for when, window in zip(("before", "after"), found, strict=True):
            _require_answers(window, name, when)
    return last, treated[0], treated[1], control[0], control[1]


def _data_end(session: Session, change: date) -> date:
    known = session.data_range()
    if known is None:
        raise InvalidInput("there are no answers to check yet: import feedback first")
    return known[1] if known[1] >= change else change


def _window(
    session: Session, metric: str, where: dict[str, str], first: date, last: date
) -> Window:
    found: MetricResult = measure(session, metric, where, first, last)
    return Window(first, last, found.value, found.n, found.moe, found.se)


def _require_answers(window: Window | None, group: str, when: str) -> None:
    if window is None or (window.value is not None and window.se is not None):
        return
    msg = (
        f"too few answers in the {group} {when} the change ({window.n} from "
        f"{window.first} to {window.last}): at least 2 are needed"
    )
    raise InvalidInput(msg)


def _stat(window: Window) -> GroupStat:
    assert window.value is not None  # noqa: S101 - _require_answers checked it
    assert window.se is not None  # noqa: S101
    return GroupStat(window.value, window.se, window.n)


def _effect(found: EffectEstimate) -> Effect:
    return Effect(
        estimate=found.estimate, se=found.se, ci_low=found.ci_low,
        ci_high=found.ci_high, p_value=found.p_value, alpha=found.alpha,
        significant=found.significant,
    )  # fmt: skip


def _judge(
    view: InitiativeView,
    before: Window,
    after: Window,
    control_before: Window | None,
    control_after: Window | None,
) -> dict[str, Any]:
    """The estimates, verdict, target and responses needed (the result's fields)."""
    change = before_after(_stat(before), _stat(after))
    did = None
    if control_before is not None and control_after is not None:
        did = difference_in_differences(
            _stat(before), _stat(after), _stat(control_before), _stat(control_after)
        )
    effect = did or change
    direction = 1 if HIGHER_IS_BETTER[MetricKind(view.metric)] else -1
    outcome = effect.verdict(direction)
    target_effect = _target_effect(view, before)
    needed = None
    if outcome == "no_detectable_change" and effect.se > 0:
        needed = responses_needed(effect.se, sum(effect.n), target_effect)
    fields: dict[str, Any] = {
        "outcome": outcome, "before": before, "after": after,
        "change": _effect(change), "comparison_before": control_before,
        "comparison_after": control_after, "did": _effect(did) if did else None,
        "target_value": view.target_value,
        "target_reached": _target_reached(view, after, direction),
        "target_effect": target_effect, "responses_needed": needed,
    }  # fmt: skip
    fields["summary"] = summaries(view, fields)
    return fields


def _target_effect(view: InitiativeView, before: Window) -> float:
    default = DEFAULT_EFFECT[view.metric]
    if view.target_value is None or before.value is None:
        return default
    wanted = view.target_value - before.value
    return wanted if abs(wanted) > 1e-9 else default


def _target_reached(view: InitiativeView, after: Window, direction: int) -> bool | None:
    if view.target_value is None or after.value is None:
        return None
    return (after.value - view.target_value) * direction >= 0


def _as_dicts(fields: dict[str, Any]) -> dict[str, Any]:
    return {
        key: asdict(value) if isinstance(value, Window | Effect) else value
        for key, value in fields.items()
    }


#: The unit of a change of each metric, in English and Traditional Chinese.
_UNITS = {"nps": ("points", "分"), "csat": ("percentage points", "個百分點"),
          "ces": ("points", "分")}  # fmt: skip
_VERDICTS = {"improved": ("improved", "改善"), "worse": ("worse", "變差"),
             "no_detectable_change": ("no detectable change", "無可偵測的變化")}  # fmt: skip


def summaries(view: InitiativeView, fields: dict[str, Any]) -> dict[str, str]:
    """The result in plain words, in English (``en``) and Chinese (``zh-TW``)."""
    words = _Words(view)
    pairs = [words.change(fields["before"], fields["after"], fields["change"])]
    if fields["did"] is not None:
        pairs.append(words.did(fields))
    verdict_en, verdict_zh = _VERDICTS[fields["outcome"]]
    pairs.append((f"Verdict: {verdict_en}.", f"結論：{verdict_zh}。"))
    if fields["responses_needed"] is not None:
        pairs.append(words.needed(fields["responses_needed"], fields["target_effect"]))
    if fields["target_value"] is not None and fields["target_reached"] is not None:
        pairs.append(words.target(fields))
    return {
        "en": " ".join(en for en, _ in pairs),
        "zh-TW": "".join(zh for _, zh in pairs),
    }


class _Words:
    """Sentences about one initiative's metric, each in English and Chinese."""

    def __init__(self, view: InitiativeView) -> None:
        self.view = view
        self.digits = 2 if view.metric == "ces" else 1
        self.name = view.metric.upper()
        self.unit_en, self.unit_zh = _UNITS[view.metric]

    def num(self, value: float | None, sign: str = "") -> str:
        if value is None:
            return "—"
        return f"{value:{sign}.{self.digits}f}".replace("-", "−")

    def interval(self, effect: Effect) -> tuple[str, str]:
        low, high = self.num(effect.ci_low), self.num(effect.ci_high)
        return f"95 % CI {low} to {high}", f"95% 信賴區間 {low} 至 {high}"

    def change(self, before: Window, after: Window, change: Effect) -> tuple[str, str]:
        scope = _filters(self.view.scope)
        ci_en, ci_zh = self.interval(change)
        diff, p = self.num(change.estimate, "+"), _p(change.p_value)
        b, a = self.num(before.value), self.num(after.value)
        en = (
            f"{self.name} {'in ' + scope if scope else 'overall'} went from {b} "
            f"(n = {before.n}, {before.first} to {before.last}) to {a} (n = {after.n}, "
            f"{after.first} to {after.last}): {diff} {self.unit_en}, {ci_en}, {p}."
        )
        zh = (
            f"{'範圍 ' + scope + ' 內' if scope else '全體回覆'}的 {self.name} 從 {b}"
            f"（n = {before.n}，{before.first} 至 {before.last}）變為 {a}（n = "
            f"{after.n}，{after.first} 至 {after.last}）：變化 {diff} {self.unit_zh}，"
            f"{ci_zh}，{p}。"
        )
        return en, zh

    def did(self, fields: dict[str, Any]) -> tuple[str, str]:
        did: Effect = fields["did"]
        moved = self.num(
            fields["comparison_after"].value - fields["comparison_before"].value, "+"
        )
        other = _filters(self.view.comparison or {})
        ci_en, ci_zh = self.interval(did)
        estimate, p = self.num(did.estimate, "+"), _p(did.p_value)
        en = (
            f"The comparison group ({other}) moved {moved}, so the "
            f"difference-in-differences is {estimate} {self.unit_en} ({ci_en}, {p})."
        )
        zh = (
            f"對照組（{other}）變化 {moved}，差異中之差異（DiD）為 {estimate} "
            f"{self.unit_zh}（{ci_zh}，{p}）。"
        )
        return en, zh

    def needed(self, responses: int, target_effect: float) -> tuple[str, str]:
        effect = self.num(abs(target_effect))
        return (
            f"About {responses} more responses would be needed to detect a change "
            f"of {effect} {self.unit_en}.",
            f"約需再 {responses} 份回覆，才能偵測到 {effect} {self.unit_zh}的變化。",
        )

    def target(self, fields: dict[str, Any]) -> tuple[str, str]:
        target, now = self.num(fields["target_value"]), self.num(fields["after"].value)
        if fields["target_reached"]:
            return f"The target of {target} was reached.", f"已達成目標 {target}。"
        return (
            f"The target of {target} was not reached (now {now}).",
            f"尚未達成目標 {target}（目前 {now}）。",
        )


def _filters(filters: dict[str, str]) -> str:
    return ", ".join(f"{field}={value}" for field, value in filters.items())


def _p(p_value: float) -> str:
    return "p < 0.001" if p_value < 0.001 else f"p = {p_value:.3f}"
