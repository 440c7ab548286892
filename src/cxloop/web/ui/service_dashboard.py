"""The service dashboard (``/service``) and its JSON API (``/api/v1/service/...``).

The page shows, for the cases opened in a window, FCR, AHT, first response and
resolution time, SLA compliance, recovery and follow-up CSAT: overall as cards, per
period as a chart, per team, agent or channel as a chart and a table, and the agent
leaderboard. Any signed-in user may read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import JSONResponse, Response

from cxloop.config import Settings
from cxloop.loop import service_metrics as sm
from cxloop.loop.recovery import RecoveryRow
from cxloop.web.deps import CurrentUser, SettingsDep
from cxloop.web.templating import render
from cxloop.web.ui.dashboard import Filters, parse_filters

router = APIRouter()
DEFAULT_BY = "team"
DEFAULT_PERIOD = "week"
PAGE_PERIODS = ("day", "week", "month")


@dataclass(frozen=True)
class ServicePage:
    """Everything the service page shows."""

    filters: Filters
    by: str
    period: str
    overall: sm.ServiceRow
    trend: list[sm.ServiceRow]
    groups: list[sm.ServiceRow]
    leaders: list[sm.LeaderRow]
    recovery: RecoveryRow

    @property
    def empty(self) -> bool:
        return self.overall.cases == 0

    @property
    def trend_labels(self) -> list[str]:
        return [row.period.isoformat() if row.period else "" for row in self.trend]

    @property
    def group_labels(self) -> list[str]:
        return [row.group or "—" for row in self.groups]

    def values(self, which: str, key: str) -> list[float | None]:
        """One figure of the ``trend`` or ``groups`` rows, rounded, for a chart."""
        rows = self.trend if which == "trend" else self.groups
        return [_rounded(getattr(row, key).value) for row in rows]


def hours(seconds: float | None) -> float | None:
    """Seconds as hours (charts and tables show hours)."""
    return None if seconds is None else seconds / 3600


def minutes(seconds: float | None) -> float | None:
    """Seconds as minutes (AHT)."""
    return None if seconds is None else seconds / 60


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def build_page(
    *, settings: Settings, filters: Filters, by: str, period: str
) -> ServicePage:
    """The figures of the page, from one read of the store."""
    found = sm.service_overview(settings=settings, by=by, period=period,
                                date_from=filters.date_from, date_to=filters.date_to)  # fmt: skip
    return ServicePage(
        filters=filters, by=by, period=period, overall=found.overall,
        trend=found.trend, groups=found.groups, leaders=found.leaders,
        recovery=found.recovery,
    )  # fmt: skip


def _choice(value: str | None, allowed: tuple[str, ...], default: str) -> str:
    return value if value in allowed else default


@router.get("/service", name="service", include_in_schema=False)
def service_page(
    request: Request,
    user: CurrentUser,
    settings: SettingsDep,
    date_from: Annotated[str | None, Query(alias="from")] = None,
    date_to: Annotated[str | None, Query(alias="to")] = None,
    by: str | None = None,
    period: str | None = None,
) -> Response:
    """The service dashboard; a bad filter value falls back to its default."""
    filters = parse_filters(date_from, date_to, None)
    page = build_page(
        settings=settings, filters=filters,
        by=_choice(by, sm.CUTS, DEFAULT_BY),
        period=_choice(period, PAGE_PERIODS, DEFAULT_PERIOD),
    )  # fmt: skip
    return render(
        request, "pages/service.html",
        {"page": page, "filters": page.filters, "overall": page.overall,
         "groups": page.groups, "leaders": page.leaders, "recovery": page.recovery,
         "hours": hours, "minutes": minutes},
        user=user,
    )  # fmt: skip


@router.get(
    "/api/v1/service/metrics",
    tags=["service"],
    summary="Service metrics of cases, overall or per team, agent, channel, period",
    responses={
        200: {"description": "An array of objects: `group`, `period` (ISO date of "
              "the period start), `cases`, `resolved`, then each figure as `name` "
              "(% or seconds) and `name_n`: fcr, aht_seconds, first_response_median, "
              "first_response_mean, resolution_median, resolution_mean, "
              "sla_first_response, sla_resolution, recovery, followup_csat, "
              "followup_mean, followup_solved."},
        401: {"description": "No session and no valid API key."},
        422: {"description": "A parameter is not valid (the message says which)."},
    },
)  # fmt: skip
def metrics_api(
    settings: SettingsDep,
    user: CurrentUser,  # noqa: ARG001 - signs the request in
    by: Annotated[str | None, Query(description="team, agent or channel.")] = None,
    period: Annotated[
        str | None, Query(description="day, week, month or quarter.")
    ] = None,
    date_from: Annotated[
        date | None, Query(alias="from", description="First day (inclusive).")
    ] = None,
    date_to: Annotated[
        date | None, Query(alias="to", description="Last day (inclusive).")
    ] = None,
) -> Response:
    """FCR, AHT, response and resolution times, SLA met, recovery, follow-up CSAT."""
    rows = sm.service_metrics(settings=settings, by=by, period=period,
                              date_from=date_from, date_to=date_to)  # fmt: skip
    return JSONResponse([sm.row_record(row) for row in rows])


@router.get(
    "/api/v1/service/leaderboard",
    tags=["service"],
    summary="Agents ranked on follow-up CSAT, FCR and SLA met",
    responses={
        200: {"description": "An array of objects: `rank`, `agent`, `cases`, "
              "`resolved`, `score` (mean of the three ranks, lower is better), "
              "`followup_csat`, `fcr`, `sla_met` (%) and their `_n`."},
        401: {"description": "No session and no valid API key."},
        422: {"description": "A parameter is not valid (the message says which)."},
    },
)  # fmt: skip
def leaderboard_api(
    settings: SettingsDep,
    user: CurrentUser,  # noqa: ARG001 - signs the request in
    date_from: Annotated[
        date | None, Query(alias="from", description="First day (inclusive).")
    ] = None,
    date_to: Annotated[
        date | None, Query(alias="to", description="Last day (inclusive).")
    ] = None,
    min_cases: Annotated[
        int, Query(ge=1, description="Fewest cases an agent needs to be ranked.")
    ] = sm.DEFAULT_MIN_CASES,
) -> Response:
    """The agent leaderboard over the cases opened in the window."""
    rows = sm.leaderboard(settings=settings, date_from=date_from, date_to=date_to,
                          min_cases=min_cases)  # fmt: skip
    return JSONResponse([sm.leader_record(row) for row in rows])
