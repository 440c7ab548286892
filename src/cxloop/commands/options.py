"""Options that several commands share, declared once."""

from __future__ import annotations

from typing import Annotated

import typer

#: Write the good rows of a file even when some are rejected (see FILE.rejects.csv).
AllowRejectsOption = Annotated[
    bool,
    typer.Option(
        "--allow-rejects", help="Import the good rows even when some are rejected."
    ),
]
