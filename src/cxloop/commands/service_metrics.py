"""``cxloop service ...``: Service metrics: FCR, AHT, response and resolution times, SLA, recovery."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cxloop.config import get_settings
from cxloop.domain.errors import InvalidInput

app = typer.Typer(
    help="Service metrics: FCR, AHT, response and resolution times, SLA, recovery.",
    no_args_is_help=True,
)
console = Console()

FromOption = Annotated[
    datetime | None,
    typer.Option("--from", formats=["%Y-%m-%d"], help="First day, inclusive."),
]
ToOption = Annotated[
    datetime | None,
    typer.Option("--to", formats=["%Y-%m-%d"], help="Last day, inclusive."),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print plain JSON instead of a table.")
]
ByOption = Annotated[
    str | None, typer.Option("--by", help="Cut by team, agent or channel.")
]


def _day(value: datetime | None) -> date | None:
    return value.date() if value else None


def _echo_json(records: Any) -> None:
    typer.echo(json.dumps(records, ensure_ascii=False, indent=2))


def duration(seconds: float | None) -> str:
    """``1 h 05 min``, ``12 min`` or ``3 d 4 h`` (empty for None)."""
    if seconds is None:
        return ""
    minutes = round(seconds / 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {mins:02d} min" if hours else f"{mins} min"


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.1f} %"


@app.command("metrics")
def metrics(
    by: ByOption = None,
    period: Annotated[
        str | None, typer.Option("--period", help="day, week, month or quarter.")
    ] = None,
    date_from: FromOption = None,
    date_to: ToOption = None,
    as_json: JsonOption = False,
) -> None:
    """FCR, AHT, first response and resolution time, SLA met, recovery, follow-up CSAT.

    Over the cases opened in the window (business-zone days), each figure with n.
    """
    from cxloop.loop import service_metrics as sm

    rows = sm.service_metrics(settings=get_settings(), by=by, period=period,
                              date_from=_day(date_from), date_to=_day(date_to))  # fmt: skip
    if as_json:
        _echo_json([sm.row_record(row) for row in rows])
        return
    table = Table(title="Service metrics", caption="times: median (mean); n per figure")
    for name in ("group", "period", "cases", "FCR", "AHT", "1st response",
                 "resolution", "SLA 1st", "SLA res.", "recovery", "follow-up CSAT"):  # fmt: skip
        table.add_column(
            name, justify="left" if name in ("group", "period") else "right"
        )
    for row in rows:
        table.add_row(
            row.group or ("" if by is None else "-"),
            row.period.isoformat() if row.period else "",
            f"{row.cases}",
            f"{_pct(row.fcr.value)} ({row.fcr.n})",
            duration(row.aht_seconds.value),
            f"{duration(row.first_response_median.value)} "
            f"({duration(row.first_response_mean.value)})",
            f"{duration(row.resolution_median.value)} "
            f"({duration(row.resolution_mean.value)})",
            f"{_pct(row.sla_first_response.value)} ({row.sla_first_response.n})",
            f"{_pct(row.sla_resolution.value)} ({row.sla_resolution.n})",
            f"{_pct(row.recovery.value)} ({row.recovery.n})",
            f"{_pct(row.followup_csat.value)} ({row.followup_csat.n})",
        )
    console.print(table)


@app.command("leaderboard")
def leaderboard(
    date_from: FromOption = None,
    date_to: ToOption = None,
    min_cases: Annotated[
        int, typer.Option("--min-cases", help="Fewest cases an agent needs to rank.")
    ] = 5,
    as_json: JsonOption = False,
) -> None:
    """Agents ranked on follow-up CSAT, FCR and SLA met (mean of the three ranks)."""
    from cxloop.loop import service_metrics as sm

    rows = sm.leaderboard(settings=get_settings(), date_from=_day(date_from),
                          date_to=_day(date_to), min_cases=min_cases)  # fmt: skip
    if as_json:
        _echo_json([sm.leader_record(row) for row in rows])
        return
    table = Table(
        title="Agent leaderboard", caption="score: mean rank (lower is better)"
    )
    for name in ("rank", "agent", "cases", "follow-up CSAT", "FCR", "SLA met", "score"):
        table.add_column(name, justify="left" if name == "agent" else "right")
    for row in rows:
        table.add_row(
            str(row.rank), row.agent, str(row.cases),
            f"{_pct(row.followup_csat.value)} ({row.followup_csat.n})",
            f"{_pct(row.fcr.value)} ({row.fcr.n})",
            f"{_pct(row.sla_met.value)} ({row.sla_met.n})", f"{row.score:.2f}",
        )  # fmt: skip
    console.print(table)


@app.command("recovery")
def recovery(
    date_from: FromOption = None,
    date_to: ToOption = None,
    by: ByOption = None,
    as_json: JsonOption = False,
) -> None:
    """Detractors (NPS 0-6) of the window who later answered 7 or more."""
    from cxloop.loop.recovery import recovery_report

    report = recovery_report(settings=get_settings(), date_from=_day(date_from),
                             date_to=_day(date_to), by=by)  # fmt: skip
    rows = [report.overall, *report.rows]
    if as_json:
        _echo_json([_recovery_record(row, i == 0) for i, row in enumerate(rows)])
        return
    table = Table(title="Recovery of detractors")
    for name in ("group", "detractors", "answered again", "recovered", "promoters",
                 "passives", "rate", "rate (answered)"):  # fmt: skip
        table.add_column(name, justify="left" if name == "group" else "right")
    for i, row in enumerate(rows):
        label = "all" if i == 0 else (row.group or "(no case)")
        table.add_row(label, str(row.detractors), str(row.answered_again),
                      str(row.recovered), str(row.promoters), str(row.passives),
                      _pct(row.rate), _pct(row.rate_answered))  # fmt: skip
    console.print(table)


def _recovery_record(row: Any, overall: bool) -> dict[str, Any]:
    return {
        "group": "all" if overall else row.group,
        "detractors": row.detractors, "answered_again": row.answered_again,
        "recovered": row.recovered, "promoters": row.promoters,
        "passives": row.passives, "rate": row.rate,
        "rate_answered": row.rate_answered,
    }  # fmt: skip


@app.command("followups")
def followups(as_json: JsonOption = False) -> None:
    """Send the due follow-up surveys (and reminders) of resolved cases; collect answers.

    A running ``cxloop serve`` does this in the background; run it from cron
    otherwise.
    """
    from cxloop.loop.followup_sending import run_followups

    done = run_followups(settings=get_settings())
    record = {"sent": done.sent, "skipped": done.skipped, "failed": done.failed,
              "reminded": done.reminded, "reminders_failed": done.reminders_failed,
              "answered": done.answered, "errors": list(done.errors)}  # fmt: skip
    if as_json:
        _echo_json(record)
        return
    console.print(
        f"follow-ups: {done.sent} sent, {done.skipped} skipped, {done.failed} failed; "
        f"{done.reminded} reminders sent; {done.answered} answers recorded on cases"
    )
    for error in done.errors:
        console.print(f"[red]{error}[/red]")


@app.command("announce")
def announce(
    initiative: Annotated[int, typer.Option("--initiative", help="Initiative id.")],
    subject: Annotated[str, typer.Option("--subject", help="E-mail subject.")],
    body: Annotated[
        str | None, typer.Option("--body", help="E-mail text (or --body-file).")
    ] = None,
    body_file: Annotated[
        Path | None,
        typer.Option("--body-file", help="UTF-8 file with the e-mail text."),
    ] = None,
    segment: Annotated[
        str | None, typer.Option("--segment", help="Tell this saved segment instead.")
    ] = None,
    customer: Annotated[
        list[int] | None,
        typer.Option("--customer", help="Tell this customer id instead (repeatable)."),
    ] = None,
) -> None:
    """E-mail customers that an improvement they asked for has shipped.

    By default: everyone who answered the initiative's metric in its scope.
    Unsubscribed customers are never mailed. Recorded as a done action.
    """
    from cxloop.loop.announcements import announce_improvement

    text = _body(body, body_file)
    done = announce_improvement(settings=get_settings(), initiative_id=initiative,
                                segment_key=segment, customer_ids=customer,
                                subject=subject, body=text)  # fmt: skip
    skipped = ", ".join(f"{n} {why}" for why, n in done.skipped.items()) or "none"
    console.print(
        f"initiative {initiative}: {done.sent} of {done.customers} customers told, "
        f"{done.failed} failed; skipped: {skipped}"
    )
    for error in done.errors:
        console.print(f"[red]{error}[/red]")


def _body(body: str | None, body_file: Path | None) -> str:
    if (body is None) == (body_file is None):
        raise InvalidInput("give the text with --body or --body-file (one of the two)")
    if body_file is None:
        return body or ""
    try:
        return body_file.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InvalidInput(f"{body_file}: no such file") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"{body_file}: is not UTF-8 text") from None
