"""Adds commands to the ``cxloop text`` group (filled by its owner)."""

from __future__ import annotations

from cxloop.commands.text import app  # noqa: F401
