"""``cxloop kb``: import a FAQ into the knowledge base and search it."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from cxloop.commands.options import AllowRejectsOption
from cxloop.config import get_settings

if TYPE_CHECKING:
    from cxloop.loop.kb_service import KbImportSummary, KbMatch

app = typer.Typer(
    help="Knowledge base: import FAQ articles and find the best ones for a question.",
    no_args_is_help=True,
)
console = Console()

#: Inputs longer than this show a progress bar while searching.
PROGRESS_FROM = 2_000


@app.command("import")
def import_(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, help="CSV (UTF-8 or Big5), XLSX or JSON Lines."
        ),
    ],
    id_column: Annotated[
        str,
        typer.Option(
            "--id-column", help="Column of the article id (rows may share one)."
        ),
    ],
    question_column: Annotated[
        str, typer.Option("--question-column", help="Column of the question.")
    ],
    answer_column: Annotated[
        str, typer.Option("--answer-column", help="Column of the answer.")
    ],
    language: Annotated[
        str, typer.Option("--language", help="Language of the articles: zh-TW or en.")
    ] = "zh-TW",
    source: Annotated[
        str | None,
        typer.Option(
            "--source",
            help="Name of the FAQ; articles are idempotent on (source, id). Default: the file name without extension, lower-cased.",
        ),
    ] = None,
    allow_rejects: AllowRejectsOption = False,
) -> None:
    """Load a FAQ; bad rows go to FILE.rejects.csv (exit 2 unless --allow-rejects)."""
    from cxloop.loop import kb_service

    summary = kb_service.import_faq(
        settings=get_settings(), path=file, id_column=id_column, question_column=question_column,
        answer_column=answer_column, language=language, source=source, allow_rejects=allow_rejects,
    )  # fmt: skip
    _print_import(summary)
    if summary.rejects and not summary.committed:
        raise typer.Exit(2)


def _print_import(summary: KbImportSummary) -> None:
    heading = f"kb import from {summary.path} (source {summary.source!r})"
    console.print(heading, highlight=False, markup=False, soft_wrap=True)
    table = Table()
    for name in (
        "rows",
        "rejected",
        "articles new",
        "articles updated",
        "questions new",
        "questions known",
    ):
        table.add_column(name, justify="right")
    table.add_row(*(f"{n:,}" for n in (
        summary.rows_read, len(summary.rejects), summary.articles_inserted,
        summary.articles_updated, summary.questions_inserted, summary.questions_existing,
    )))  # fmt: skip
    console.print(table)
    for reject in summary.rejects[:10]:
        console.print(
            f"line {reject.line}: {reject.reason}", highlight=False, markup=False
        )
    if summary.rejects_path is not None:
        console.print(
            f"rejected rows written to {summary.rejects_path}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    if summary.rejects and not summary.committed:
        console.print(
            "nothing imported; fix the rows or pass --allow-rejects",
            highlight=False,
            markup=False,
        )


@app.command("search")
def search(
    query: Annotated[
        str | None, typer.Option("--query", help="One question to search for.")
    ] = None,
    input_file: Annotated[
        Path | None,
        typer.Option(
            "--input",
            exists=True,
            dir_okay=False,
            help="File of questions (CSV, XLSX or JSON Lines).",
        ),
    ] = None,
    query_column: Annotated[
        str | None,
        typer.Option("--query-column", help="Column of --input holding the question."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", help="Where to write results: .csv or .jsonl."),
    ] = None,
    top: Annotated[
        int,
        typer.Option("--top", min=1, max=50, help="How many articles per question."),
    ] = 3,
    source: Annotated[
        str | None,
        typer.Option("--source", help="Search only the articles of this source."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (with --query).")
    ] = False,
) -> None:
    """Rank articles for --query, or for every row of --input into --output."""
    if (query is None) == (input_file is None):
        raise typer.BadParameter("give either --query or --input")
    if input_file is not None:
        if query_column is None or output is None:
            raise typer.BadParameter("--input needs --query-column and --output")
        _search_file(input_file, query_column, output, top, source)
        return
    from cxloop.loop import kb_service

    matches = kb_service.search(
        settings=get_settings(), queries=[str(query)], top=top, source=source
    )[0]
    _print_matches(str(query), matches, as_json)


def _search_file(
    input_file: Path, query_column: str, output: Path, top: int, source: str | None
) -> None:
    from cxloop.loop import kb_service

    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("kb search", total=None, visible=False)

        def report(done: int, total: int) -> None:
            bar.update(
                task, completed=done, total=total, visible=total >= PROGRESS_FROM
            )

        summary = kb_service.search_file(
            settings=get_settings(), input_path=input_file, query_column=query_column,
            output=output, top=top, source=source, progress=report,
        )  # fmt: skip
    line = f"searched {summary.rows:,} questions over {summary.articles:,} articles; wrote {summary.output}"
    console.print(line, highlight=False, markup=False, soft_wrap=True)


def _print_matches(query: str, matches: list[KbMatch], as_json: bool) -> None:
    if as_json:
        typer.echo(
            json.dumps([asdict(m) for m in matches], ensure_ascii=False, indent=2)
        )
        return
    table = Table(title=query)
    for name, justify in (
        ("rank", "right"),
        ("id", "left"),
        ("source", "left"),
        ("score", "right"),
        ("title", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for rank, match in enumerate(matches, start=1):
        table.add_row(
            str(rank),
            match.external_id,
            match.source,
            f"{match.score:.2f}",
            match.title or "",
        )
    console.print(table)
