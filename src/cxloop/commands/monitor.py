"""``cxloop monitor``: Control charts: tell a real shift in a metric from noise."""

from __future__ import annotations

import typer

app = typer.Typer(help="Control charts: tell a real shift in a metric from noise.", no_args_is_help=True)
