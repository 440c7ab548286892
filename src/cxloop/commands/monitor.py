"""``cxloop monitor``: Control charts: tell a real shift in a metric from noise."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from cxloop.commands.metrics import FromOption, ToOption, WhereOption
from cxloop.config import get_settings
from cxloop.domain.errors import InvalidInput

if TYPE_CHECKING:
    from cxloop.improve.monitoring import ChartResult

app = typer.Typer(
    help="Control charts: tell a real shift in a metric from noise.",
    no_args_is_help=True,
)
console = Console()

BaselineOption = Annotated[
    datetime | None,
    typer.Option(formats=["%Y-%m-%d"], help="Baseline window end (inclusive)."),
]


@app.command("chart")
def chart(
    metric: Annotated[str, typer.Argument(help="nps, csat or ces.")],
    period: Annotated[
        str, typer.Option("--period", help="day, week, month or quarter.")
    ] = "week",
    where: WhereOption = None,
    date_from: FromOption = None,
    date_to: ToOption = None,
    baseline_from: Annotated[
        datetime | None,
        typer.Option(
            "--baseline-from",
            formats=["%Y-%m-%d"],
            help="First period start of the baseline the limits come from.",
        ),
    ] = None,
    baseline_to: Annotated[
        datetime | None,
        typer.Option(
            "--baseline-to",
            formats=["%Y-%m-%d"],
            help="Last period start of the baseline (inclusive).",
        ),
    ] = None,
    open_case: Annotated[
        bool,
        typer.Option(
            "--open-case", help="Open a case for a signal in the latest period."
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Each period's value, control limits and signals (beyond limits, run of 8)."""
    from cxloop.analytics.service import parse_where
    from cxloop.improve import monitoring

    if (baseline_from is None) != (baseline_to is None):
        raise InvalidInput("give both --baseline-from and --baseline-to, or neither")
    settings = get_settings()
    result = monitoring.control_chart(
        settings=settings, metric=metric, period=period,
        where=parse_where(where or []),
        date_from=date_from.date() if date_from else None,
        date_to=date_to.date() if date_to else None,
        baseline_periods=(baseline_from.date(), baseline_to.date())
        if baseline_from and baseline_to else None,
    )  # fmt: skip
    case_id = (
        monitoring.open_signal_case(settings=settings, result=result)
        if open_case
        else None
    )
    if as_json:
        payload = dataclasses.asdict(result) | {"case_id": case_id}
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
        return
    console.print(_table(result))
    if case_id is not None:
        console.print(f"case {case_id} is open for the signal of the latest period")


def _table(result: ChartResult) -> Table:
    c = result.chart
    digits = 2 if result.metric == "ces" else 1
    caption = (
        f"{c.kind} chart · centre {c.centre:.{digits}f} · limits from "
        + ("every period" if result.baseline_periods is None else
           f"{result.baseline_periods[0]} to {result.baseline_periods[1]}")
    )  # fmt: skip
    if result.baseline_periods is not None:
        caption += " (· = outside the baseline)"
    if result.skipped:
        caption += f" · {len(result.skipped)} period(s) with < 2 answers left off"
    table = Table(title=f"{result.metric.upper()} ({result.scope})", caption=caption)
    for column in ("period", "value", "n", "lower", "upper", "signals"):
        table.add_column(
            column, justify="left" if column in ("period", "signals") else "right"
        )
    for p in c.points:
        mark = "" if p.in_baseline else "·"
        table.add_row(
            f"{p.period}{mark}", f"{p.value:.{digits}f}", f"{p.n:,}",
            f"{p.lower:.{digits}f}", f"{p.upper:.{digits}f}",
            ", ".join(p.rules),
        )  # fmt: skip
    return table
