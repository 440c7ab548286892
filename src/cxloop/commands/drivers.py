"""``cxloop drivers``: what drives an outcome, and ``cxloop drivers servqual``."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from cxloop.config import get_settings
from cxloop.domain.errors import InvalidInput

if TYPE_CHECKING:
    from cxloop.analytics.drivers_service import DriverResult
    from cxloop.domain.servqual import ServqualGap

app = typer.Typer(
    help="Key drivers of NPS, CSAT, CES or churn; SERVQUAL gaps.",
    invoke_without_command=True,
)
console = Console()

DRIVERS_HELP = (
    "Comma-separated driver fields, e.g. 'attr:delivery_days>3,touchpoint=*' or "
    "'csat@touchpoint=宅配,cases:complaint,profile:churn_risk' (see docs/en/drivers.md)."
)


@app.callback()
def drivers(
    ctx: typer.Context,
    outcome: Annotated[
        str | None, typer.Option("--outcome", help="nps, csat, ces or churn.")
    ] = None,
    fields: Annotated[str | None, typer.Option("--drivers", help=DRIVERS_HELP)] = None,
    method: Annotated[
        str,
        typer.Option("--method", help="relative-weights or shapley (≤ 15 drivers)."),
    ] = "relative-weights",
    level: Annotated[
        str,
        typer.Option(
            "--level",
            help="response (one row per answer) or customer (relational answer).",
        ),
    ] = "response",
    survey: Annotated[
        str, typer.Option("--survey", help="The relational survey (customer level).")
    ] = "relationship",
    resamples: Annotated[
        int, typer.Option("--resamples", help="Bootstrap resamples for the intervals.")
    ] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Rank drivers of an outcome by their share of R², with 95 % bootstrap intervals
    and the driver matrix (fix, maintain, monitor)."""
    if ctx.invoked_subcommand is not None:
        return
    if outcome is None or fields is None:
        msg = "name --outcome and --drivers (or a sub-command such as servqual)"
        raise InvalidInput(msg)
    from cxloop.analytics.drivers_service import key_drivers

    result = key_drivers(
        settings=get_settings(),
        outcome=outcome,
        drivers=fields.split(","),
        method=method,
        level=level,
        survey=survey,
        resamples=resamples,
    )
    if as_json:
        typer.echo(json.dumps(asdict(result), ensure_ascii=False, indent=2))
        return
    console.print(_drivers_table(result))


def _drivers_table(result: DriverResult) -> Table:
    title = (
        f"drivers of {result.outcome} ({result.level} level, {result.method}): "
        f"n {result.n:,}, R² {result.r2:.3f}"
    )
    table = Table(title=title)
    table.add_column("driver", no_wrap=True)
    for name in ("share", "95 % CI", "perf.", "matrix", "seen"):
        table.add_column(name, justify="right")
    for row in result.drivers:
        table.add_row(
            row.field,
            f"{row.percent:.1f} %",
            f"{row.low:.1f}-{row.high:.1f}",
            f"{row.performance:.2f}",
            row.quadrant,
            f"{row.coverage:.0%}",
        )
    return table


@app.command("servqual")
def servqual(
    input_path: Annotated[
        Path, typer.Option("--input", help="CSV, XLSX or JSON Lines, one row each.")
    ],
    expectation_prefix: Annotated[
        str, typer.Option("--expectation-prefix", help="Prefix of expectation columns.")
    ] = "E_",
    perception_prefix: Annotated[
        str, typer.Option("--perception-prefix", help="Prefix of perception columns.")
    ] = "P_",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """SERVQUAL gaps: perception minus expectation per dimension, with 95 % margins."""
    from cxloop.analytics.drivers_service import servqual_file

    gaps = servqual_file(
        path=input_path,
        expectation_prefix=expectation_prefix,
        perception_prefix=perception_prefix,
    )
    if as_json:
        typer.echo(json.dumps([asdict(g) for g in gaps], ensure_ascii=False, indent=2))
        return
    console.print(_gaps_table(gaps, input_path.name))


def _gaps_table(gaps: list[ServqualGap], name: str) -> Table:
    table = Table(title=f"SERVQUAL gaps (P - E) in {name}")
    for column in ("dimension", "expectation", "perception", "gap", "95 % interval"):
        table.add_column(column, justify="left" if column == "dimension" else "right")
    table.add_column("n", justify="right")
    for gap in gaps:
        interval = (
            ""
            if gap.low is None or gap.high is None
            else f"{gap.low:+.2f} to {gap.high:+.2f}"
        )
        table.add_row(
            gap.dimension,
            f"{gap.expectation:.2f}",
            f"{gap.perception:.2f}",
            f"{gap.gap:+.2f}",
            interval,
            f"{gap.n:,}",
        )
    return table
