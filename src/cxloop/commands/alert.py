"""``cxloop alert ...``: Alert rules: act on detractors, complaints, keywords and metric drops."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Alert rules: act on detractors, complaints, keywords and metric drops.",
    no_args_is_help=True,
)
