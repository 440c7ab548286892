"""``cxloop sla ...``: SLA policies, business-hours clocks and the SLA report."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="SLA policies, business-hours clocks and the SLA report.", no_args_is_help=True
)
