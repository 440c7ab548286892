"""``cxloop webhook ...``: endpoints that other systems push signed events to."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Webhook endpoints (HMAC-SHA256 signed) for systems that push events.",
    no_args_is_help=True,
)
