"""``cxloop churn``: Churn risk: evaluate, train and score models on customer tables."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Churn risk: evaluate, train and score models on customer tables.",
    no_args_is_help=True,
)
