"""``cxloop experiment``: A/B experiments: plan the sample, assign arms, analyse without peeking."""

from __future__ import annotations

import typer

app = typer.Typer(help="A/B experiments: plan the sample, assign arms, analyse without peeking.", no_args_is_help=True)
