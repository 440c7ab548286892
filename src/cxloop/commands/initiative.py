"""``cxloop initiative``: PDCA improvement initiatives: plan, do, check with data, act."""

from __future__ import annotations

import typer

app = typer.Typer(help="PDCA improvement initiatives: plan, do, check with data, act.", no_args_is_help=True)
