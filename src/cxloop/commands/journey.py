"""``cxloop journey``: journey definitions, journey maps and customer paths."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Journeys: stages and touchpoints, the journey map and customer paths.",
    no_args_is_help=True,
)
