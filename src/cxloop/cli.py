"""The ``cxloop`` command: thin, it parses, calls a service, prints.

Every command reads its settings from ``CXLOOP_*`` environment variables
(see docs/settings.md); errors a user can fix end with exit code 2 and one clear line.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from cxloop import __version__
from cxloop.commands import metrics
from cxloop.commands.options import AllowRejectsOption
from cxloop.config import get_settings
from cxloop.domain.errors import CxloopError

if TYPE_CHECKING:
    from cxloop.demo.service import DemoSummary
    from cxloop.ingest.summaries import ImportSummary
    from cxloop.loop.worker import WorkerPass

app = typer.Typer(
    name="cxloop",
    help="cxloop: closed-loop customer experience management (zh-TW / English).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Create and migrate the database.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(metrics.app, name="metrics")

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


@db_app.command("rebuild-analytics")
def db_rebuild_analytics() -> None:
    """Rebuild the DuckDB analytics mirror of an SQLite store from scratch.

    Metrics read appended answers and changed customers by themselves; run this after
    rows already imported were edited or deleted in the database.
    """
    from cxloop.analytics import service

    count = service.rebuild_mirror(settings=get_settings())
    if count is None:
        console.print("PostgreSQL stores need no analytics mirror: nothing to rebuild")
    else:
        console.print(f"analytics mirror rebuilt: {count:,} scored answers")


user_app = typer.Typer(
    help="People who sign in to the dashboard.", no_args_is_help=True
)
app.add_typer(user_app, name="user")
apikey_app = typer.Typer(help="Keys for the REST API.", no_args_is_help=True)
app.add_typer(apikey_app, name="apikey")
ROLES_HELP = "admin, analyst, agent or viewer."


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Option("--email", help="Sign-in e-mail address.")],
    role: Annotated[str, typer.Option("--role", help=ROLES_HELP)],
    name: Annotated[str | None, typer.Option("--name", help="Display name.")] = None,
    password: Annotated[
        str | None,
        typer.Option(
            "--password",
            help="At least 8 characters; asked twice, hidden, when left out.",
        ),
    ] = None,
) -> None:
    """Create a person who can sign in to the dashboard."""
    from cxloop.accounts import service

    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    user = service.create_user(
        settings=get_settings(), email=email, password=password, role=role, name=name
    )
    console.print(f"created user {user.email} (role {user.role}, id {user.id})")


@apikey_app.command("create")
def apikey_create(
    name: Annotated[str, typer.Option("--name", help="What the key is for.")],
    role: Annotated[str, typer.Option("--role", help=ROLES_HELP)] = "viewer",
    scope: Annotated[
        list[str] | None,
        typer.Option(
            "--scope",
            help="What the key may do beyond reading, such as interactions:write "
            "(repeat for several); without it the key has its role's rights.",
        ),
    ] = None,
) -> None:
    """Create a key for the REST API and print it once."""
    from cxloop.accounts import service

    key = service.create_api_key(
        settings=get_settings(), name=name, role=role, scopes=scope
    )
    err_console.print(
        "[yellow]Copy this key now: it is shown only once and cannot be "
        "recovered.[/yellow] Send it as 'Authorization: Bearer KEY'."
    )
    typer.echo(key)


@app.command("worker")
def worker(
    watch: Annotated[
        float | None,
        typer.Option(
            "--watch", help="Run a pass every this many seconds until stopped."
        ),
    ] = None,
) -> None:
    """Do the periodic work once: survey e-mail, alert rules, SLA escalations, follow-ups.

    `cxloop serve` does this by itself every CXLOOP_DISPATCH_INTERVAL_SECONDS; run this
    from cron (or with --watch in its own process) when the server does not.
    """
    import threading

    from cxloop.loop import worker as loop_worker

    settings = get_settings()
    if watch is None:
        _print_pass(loop_worker.run_pass(settings=settings))
        return
    stop = threading.Event()
    try:
        loop_worker.run_forever(
            settings=settings, interval_seconds=watch, stop=stop, on_pass=_print_pass
        )
    except KeyboardInterrupt:
        stop.set()


def _print_pass(done: WorkerPass) -> None:
    for name, result in done.results.items():
        console.print(
            f"{name}: {result}", highlight=False, markup=False, soft_wrap=True
        )
    for name, error in done.errors.items():
        err_console.print(f"{name} failed: {error}", highlight=False, markup=False)


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    reload: Annotated[
        bool, typer.Option("--reload/--no-reload", help="Restart on code changes.")
    ] = False,
    access_log: Annotated[
        bool,
        typer.Option(
            "--access-log/--no-access-log",
            help="Log one line per request (off behind a proxy that logs them).",
        ),
    ] = True,
) -> None:
    """Serve the dashboard and the REST API (uvicorn); the database must be migrated."""
    import uvicorn

    from cxloop.accounts import service

    settings = get_settings()
    if not service.database_is_current(settings=settings):
        from cxloop import lifecycle

        url = lifecycle.display_url(settings.database_url)
        msg = f"the database {url} is not migrated: run `cxloop db upgrade`"
        raise CxloopError(msg)
    try:
        settings.resolved_secret_key()
    except ValueError as exc:
        raise CxloopError(str(exc)) from exc
    console.print(f"cxloop is serving on http://{host}:{port}/ (Ctrl+C stops it)")
    uvicorn.run(
        "cxloop.web.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        reload=reload,
        proxy_headers=False,
        access_log=access_log,
    )


@app.command("demo")
def demo(
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 42,
    size: Annotated[
        str,
        typer.Option(
            "--size", help="full (20,000 customers) or small (1,000, for tests)."
        ),
    ] = "full",
    if_empty: Annotated[
        bool,
        typer.Option("--if-empty", help="Do nothing when the store already has data."),
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Only write the CSV files to this folder."),
    ] = None,
) -> None:
    """Load the demo company 禾光生活 (Heguang Living) and create the demo login."""
    from cxloop import lifecycle
    from cxloop.customers import profiles
    from cxloop.demo import casework, service
    from cxloop.demo import surveys as demo_surveys
    from cxloop.text import pipeline

    if out is not None:
        for path in service.write_demo(out_dir=out, seed=seed, size=size):
            console.print(f"wrote {path}")
        return
    settings = get_settings()
    if if_empty and not lifecycle.database_is_empty(settings):
        console.print("the store already holds data: the demo company is not loaded")
        if service.demo_login_works(settings=settings):
            _print_demo_login(service.DEMO_EMAIL, service.DEMO_PASSWORD)
        return
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("demo", total=1)

        def report(step: str, done: int, total: int) -> None:
            label = {"generate": "generating", "login": "creating the login"}
            text = label.get(step, f"importing {step}")
            bar.update(task, completed=done, total=total, description=text)

        summary = service.load_demo(
            settings=settings, seed=seed, size=size, progress=report
        )
        bar.update(task, description="reading the comments (sentiment, topics, intent)")
        pipeline.score_backlog(
            settings=settings,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
        bar.update(task, description="scoring customers (value, segments, churn risk)")
        profiles.score_customers(settings=settings)
        bar.update(task, description="saving demo segments and the NPS survey")
        demo_surveys.setup_demo_surveys(settings=settings)
        bar.update(task, description="agents, routing, SLAs and the detractor alert")
        casework.setup_demo_casework(settings=settings)
    console.print(_demo_table(summary))
    _print_demo_login(summary.email, summary.password)


def _print_demo_login(email: str, password: str) -> None:
    console.print(
        f"Demo login\n  URL       http://127.0.0.1:8000\n"
        f"  e-mail    {email}\n  password  {password}\n"
        f"  an agent  logistics.1@heguang.example (same password)",
        highlight=False,
    )


def _demo_table(summary: DemoSummary) -> Table:
    table = Table(title=f"demo company (seed {summary.seed}, {summary.size})")
    table.add_column("kind")
    for name in ("read", "inserted", "duplicate", "rejected"):
        table.add_column(name, justify="right")
    for c in summary.counts:
        numbers = (c.read, c.inserted, c.duplicate, c.rejected)
        table.add_row(c.kind, *(f"{n:,}" for n in numbers))
    return table


@app.command("import")
def import_(
    kind: Annotated[
        str,
        typer.Argument(
            help="customers, transactions, feedback, interactions or cases."
        ),
    ],
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, help="CSV (UTF-8 or Big5), XLSX or JSON Lines."
        ),
    ],
    mapping: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="Rename a file column to a field: SOURCE_COLUMN=FIELD (repeatable).",
        ),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(
            "--source",
            help="Name of the system the file came from; rows are idempotent on "
            "(source, id). Default: the file name without extension, lower-cased; "
            "pass --source to keep re-imports of renamed exports idempotent.",
        ),
    ] = None,
    allow_rejects: AllowRejectsOption = False,
) -> None:
    """Import a file of KIND; bad rows go to FILE.rejects.csv (exit 2 unless --allow-rejects)."""
    from cxloop.ingest import service

    with Progress(console=console, transient=True) as bar:
        task = bar.add_task(f"import {kind}", total=None, visible=False)

        def report(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, visible=total > 5_000)

        summary = service.import_file(
            settings=get_settings(), kind=kind, path=file, mapping=service.parse_mapping(mapping or []),
            source=source, allow_rejects=allow_rejects, progress=report,
        )  # fmt: skip
    heading = f"import {summary.kind} from {summary.path} (source {summary.source!r})"
    console.print(heading, highlight=False, markup=False, soft_wrap=True)
    console.print(_import_table(summary))
    for line in service.summary_lines(summary):
        console.print(line, highlight=False, markup=False, soft_wrap=True)
    if summary.rejected and not summary.committed:
        raise typer.Exit(2)


def _import_table(summary: ImportSummary) -> Table:
    table = Table()
    table.add_column("rows")
    table.add_column("count", justify="right")
    rows = [("read", summary.rows_read), ("inserted", summary.inserted)]
    if summary.kind == "customers":
        rows.append(("updated", summary.updated))
    rows += [("already imported", summary.duplicates), ("rejected", summary.rejected)]
    if summary.customers_merged:
        rows.append(("customers merged", summary.customers_merged))
    for name, count in rows:
        table.add_row(name, f"{count:,}")
    if summary.rejects_path is not None:
        table.add_row("rejects file", summary.rejects_path.name)
    return table


def _mount_command_groups() -> None:
    # customer_profiles adds score, show and outreach to the customers group;
    # journey_peak_end adds peak-end to the journey group; survey_distribution and
    # survey_results add to the survey group; text_train and text_topics add to text.
    from cxloop.commands import (
        alert,
        analytics,
        case,
        churn,
        clv,
        customer_profiles,  # noqa: F401
        customers,
        drivers,
        experiment,
        initiative,
        journey,
        journey_peak_end,  # noqa: F401
        kb,
        monitor,
        recommend,
        reply,
        segments,
        service_metrics,
        sla,
        survey,
        survey_distribution,  # noqa: F401
        survey_results,  # noqa: F401
        team,
        text,
        text_topics,  # noqa: F401
        text_train,  # noqa: F401
        webhook,
    )

    for name, group in (
        ("customers", customers.app),
        ("segments", segments.app),
        ("clv", clv.app),
        ("churn", churn.app),
        ("recommend", recommend.app),
        ("initiative", initiative.app),
        ("experiment", experiment.app),
        ("monitor", monitor.app),
        ("journey", journey.app),
        ("drivers", drivers.app),
        ("kb", kb.app),
        ("survey", survey.app),
        ("webhook", webhook.app),
        ("case", case.app),
        ("team", team.app),
        ("sla", sla.app),
        ("alert", alert.app),
        ("reply", reply.app),
        ("service", service_metrics.app),
        ("text", text.app),
        ("analytics", analytics.app),
    ):
        app.add_typer(group, name=name)


_mount_command_groups()


def main() -> None:
    """Entry point: run the app and turn cxloop errors into one line and exit code 2."""
    try:
        app()
    except CxloopError as exc:
        # The message may hold brackets (a pattern, a list): never read them as markup.
        err_console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
        sys.exit(2)


def run() -> NoReturn:
    """The ``cxloop`` program (and ``python -m cxloop``): :func:`main`, then leave.

    Python's own exit work runs (``atexit`` handlers, finalizers, logging, a Spark
    session's stop), the output is flushed, and the process ends with ``os._exit``, so
    the native libraries' static teardown never runs: an idle Arrow or DuckDB thread
    pool torn down there can abort a command that has already finished ("terminate
    called without an active exception", apache/arrow#34314). Code that calls
    :func:`main` in-process keeps the ordinary exit.
    """
    try:
        main()
    except SystemExit as exc:
        status = exit_status(exc.code)
    else:
        status = 0
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe (``... | head``)
            stream.flush()
    os._exit(status)


def exit_status(code: object) -> int:
    """The process status ``sys.exit(code)`` gives (a message is printed, status 1)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1
