"""``cxloop segments``: RFM, value pyramid, behaviour clusters and saved segments."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cxloop.config import get_settings

if TYPE_CHECKING:
    import pandas as pd

    from cxloop.customers.segments import SegmentInfo

app = typer.Typer(
    help="Segments: RFM, value pyramid, behaviour clusters and saved segments.",
    no_args_is_help=True,
)
console = Console()

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
LanguageOption = Annotated[
    str, typer.Option("--language", help="Language of names: zh-TW or en.")
]


def _print_frame(
    frame: pd.DataFrame,
    title: str,
    as_json: bool,
    shown: dict[str, str] | None = None,
) -> None:
    """JSON of every column, or a table of the ``shown`` columns (all by default)."""
    if as_json:
        records = frame.astype(object).where(frame.notna(), None).to_dict("records")
        typer.echo(json.dumps(records, ensure_ascii=False, indent=2, default=str))
        return
    shown = shown or {str(column): str(column) for column in frame.columns}
    table = Table(title=title)
    for column, header in shown.items():
        numeric = frame[column].dtype.kind in "if"
        table.add_column(header, justify="right" if numeric else "left")
    for row in frame[list(shown)].itertuples(index=False):
        table.add_row(
            *(_cell(name, value) for name, value in zip(shown, row, strict=True))
        )
    console.print(table)


def _cell(name: str, value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if name.endswith("_share") or name == "churn_risk":
        return f"{value:.1%}"
    if isinstance(value, float):
        return f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


@app.command("pyramid")
def pyramid(language: LanguageOption = "en", as_json: JsonOption = False) -> None:
    """The customer value pyramid: customers, revenue and CLV per value tier."""
    from cxloop.customers import summaries

    frame = summaries.value_pyramid(settings=get_settings(), language=language)
    shown = {
        "name": "tier",
        "customers": "customers",
        "customer_share": "% customers",
        "revenue": "revenue",
        "revenue_share": "% revenue",
        "clv": "CLV (12 months)",
        "churn_risk": "churn risk",
    }
    _print_frame(frame, "value pyramid", as_json, shown)


@app.command("rfm")
def rfm(language: LanguageOption = "en", as_json: JsonOption = False) -> None:
    """Customers, revenue, recency and churn risk per named RFM segment."""
    from cxloop.customers import summaries

    frame = summaries.rfm_overview(settings=get_settings(), language=language)
    shown = {
        "name": "segment",
        "customers": "customers",
        "customer_share": "% customers",
        "revenue_share": "% revenue",
        "recency_days": "days since purchase",
        "churn_risk": "churn risk",
    }
    _print_frame(
        frame, "RFM segments (--json adds the suggested action)", as_json, shown
    )


@app.command("clusters")
def clusters(as_json: JsonOption = False) -> None:
    """The behaviour clusters, each described in words, with size, spend and risk."""
    from cxloop.customers import summaries

    shown = {
        "label": "cluster",
        "customers": "customers",
        "revenue": "mean revenue",
        "orders": "mean orders",
        "recency_days": "days since purchase",
        "churn_risk": "churn risk",
    }
    frame = summaries.cluster_overview(settings=get_settings())
    _print_frame(frame, "behaviour clusters", as_json, shown)


@app.command("create")
def create(
    path: Annotated[
        Path, typer.Argument(help="YAML or JSON file of one or more segment rules.")
    ],
) -> None:
    """Save the segments a file defines (by key: an existing key is replaced)."""
    from cxloop.customers import segments

    saved = segments.load_segment_file(settings=get_settings(), path=path)
    console.print(_segments_table(saved))


@app.command("list")
def list_(as_json: JsonOption = False) -> None:
    """The saved segments and their sizes."""
    from cxloop.customers import segments

    saved = segments.list_segments(settings=get_settings())
    if as_json:
        rows = [
            {
                "key": s.key,
                "name": s.name,
                "members": s.members,
                "refreshed_at": s.refreshed_at.isoformat() if s.refreshed_at else None,
                "definition": s.definition,
            }
            for s in saved
        ]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    console.print(_segments_table(saved))


@app.command("refresh")
def refresh(
    keys: Annotated[
        list[str] | None, typer.Argument(help="Segments to refresh; all when none.")
    ] = None,
) -> None:
    """Evaluate the rules of saved segments again and store who is in them."""
    from cxloop.customers import segments

    saved = segments.refresh_segments(settings=get_settings(), keys=keys or None)
    console.print(_segments_table(saved))


@app.command("members")
def members(
    key: Annotated[str, typer.Argument(help="The saved segment.")],
) -> None:
    """The ids of the customers in a saved segment, one per line."""
    from cxloop.customers import segments

    for customer_id in segments.segment_members(settings=get_settings(), key=key):
        typer.echo(customer_id)


@app.command("delete")
def delete(key: Annotated[str, typer.Argument(help="The saved segment.")]) -> None:
    """Forget a saved segment."""
    from cxloop.customers import segments

    segments.delete_segment(settings=get_settings(), key=key)
    console.print(f"segment {key} deleted")


def _segments_table(saved: list[SegmentInfo]) -> Table:
    table = Table(title="saved segments")
    table.add_column("key")
    table.add_column("name")
    table.add_column("members", justify="right")
    table.add_column("refreshed")
    for segment in saved:
        when = f"{segment.refreshed_at:%Y-%m-%d %H:%M}" if segment.refreshed_at else ""
        table.add_row(segment.key, segment.name, f"{segment.members:,}", when)
    return table
