"""Import a file of customers, transactions, feedback, interactions or cases.

The CLI, the web app and the demo generator call :func:`import_file`. Nothing is written
unless the whole file is readable and has the columns its kind needs; every row is
validated before the first write; rows already imported from the same source are skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from sqlalchemy import Engine

from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput
from cxloop.ingest.kinds import KINDS, kind_spec
from cxloop.ingest.loaders import Loaded, load_events
from cxloop.ingest.profiles import load_customers
from cxloop.ingest.readers import read_table
from cxloop.ingest.rejects import (
    finish_run,
    first_rejects,
    start_run,
    write_rejects_file,
)
from cxloop.ingest.summaries import ImportSummary
from cxloop.ingest.validation import Validated, validate
from cxloop.ingest.writers import transaction
from cxloop.store.engine import engine_for

__all__ = [
    "KINDS", "ImportSummary", "default_source", "import_file", "parse_mapping", "summary_lines",
]  # fmt: skip

#: Longest source name (it becomes part of a survey key of at most 100 characters).
MAX_SOURCE_LENGTH = 90


def default_source(path: Path) -> str:
    """The source name used when none is given: the file name's stem, lower-cased."""
    return path.stem.strip().lower()


def parse_mapping(entries: Sequence[str]) -> dict[str, str]:
    """``SOURCE_COLUMN=FIELD`` entries (from ``--map``) as a dict.

    >>> parse_mapping(["E-mail=email", "分數=nps"])
    {'E-mail': 'email', '分數': 'nps'}
    """
    mapping: dict[str, str] = {}
    for entry in entries:
        column, equals, field = entry.partition("=")
        if not equals or not column.strip() or not field.strip():
            raise InvalidInput(f"--map {entry!r}: expected SOURCE_COLUMN=FIELD")
        if column.strip() in mapping:
            raise InvalidInput(
                f"--map {entry!r}: column {column.strip()!r} is mapped twice"
            )
        mapping[column.strip()] = field.strip().lower()
    return mapping


def _source_name(source: str | None, path: Path) -> str:
    name = (source if source is not None else default_source(path)).strip()
    if not name:
        raise InvalidInput("--source: the source name is empty")
    if len(name) > MAX_SOURCE_LENGTH:
        raise InvalidInput(f"--source: longer than {MAX_SOURCE_LENGTH} characters")
    return name


def _no_progress(_done: int, _total: int) -> None:
    return None


def import_file(
    *,
    settings: Settings,
    kind: str,
    path: Path,
    mapping: Mapping[str, str] | None = None,
    source: str | None = None,
    allow_rejects: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportSummary:
    """Validate ``path`` as ``kind`` and store its rows.

    Parameters
    ----------
    settings
        Where the store is (``database_url``), the time zone of times without an
        offset (``timezone``) and the rows per committed batch (``import_batch_size``).
    kind
        One of :data:`KINDS`.
    path
        A CSV (UTF-8, UTF-8 with BOM or Big5), XLSX (first sheet) or JSON Lines file.
    mapping
        File column to field renames, applied before validation.
    source
        Name of the system the file came from; rows are idempotent on (source, id).
        Default: the file name's stem, lower-cased.
    allow_rejects
        Import the good rows even when some rows are rejected.
    progress
        Called with (rows done, rows in file) as rows are written (about every
        50,000 rows; each batch is committed as a whole).

    Returns
    -------
    ImportSummary
        ``committed`` is False when rejected rows stopped the import (nothing written).

    Raises
    ------
    InvalidInput
        The kind is unknown, or the file is unreadable, malformed, empty or lacks a
        required column. Nothing has been written.
    """
    spec = kind_spec(kind)
    if spec is None:
        raise InvalidInput(f"unknown kind {kind!r}; use one of: {', '.join(KINDS)}")
    name = _source_name(source, path)
    checked = validate(read_table(path), spec, settings, mapping or {})
    rejects_path = write_rejects_file(checked)
    if checked.rejects and not allow_rejects:
        return _summary(
            checked, kind, name, Loaded(0, 0), rejects_path, committed=False
        )
    engine = engine_for(settings.database_url)
    with transaction(engine) as writer:
        run_id = start_run(
            writer, kind=kind, source=name, path=path, rows_read=checked.raw.n_rows
        )
    loaded = _load(
        engine,
        checked,
        spec.key,
        kind=kind,
        source=name,
        batch_size=settings.import_batch_size,
        progress=progress or _no_progress,
    )
    with transaction(engine) as writer:
        finish_run(
            writer,
            run_id,
            counts=(loaded.inserted + loaded.updated, loaded.duplicates),
            checked=checked,
        )
    return _summary(checked, kind, name, loaded, rejects_path, committed=True)


def _load(
    engine: Engine,
    checked: Validated,
    key: str | None,
    *,
    kind: str,
    source: str,
    batch_size: int,
    progress: Callable[[int, int], None],
) -> Loaded:
    if key is None:
        return load_customers(
            engine, checked, source=source, batch_size=batch_size, progress=progress
        )
    return load_events(
        engine,
        checked,
        target=(kind, key),
        source=source,
        batch_size=batch_size,
        progress=progress,
    )


def _summary(
    checked: Validated,
    kind: str,
    source: str,
    loaded: Loaded,
    rejects_path: Path | None,
    *,
    committed: bool,
) -> ImportSummary:
    return ImportSummary(
        kind=kind,
        source=source,
        path=checked.raw.path,
        rows_read=checked.raw.n_rows,
        inserted=loaded.inserted,
        duplicates=loaded.duplicates,
        rejected=len(checked.rejects),
        rejects_path=rejects_path,
        committed=committed,
        updated=loaded.updated,
        customers_created=loaded.customers_created,
        customers_merged=loaded.customers_merged,
        first_rejects=first_rejects(checked.rejects),
    )


def summary_lines(summary: ImportSummary) -> list[str]:
    """What a person should read after an import, one sentence a line."""
    lines = []
    if summary.rejected and not summary.committed:
        lines.append(
            f"{summary.rejected:,} of {summary.rows_read:,} rows were rejected: nothing "
            f"was imported. Fix them (see {summary.rejects_path}) or pass --allow-rejects."
        )
        lines += [
            f"  line {r.line}, {r.field}: {r.reason}" for r in summary.first_rejects[:5]
        ]
        return lines
    if summary.rejected:
        lines.append(
            f"{summary.rejected:,} rows were rejected and not imported: see {summary.rejects_path}"
        )
    if summary.duplicates and not (summary.inserted or summary.updated):
        lines.append(
            f"{summary.duplicates:,} rows were already imported from source "
            f"{summary.source!r}; nothing added"
        )
    elif summary.duplicates:
        lines.append(
            f"{summary.duplicates:,} rows were already imported from source {summary.source!r}"
        )
    return lines
