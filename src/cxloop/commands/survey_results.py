"""Commands of the ``survey`` group (filled in by its owner)."""

from __future__ import annotations

from cxloop.commands.survey import app

__all__ = ["app"]
