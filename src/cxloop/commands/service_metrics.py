"""``cxloop service ...``: Service metrics: FCR, AHT, response and resolution times, SLA, recovery."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Service metrics: FCR, AHT, response and resolution times, SLA, recovery.",
    no_args_is_help=True,
)
