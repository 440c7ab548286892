"""``cxloop metrics``: NPS, CSAT and CES cut by any field, with margins and changes,
and the service metrics of cases (FCR, AHT, response and resolution times, SLA met,
recovery, follow-up CSAT) cut by team, agent or channel and period."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cxloop.config import get_settings
from cxloop.domain.errors import CxloopError

if TYPE_CHECKING:
    import pandas as pd

app = typer.Typer(
    help="NPS, CSAT and CES with n, 95 % margin and change; service metrics of cases.",
    no_args_is_help=True,
)
console = Console()

METRIC_FORMATS = ("table", "csv", "json")


def _metrics(
    metric: str,
    by: list[str] | None,
    period: str | None,
    date_from: datetime | None,
    date_to: datetime | None,
    where: list[str] | None,
    output: str,
) -> None:
    from cxloop.analytics import service

    if output not in METRIC_FORMATS:
        msg = f"unknown format {output!r}: choose one of {', '.join(METRIC_FORMATS)}"
        raise CxloopError(msg)
    frame = service.metric_frame(
        settings=get_settings(),
        metric=metric,
        by=[
            name.strip()
            for item in by or []
            for name in item.split(",")
            if name.strip()
        ],
        period=period,
        date_from=date_from.date() if date_from else None,
        date_to=date_to.date() if date_to else None,
        where=service.parse_where(where or []),
    )
    if output == "json":
        records = frame.astype(object).where(frame.notna(), None).to_dict("records")
        typer.echo(json.dumps(records, ensure_ascii=False, indent=2))
    elif output == "csv":
        typer.echo(frame.to_csv(index=False), nl=False)
    else:
        console.print(_metrics_table(metric, frame))


def _metrics_table(metric: str, frame: pd.DataFrame) -> Table:
    digits = 2 if metric == "ces" else 1
    table = Table(title=metric.upper(), caption="↑ ↓ significant change (p < 0.05)")
    leading = list(frame.columns[: frame.columns.get_loc("value")])
    for name in [*leading, "value", "± moe", "n", "change", "p"]:
        justify = "left" if name in leading else "right"
        table.add_column(name, justify=justify)  # type: ignore[arg-type]

    def num(value: Any, sign: str = "") -> str:
        return "" if value != value else f"{value:{sign}.{digits}f}"

    for row in frame.to_dict("records"):
        change = num(row["change"], "+")
        if row["significant"]:
            change += " ↑" if row["change"] > 0 else " ↓"
        p_value = "" if row["p_value"] != row["p_value"] else f"{row['p_value']:.3f}"
        cells = ["" if row[c] is None else str(row[c]) for c in leading]
        cells += [num(row["value"]), num(row["moe"]), str(row["n"]), change, p_value]
        table.add_row(*cells)
    return table


ByOption = Annotated[
    list[str] | None,
    typer.Option(
        "--by",
        help="Cut by a field (repeat or comma-separate): channel, touchpoint, "
        "journey_stage, source, region, segment, language, rfm_segment, value_tier, "
        "cluster_label or a customer attribute.",
    ),
]
PeriodOption = Annotated[
    str | None,
    typer.Option("--period", help="day, week, month or quarter (business zone)."),
]
FromOption = Annotated[
    datetime | None,
    typer.Option("--from", formats=["%Y-%m-%d"], help="First day, inclusive."),
]
ToOption = Annotated[
    datetime | None,
    typer.Option("--to", formats=["%Y-%m-%d"], help="Last day, inclusive."),
]
WhereOption = Annotated[
    list[str] | None,
    typer.Option(
        "--where",
        help="Filter FIELD=VALUE (repeatable); in_segment=KEY keeps a saved segment.",
    ),
]
FormatOption = Annotated[str, typer.Option("--format", help="table, csv or json.")]


METRIC_HELP = {
    "nps": "NPS (% promoters - % detractors) with n, 95 % margin of error and change.",
    "csat": "CSAT (% of 4-5 answers) with n, 95 % margin of error and change.",
    "ces": "CES (mean effort on 1-7) with n, 95 % margin of error and change.",
}


def _add_metric_command(metric: str) -> None:
    def command(
        by: ByOption = None,
        period: PeriodOption = None,
        date_from: FromOption = None,
        date_to: ToOption = None,
        where: WhereOption = None,
        output: FormatOption = "table",
    ) -> None:
        _metrics(metric, by, period, date_from, date_to, where, output)

    command.__doc__ = METRIC_HELP[metric]
    app.command(metric)(command)


for _metric in METRIC_HELP:
    _add_metric_command(_metric)


ServiceByOption = Annotated[
    str | None, typer.Option("--by", help="Cut by team, agent or channel.")
]


def _service_metrics(
    metric: str,
    by: str | None,
    period: str | None,
    date_from: datetime | None,
    date_to: datetime | None,
    output: str,
) -> None:
    from cxloop.loop import service_metric_frames as smf

    if output not in METRIC_FORMATS:
        msg = f"unknown format {output!r}: choose one of {', '.join(METRIC_FORMATS)}"
        raise CxloopError(msg)
    frame = smf.service_metric_frame(
        settings=get_settings(), metric=metric, by=[by] if by else [],
        period=period, date_from=date_from.date() if date_from else None,
        date_to=date_to.date() if date_to else None,
    )  # fmt: skip
    if output == "csv":
        typer.echo(frame.to_csv(index=False), nl=False)
        return
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    if output == "json":
        typer.echo(json.dumps(records, ensure_ascii=False, indent=2))
    else:
        console.print(_service_table(metric, list(frame.columns), records))


def _service_table(
    metric: str, columns: list[str], records: list[dict[Any, Any]]
) -> Table:
    from cxloop.commands.service_metrics import duration

    def shown(name: str, value: Any, unit: str) -> str:
        if value is None:
            return ""
        if name.endswith("_n") or name in ("n", "cases"):
            return str(value)
        if name == "mean" and metric == "followup_csat":
            return f"{value:.2f}"
        return duration(value) if unit == "seconds" else f"{value:.1f} %"

    table = Table(title=metric, caption="n: cases behind each figure")
    names = [c for c in columns if c != "unit"]
    for name in names:
        justify = "left" if name in ("team", "agent", "channel", "period") else "right"
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for row in records:
        cells = [
            str(row[n] if row[n] is not None else "-")
            if n in ("team", "agent", "channel", "period")
            else shown(n, row[n], str(row["unit"]))
            for n in names
        ]
        table.add_row(*cells)
    return table


SERVICE_METRIC_HELP = {
    "fcr": "First contact resolution (% of resolved cases with one contact).",
    "aht": "Average handle time of cases.",
    "first_response_time": "Median (and mean) time to the first response.",
    "resolution_time": "Median (and mean) time to resolution.",
    "sla_compliance": "% of SLA clocks met (first response and resolution).",
    "recovery_rate": "% of detractor cases whose customer later answered NPS 7+.",
    "followup_csat": "% of 4-5 follow-up CSAT answers after resolved cases.",
}


def _add_service_metric_command(metric: str) -> None:
    def command(
        by: ServiceByOption = None,
        period: PeriodOption = None,
        date_from: FromOption = None,
        date_to: ToOption = None,
        output: FormatOption = "table",
    ) -> None:
        _service_metrics(metric, by, period, date_from, date_to, output)

    command.__doc__ = (
        SERVICE_METRIC_HELP[metric]
        + "\n\nOver the cases opened in the window; same figures as `cxloop service "
        "metrics`."
    )
    app.command(metric.replace("_", "-"))(command)
    if "_" in metric:  # the API's spelling works too
        app.command(metric, hidden=True)(command)


for _metric in SERVICE_METRIC_HELP:
    _add_service_metric_command(_metric)
