"""``cxloop experiment``: A/B experiments: plan the sample, assign arms, analyse without peeking."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cxloop.config import get_settings
from cxloop.domain.errors import InvalidInput

if TYPE_CHECKING:
    from cxloop.improve.experiments import ExperimentAnalysis, ExperimentInfo

app = typer.Typer(
    help="A/B experiments: plan the sample, assign arms, analyse without peeking.",
    no_args_is_help=True,
)
console = Console()

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
AnalysisOption = Annotated[
    str, typer.Option("--analysis", help="proportion, mean or nps.")
]
BaselineOption = Annotated[
    float,
    typer.Option(
        "--baseline",
        help="Control's current value: a share 0-1 (proportion), a mean, or an NPS.",
    ),
]
MdeOption = Annotated[
    float,
    typer.Option("--mde", help="Smallest effect worth detecting, in the same unit."),
]
LooksOption = Annotated[
    int, typer.Option("--looks", help="Planned looks (2+ = group-sequential design).")
]
ArmsOption = Annotated[
    int, typer.Option("--arms", help="Number of arms, control included.")
]
SdOption = Annotated[
    float | None,
    typer.Option("--sd", help="Standard deviation of the outcome (mean analysis)."),
]
AlphaOption = Annotated[float, typer.Option("--alpha", help="Overall error rate.")]
PowerOption = Annotated[float, typer.Option("--power", help="Power, e.g. 0.8.")]


def _arm_list(text: str) -> list[tuple[str, float]]:
    """``control,script_b`` or ``control:2,script_b:1`` (weights)."""
    arms = []
    for item in text.split(","):
        name, _, weight = item.strip().partition(":")
        try:
            arms.append((name.strip(), float(weight) if weight else 1.0))
        except ValueError:
            raise InvalidInput(f"arm weight {weight!r} is not a number") from None
    return arms


def _echo_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def _print_info(info: ExperimentInfo, as_json: bool) -> None:
    if as_json:
        _echo_json(dataclasses.asdict(info))
        return
    plan = info.plan
    arms = ", ".join(f"{name} ({info.assigned[name]})" for name, _ in info.arms)
    console.print(f"[bold]{info.key}[/] {info.name} · {info.status} · {info.analysis}")
    console.print(f"arms: {arms}")
    console.print(
        f"horizon: {plan['n_per_arm']:,} outcomes per arm, {plan['looks']} look(s)"
    )
    if plan["boundaries"]:
        bounds = ", ".join(f"{b:.3f}" for b in plan["boundaries"])
        console.print(f"z boundaries per look: {bounds}")


@app.command("plan")
def plan(
    analysis: AnalysisOption,
    baseline: BaselineOption,
    mde: MdeOption,
    arms: ArmsOption = 2,
    looks: LooksOption = 1,
    sd: SdOption = None,
    alpha: AlphaOption = 0.05,
    power: PowerOption = 0.8,
    as_json: JsonOption = False,
) -> None:
    """Sample size only: outcomes needed per arm (nothing is stored)."""
    from cxloop.improve.experiments import plan_sample

    result = plan_sample(
        analysis=analysis, baseline=baseline, mde=mde, arms=arms, alpha=alpha,
        power=power, looks=looks, sd=sd,
    )  # fmt: skip
    if as_json:
        _echo_json(result)
        return
    console.print(f"{result['n_per_arm']:,} outcomes per arm ({arms} arms)")
    if result["boundaries"]:
        console.print(
            "z boundaries: " + ", ".join(f"{b:.3f}" for b in result["boundaries"])
        )


@app.command("create")
def create(
    key: Annotated[str, typer.Argument(help="Short unique key.")],
    name: Annotated[str, typer.Option("--name", help="Name shown to people.")],
    arms: Annotated[
        str, typer.Option("--arms", help="Arms, control first: control,script_b")
    ],
    analysis: AnalysisOption,
    baseline: BaselineOption,
    mde: MdeOption,
    unit: Annotated[str, typer.Option("--unit", help="customer or case.")] = "customer",
    looks: LooksOption = 1,
    metric: Annotated[
        str | None,
        typer.Option("--metric", help="Read outcomes from answers: nps, csat or ces."),
    ] = None,
    sd: SdOption = None,
    alpha: AlphaOption = 0.05,
    power: PowerOption = 0.8,
    description: Annotated[
        str | None, typer.Option("--description", help="What is tested and why.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a draft experiment with its fixed plan."""
    from cxloop.improve.experiments import create_experiment

    info = create_experiment(
        settings=get_settings(), key=key, name=name, arms=_arm_list(arms), unit=unit,
        analysis=analysis, mde=mde, baseline=baseline, alpha=alpha, power=power,
        looks=looks, description=description, metric=metric, sd=sd,
    )  # fmt: skip
    _print_info(info, as_json)


@app.command("assign")
def assign(
    key: Annotated[str, typer.Argument(help="Experiment key.")],
    segment: Annotated[
        str | None, typer.Option("--segment", help="Assign a saved segment.")
    ] = None,
    ids: Annotated[
        Path | None, typer.Option("--ids", help="File of unit ids, one per line.")
    ] = None,
) -> None:
    """Randomise customers or cases to arms (an assigned unit keeps its arm)."""
    from cxloop.improve import experiments

    settings = get_settings()
    if segment is not None and ids is None:
        result = experiments.assign_segment(
            settings=settings, key=key, segment_key=segment
        )
    elif ids is not None and segment is None:
        unit_ids = experiments.read_unit_ids(ids)
        result = experiments.assign(settings=settings, key=key, unit_ids=unit_ids)
    else:
        raise InvalidInput("give exactly one of --segment or --ids")
    counts: dict[str, int] = {}
    for arm in result.values():
        counts[arm] = counts.get(arm, 0) + 1
    console.print(
        f"{len(result):,} units: "
        + ", ".join(f"{a} {n:,}" for a, n in sorted(counts.items()))
    )


@app.command("start")
def start(key: Annotated[str, typer.Argument(help="Experiment key.")]) -> None:
    """Start an experiment: outcomes count from now."""
    from cxloop.improve.experiments import start_experiment

    info = start_experiment(settings=get_settings(), key=key)
    console.print(f"{info.key} started at {info.started_at:%Y-%m-%d %H:%M} UTC")


@app.command("stop")
def stop(key: Annotated[str, typer.Argument(help="Experiment key.")]) -> None:
    """Stop an experiment: later outcomes no longer count."""
    from cxloop.improve.experiments import stop_experiment

    info = stop_experiment(settings=get_settings(), key=key)
    console.print(f"{info.key} stopped at {info.stopped_at:%Y-%m-%d %H:%M} UTC")


@app.command("list")
def list_(as_json: JsonOption = False) -> None:
    """Every experiment with its status, horizon and arm sizes."""
    from cxloop.improve.experiments import list_experiments

    infos = list_experiments(settings=get_settings())
    if as_json:
        _echo_json([dataclasses.asdict(i) for i in infos])
        return
    table = Table(title="experiments")
    for column in ("key", "name", "status", "analysis", "per arm", "assigned"):
        table.add_column(column)
    for i in infos:
        assigned = ", ".join(f"{a} {n:,}" for a, n in i.assigned.items())
        table.add_row(
            i.key, i.name, i.status, i.analysis, f"{i.plan['n_per_arm']:,}", assigned
        )
    console.print(table)


@app.command("analyse")
def analyse(
    key: Annotated[str, typer.Argument(help="Experiment key.")],
    outcomes: Annotated[
        Path | None,
        typer.Option("--outcomes", help="CSV/XLSX/JSONL of outcomes per unit."),
    ] = None,
    id_column: Annotated[
        str, typer.Option("--id-column", help="Column of unit ids.")
    ] = "unit_id",
    outcome_column: Annotated[
        str, typer.Option("--outcome-column", help="Column of outcomes.")
    ] = "outcome",
    as_json: JsonOption = False,
) -> None:
    """Each arm against the control, with the horizon and peeking guard."""
    from cxloop.improve import experiments

    frame = None
    if outcomes is not None:
        frame = experiments.read_outcomes(
            outcomes, id_column=id_column, outcome_column=outcome_column
        )
    result = experiments.analyse(settings=get_settings(), key=key, outcomes=frame)
    if as_json:
        _echo_json(dataclasses.asdict(result))
        return
    _print_analysis(result)


def _print_analysis(result: ExperimentAnalysis) -> None:
    share = result.analysis == "proportion"
    table = Table(title=f"{result.key} ({result.analysis})")
    for column in (
        "arm",
        "assigned",
        "n",
        "value",
        "effect",
        "95 % CI",
        "p",
        "verdict",
    ):
        table.add_column(
            column, justify="left" if column in ("arm", "verdict") else "right"
        )
    for arm in result.arms:
        effect = result.effects.get(arm.arm)
        fmt = "{:+.1%}" if share else "{:+.2f}"
        cells = ["", "", "", result.verdicts.get(arm.arm, "control")]
        if effect is not None:
            ci = f"{fmt.format(effect.ci_low)} … {fmt.format(effect.ci_high)}"
            cells = [fmt.format(effect.estimate), ci, f"{effect.p_value:.3f}", cells[3]]
        value = (
            ""
            if arm.value is None
            else (f"{arm.value:.1%}" if share else f"{arm.value:.2f}")
        )
        table.add_row(arm.arm, f"{arm.assigned:,}", f"{arm.n:,}", value, *cells)
    console.print(table)
    console.print(f"[bold]{result.decision.replace('_', ' ')}[/]: {result.message}")
    if result.unassigned_outcomes:
        console.print(
            f"{result.unassigned_outcomes:,} outcomes of unassigned units left out"
        )
