"""``cxloop customers score|show|outreach``: value, risk and the customer 360.

These commands join the ``customers`` group of :mod:`cxloop.commands.customers`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from cxloop.commands.customers import app
from cxloop.config import get_settings

if TYPE_CHECKING:
    from cxloop.customers.profiles import ScoreSummary
    from cxloop.customers.view import Customer360

console = Console()

TIERS_HELP = "Value tiers to include, comma-separated (top, high, medium, low)."


@app.command("score")
def score(
    language: Annotated[
        str, typer.Option("--language", help="Language of cluster descriptions.")
    ] = "en",
) -> None:
    """Score every customer: RFM, value tier, clusters, CLV, churn risk and reasons.

    Scores are as of the last purchase or answer in the store; saved segments are
    refreshed afterwards. Run it after imports, or on a schedule (cron).
    """
    from cxloop.customers import profiles, segments

    settings = get_settings()
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("scoring", total=None)
        summary = profiles.score_customers(
            settings=settings,
            language=language,
            progress=lambda step: bar.update(task, description=step),
        )
        bar.update(task, description="refreshing saved segments")
        segments.refresh_segments(settings=settings)
    console.print(_score_table(summary))


def _score_table(summary: ScoreSummary) -> Table:
    table = Table(title="customer scores")
    table.add_column("")
    table.add_column("value", justify="right")
    as_of = f"{summary.as_of:%Y-%m-%d %H:%M}" if summary.as_of else "no data"
    rows = [
        ("as of", as_of),
        ("customers", f"{summary.customers:,}"),
        ("with purchases", f"{summary.with_purchases:,}"),
        ("behaviour clusters", str(summary.clusters)),
        ("CLV fitted", "yes" if summary.clv_fitted else "no"),
    ]
    if summary.churn_auc is not None and summary.churn_rate is not None:
        rows.append(("churn in the last 180 days", f"{summary.churn_rate:.1%}"))
        rows.append(("churn model AUC (training)", f"{summary.churn_auc:.3f}"))
    rows.append(("seconds", f"{summary.seconds:.1f}"))
    for name, value in rows:
        table.add_row(name, value)
    for note in summary.notes:
        table.add_row("note", note)
    return table


@app.command("show")
def show(
    ref: Annotated[
        str, typer.Argument(help="id, member id, e-mail, phone or @social handle.")
    ],
    events: Annotated[
        int, typer.Option("--events", help="Timeline events to show.")
    ] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The customer 360: identities, value, churn risk, segments and timeline."""
    from cxloop.customers.view import customer_360

    view = customer_360(settings=get_settings(), ref=ref, limit=events)
    if as_json:
        from dataclasses import asdict

        typer.echo(json.dumps(asdict(view), ensure_ascii=False, indent=2, default=str))
        return
    console.print(_profile_table(view))
    console.print(_timeline_table(view))


def _profile_table(view: Customer360) -> Table:
    table = Table(title=f"customer {view.id} {view.name or ''}".strip())
    table.add_column("")
    table.add_column("value")
    for kind, value in view.identities:
        table.add_row(kind, value)
    for name in ("region", "segment", "language"):
        table.add_row(name, str(getattr(view, name) or ""))
    profile = view.profile or {}
    for name in ("orders", "revenue", "clv", "value_tier", "rfm_segment"):
        table.add_row(name, _text(profile.get(name)))
    table.add_row("cluster", _text(profile.get("cluster_label")))
    table.add_row("still a customer (p_alive)", _percent(profile.get("p_alive")))
    table.add_row("churn risk", _percent(profile.get("churn_risk")))
    for reason in profile.get("churn_reasons") or []:
        table.add_row("  reason", str(reason.get("text", "")))
    table.add_row("next best products", ", ".join(profile.get("next_products") or []))
    table.add_row("saved segments", ", ".join(view.saved_segments))
    return table


def _percent(value: Any) -> str:
    return "" if value is None else f"{value:.0%}"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def _timeline_table(view: Customer360) -> Table:
    table = Table(title="timeline (newest first)")
    for name in ("when", "what", "where", "detail"):
        table.add_column(name)
    for event in view.timeline:
        scores = " ".join(f"{k.upper()} {v:g}" for k, v in event.scores.items())
        amount = f"NT${event.amount:,.0f}" if event.amount is not None else ""
        detail = " ".join(
            part
            for part in (scores, amount, event.status or "", event.text or "")
            if part
        )
        where = " / ".join(p for p in (event.channel, event.touchpoint) if p)
        table.add_row(f"{event.at:%Y-%m-%d %H:%M}", event.title, where, detail[:80])
    return table


@app.command("outreach")
def outreach(
    min_risk: Annotated[
        float, typer.Option("--min-risk", help="Lowest churn risk listed (0-1).")
    ] = 0.5,
    tiers: Annotated[str, typer.Option("--tiers", help=TIERS_HELP)] = "top,high,medium",
    limit: Annotated[int, typer.Option("--limit", help="At most this many.")] = 100,
    create_cases: Annotated[
        bool, typer.Option("--create-cases", help="Open an at-risk case for each.")
    ] = False,
    team: Annotated[
        str | None, typer.Option("--team", help="Team the new cases go to.")
    ] = None,
    export: Annotated[
        Path | None, typer.Option("--export", help="Write the list to this CSV file.")
    ] = None,
) -> None:
    """High-risk, high-value customers with reasons; open cases for them or export."""
    from cxloop.customers import outreach as service

    settings = get_settings()
    wanted = tuple(t.strip() for t in tiers.split(",") if t.strip())
    frame = service.outreach_list(
        settings=settings, min_risk=min_risk, tiers=wanted, limit=limit
    )
    if export is not None:
        frame.drop(columns=["reason_items"]).to_csv(
            export, index=False, encoding="utf-8"
        )
        console.print(f"wrote {len(frame):,} customers to {export}")
    table = Table(title=f"outreach: churn risk ≥ {min_risk:.0%}, tiers {tiers}")
    for name in ("customer", "name", "tier", "CLV", "risk", "reasons"):
        table.add_column(name)
    for row in frame.head(20).itertuples(index=False):
        table.add_row(
            str(row.external_id or row.customer_id),
            str(row.name or ""),
            str(row.value_tier),
            _text(row.clv),
            f"{row.churn_risk:.0%}",
            str(row.reasons),
        )
    console.print(table)
    if create_cases:
        result = service.create_outreach_cases(
            settings=settings, min_risk=min_risk, tiers=wanted, limit=limit, team=team
        )
        console.print(
            f"outreach cases: {result.opened:,} opened, "
            f"{result.already_open:,} customers already had one open"
        )
