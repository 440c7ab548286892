"""``cxloop journey peak-end``: do the peak and the end explain the overall score?

This command joins the ``journey`` group of :mod:`cxloop.commands.journey`.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from cxloop.commands.journey import app
from cxloop.config import get_settings

if TYPE_CHECKING:
    from cxloop.analytics.peak_end_frames import PeakEndResult

console = Console()


@app.command("peak-end")
def peak_end(
    journey: Annotated[
        str | None,
        typer.Option("--journey", help="Only touchpoints of this journey (its rules)."),
    ] = None,
    survey: Annotated[
        str, typer.Option("--survey", help="The relational survey.")
    ] = "relationship",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Regress the relational NPS on the peak, the end and the average of each
    customer's touchpoint scores in the 90 days before it; list the touchpoints that
    are most often the peak or the end of bad journeys (NPS ≤ 6)."""
    from cxloop.analytics.peak_end_frames import peak_end_analysis

    result = peak_end_analysis(settings=get_settings(), journey=journey, survey=survey)
    if as_json:
        typer.echo(json.dumps(asdict(result), ensure_ascii=False, indent=2))
        return
    console.print(_fits_table(result))
    console.print(_moments_table(result))


def _fits_table(result: PeakEndResult) -> Table:
    title = (
        f"{result.journeys:,} journeys ({result.touchpoints:.1f} touchpoints each, "
        f"{result.window_days} days before the answer); R² of peak-end minus average "
        f"{result.gain:+.3f} ({result.gain_low:+.3f} to {result.gain_high:+.3f})"
    )
    table = Table(title=title)
    for name in ("predictor", "R²", "slope (NPS points per 0-1)", "95 % interval"):
        table.add_column(name, justify="left" if name == "predictor" else "right")
    for fit in result.fits:
        table.add_row(
            fit.predictor.replace("_", "-"),
            f"{fit.r2:.3f}",
            f"{fit.slope:.2f}",
            f"{fit.low:.2f} to {fit.high:.2f}",
        )
    return table


def _moments_table(result: PeakEndResult) -> Table:
    table = Table(
        title=f"peak and end of {result.bad_journeys:,} bad journeys (NPS ≤ 6)"
    )
    for name in ("touchpoint", "peak", "end"):
        table.add_column(name, justify="left" if name == "touchpoint" else "right")
    for moment in result.moments[:15]:
        table.add_row(
            moment.touchpoint,
            f"{moment.peak:,} ({moment.peak_share:.0%})",
            f"{moment.end:,} ({moment.end_share:.0%})",
        )
    return table
