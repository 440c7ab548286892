"""The ``cxloop`` command: thin, it parses, calls a service, prints.

Every command reads its settings from ``CXLOOP_*`` environment variables
(see docs/settings.md); errors a user can fix end with exit code 2 and one clear line.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from cxloop import __version__
from cxloop.config import get_settings
from cxloop.domain.errors import CxloopError

app = typer.Typer(
    name="cxloop",
    help="cxloop: closed-loop customer experience management (zh-TW / English).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Create and migrate the database.", no_args_is_help=True)
app.add_typer(db_app, name="db")

console = Console()
err_console = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        console.print(f"cxloop {__version__}")
        raise typer.Exit


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    """cxloop: closed-loop customer experience management (zh-TW / English)."""


@db_app.command("upgrade")
def db_upgrade(
    revision: str = typer.Argument("head", help="Target revision."),
) -> None:
    """Create the database or migrate it to the latest schema (CXLOOP_DATABASE_URL)."""
    from cxloop import lifecycle

    settings = get_settings()
    lifecycle.upgrade_database(settings, revision)
    url = lifecycle.display_url(settings.database_url)
    console.print(f"database is at revision {revision}: {url}")


def main() -> None:
    """Entry point: run the app and turn cxloop errors into one line and exit code 2."""
    try:
        app()
    except CxloopError as exc:
        err_console.print(f"[red]error:[/red] {exc}", highlight=False)
        sys.exit(2)
