"""Service metrics of cases: FCR, AHT, response and resolution times, SLA, recovery.

Every figure is over the cases *opened* in the window (business-zone days, both
ends inclusive), overall or per team, agent or channel and per day, week, month or
quarter of opening, each with its own n:

- **FCR** = cases resolved with one contact (``contacts`` ≤ 1) / cases resolved, in %;
- **AHT** = mean ``handling_seconds`` of the cases that record it;
- **first response time** and **resolution time**: median and mean wall-clock
  seconds from ``opened_at`` to ``first_response_at`` / ``resolved_at``;
- **SLA compliance**: % of clocks met: a first response (resolution) at or before
  ``first_response_due_at`` (``resolution_due_at``). A clock still running before
  its due time is not counted yet; one past its due time counts as missed;
- **recovery rate**: % of the cases opened for a detractor (see
  :mod:`cxloop.loop.recovery`) whose customer later answered NPS 7 or more;
- **follow-up CSAT**: % of follow-up answers of 4-5 (``followup_score``; the mean too)
  and % of customers who said their problem was solved.

:func:`leaderboard` ranks agents; see its docstring for how ranks are combined.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput
from cxloop.loop.case_facts import CaseFact, cases_opened, utc_bounds
from cxloop.loop.recovery import CASE_WINDOW, Detractor, RecoveryRow, detractors, tally
from cxloop.store.engine import engine_for
from cxloop.store.types import utcnow

CUTS = ("team", "agent", "channel")
PERIODS = ("day", "week", "month", "quarter")
#: Fewest cases (opened in the window) an agent needs to be ranked.
DEFAULT_MIN_CASES = 5
#: The figures of a :class:`ServiceRow`, in the order tables show them.
FIGURES = (
    "fcr", "aht_seconds", "first_response_median", "first_response_mean",
    "resolution_median", "resolution_mean", "sla_first_response", "sla_resolution",
    "recovery", "followup_csat", "followup_mean", "followup_solved",
)  # fmt: skip


@dataclass(frozen=True)
class Figure:
    """A percentage or a duration with the number of cases behind it."""

    value: float | None
    n: int


@dataclass(frozen=True)
class ServiceRow:
    """The service metrics of one group (``group``/``period`` None: not cut)."""

    group: str | None
    period: date | None
    cases: int
    resolved: int
    fcr: Figure
    aht_seconds: Figure
    first_response_median: Figure
    first_response_mean: Figure
    resolution_median: Figure
    resolution_mean: Figure
    sla_first_response: Figure
    sla_resolution: Figure
    recovery: Figure
    followup_csat: Figure
    followup_mean: Figure
    followup_solved: Figure


@dataclass(frozen=True)
class _Fact:
    case: CaseFact
    recovered: bool | None  # None: not a case opened for a detractor


def service_metrics(
    *,
    settings: Settings,
    by: str | None = None,
    period: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    now: datetime | None = None,
) -> list[ServiceRow]:
    """The service metrics of the cases opened in the window, per group and period.

    Rows are ordered by group (no group last), then period. ``now`` decides which
    running SLA clocks are already missed (the clock when None).

    Raises
    ------
    InvalidInput
        An unknown ``by`` or ``period``, or a window that ends before it starts.
    """
    _check(by, period)
    facts = _load(settings, date_from, date_to).facts
    return group_rows(facts, by, period, ZoneInfo(settings.timezone), now or utcnow())


def group_rows(
    facts: Sequence[_Fact],
    by: str | None,
    period: str | None,
    zone: ZoneInfo,
    at: datetime,
) -> list[ServiceRow]:
    """The rows of :func:`service_metrics` from loaded cases."""
    groups: dict[tuple[str | None, date | None], list[_Fact]] = defaultdict(list)
    for fact in facts:
        group = getattr(fact.case, by) if by else None
        day = fact.case.opened_at.astimezone(zone).date()
        groups[group, period_start(day, period) if period else None].append(fact)
    if not groups and by is None and period is None:
        groups[None, None] = []
    ordered = sorted(groups, key=lambda k: (k[0] is None, k[0] or "", k[1] or date.min))
    return [summarise(groups[key], key[0], key[1], at) for key in ordered]


def _check(by: str | None, period: str | None) -> None:
    if by is not None and by not in CUTS:
        raise InvalidInput(f"by {by!r}: choose one of {', '.join(CUTS)}")
    if period is not None and period not in PERIODS:
        raise InvalidInput(f"period {period!r}: choose one of {', '.join(PERIODS)}")


@dataclass(frozen=True)
class _Loaded:
    facts: list[_Fact]
    detractors: list[Detractor]  # of the window itself


def _load(settings: Settings, date_from: date | None, date_to: date | None) -> _Loaded:
    """The cases opened in the window, each with its recovery, in one read."""
    start, end = utc_bounds(settings.timezone, date_from, date_to)
    with Session(engine_for(settings.database_url)) as session:
        cases = cases_opened(session, start, end)
        since = None if start is None else start - CASE_WINDOW
        found = detractors(session, since, end)
    recovered = {d.case.id: d.recovered for d in found if d.case is not None}
    facts = [_Fact(case, recovered.get(case.id)) for case in cases]
    inside = [d for d in found if start is None or d.answered_at >= start]
    return _Loaded(facts, inside)


@dataclass(frozen=True)
class ServiceOverview:
    """What the service dashboard shows, from one read of the store."""

    overall: ServiceRow
    trend: list[ServiceRow]
    groups: list[ServiceRow]
    leaders: list[LeaderRow]
    recovery: RecoveryRow


def service_overview(
    *,
    settings: Settings,
    by: str = "team",
    period: str = "week",
    date_from: date | None = None,
    date_to: date | None = None,
    min_cases: int = DEFAULT_MIN_CASES,
    now: datetime | None = None,
) -> ServiceOverview:
    """Overall figures, the trend per ``period``, rows per ``by``, leaderboard, recovery.

    The same numbers as :func:`service_metrics`, :func:`leaderboard` and
    :func:`cxloop.loop.recovery.recovery_report` over the window.
    """
    _check(by, period)
    loaded = _load(settings, date_from, date_to)
    zone, at = ZoneInfo(settings.timezone), now or utcnow()
    return ServiceOverview(
        overall=group_rows(loaded.facts, None, None, zone, at)[0],
        trend=group_rows(loaded.facts, None, period, zone, at),
        groups=group_rows(loaded.facts, by, None, zone, at),
        leaders=rank_agents(loaded.facts, min_cases, at),
        recovery=tally(None, loaded.detractors),
    )


def period_start(day: date, period: str) -> date:
    """The first day of the day, week (Monday), month or quarter holding ``day``."""
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    months = 3 if period == "quarter" else 1
    return day.replace(month=(day.month - 1) // months * months + 1, day=1)


def summarise(
    facts: Sequence[_Fact], group: str | None, period: date | None, now: datetime
) -> ServiceRow:
    """The metrics of one group of cases."""
    cases = [f.case for f in facts]
    resolved = [c for c in cases if c.resolved_at is not None]
    scores = [c.followup_score for c in cases if c.followup_score is not None]
    solved = [c.followup_solved for c in cases if c.followup_solved is not None]
    first = _durations(cases, lambda c: c.first_response_at)
    closing = _durations(cases, lambda c: c.resolved_at)
    handling = [
        float(c.handling_seconds) for c in cases if c.handling_seconds is not None
    ]
    return ServiceRow(
        group=group, period=period, cases=len(cases), resolved=len(resolved),
        fcr=_share(c.contacts <= 1 for c in resolved),
        aht_seconds=_mean(handling),
        first_response_median=_median(first), first_response_mean=_mean(first),
        resolution_median=_median(closing), resolution_mean=_mean(closing),
        sla_first_response=_sla(cases, now, first=True),
        sla_resolution=_sla(cases, now, first=False),
        recovery=_share(f.recovered for f in facts if f.recovered is not None),
        followup_csat=_share(s >= 4 for s in scores),
        followup_mean=_mean(scores),
        followup_solved=_share(solved),
    )  # fmt: skip


def _durations(
    cases: Iterable[CaseFact], end: Callable[[CaseFact], datetime | None]
) -> list[float]:
    found = []
    for case in cases:
        stop = end(case)
        if stop is not None:
            found.append((stop - case.opened_at).total_seconds())
    return found


def _share(flags: Iterable[bool]) -> Figure:
    values = list(flags)
    if not values:
        return Figure(None, 0)
    return Figure(100.0 * sum(values) / len(values), len(values))


def _mean(values: Sequence[float]) -> Figure:
    return Figure(statistics.fmean(values) if values else None, len(values))


def _median(values: Sequence[float]) -> Figure:
    return Figure(statistics.median(values) if values else None, len(values))


def sla_outcomes(
    cases: Iterable[CaseFact], now: datetime, *, first: bool
) -> list[bool]:
    """Met (True) or missed (False) for each clock that has an outcome by ``now``."""
    outcomes = []
    for case in cases:
        due = case.first_response_due_at if first else case.resolution_due_at
        done = case.first_response_at if first else case.resolved_at
        if due is None:
            continue
        if done is not None:
            outcomes.append(done <= due)
        elif now > due:
            outcomes.append(False)
    return outcomes


def _sla(cases: Iterable[CaseFact], now: datetime, *, first: bool) -> Figure:
    return _share(sla_outcomes(cases, now, first=first))


@dataclass(frozen=True)
class LeaderRow:
    """An agent on the leaderboard; ``score`` is the mean of the three ranks."""

    rank: int
    agent: str
    cases: int
    resolved: int
    followup_csat: Figure
    fcr: Figure
    sla_met: Figure
    score: float


def leaderboard(
    *,
    settings: Settings,
    date_from: date | None = None,
    date_to: date | None = None,
    min_cases: int = DEFAULT_MIN_CASES,
    now: datetime | None = None,
) -> list[LeaderRow]:
    """Agents ranked on follow-up CSAT, FCR and SLA met, best first.

    Only agents with at least ``min_cases`` cases opened in the window are ranked.
    Each of the three figures ranks the agents from 1 (best) with ties sharing the
    better rank ("1224"); an agent without a figure (no follow-up answer yet, say)
    takes the last place for it. The score is the mean of the three ranks, so the
    three count equally; rows are ordered by score, then by more cases resolved,
    then by name, and agents with equal scores share a rank. SLA met pools the
    first-response and resolution clocks.

    Raises
    ------
    InvalidInput
        ``min_cases`` below 1 or a window that ends before it starts.
    """
    facts = _load(settings, date_from, date_to).facts
    return rank_agents(facts, min_cases, now or utcnow())


def rank_agents(
    facts: Sequence[_Fact], min_cases: int, at: datetime
) -> list[LeaderRow]:
    """The rows of :func:`leaderboard` from loaded cases."""
    if min_cases < 1:
        raise InvalidInput(f"min_cases {min_cases} must be at least 1")
    by_agent: dict[str, list[CaseFact]] = defaultdict(list)
    for fact in facts:
        if fact.case.agent is not None:
            by_agent[fact.case.agent].append(fact.case)
    eligible = {a: cs for a, cs in by_agent.items() if len(cs) >= min_cases}
    figures = {agent: _agent_figures(cases, at) for agent, cases in eligible.items()}
    ranks = [_ranks({a: f[i].value for a, f in figures.items()}) for i in range(3)]
    scores = {a: statistics.fmean(r[a] for r in ranks) for a in figures}
    order = sorted(figures, key=lambda a: (scores[a], -_resolved(eligible[a]), a))
    rows, previous = [], None
    for position, agent in enumerate(order, start=1):
        rank = previous[0] if previous and previous[1] == scores[agent] else position
        previous = (rank, scores[agent])
        csat, fcr, sla = figures[agent]
        rows.append(LeaderRow(rank, agent, len(eligible[agent]),
                              _resolved(eligible[agent]), csat, fcr, sla,
                              scores[agent]))  # fmt: skip
    return rows


def _resolved(cases: Sequence[CaseFact]) -> int:
    return sum(1 for c in cases if c.resolved_at is not None)


def _agent_figures(cases: Sequence[CaseFact], now: datetime) -> tuple[Figure, ...]:
    scores = [c.followup_score for c in cases if c.followup_score is not None]
    resolved = [c for c in cases if c.resolved_at is not None]
    clocks = sla_outcomes(cases, now, first=True) + sla_outcomes(
        cases, now, first=False
    )
    return (
        _share(s >= 4 for s in scores),
        _share(c.contacts <= 1 for c in resolved),
        _share(clocks),
    )


def _ranks(values: dict[str, float | None]) -> dict[str, int]:
    """Competition ranks, highest value first; None takes the last place."""
    known = sorted((v for v in values.values() if v is not None), reverse=True)
    last = len(values)
    return {
        agent: last if value is None else known.index(value) + 1
        for agent, value in values.items()
    }


def row_record(row: ServiceRow) -> dict[str, object]:
    """A row as flat JSON: each figure as ``name`` and ``name_n`` (seconds, %)."""
    record: dict[str, object] = {
        "group": row.group,
        "period": row.period.isoformat() if row.period else None,
        "cases": row.cases,
        "resolved": row.resolved,
    }
    for name in FIGURES:
        figure: Figure = getattr(row, name)
        record[name] = figure.value
        record[f"{name}_n"] = figure.n
    return record


def leader_record(row: LeaderRow) -> dict[str, object]:
    """A leaderboard row as flat JSON."""
    return {
        "rank": row.rank, "agent": row.agent, "cases": row.cases,
        "resolved": row.resolved, "score": row.score,
        "followup_csat": row.followup_csat.value,
        "followup_csat_n": row.followup_csat.n,
        "fcr": row.fcr.value, "fcr_n": row.fcr.n,
        "sla_met": row.sla_met.value, "sla_met_n": row.sla_met.n,
    }  # fmt: skip
