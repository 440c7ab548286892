"""``cxloop survey ...``: define surveys from files and templates, list and show them.

Other modules add to this group: :mod:`cxloop.commands.survey_distribution` (send,
triggers, dispatch) and :mod:`cxloop.commands.survey_results` (results).
"""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Surveys: define (YAML/JSON or templates), send, and read their results.",
    no_args_is_help=True,
)
