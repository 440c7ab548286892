"""Command groups of the ``cxloop`` CLI, one module per capability.

Each module defines ``app``, a :class:`typer.Typer` that :mod:`cxloop.cli` mounts under
its name. Commands stay thin: they parse, call one service function, print.
"""
