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
_TO = (" to ", " 至 ")
_VERDICTS = {"improved": ("improved", "改善"), "worse": ("worse", "變差"),
             "no_detectable_change": ("no detectable change", "無可偵測的變化")}  # fmt: skip


def summaries(view: InitiativeView, fields: dict[str, Any]) -> dict[str, str]:
    """The result in plain words, in English (``en``) and Chinese (``zh-TW``)."""
    digits = 2 if view.metric == "ces" else 1

    def num(value: float | None, sign: str = "") -> str:
        return "—" if value is None else f"{value:{sign}.{digits}f}".replace("-", "−")

    before, after, change = fields["before"], fields["after"], fields["change"]
    name, (unit_en, unit_zh) = view.metric.upper(), _UNITS[view.metric]
    scope = ", ".join(f"{k}={v}" for k, v in view.scope.items())
    spans = [f"{w.first} to {w.last}" for w in (before, after)]
    zh_spans = [f"{w.first} 至 {w.last}" for w in (before, after)]
    ci, zh_ci = (f"{num(change.ci_low)}{to}{num(change.ci_high)}" for to in _TO)
    en = [
        f"{name} {'in ' + scope if scope else 'overall'} went from "
        f"{num(before.value)} (n = {before.n}, {spans[0]}) to {num(after.value)} "
        f"(n = {after.n}, {spans[1]}): {num(change.estimate, '+')} {unit_en}, "
        f"95 % CI {ci}, {_p(change.p_value)}."
    ]
    zh = [
        f"{'範圍 ' + scope + ' 內' if scope else '全體回覆'}的 {name} 從 "
        f"{num(before.value)}（n = {before.n}，{zh_spans[0]}）變為 {num(after.value)}"
        f"（n = {after.n}，{zh_spans[1]}）：變化 {num(change.estimate, '+')} {unit_zh}，"
        f"95% 信賴區間 {zh_ci}，{_p(change.p_value)}。"
    ]
    did = fields["did"]
    if did is not None:
        moved = fields["comparison_after"].value - fields["comparison_before"].value
        other = ", ".join(f"{k}={v}" for k, v in (view.comparison or {}).items())
        did_ci, zh_did_ci = (f"{num(did.ci_low)}{to}{num(did.ci_high)}" for to in _TO)
        en.append(
            f"The comparison group ({other}) moved {num(moved, '+')}, so the "
            f"difference-in-differences is {num(did.estimate, '+')} {unit_en} "
            f"(95 % CI {did_ci}, {_p(did.p_value)})."
        )
        zh.append(
            f"對照組（{other}）變化 {num(moved, '+')}，差異中之差異（DiD）為 "
            f"{num(did.estimate, '+')} {unit_zh}（95% 信賴區間 {zh_did_ci}，"
            f"{_p(did.p_value)}）。"
        )
    verdict_en, verdict_zh = _VERDICTS[fields["outcome"]]
    en.append(f"Verdict: {verdict_en}.")
    zh.append(f"結論：{verdict_zh}。")
    needed = fields["responses_needed"]
    if needed is not None:
        effect = num(abs(fields["target_effect"]))
        en.append(
            f"About {needed} more responses would be needed to detect a change of "
            f"{effect} {unit_en}."
        )
        zh.append(f"約需再 {needed} 份回覆，才能偵測到 {effect} {unit_zh}的變化。")
    _target_words(en, zh, fields, num)
    return {"en": " ".join(en), "zh-TW": "".join(zh)}


def _target_words(
    en: list[str], zh: list[str], fields: dict[str, Any], num: Any
) -> None:
    target, reached = fields["target_value"], fields["target_reached"]
    if target is None or reached is None:
        return
    if reached:
        en.append(f"The target of {num(target)} was reached.")
        zh.append(f"已達成目標 {num(target)}。")
    else:
        now = num(fields["after"].value)
        en.append(f"The target of {num(target)} was not reached (now {now}).")
        zh.append(f"尚未達成目標 {num(target)}（目前 {now}）。")


def _p(p_value: float) -> str:
    return "p < 0.001" if p_value < 0.001 else f"p = {p_value:.3f}"
