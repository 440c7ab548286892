"""``cxloop recommend``: Next best product recommendations from purchase history."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from cxloop.commands.options import CustomerColumnOption

if TYPE_CHECKING:
    from cxloop.predict.recommend import RecommendEvaluation

app = typer.Typer(
    help="Next best product recommendations from purchase history.",
    no_args_is_help=True,
)
console = Console()


@app.command("evaluate")
def evaluate(
    input_path: Annotated[
        Path,
        typer.Option(
            "--input",
            exists=True,
            dir_okay=False,
            help="Purchases, one row each: CSV (UTF-8 or Big5), XLSX or JSON Lines.",
        ),
    ],
    customer_column: CustomerColumnOption,
    item_column: Annotated[
        str, typer.Option("--item-column", help="Column with the product or item.")
    ],
    date_column: Annotated[
        str, typer.Option("--date-column", help="Column with the purchase date.")
    ],
    split_date: Annotated[
        datetime | None,
        typer.Option(
            "--split-date",
            formats=["%Y-%m-%d"],
            help="Fit on purchases before this day, judge on the rest "
            "(default: the date at 80 % of the purchases).",
        ),
    ] = None,
    k: Annotated[int, typer.Option("--k", help="Recommendations per customer.")] = 5,
    similarity: Annotated[
        str, typer.Option("--similarity", help="cosine, lift or popularity.")
    ] = "cosine",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Hit rate at k of next-product recommendations on a time split, beside popularity."""
    from cxloop.predict import recommend_service

    result = recommend_service.evaluate_file(
        path=input_path,
        customer_column=customer_column,
        item_column=item_column,
        date_column=date_column,
        split_date=split_date,
        k=k,
        similarity=similarity,
    )
    if as_json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        console.print(_evaluation_table(result))


def _evaluation_table(result: RecommendEvaluation) -> Table:
    table = Table(title=f"hit rate at {result.k} (split {result.split_date[:10]})")
    table.add_column("")
    table.add_column("value", justify="right")
    rows = [
        (f"recommender ({result.similarity})", f"{result.hit_rate:.1%}"),
        ("popularity baseline", f"{result.baseline_hit_rate:.1%}"),
        ("customers evaluated", f"{result.n_customers:,}"),
        (
            "purchases before / after",
            f"{result.n_train_purchases:,} / {result.n_test_purchases:,}",
        ),
        ("items", f"{result.n_items:,}"),
        ("customers new after the split", f"{result.n_new_customers:,}"),
    ]
    for label, value in rows:
        table.add_row(label, value)
    return table
