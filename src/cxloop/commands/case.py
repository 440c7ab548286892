"""``cxloop case ...``: Cases: the inbox, the workflow, replies and history."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Cases: the inbox, the workflow, replies and history.", no_args_is_help=True
)
