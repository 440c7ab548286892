"""``cxloop alert ...``: Alert rules: act on detractors, complaints, keywords and metric drops."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cxloop.config import get_settings

app = typer.Typer(
    help="Alert rules: act on detractors, complaints, keywords and metric drops.",
    no_args_is_help=True,
)
console = Console()

JsonOption = Annotated[bool, typer.Option("--json", help="Print plain JSON.")]


def _json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


@app.command("apply")
def apply(
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, help="Rules in YAML or JSON."),
    ],
) -> None:
    """Save the rules of FILE (by key); a new rule watches feedback from now on."""
    from cxloop.loop.alerts import save_rules

    saved = save_rules(settings=get_settings(), path=file)
    for label, keys in (("new", saved.inserted), ("updated", saved.updated),
                        ("unchanged", saved.unchanged)):  # fmt: skip
        if keys:
            console.print(f"{label}: {', '.join(keys)}", highlight=False, markup=False)


@app.command("list")
def list_(as_json: JsonOption = False) -> None:
    """The stored rules, their actions and how often each fired."""
    from cxloop.loop.alerts import list_rules

    rules = list_rules(settings=get_settings())
    if as_json:
        _json([asdict(rule) for rule in rules])
        return
    table = Table("key", "name", "kind", "active", "actions", "fired", "last run")
    for r in rules:
        last = r.last_run_at.isoformat(timespec="seconds") if r.last_run_at else ""
        table.add_row(r.key, r.name, r.kind, "yes" if r.active else "no",
                      ", ".join(r.actions), str(r.events), last)  # fmt: skip
    console.print(table)


@app.command("run")
def run(as_json: JsonOption = False) -> None:
    """Run every active rule once over the feedback that is new since the last run."""
    from cxloop.loop.alerts import run_alert_rules

    summary = run_alert_rules(settings=get_settings())
    if as_json:
        _json(asdict(summary))
        return
    table = Table("rules", "looked at", "fired", "cases opened", "cases updated",
                  "e-mails", "webhooks", "failures")  # fmt: skip
    table.add_row(*(str(v) for v in (
        summary.rules, summary.looked_at, summary.fired, summary.cases_opened,
        summary.cases_updated, summary.emails_sent, summary.webhooks_called,
        len(summary.failures))))  # fmt: skip
    console.print(table)
    for failure in summary.failures:
        console.print(f"failed: {failure}", style="red", highlight=False, markup=False)


@app.command("events")
def events(
    rule: Annotated[
        str | None, typer.Option("--rule", help="Only the events of this rule key.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """The latest times rules fired, newest first, and what their actions did."""
    from cxloop.loop.alerts import list_events

    found = list_events(settings=get_settings(), rule=rule, limit=limit)
    if as_json:
        _json([asdict(event) for event in found])
        return
    table = Table("at", "rule", "ref", "summary", "case", "results")
    for e in found:
        results = ", ".join(
            f"{r['action']} {'ok' if r.get('ok') else 'failed'}" for r in e.results
        )
        table.add_row(e.at.isoformat(timespec="seconds"), e.rule_key, e.ref, e.summary,
                      str(e.case_id or ""), results)  # fmt: skip
    console.print(table)
