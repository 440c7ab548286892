"""``cxloop team ...``: Teams, their agents and the routing rules."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Teams, their agents and the routing rules.", no_args_is_help=True
)
