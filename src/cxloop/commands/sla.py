"""``cxloop sla ...``: SLA policies, business-hours clocks and the SLA report."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.table import Table

from cxloop.config import get_settings

app = typer.Typer(
    help="SLA policies, business-hours clocks and the SLA report.", no_args_is_help=True
)
console = Console()


@app.command("report")
def report(
    by: Annotated[str, typer.Option("--by", help="Group by team or agent.")] = "team",
    date_from: Annotated[
        datetime | None,
        typer.Option("--from", formats=["%Y-%m-%d"], help="First day cases opened."),
    ] = None,
    date_to: Annotated[
        datetime | None,
        typer.Option("--to", formats=["%Y-%m-%d"], help="Last day cases opened."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """% of first responses and resolutions within target, per team or agent."""
    from cxloop.loop import sla

    group: Literal["team", "agent"] = "agent" if by == "agent" else "team"
    if by not in ("team", "agent"):
        raise typer.BadParameter("choose team or agent", param_hint="--by")
    rows = sla.sla_report(
        settings=get_settings(),
        date_from=_day(date_from),
        date_to=_day(date_to),
        by=group,
    )
    if as_json:
        records = [dataclasses.asdict(row) for row in rows]
        typer.echo(json.dumps(records, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"SLA per {group}: % within target (business time)")
    headers = (group, "cases", "1st resp.", "resolution", "median 1st", "median res.")
    for header in headers:
        table.add_column(header, justify="left" if header == group else "right")
    for row in rows:
        table.add_row(
            row.group,
            f"{row.cases:,}",
            _pct(row.first_response_pct),
            _pct(row.resolution_pct),
            _minutes(row.median_first_response_minutes),
            _minutes(row.median_resolution_minutes),
        )
    console.print(table)


def _day(value: datetime | None) -> date | None:
    return None if value is None else value.date()


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}%"


def _minutes(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.0f} min" if value < 120 else f"{value / 60:.1f} h"


@app.command("escalate")
def escalate() -> None:
    """One escalation pass: raise priority and e-mail the lead on new breaches."""
    from cxloop.loop import sla

    summary = sla.escalate_breaches(settings=get_settings())
    console.print(
        f"{summary.checked} overdue cases checked, {summary.breaches} new breaches, "
        f"{len(summary.escalated)} escalated, {summary.mailed} e-mails sent"
    )
    for failure in summary.failures:
        console.print(f"[red]not sent:[/red] {failure}", highlight=False, markup=True)


@app.command("policies")
def policies(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The SLA targets per priority, in business hours (defaults where none is set)."""
    from cxloop.loop import sla

    found = sla.list_policies(settings=get_settings())
    if as_json:
        typer.echo(json.dumps([dataclasses.asdict(p) for p in found], indent=2))
        return
    table = Table(title="SLA policies (business time)")
    for header in ("priority", "first response", "resolution", "source"):
        table.add_column(header)
    for p in found:
        table.add_row(
            p.priority,
            _minutes(p.first_response_minutes),
            _minutes(p.resolution_minutes),
            "routing file" if p.configured else "default",
        )
    console.print(table)


@app.command("check-calendar")
def check_calendar(
    file: Annotated[Path, typer.Argument(help="A business calendar YAML file.")],
) -> None:
    """Check a business calendar file and show its hours and coming holidays."""
    from cxloop.loop import sla

    summary = sla.check_calendar(path=str(file))
    lines = [
        f"{file}: OK ({summary.name or 'unnamed'}, {summary.timezone})",
        *(f"  {line}" for line in summary.weekly),
        f"  {summary.weekly_hours:g} open hours in a regular week",
        "  holidays per year: "
        + (
            ", ".join(f"{y}: {n}" for y, n in summary.holidays_per_year.items())
            or "none"
        ),
        f"  extra working days: {summary.working_days}",
        "  coming:",
        *(f"    {line}" for line in summary.coming or ("nothing special",)),
    ]
    console.print("\n".join(lines), highlight=False, markup=False)
