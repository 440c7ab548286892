"""``cxloop initiative``: PDCA improvement initiatives: plan, do, check with data, act."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cxloop.config import get_settings
from cxloop.domain.errors import InvalidInput

if TYPE_CHECKING:
    from cxloop.improve.checks import CheckResult
    from cxloop.improve.initiatives import InitiativeView

app = typer.Typer(
    help="PDCA improvement initiatives: plan, do, check with data, act.",
    no_args_is_help=True,
)
action_app = typer.Typer(
    help="The actions of an initiative's plan.", no_args_is_help=True
)
app.add_typer(action_app, name="action")
console = Console()

DAY = ["%Y-%m-%d"]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
IdArgument = Annotated[int, typer.Argument(help="The initiative's id.")]
FiltersOption = Annotated[
    list[str] | None, typer.Option(help="FIELD=VALUE (repeatable).")
]
DayOption = Annotated[datetime | None, typer.Option(formats=DAY, help="YYYY-MM-DD.")]


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


def _echo_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def _plain(view: InitiativeView) -> dict[str, Any]:
    plain = asdict(view)
    plain["latest_check"] = plain["checks"][0] if plain["checks"] else None
    return plain


@app.command("create")
def create(
    title: Annotated[str, typer.Option(help="What the initiative changes.")],
    metric: Annotated[str, typer.Option(help="The goal metric: nps, csat or ces.")] = "nps",
    scope: Annotated[
        list[str] | None,
        typer.Option(help="Who the change touches, FIELD=VALUE (repeatable): "
                     "touchpoint, channel, region, segment, a customer attribute…"),
    ] = None,
    comparison: Annotated[
        list[str] | None,
        typer.Option(help="An untouched comparison group, FIELD=VALUE (repeatable)."),
    ] = None,
    baseline_from: DayOption = None,
    baseline_to: DayOption = None,
    target: Annotated[float | None, typer.Option(help="The value to reach.")] = None,
    target_date: DayOption = None,
    owner: Annotated[str | None, typer.Option(help="Who is responsible.")] = None,
    problem: Annotated[str | None, typer.Option(help="The problem statement.")] = None,
    evidence: Annotated[
        str | None,
        typer.Option(help="KIND=VALUE: topic, touchpoint, driver or segment."),
    ] = None,
) -> None:  # fmt: skip
    """Plan an initiative; its baseline is computed (default: the last 90 days)."""
    from cxloop.analytics.service import parse_where
    from cxloop.improve import initiatives

    view = initiatives.create_initiative(
        settings=get_settings(), title=title, metric=metric,
        scope=parse_where(scope or []), comparison=parse_where(comparison or []) or None,
        baseline_from=_day(baseline_from), baseline_to=_day(baseline_to),
        target_value=target, target_date=_day(target_date), owner=owner,
        problem=problem, evidence=_evidence(evidence),
    )  # fmt: skip
    console.print(_summary_table(view))


def _evidence(raw: str | None) -> dict[str, str] | None:
    if raw is None:
        return None
    kind, sep, value = raw.partition("=")
    if not sep:
        raise InvalidInput(f"--evidence {raw!r} must look like KIND=VALUE")
    return {"kind": kind.strip(), "value": value.strip()}


@action_app.command("add")
def action_add(
    initiative_id: IdArgument,
    title: Annotated[str, typer.Option(help="What is to be done.")],
    owner: Annotated[str | None, typer.Option(help="Who does it.")] = None,
    due: DayOption = None,
) -> None:
    """Add an action with its owner and due date."""
    from cxloop.improve import initiatives

    action = initiatives.add_action(
        settings=get_settings(), initiative_id=initiative_id, title=title,
        owner=owner, due_date=_day(due),
    )  # fmt: skip
    console.print(f"action {action.id} added to initiative {initiative_id}")


@action_app.command("done")
def action_done(
    action_id: Annotated[int, typer.Argument(help="The action's id.")],
) -> None:
    """Mark an action done."""
    from cxloop.improve import initiatives

    action = initiatives.complete_action(settings=get_settings(), action_id=action_id)
    console.print(f"action {action.id} done at {action.done_at:%Y-%m-%d %H:%M} UTC")


@app.command("advance")
def advance(
    initiative_id: IdArgument,
    to: Annotated[str, typer.Option("--to", help="do, check, act or closed.")],
    change_date: Annotated[
        datetime | None,
        typer.Option(formats=DAY, help="For do: the day the change went live."),
    ] = None,
) -> None:
    """Move to the next stage (entering check runs the Check)."""
    from cxloop.improve import initiatives

    view = initiatives.advance(
        settings=get_settings(), initiative_id=initiative_id, to_stage=to,
        change_date=_day(change_date),
    )  # fmt: skip
    console.print(_summary_table(view))


@app.command("check")
def check(
    initiative_id: IdArgument,
    as_of: Annotated[
        datetime | None,
        typer.Option(formats=DAY, help="Last day measured (default: latest data)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Compare the goal metric after the change with the baseline, and store it."""
    from cxloop.improve.checks import check_initiative

    result = check_initiative(
        settings=get_settings(), initiative_id=initiative_id, as_of=_day(as_of)
    )
    if as_json:
        _echo_json(result.to_dict())
        return
    console.print(_check_table(result))
    console.print(result.summary["en"], highlight=False)


@app.command("act")
def act(
    initiative_id: IdArgument,
    standardise: Annotated[
        str | None,
        typer.Option("--standardise", help="The new standard: what everyone does now."),
    ] = None,
    adjust: Annotated[
        bool, typer.Option("--adjust", help="Open a new Plan linked to this one.")
    ] = False,
    title: Annotated[str | None, typer.Option(help="Title of the new Plan.")] = None,
) -> None:
    """Standardise the change or adjust it (a new Plan); the initiative is closed."""
    from cxloop.improve import initiatives

    if (standardise is None) == (not adjust):
        raise InvalidInput("give exactly one of --standardise TEXT and --adjust")
    settings = get_settings()
    if standardise is not None:
        view = initiatives.standardise(
            settings=settings, initiative_id=initiative_id, standard=standardise
        )
    else:
        view = initiatives.adjust(
            settings=settings, initiative_id=initiative_id, title=title
        )
    console.print(_summary_table(view))


@app.command("list")
def list_(
    stage: Annotated[str | None, typer.Option(help="Only this stage.")] = None,
    as_json: JsonOption = False,
) -> None:
    """The initiatives, newest first, with their stage and latest verdict."""
    from cxloop.improve import initiatives

    views = initiatives.list_initiatives(settings=get_settings(), stage=stage)
    if as_json:
        _echo_json([_plain(view) for view in views])
        return
    table = Table(title="initiatives")
    for name in ("id", "title", "metric", "scope", "stage", "baseline", "outcome"):
        table.add_column(name, justify="right" if name == "id" else "left")
    for view in views:
        table.add_row(
            str(view.id), view.title, view.metric.upper(), _filters(view.scope),
            view.stage, _number(view.metric, (view.baseline or {}).get("value")),
            view.outcome or "",
        )  # fmt: skip
    console.print(table)


@app.command("show")
def show(initiative_id: IdArgument, as_json: JsonOption = False) -> None:
    """One initiative: goal, baseline, target, actions, stages and checks."""
    from cxloop.improve import initiatives

    view = initiatives.get_initiative(
        settings=get_settings(), initiative_id=initiative_id
    )
    if as_json:
        _echo_json(_plain(view))
        return
    console.print(_summary_table(view))
    if view.actions:
        actions = Table(title="actions")
        for name in ("id", "title", "owner", "due", "done"):
            actions.add_column(name)
        for a in view.actions:
            done = f"{a.done_at:%Y-%m-%d}" if a.done_at else ""
            actions.add_row(
                str(a.id), a.title, a.owner or "", str(a.due_date or ""), done
            )
        console.print(actions)
    if view.latest_check is not None:
        console.print(view.latest_check.result.get("summary", {}).get("en", ""))


def _filters(filters: dict[str, str] | None) -> str:
    return ", ".join(f"{k}={v}" for k, v in (filters or {}).items()) or "(all)"


def _number(metric: str, value: float | None) -> str:
    return "" if value is None else f"{value:.{2 if metric == 'ces' else 1}f}"


def _summary_table(view: InitiativeView) -> Table:
    table = Table(title=f"initiative {view.id}: {view.title}", show_header=False)
    table.add_column("field")
    table.add_column("value")
    baseline = view.baseline or {}
    rows = {
        "stage": view.stage,
        "metric": view.metric.upper(),
        "scope": _filters(view.scope),
        "comparison": _filters(view.comparison) if view.comparison else "",
        "baseline": f"{_number(view.metric, baseline.get('value'))} "
        f"(n = {baseline.get('n', 0)}, {view.baseline_from} to {view.baseline_to})",
        "target": f"{_number(view.metric, view.target_value)} {view.target_date or ''}",
        "change date": str(view.change_date or ""),
        "stages": ", ".join(f"{k} {v[:10]}" for k, v in view.stage_dates.items()),
        "outcome": view.outcome or "",
        "decision": view.decision or "",
        "standard": view.standard or "",
        "parent": str(view.parent_id or ""),
    }
    for name, value in rows.items():
        if value.strip():
            table.add_row(name, value)
    return table


def _check_table(result: CheckResult) -> Table:
    table = Table(title=f"check of initiative {result.initiative_id}: {result.outcome}")
    for name in ("group", "from", "to", "value", "n", "± moe"):
        table.add_column(name, justify="left" if name == "group" else "right")
    groups = {"before": result.before, "after": result.after,
              "comparison before": result.comparison_before,
              "comparison after": result.comparison_after}  # fmt: skip
    for name, w in groups.items():
        if w is not None:
            table.add_row(
                name, str(w.first), str(w.last), _number(result.metric, w.value),
                str(w.n), _number(result.metric, w.moe),
            )  # fmt: skip
    return table
