"""What an import did, as the CLI, the web app and scripts read it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RowReject:
    """One refused row: its line in the file, the field(s) at fault and why."""

    line: int
    field: str
    reason: str


@dataclass(frozen=True)
class ImportSummary:
    """The counts of one import.

    Attributes
    ----------
    kind, source, path
        What was imported, under which source name, from which file.
    rows_read
        Data rows in the file (the header is not counted).
    inserted
        New records stored (customers for ``customers``, else one per row).
    updated
        Existing customers whose fields changed (``customers`` only).
    duplicates
        Rows already imported from this source (or unchanged customers): nothing added.
    rejected
        Rows refused by validation; each is in ``rejects_path``.
    rejects_path
        ``FILE.rejects.csv`` when rows were rejected, else None.
    committed
        True when the good rows were written; False when rejects stopped the import.
    customers_created
        Customers created because a row named identifiers not seen before.
    customers_merged
        Stored customers merged into another because a row named identifiers of
        both (each merge is recorded in ``identity_merge``).
    """

    kind: str
    source: str
    path: Path
    rows_read: int
    inserted: int
    duplicates: int
    rejected: int
    rejects_path: Path | None
    committed: bool
    updated: int = 0
    customers_created: int = 0
    customers_merged: int = 0
    first_rejects: tuple[RowReject, ...] = ()
