"""``cxloop reply ...``: Reply templates and suggested replies for cases."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Reply templates and suggested replies for cases.", no_args_is_help=True
)
