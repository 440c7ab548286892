"""``/setup/teams``: teams and their agents, routing rules in order, SLA policies.

Admins and analysts edit the whole routing file (the format of ``cxloop team
apply``) in a textarea: it is checked before anything is written, and an error names
its line and path. Any member may be marked away (no new cases) or back by an admin
or analyst; an agent may mark only themself. Viewers read. Forms post with the
session's CSRF token and work without JavaScript.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from cxloop.accounts.service import UserInfo
from cxloop.config import Settings
from cxloop.domain.errors import CxloopError, NotFound
from cxloop.loop import sla, team_edits, teams
from cxloop.loop.sla import Policy
from cxloop.loop.team_edits import RoutingRuleInfo
from cxloop.loop.teams import TeamInfo
from cxloop.loop.yaml_places import PlacedInput
from cxloop.web.deps import CSRFChecked, CurrentUser, SettingsDep, current_user
from cxloop.web.i18n import N_
from cxloop.web.templating import render
from cxloop.web.ui.case_names import NAMES

router = APIRouter(include_in_schema=False)
EDIT_ROLES = frozenset({"admin", "analyst"})
_POST = [Depends(current_user), CSRFChecked]
LABELS = {
    "assignment": {"round_robin": N_("Round robin"), "least_loaded": N_("Least loaded"),
                   "manual": N_("Manual (nobody is assigned)")},
    "when": {"topic": N_("Topic"), "intent": N_("Intent"), "channel": N_("Channel"),
             "segment": N_("Segment"), "language": N_("Language"),
             "touchpoint": N_("Touchpoint"), "kind": N_("Kind"),
             "priority": N_("Priority")},
}  # fmt: skip


def may_set_away(user: UserInfo, member_id: int) -> bool:
    """Editors mark anyone away or back; an agent only themself."""
    if user.role in EDIT_ROLES:
        return True
    return user.role == "agent" and user.id == member_id


@dataclass(frozen=True)
class SetupPage:
    """Everything ``/setup/teams`` shows, and the routing YAML being edited."""

    teams: list[TeamInfo]
    rules: list[RoutingRuleInfo]
    policies: list[Policy]
    text: str
    can_edit: bool
    error: str | None = None
    line: int | None = None
    saved: bool = False


def _page(
    settings: Settings,
    user: UserInfo,
    *,
    text: str | None = None,
    error: CxloopError | None = None,
    saved: bool = False,
) -> SetupPage:
    line = error.line if isinstance(error, PlacedInput) else None
    return SetupPage(
        teams=teams.list_teams(settings=settings),
        rules=team_edits.list_routing_rules(settings=settings),
        policies=sla.list_policies(settings=settings),
        text=team_edits.routing_yaml(settings=settings) if text is None else text,
        can_edit=user.role in EDIT_ROLES,
        error=None if error is None else str(error), line=line, saved=saved,
    )  # fmt: skip


def _show(
    request: Request, user: UserInfo, page: SetupPage, status: int = 200
) -> Response:
    return render(request, "setup/teams.html", {"page": page, "names": NAMES,
                  "labels": LABELS},
                  user=user, status_code=status)  # fmt: skip


def _problem(request: Request, user: UserInfo, problem: str, status: int) -> Response:
    return render(request, "setup/problem.html", {"problem": problem,
                  "back": "/setup/teams"}, user=user, status_code=status)  # fmt: skip


@router.get("/setup/teams", name="setup_teams")
def setup_page(request: Request, user: CurrentUser, settings: SettingsDep) -> Response:
    """Teams, members (away or present), routing rules, SLA policies, routing YAML."""
    saved = request.query_params.get("saved") == "1"
    return _show(request, user, _page(settings, user, saved=saved))


@router.post("/setup/teams/routing", dependencies=_POST)
def save_routing(
    request: Request, user: CurrentUser, settings: SettingsDep,
    routing: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    """Make teams, members, routing rules and SLA policies match the posted YAML."""
    if user.role not in EDIT_ROLES:
        return _problem(request, user, "forbidden", 403)
    try:
        team_edits.save_routing_yaml(settings=settings, text=routing)
    except CxloopError as exc:
        page = _page(settings, user, text=routing, error=exc)
        return _show(request, user, page, 400)
    return RedirectResponse("/setup/teams?saved=1#routing", status_code=303)


@router.post("/setup/teams/{team_key}/members/{user_id}/away", dependencies=_POST)
def set_away(
    request: Request, user: CurrentUser, settings: SettingsDep, team_key: str,
    user_id: int, to: Annotated[str, Form()] = "away",
) -> Response:  # fmt: skip
    """Mark the member away (``to=away``) or back (``to=back``) in this team."""
    if not may_set_away(user, user_id):
        return _problem(request, user, "forbidden", 403)
    if to not in ("away", "back"):
        return _problem(request, user, "invalid", 400)
    try:
        team_edits.set_member_away(settings=settings, team_key=team_key,
                                   user_id=user_id, away=to == "away")  # fmt: skip
    except NotFound:
        return _problem(request, user, "missing", 404)
    return RedirectResponse(f"/setup/teams#team-{team_key}", status_code=303)
