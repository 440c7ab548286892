"""``cxloop team ...``: Teams, their agents and the routing rules."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cxloop.config import get_settings

app = typer.Typer(
    help="Teams, their agents and the routing rules.", no_args_is_help=True
)
console = Console()


@app.command("apply")
def apply(
    file: Annotated[
        Path, typer.Argument(help="routing.yaml: teams, members, rules, SLA policies.")
    ],
) -> None:
    """Make teams, members, routing rules and SLA policies match a routing file."""
    from cxloop.loop import teams

    summary = teams.apply_routing_file(settings=get_settings(), path=file)
    created = ", ".join(summary.teams_created) or "none"
    updated = ", ".join(summary.teams_updated) or "none"
    console.print(
        f"teams created: {created}; updated: {updated}; {summary.members} members, "
        f"{summary.rules} routing rules, {summary.policies} SLA policies"
    )


@app.command("list")
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Teams with their lead, assignment method and agents (away, open cases)."""
    from cxloop.loop import teams

    found = teams.list_teams(settings=get_settings())
    if as_json:
        records = [dataclasses.asdict(team) for team in found]
        typer.echo(json.dumps(records, ensure_ascii=False, indent=2))
        return
    table = Table(title="Teams")
    for header in ("team", "name", "lead", "assignment", "agents (open cases)"):
        table.add_column(header)
    for team in found:
        agents = ", ".join(
            f"{m.email}{' [away]' if m.away else ''} ({m.open_cases})"
            for m in team.members
        )
        table.add_row(
            team.key, team.name, team.lead_email or "", team.assignment, agents
        )
    console.print(table)


@app.command("away")
def away(
    email: Annotated[str, typer.Argument(help="The agent's sign-in e-mail.")],
    back: Annotated[
        bool, typer.Option("--back", help="The agent is back: give them cases again.")
    ] = False,
    team: Annotated[
        str | None, typer.Option("--team", help="Only in this team (key).")
    ] = None,
) -> None:
    """Mark an agent away, so routing skips them, or back with --back."""
    from cxloop.loop import teams

    changed = teams.set_away(
        settings=get_settings(), email=email, away=not back, team_key=team
    )
    state = "back" if back else "away"
    console.print(f"{email} is {state} in {changed} team(s)")
