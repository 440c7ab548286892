"""``cxloop case ...``: Cases: the inbox, the workflow, replies and history."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cxloop.config import get_settings

if TYPE_CHECKING:
    from cxloop.loop.cases import CaseInfo

app = typer.Typer(
    help="Cases: the inbox, the workflow, replies and history.", no_args_is_help=True
)
console = Console()

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
IdArgument = Annotated[int, typer.Argument(help="The case's number.")]
AsOption = Annotated[
    str, typer.Option("--as", help="The e-mail of the person acting (a cxloop user).")
]


def _echo_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def _user(email: str) -> int:
    from cxloop.loop.cases import find_user_id

    return find_user_id(settings=get_settings(), email=email)


def _done(info: CaseInfo, what: str, as_json: bool = False) -> None:
    if as_json:
        _echo_json(asdict(info))
        return
    owner = info.owner_name or "—"
    console.print(
        f"Case {info.id} {what}: {info.status}, {info.priority} priority, "
        f"team {info.team_key or '—'}, owner {owner}",
        markup=False,
    )


@app.command("open")
def open_(
    title: Annotated[str, typer.Option(help="What the case is about.")],
    customer: Annotated[
        str | None, typer.Option(help="The customer: id, member id, e-mail or phone.")
    ] = None,
    description: Annotated[str | None, typer.Option(help="The details.")] = None,
    kind: Annotated[str, typer.Option(help="complaint, detractor, at_risk, request.")] = "complaint",
    priority: Annotated[str, typer.Option(help="low, normal, high or urgent.")] = "normal",
    channel: Annotated[str | None, typer.Option(help="Where it came in.")] = None,
    touchpoint: Annotated[str | None, typer.Option(help="The touchpoint.")] = None,
    topic: Annotated[list[str] | None, typer.Option(help="A topic (repeatable); routing uses it.")] = None,
    intent: Annotated[str | None, typer.Option(help="The customer's intent.")] = None,
    actor: Annotated[str, typer.Option("--as", help="Who opens it.")] = "cli",
    as_json: JsonOption = False,
) -> None:  # fmt: skip
    """Open a case; it is routed to a team and agent and gets its SLA due times."""
    from cxloop.customers.view import customer_360
    from cxloop.loop.cases import open_case

    settings = get_settings()
    customer_id = None
    if customer is not None:
        customer_id = customer_360(settings=settings, ref=customer, limit=1).id
    info = open_case(
        settings=settings, customer_id=customer_id, title=title,
        description=description, kind=kind, priority=priority, channel=channel,
        touchpoint=touchpoint, topics=topic or (), intent=intent, actor=actor,
    )  # fmt: skip
    _done(info, "opened", as_json)


def _due_text(info: CaseInfo) -> str:
    signal = info.due()
    if signal.due_at is None:
        return signal.state.value if signal.state.value == "paused" else "—"
    return f"{signal.state.value} {signal.due_at:%Y-%m-%d %H:%M} UTC"


@app.command("list")
def list_(
    view: Annotated[str, typer.Option(help="mine, team, unassigned, overdue or all.")] = "all",
    as_: Annotated[str | None, typer.Option("--as", help="Whose inbox (mine, team).")] = None,
    status: Annotated[str, typer.Option(help="open, any, or one status.")] = "open",
    priority: Annotated[str | None, typer.Option(help="Only this priority.")] = None,
    team: Annotated[str | None, typer.Option(help="Only this team's key.")] = None,
    page: Annotated[int, typer.Option(min=1, help="Page number.")] = 1,
    per_page: Annotated[int, typer.Option(min=1, max=200, help="Cases a page.")] = 50,
    as_json: JsonOption = False,
) -> None:  # fmt: skip
    """The inbox: open cases, most urgent first, with the next SLA due time."""
    from cxloop.loop.cases import list_cases

    found = list_cases(
        settings=get_settings(), view=view, user_id=_user(as_) if as_ else None,
        status=status, priority=priority, team_key=team, page=page, per_page=per_page,
    )  # fmt: skip
    if as_json:
        _echo_json({"total": found.total, "page": found.page,
                    "cases": [asdict(c) for c in found.items]})  # fmt: skip
        return
    table = Table(
        title=f"{view}: {found.total} cases (page {found.page}/{found.pages})"
    )
    for name in ("#", "title", "status", "priority", "team", "owner", "SLA"):
        table.add_column(name)
    for c in found.items:
        table.add_row(str(c.id), c.title, c.status, c.priority, c.team_key or "—",
                      c.owner_name or "—", _due_text(c))  # fmt: skip
    console.print(table)


@app.command("show")
def show(case_id: IdArgument, as_json: JsonOption = False) -> None:
    """One case: details, customer, SLA clocks and the whole history."""
    from cxloop.loop.cases import get_case

    detail = get_case(settings=get_settings(), case_id=case_id)
    if as_json:
        plain = asdict(detail)
        plain["customer"] = (
            {"id": detail.customer.id, "name": detail.customer.name}
            if detail.customer else None
        )  # fmt: skip
        _echo_json(plain)
        return
    _done(detail.info, "")
    console.print(detail.info.title, markup=False)
    if detail.description:
        console.print(detail.description, markup=False)
    for event in detail.events:
        who = event.actor_name or event.actor
        line = f"{event.at:%Y-%m-%d %H:%M}  {event.kind:<12} {who}"
        console.print(line + (f": {event.body}" if event.body else ""), markup=False)


@app.command("take")
def take(case_id: IdArgument, as_: AsOption) -> None:
    """Take an unowned case: you own it until you hand it over."""
    from cxloop.loop.cases import take_case

    info = take_case(settings=get_settings(), case_id=case_id, user_id=_user(as_))
    _done(info, "taken")


@app.command("comment")
def comment(
    case_id: IdArgument,
    as_: AsOption,
    body: Annotated[str, typer.Option(help="The note for colleagues.")],
) -> None:
    """Add a note for colleagues (it does not take the case)."""
    from cxloop.loop.cases import add_comment

    settings = get_settings()
    info = add_comment(
        settings=settings, case_id=case_id, user_id=_user(as_), body=body
    )
    _done(info, "commented")


@app.command("reply")
def reply(
    case_id: IdArgument,
    as_: AsOption,
    body: Annotated[str, typer.Option(help="The answer to the customer.")],
    article: Annotated[list[str] | None, typer.Option(help="SOURCE:ID of a knowledge-base article to append (repeatable).")] = None,
    email: Annotated[bool, typer.Option("--email/--no-email", help="Send it by e-mail, or only record an answer given another way.")] = True,
) -> None:  # fmt: skip
    """Answer the customer by e-mail; the first answer is the first response."""
    from cxloop.loop.cases import reply_to_customer

    info = reply_to_customer(
        settings=get_settings(), case_id=case_id, user_id=_user(as_), body=body,
        articles=article or (), send_email=email,
    )  # fmt: skip
    _done(info, "answered")


@app.command("status")
def status(
    case_id: IdArgument,
    as_: AsOption,
    to: Annotated[str, typer.Option(help="in_progress, waiting_on_customer, resolved or closed.")],
    resolution: Annotated[str | None, typer.Option(help="What was done (needed to resolve).")] = None,
) -> None:  # fmt: skip
    """Move the case along the workflow (resolving asks the customer afterwards)."""
    from cxloop.loop.cases import set_status

    info = set_status(settings=get_settings(), case_id=case_id, user_id=_user(as_),
                      status=to, resolution=resolution)  # fmt: skip
    _done(info, "moved")


@app.command("priority")
def priority(
    case_id: IdArgument,
    as_: AsOption,
    to: Annotated[str, typer.Option(help="low, normal, high or urgent.")],
) -> None:
    """Change the priority; the SLA due times follow."""
    from cxloop.loop.cases import set_priority

    info = set_priority(settings=get_settings(), case_id=case_id, user_id=_user(as_),
                        priority=to)  # fmt: skip
    _done(info, "reprioritised")


@app.command("hand-over")
def hand_over(
    case_id: IdArgument,
    as_: AsOption,
    to: Annotated[str, typer.Option(help="The e-mail of the agent taking over.")],
    note: Annotated[str | None, typer.Option(help="What they need to know.")] = None,
) -> None:
    """Hand your case over to another agent."""
    from cxloop.loop import cases

    info = cases.hand_over(settings=get_settings(), case_id=case_id,
                           user_id=_user(as_), to_user_id=_user(to), note=note)  # fmt: skip
    _done(info, "handed over")


@app.command("root-cause")
def root_cause(
    case_id: IdArgument,
    as_: AsOption,
    cause: Annotated[str, typer.Option(help="value, system or people.")],
    topic: Annotated[str | None, typer.Option(help="A taxonomy topic.")] = None,
) -> None:
    """Record why it happened: value, system or people, and a topic."""
    from cxloop.loop.cases import set_root_cause

    info = set_root_cause(settings=get_settings(), case_id=case_id,
                          user_id=_user(as_), root_cause=cause, topic=topic)  # fmt: skip
    _done(info, "root cause recorded")
