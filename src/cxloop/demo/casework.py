"""The demo company's service desk: agents, teams, routing, SLAs and an alert rule.

After the demo data is loaded, :func:`setup_demo_casework` makes its support work
behave like a live desk's: the agents of the imported cases can sign in (role agent,
the demo password), their five teams get routing rules and the default SLA policies,
imported cases are linked to their team and owner and get SLA due times from the
policies (counted in Taiwan business hours from when they opened), and an alert rule
turns the detractors of the last two weeks of the data into routed cases.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from cxloop.accounts import service as accounts
from cxloop.config import Settings
from cxloop.demo import company as co
from cxloop.demo.service import DEMO_PASSWORD
from cxloop.domain.errors import Conflict
from cxloop.loop import alerts, sla, teams
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import Case, Team, User

#: Team keys of the demo's five support teams (their names are the imported ones).
TEAM_KEYS = {
    "物流配送組": "logistics",
    "門市營運組": "stores",
    "數位服務組": "digital",
    "客服中心": "service-desk",
    "價格與會員組": "pricing",
}
#: The alert rule the demo opens with: detractors become high-priority cases.
DETRACTOR_RULE = """\
rules:
  - key: demo-detractors
    name: 貶損者回電 Detractor call-back
    kind: detractor
    max_score: 6
    since: {since}
    actions:
      - {{type: case, priority: high, kind: detractor}}
"""


@dataclass(frozen=True)
class CaseworkSummary:
    agents: int
    cases_linked: int
    cases_opened: int


def agent_email(team_key: str, position: int) -> str:
    """The demo sign-in of an agent (reserved example domain: never a real mailbox)."""
    return f"{team_key}.{position + 1}@heguang.example"


def _agents(settings: Settings) -> dict[str, str]:
    """Create the agents; their e-mail by name."""
    emails: dict[str, str] = {}
    for team, names in co.TEAMS.items():
        for position, name in enumerate(names):
            email = agent_email(TEAM_KEYS[team], position)
            emails[name] = email
            try:
                accounts.create_user(settings=settings, email=email,
                                     password=DEMO_PASSWORD, role="agent", name=name)  # fmt: skip
            except Conflict:
                continue
    return emails


def _routing(emails: dict[str, str]) -> dict[str, Any]:
    members = {
        TEAM_KEYS[team]: [emails[name] for name in names]
        for team, names in co.TEAMS.items()
    }
    return {
        "teams": [
            {
                "key": key,
                "name": team,
                "lead": members[key][0],
                "assignment": "least_loaded",
                "members": members[key],
            }
            for team, key in TEAM_KEYS.items()
        ],
        "rules": [
            {"name": "高價值會員 VIP", "team": "pricing", "when": {"segment": ["vip"]}},
            {
                "name": "配送 Delivery",
                "team": "logistics",
                "when": {"touchpoint": ["宅配", "超商取貨"]},
            },
            {"name": "門市 Stores", "team": "stores", "when": {"channel": "store"}},
            {
                "name": "App 與網站 Digital",
                "team": "digital",
                "when": {"channel": ["app", "web"]},
            },
            {"name": "其他 Everything else", "team": "service-desk"},
        ],
    }


def _link_imported_cases(settings: Settings) -> int:
    """Give imported cases their team, owner and SLA due times."""
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        team_ids = {t.name: t.id for t in session.scalars(select(Team))}
        user_ids = {u.name: u.id for u in session.scalars(select(User))}
        cases = session.scalars(
            select(Case).where(Case.team_id.is_(None), Case.team.is_not(None))
        ).all()
        for case in cases:
            case.team_id = team_ids.get(case.team or "")
            case.owner_id = user_ids.get(case.owner or "") if case.owner else None
            sla.apply_policy(session, case, now=case.opened_at)
        return len(cases)


def _open_detractor_cases(settings: Settings) -> int:
    since = co.END - timedelta(days=13)
    with tempfile.TemporaryDirectory(prefix="cxloop-demo-") as folder:
        path = Path(folder) / "alert-rules.yaml"
        path.write_text(DETRACTOR_RULE.format(since=since.isoformat()), "utf-8")
        alerts.save_rules(settings=settings, path=path)
    end = datetime.combine(co.END, time(23, 59), tzinfo=UTC)
    return alerts.run_alert_rules(settings=settings, now=end).cases_opened


def setup_demo_casework(*, settings: Settings) -> CaseworkSummary:
    """Agents, teams, routing, SLA due times and the detractor alert rule (once)."""
    emails = _agents(settings)
    teams.save_routing_rules(settings=settings, document=_routing(emails))
    linked = _link_imported_cases(settings)
    opened = _open_detractor_cases(settings)
    return CaseworkSummary(agents=len(emails), cases_linked=linked, cases_opened=opened)
