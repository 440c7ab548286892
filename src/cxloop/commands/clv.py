"""``cxloop clv``: Customer lifetime value: BG/NBD and Gamma-Gamma fits."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from cxloop.commands.options import CustomerColumnOption
from cxloop.domain.errors import InvalidInput

if TYPE_CHECKING:
    from cxloop.predict.clv_service import ClvReport

app = typer.Typer(
    help="Customer lifetime value: BG/NBD and Gamma-Gamma fits.", no_args_is_help=True
)
console = Console()

TIME_UNITS = ("day", "week")


@app.command("fit")
def fit(
    input_file: Annotated[
        Path,
        typer.Option(
            "--input",
            exists=True,
            dir_okay=False,
            help="Transactions: CSV, XLSX or JSON Lines, one row per purchase.",
        ),
    ],
    customer_column: CustomerColumnOption,
    date_column: Annotated[
        str,
        typer.Option(
            "--date-column",
            help="Column with the purchase date (YYYY-MM-DD; a time after it is ignored).",
        ),
    ],
    amount_column: Annotated[
        str | None,
        typer.Option(
            "--amount-column",
            help="Column with the amount; adds the Gamma-Gamma spend model and CLV.",
        ),
    ] = None,
    calibration_end: Annotated[
        datetime | None,
        typer.Option(
            "--calibration-end",
            formats=["%Y-%m-%d"],
            help="Fit on purchases up to this day; compare the holdout after it.",
        ),
    ] = None,
    time_unit: Annotated[
        str,
        typer.Option(
            "--time-unit", help="day or week (Fader, Hardie & Lee use weeks)."
        ),
    ] = "week",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            dir_okay=False,
            help="Write p_alive, expected purchases and CLV per customer to this CSV.",
        ),
    ] = None,
    horizon_months: Annotated[
        int,
        typer.Option(
            "--horizon-months",
            min=1,
            help="Months ahead for expected purchases and CLV in --output.",
        ),
    ] = 12,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the result as JSON.")
    ] = False,
) -> None:
    """Fit BG/NBD (and Gamma-Gamma with amounts) on a transaction file."""
    from cxloop.predict import clv_service

    if time_unit not in TIME_UNITS:
        raise InvalidInput(
            f"--time-unit must be one of {', '.join(TIME_UNITS)}, not {time_unit!r}"
        )
    cut = calibration_end.date() if calibration_end else None
    if output is None:
        report = clv_service.fit_file(
            path=input_file,
            customer_column=customer_column,
            date_column=date_column,
            amount_column=amount_column,
            calibration_end=cut,
            time_unit=time_unit,
        )
    else:
        report = clv_service.score_file(
            path=input_file,
            customer_column=customer_column,
            date_column=date_column,
            amount_column=amount_column,
            calibration_end=cut,
            time_unit=time_unit,
            output=output,
            horizon_months=horizon_months,
        )
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        console.print(_report_table(report))


def _report_table(report: ClvReport) -> Table:
    fit = report.bgnbd
    table = Table(title=f"BG/NBD on {report.path.name} (time unit: {report.time_unit})")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    rows = [
        ("customers", f"{fit.n_customers:,}"),
        ("transactions", f"{report.n_transactions:,}"),
        ("purchases", f"{report.first_purchase} to {report.last_purchase}"),
        *((name, f"{getattr(fit, name):.4f}") for name in ("r", "alpha", "a", "b")),
        ("log-likelihood", f"{fit.log_likelihood:,.2f}"),
    ]
    if report.calibration_end is not None:
        rows += [
            ("calibration end", str(report.calibration_end)),
            ("holdout length", f"{report.holdout_duration:.2f} {report.time_unit}s"),
            ("holdout repeat purchases, actual", f"{report.holdout_actual:,.0f}"),
            ("holdout repeat purchases, predicted", f"{report.holdout_predicted:,.1f}"),
        ]
    if report.spend is not None:
        spend = report.spend
        rows += [
            (f"Gamma-Gamma {name}", f"{getattr(spend, name):.4f}") for name in "pqv"
        ]
        rows.append(("Gamma-Gamma customers", f"{spend.n_customers:,}"))
    if report.output is not None:
        rows.append(("per-customer CSV", str(report.output)))
    for name, value in rows:
        table.add_row(name, value)
    return table
