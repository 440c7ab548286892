"""``cxloop text train``: train your own intent, emotion or sentiment model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from cxloop.commands.text import app

if TYPE_CHECKING:
    from cxloop.text.training import TrainReport

console = Console()
err_console = Console(stderr=True)


@app.command("train")
def train(
    task: Annotated[str, typer.Option("--task", help="intent, emotion or sentiment.")],
    input: Annotated[
        Path,
        typer.Option(
            "--input", help="CSV, JSON Lines or Parquet file of labelled texts."
        ),
    ],
    text_column: Annotated[
        str, typer.Option("--text-column", help="Column with the text.")
    ],
    label_column: Annotated[
        str, typer.Option("--label-column", help="Column with the label.")
    ],
    model_dir: Annotated[
        Path, typer.Option("--model-dir", help="Folder the model is written to.")
    ],
    backend: Annotated[
        str,
        typer.Option(
            "--backend", help="linear, or embeddings (needs cxloop[embeddings])."
        ),
    ] = "linear",
    folds: Annotated[int, typer.Option("--folds", help="Cross-validation folds.")] = 5,
    max_other: Annotated[
        float,
        typer.Option(
            "--max-other",
            help="Most of your labelled texts (cross-validated) the threshold may send "
            "to other.",
        ),
    ] = 0.02,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report as JSON.")
    ] = False,
) -> None:
    """Train a model on your labelled texts and print its cross-validated report.

    `cxloop text score --model-dir DIR` then fills the task's column with your labels;
    a text that fits none of them well gets `other`. Rows labelled `other` only tune
    that threshold.
    """
    from cxloop.text.training import train_from_file

    with console.status("training", spinner="dots") as status:
        report = train_from_file(
            task=task, input=input, text_column=text_column, label_column=label_column,
            model_dir=model_dir, folds=folds, backend=backend, max_other=max_other,
            progress=lambda message: status.update(message) if not as_json else None,
        )  # fmt: skip
    if as_json:
        typer.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
        return
    _print_report(report)


def _print_report(report: TrainReport) -> None:
    table = Table(title=f"{report.task}: {report.folds}-fold cross-validation")
    for column in ("label", "precision", "recall", "F1", "texts"):
        table.add_column(column, justify="left" if column == "label" else "right")
    for row in report.per_label:
        table.add_row(row.label, f"{row.precision:.3f}", f"{row.recall:.3f}",
                      f"{row.f1:.3f}", f"{row.support:,}")  # fmt: skip
    console.print(table)
    unknown = "" if report.unknown_recall is None else (
        f", texts of unseen labels sent to other {report.unknown_recall:.1%}"
    )  # fmt: skip
    console.print(
        f"accuracy {report.accuracy:.3f}, macro-F1 {report.macro_f1:.3f} over "
        f"{report.n_texts:,} texts; other below probability {report.other_threshold:.3f} "
        f"({report.other_rate:.1%} of labelled texts{unknown})",
        highlight=False,
    )
    console.print(f"model written to {report.model_path}.npz / .json", highlight=False)
