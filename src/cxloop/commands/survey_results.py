"""``cxloop survey results KEY``: invitations, rates, each metric with its margin."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cxloop.commands.survey import app
from cxloop.config import get_settings

if TYPE_CHECKING:
    from cxloop.surveys.results import SurveyResults

__all__ = ["app"]
console = Console()


@app.command("results")
def results(
    key: Annotated[str, typer.Argument(help="The survey's key.")],
    date_from: Annotated[
        datetime | None,
        typer.Option("--from", formats=["%Y-%m-%d"], help="First day, inclusive."),
    ] = None,
    date_to: Annotated[
        datetime | None,
        typer.Option("--to", formats=["%Y-%m-%d"], help="Last day, inclusive."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print plain JSON to stdout.")
    ] = False,
) -> None:
    """Invitations sent, response and completion rates, each question's metric with
    its 95 % margin and n, SERVQUAL gaps and the CX index, and the latest verbatims."""
    from cxloop.surveys.results import survey_results

    found = survey_results(
        settings=get_settings(),
        key=key,
        date_from=date_from.date() if date_from else None,
        date_to=date_to.date() if date_to else None,
    )
    if as_json:
        typer.echo(
            json.dumps(_plain(found), ensure_ascii=False, indent=2, default=_iso)
        )
        return
    console.print(_summary_table(found))
    console.print(_questions_table(found))
    if found.servqual or found.cx_index:
        console.print(_composites_table(found))
    for verbatim in found.verbatims.items[:5]:
        score = "" if verbatim.score is None else f"[{verbatim.score:g}] "
        console.print(f"{score}{verbatim.text}", markup=False, highlight=False)


def _plain(found: SurveyResults) -> dict[str, Any]:
    plain = asdict(found)
    plain.pop("spec")
    return plain


def _iso(value: date | datetime) -> str:
    return value.isoformat()


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def _summary_table(found: SurveyResults) -> Table:
    inv = found.invitations
    table = Table(title=f"{found.key} ({found.status})", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    skipped = ", ".join(f"{why} {n}" for why, n in inv.skipped.items()) or "0"
    for name, value in (
        ("invitations sent", str(inv.sent)), ("queued", str(inv.queued)),
        ("failed", str(inv.failed)), ("skipped", skipped),
        ("responses", str(found.responses)), ("complete", str(found.complete)),
        ("response rate", _percent(found.response_rate)),
        ("completion rate", _percent(found.completion_rate)),
    ):  # fmt: skip
        table.add_row(name, value)
    return table


def _questions_table(found: SurveyResults) -> Table:
    table = Table(title="Questions", caption="± is the 95 % margin of error")
    for name in ("question", "type", "metric", "value", "±", "n", "answers"):
        table.add_column(
            name, justify="left" if name in ("question", "type") else "right"
        )
    for q in found.questions:
        score = q.score
        digits = 2 if q.kind in ("ces", "rating") else 1
        cells = ["", "", "", ""]
        if score is not None:
            cells = [
                score.metric,
                _num(score.value, digits),
                _num(score.moe, digits),
                str(score.n),
            ]
        table.add_row(q.key, q.kind, *cells, str(q.answered))
    return table


def _num(value: float | None, digits: int) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _composites_table(found: SurveyResults) -> Table:
    table = Table(title="SERVQUAL gaps and CX index")
    for name in ("item", "value", "95 % interval", "n"):
        table.add_column(name, justify="left" if name == "item" else "right")
    for gap in found.servqual or []:
        interval = "" if gap.low is None else f"{gap.low:.2f} – {gap.high:.2f}"
        table.add_row(f"gap {gap.dimension}", f"{gap.gap:+.2f}", interval, str(gap.n))
    if found.cx_index is not None:
        for pillar, score in found.cx_index.pillars.items():
            table.add_row(f"CX {pillar}", _num(score, 1), "", "")
        table.add_row(
            "CX index", _num(found.cx_index.score, 1), "", str(found.cx_index.n)
        )
    return table
