"""``cxloop analytics``: the analytics tables of the store, exported for Spark."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, TaskID
from rich.table import Table

from cxloop.config import get_settings

app = typer.Typer(
    help="Analytics tables: export them as Parquet for the Spark engine.",
    no_args_is_help=True,
)
console = Console()


@app.command("export")
def export(
    to: Annotated[
        Path,
        typer.Option(
            "--to",
            help="Folder to write answer_fact/, customer_dim/ (Parquet) and "
            "export.json to; created when missing, those three replaced.",
        ),
    ],
) -> None:
    """Write the scored answers and customers of the store as Parquet for Spark.

    Set CXLOOP_ANALYTICS_ENGINE=spark and CXLOOP_SPARK_DATA_DIR to the folder (or to
    where it was copied) and `cxloop metrics` runs the same definitions on Spark.
    Export again to bring it up to date.
    """
    from cxloop.analytics import exports

    with Progress(console=console, transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def report(table: str, done: int, total: int) -> None:
            if table not in tasks:
                tasks[table] = bar.add_task(f"export {table}", total=total)
            bar.update(tasks[table], completed=done, total=total)

        summary = exports.export_tables(settings=get_settings(), to=to, progress=report)
    table = Table(title=f"exported to {summary.folder}")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in summary.rows.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)
    console.print(
        f"local times in {summary.timezone}; run metrics on it with "
        f"CXLOOP_ANALYTICS_ENGINE=spark CXLOOP_SPARK_DATA_DIR={summary.folder}",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
