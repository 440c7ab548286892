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

#: The column of a user's file that names the customer.
CustomerColumnOption = Annotated[
    str, typer.Option("--customer-column", help="Column with the customer id.")
]
