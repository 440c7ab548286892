"""``cxloop survey send|dispatch|trigger|invitations|unsubscribe``: distribution.

These commands join the ``survey`` group of :mod:`cxloop.commands.survey`. ``send``
queues personal invitations, ``dispatch`` sends what is due (run it from cron, or with
``--watch``), ``trigger`` sends a survey after each purchase, resolved case or
interaction.
"""

from __future__ import annotations

import json
import re
import threading
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from cxloop.commands.options import CustomerColumnOption
from cxloop.commands.survey import JsonOption, KeyArgument, app
from cxloop.config import get_settings
from cxloop.domain.errors import InvalidInput

if TYPE_CHECKING:
    from cxloop.surveys.dispatch import DispatchSummary
    from cxloop.surveys.triggers import TriggerInfo

console = Console()
trigger_app = typer.Typer(
    help="Send a survey after each purchase, resolved case or interaction.",
    no_args_is_help=True,
)
app.add_typer(trigger_app, name="trigger")

_DELAY = re.compile(r"^\s*(\d+)\s*([mhd]?)\s*$")
_MINUTES = {"": 1, "m": 1, "h": 60, "d": 1440}


def parse_delay(text: str) -> int:
    """Minutes in ``90``, ``30m``, ``2h`` or ``3d``."""
    match = _DELAY.match(text.lower())
    if match is None:
        raise InvalidInput(f"delay {text!r}: write minutes, or 30m, 2h, 3d")
    return int(match.group(1)) * _MINUTES[match.group(2)]


def parse_time(text: str, timezone: str) -> datetime:
    """An ISO date-time; one without a zone is read in the business time zone."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        msg = f"time {text!r}: write 2026-03-02 09:00 (business time) or ISO 8601"
        raise InvalidInput(msg) from None
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(timezone))


@app.command("send")
def send(
    key: KeyArgument,
    segment: Annotated[
        str | None, typer.Option("--segment", help="Invite a saved segment's members.")
    ] = None,
    customers: Annotated[
        str | None,
        typer.Option(
            "--customers",
            help="A file (CSV, XLSX, JSON Lines) with a customer column, or "
            "comma-separated ids, member ids or e-mails.",
        ),
    ] = None,
    customer_column: CustomerColumnOption = "customer_id",
    at: Annotated[
        str | None,
        typer.Option("--at", help="Send at this time (business time zone if none)."),
    ] = None,
    now: Annotated[
        bool,
        typer.Option("--now", help="Send at once instead of waiting for dispatch."),
    ] = False,
    channel: Annotated[
        str,
        typer.Option("--channel", help="email, or link (make personal links only)."),
    ] = "email",
    as_json: JsonOption = False,
) -> None:
    """Queue personal invitations to KEY; skipped customers are listed by reason.

    The contact cap (CXLOOP_CONTACT_CAP_DAYS), unsubscribes and missing e-mail
    addresses are honoured. Queued invitations go out with `cxloop survey dispatch`
    (cron), a running `cxloop serve`, or at once with --now.
    """
    from cxloop.surveys import invitations, recipients

    settings = get_settings()
    if (segment is None) == (customers is None):
        raise InvalidInput("give --segment or --customers (one of the two)")
    ids = None
    if customers is not None:
        ids = recipients.customers_from(
            settings=settings, source=customers, column=customer_column
        )
    when = parse_time(at, settings.timezone) if at else None
    summary = invitations.invite_customers(
        settings=settings, survey_key=key, customer_ids=ids, segment_key=segment,
        send_after=when, channel=channel,
    )  # fmt: skip
    result: dict[str, Any] = {"queued": summary.queued,
                              "skipped": summary.skipped_by_reason()}  # fmt: skip
    if now and summary.queued and channel == "email":
        result["dispatch"] = _summary_dict(_dispatch_with_progress())
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    _print_counts(f"invitations to {key}", {"queued": summary.queued,
                  **{f"skipped: {r}": n for r, n in result["skipped"].items()}})  # fmt: skip
    if "dispatch" in result:
        _print_dispatch(result["dispatch"])


def _dispatch_with_progress() -> DispatchSummary:
    from cxloop.surveys.dispatch import dispatch_due

    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("sending", total=None)

        def report(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return dispatch_due(settings=get_settings(), progress=report)


def _summary_dict(summary: DispatchSummary) -> dict[str, Any]:
    return {
        "queued by triggers": summary.fired.queued,
        "skipped by triggers": summary.fired.skipped,
        "sent": summary.sent,
        "failed": summary.failed,
        "skipped": summary.skipped,
        "reminders": summary.reminders,
        "reminders failed": summary.reminders_failed,
        "interrupted earlier": summary.recovered,
        "errors": list(summary.errors),
    }


def _print_counts(title: str, counts: dict[str, int]) -> None:
    table = Table(title=title)
    table.add_column("what")
    table.add_column("count", justify="right")
    for name, count in counts.items():
        table.add_row(name, f"{count:,}")
    console.print(table)


def _print_dispatch(result: dict[str, Any]) -> None:
    errors = result.pop("errors")
    _print_counts("dispatch", result)
    for error in errors:
        console.print(f"failed: {error}", style="red", markup=False, highlight=False)


@app.command("dispatch")
def dispatch(
    watch: Annotated[
        float | None,
        typer.Option("--watch", help="Keep running: one pass every SECONDS."),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", help="Messages per pass at most.")
    ] = 500,
    as_json: JsonOption = False,
) -> None:
    """Fire triggers and send the invitations and reminders that are due.

    Run it from cron (every few minutes) or with --watch; several at once are safe.
    """
    from cxloop.surveys.dispatch import dispatch_due, run_forever

    settings = get_settings()
    if watch is None:
        result = _summary_dict(dispatch_due(settings=settings, limit=limit))
        if as_json:
            typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
        else:
            _print_dispatch(result)
        return

    def show(summary: DispatchSummary) -> None:
        if summary.sent or summary.failed or summary.reminders or summary.skipped:
            _print_dispatch(_summary_dict(summary))

    console.print(f"dispatching every {watch:g} s; Ctrl+C stops")
    try:
        run_forever(settings=settings, interval_seconds=watch,
                    stop=threading.Event(), on_pass=show)  # fmt: skip
    except KeyboardInterrupt:
        console.print("stopped")


@trigger_app.command("add")
def trigger_add(
    key: KeyArgument,
    event: Annotated[
        str, typer.Option("--event", help="purchase, case_resolved or interaction.")
    ],
    delay: Annotated[
        str, typer.Option("--delay", help="Wait after the event: 90, 30m, 2h, 3d.")
    ] = "0",
    touchpoint: Annotated[
        list[str] | None, typer.Option("--touchpoint", help="Only at this touchpoint.")
    ] = None,
    channel: Annotated[
        list[str] | None, typer.Option("--channel", help="Only on this channel.")
    ] = None,
    kind: Annotated[
        list[str] | None,
        typer.Option("--kind", help="Only this interaction or case kind."),
    ] = None,
    product: Annotated[
        list[str] | None, typer.Option("--product", help="Only this product.")
    ] = None,
    team: Annotated[
        list[str] | None, typer.Option("--team", help="Only cases of this team.")
    ] = None,
    max_age_days: Annotated[
        int | None,
        typer.Option("--max-age-days", help="Leave out older events (default 7)."),
    ] = None,
) -> None:
    """Send survey KEY after each new event (once per event; history is left out)."""
    from cxloop.surveys.triggers import add_trigger

    named = {"touchpoint": touchpoint, "channel": channel, "kind": kind,
             "product": product, "team": team}  # fmt: skip
    conditions: dict[str, Any] = {k: v for k, v in named.items() if v}
    if max_age_days is not None:
        conditions["max_age_days"] = max_age_days
    info = add_trigger(settings=get_settings(), survey_key=key, event=event,
                       delay_minutes=parse_delay(delay), conditions=conditions)  # fmt: skip
    console.print(
        f"trigger {info.id}: {_describe(info)}", markup=False, highlight=False
    )


def _describe(info: TriggerInfo) -> str:
    when = f"{info.delay_minutes} min after" if info.delay_minutes else "at"
    conditions = ", ".join(f"{k}={v}" for k, v in info.conditions.items())
    return f"send {info.survey_key} {when} each {info.event}" + (
        f" ({conditions})" if conditions else ""
    )


@trigger_app.command("list")
def trigger_list(as_json: JsonOption = False) -> None:
    """Every trigger with its survey, event, delay and conditions."""
    from cxloop.surveys.triggers import list_triggers

    triggers = list_triggers(settings=get_settings())
    if as_json:
        rows = [{**vars(t), "created_at": t.created_at.isoformat()} for t in triggers]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(title="survey triggers")
    for column in ("id", "survey", "event", "delay (min)", "conditions", "active"):
        table.add_column(column)
    for t in triggers:
        conditions = json.dumps(t.conditions, ensure_ascii=False)
        table.add_row(str(t.id), t.survey_key, t.event, str(t.delay_minutes),
                      conditions, "yes" if t.active else "no")  # fmt: skip
    console.print(table)


@trigger_app.command("disable")
def trigger_disable(
    trigger_id: Annotated[int, typer.Argument(help="Trigger id (trigger list).")],
) -> None:
    """Stop a trigger; invitations it already queued still go out."""
    from cxloop.surveys.triggers import disable_trigger

    disable_trigger(settings=get_settings(), trigger_id=trigger_id)
    console.print(f"trigger {trigger_id} disabled")


@app.command("invitations")
def invitation_counts(key: KeyArgument, as_json: JsonOption = False) -> None:
    """Invitations of survey KEY by status (queued, sent, failed, skipped, ...)."""
    from cxloop.surveys.invitations import invitation_counts as counts

    result = counts(settings=get_settings(), survey_key=key)
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    _print_counts(f"invitations to {key}", result)


@app.command("unsubscribe")
def unsubscribe(
    customer: Annotated[
        str,
        typer.Option("--customer", help="Customer id, member id, e-mail or phone."),
    ],
) -> None:
    """Stop survey e-mails to a customer (a request by phone or letter)."""
    from cxloop.surveys.invitations import unsubscribe_customer

    result = unsubscribe_customer(settings=get_settings(), customer=customer)
    state = "was already unsubscribed" if result.already else "is unsubscribed"
    console.print(f"customer {result.customer_id} {state}")
