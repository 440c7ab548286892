"""``cxloop text``: score free text (language, sentiment, emotion, topics, intent)."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Text analytics: score comments, chats and reviews; train your own intents.",
    no_args_is_help=True,
)
