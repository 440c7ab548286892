"""``cxloop churn``: churn risk on any flat customer table: evaluate, train, score."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from cxloop.domain.errors import InvalidInput

if TYPE_CHECKING:
    from cxloop.predict.churn_service import ChurnFileEvaluation

app = typer.Typer(
    help="Churn risk: evaluate, train and score models on customer tables.",
    no_args_is_help=True,
)
console = Console()

InputOption = Annotated[
    Path,
    typer.Option(
        "--input",
        exists=True,
        dir_okay=False,
        help="Customer table: CSV, XLSX or JSON Lines, one row per customer.",
    ),
]
TargetOption = Annotated[
    str,
    typer.Option(
        "--target",
        help="Column that says who churned: 1/0, true/false, yes/no or churned/active.",
    ),
]
IdOption = Annotated[
    str | None,
    typer.Option("--id-column", help="Column with the customer id (not a feature)."),
]
ModelDirOption = Annotated[
    Path,
    typer.Option("--model-dir", file_okay=False, help="Directory of the model files."),
]


@app.command("evaluate")
def evaluate(
    input_file: InputOption,
    target: TargetOption,
    id_column: IdOption = None,
    folds: Annotated[
        int, typer.Option("--folds", min=2, help="Stratified cross-validation folds.")
    ] = 5,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the result as JSON.")
    ] = False,
) -> None:
    """Cross-validate: ROC AUC of the model and of a logistic regression."""
    from cxloop.predict import churn_service

    result = churn_service.evaluate_file(
        path=input_file, target=target, id_column=id_column, folds=folds, seed=seed
    )
    if as_json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    console.print(_evaluation_table(result))
    figures = result.evaluation
    typer.echo(f"auc {figures.auc:.4f}  baseline_auc {figures.baseline_auc:.4f}")
    _print_skipped(result.skipped)


@app.command("train")
def train(
    input_file: InputOption,
    target: TargetOption,
    model_dir: ModelDirOption,
    id_column: IdOption = None,
    label: Annotated[
        list[str] | None,
        typer.Option(
            "--label",
            help="COLUMN=WORDS: how reasons name a column; repeat for more columns.",
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
) -> None:
    """Fit the churn model on the whole table and save it into --model-dir."""
    from cxloop.predict import churn_service

    result = churn_service.train_file(
        path=input_file,
        target=target,
        id_column=id_column,
        model_dir=model_dir,
        seed=seed,
        labels=_labels(label or []),
    )
    typer.echo(
        f"churn model saved to {result.model_dir}: {result.n_rows:,} customers, "
        f"{result.positive_rate:.1%} churned, {len(result.features)} features"
    )
    _print_skipped(result.skipped)


@app.command("score")
def score(
    input_file: InputOption,
    model_dir: ModelDirOption,
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            dir_okay=False,
            help="Scores file (.csv or .jsonl): id, churn_probability, churn_risk, "
            "reason_1..3.",
        ),
    ],
    id_column: Annotated[
        str | None,
        typer.Option(
            "--id-column",
            help="Column with the customer id (default: the one used in training).",
        ),
    ] = None,
) -> None:
    """Score each customer with a trained model: probability, risk band, reasons."""
    from cxloop.predict import churn_service

    result = churn_service.score_file(
        path=input_file, id_column=id_column, model_dir=model_dir, output=output
    )
    bands = ", ".join(f"{count:,} {band}" for band, count in result.bands.items())
    typer.echo(f"scored {result.n_rows:,} customers ({bands}) into {result.output}")


def _labels(items: list[str]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for item in items:
        column, sep, words = item.partition("=")
        if not sep or not column.strip() or not words.strip():
            raise InvalidInput(f"--label {item!r}: write COLUMN=WORDS")
        labels[column.strip()] = words.strip()
    return labels


def _evaluation_table(result: ChurnFileEvaluation) -> Table:
    figures = result.evaluation
    table = Table(
        title=f"Churn model, {figures.folds}-fold cross-validation",
        caption=f"{figures.n_rows:,} customers, {figures.positive_rate:.1%} churned",
    )
    table.add_column("figure")
    table.add_column("model", justify="right")
    table.add_column("logistic regression", justify="right")
    table.add_row("auc", f"{figures.auc:.4f}", f"{figures.baseline_auc:.4f}")
    folds = zip(figures.fold_aucs, figures.baseline_fold_aucs, strict=True)
    for number, (model, baseline) in enumerate(folds, start=1):
        table.add_row(f"  fold {number}", f"{model:.4f}", f"{baseline:.4f}")
    table.add_row("brier", f"{figures.brier:.4f}", f"{figures.baseline_brier:.4f}")
    table.add_row("calibration error", f"{figures.calibration_error:.4f}", "")
    return table


def _print_skipped(skipped: dict[str, str]) -> None:
    for name, reason in skipped.items():
        typer.echo(f"not used: {name} ({reason})")
