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
            "--backend",
            help="linear, embeddings (needs the embeddings extra) or transformer "
            "(fine-tunes --base-model; needs the transformer extra).",
        ),
    ] = "linear",
    base_model: Annotated[
        Path | None,
        typer.Option(
            "--base-model",
            file_okay=False,
            help="transformer backend: a local folder with a pre-trained Hugging Face "
            "model and its tokenizer (safetensors weights).",
        ),
    ] = None,
    epochs: Annotated[
        int,
        typer.Option("--epochs", help="transformer backend: passes over the texts."),
    ] = 3,
    batch_size: Annotated[
        int, typer.Option("--batch-size", help="transformer backend: texts per step.")
    ] = 16,
    learning_rate: Annotated[
        float, typer.Option("--learning-rate", help="transformer backend: AdamW rate.")
    ] = 5e-5,
    max_length: Annotated[
        int,
        typer.Option("--max-length", help="transformer backend: tokens read per text."),
    ] = 128,
    validation: Annotated[
        float,
        typer.Option(
            "--validation",
            help="transformer backend: share of texts held out for the report.",
        ),
    ] = 0.1,
    device: Annotated[
        str,
        typer.Option(
            "--device",
            help="transformer backend: auto (the GPU when present), cpu, cuda or cuda:N.",
        ),
    ] = "auto",
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
    that threshold. The transformer backend fine-tunes a local pre-trained model
    (on the GPU when present) and reports on a held-out part instead of folds.
    """
    from cxloop.text.training import train_from_file

    with console.status("training", spinner="dots") as status:
        report = train_from_file(
            task=task, input=input, text_column=text_column, label_column=label_column,
            model_dir=model_dir, folds=folds, backend=backend, max_other=max_other,
            progress=lambda message: status.update(message) if not as_json else None,
            base_model=base_model,
            fine_tuning={"epochs": epochs, "batch_size": batch_size,
                         "learning_rate": learning_rate, "max_length": max_length,
                         "validation": validation, "device": device},
        )  # fmt: skip
    if as_json:
        typer.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
        return
    _print_report(report)


def _print_report(report: TrainReport) -> None:
    held_out = report.extra.get("validation_texts")
    title = (f"{report.task}: {held_out:,} held-out texts" if held_out
             else f"{report.task}: {report.folds}-fold cross-validation")  # fmt: skip
    table = Table(title=title)
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
    where = (report.model_path if report.backend == "transformer"
             else f"{report.model_path}.npz / .json")  # fmt: skip
    console.print(f"model written to {where}", highlight=False)
