"""``cxloop journey``: journey definitions, journey maps and customer paths."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from cxloop.config import get_settings

if TYPE_CHECKING:
    from cxloop.journeys.maps import JourneyMap
    from cxloop.journeys.paths import PathReport
    from cxloop.journeys.service import JourneyFilters

app = typer.Typer(
    help="Journeys: stages and touchpoints, the journey map and customer paths.",
    no_args_is_help=True,
)
console = Console()

NameArgument = Annotated[
    str, typer.Argument(help="Journey name (cxloop journey list).")
]
LanguageOption = Annotated[
    str, typer.Option("--language", help="Language of labels: zh-TW or en.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print plain JSON.")]
PersonaOption = Annotated[
    str | None,
    typer.Option(
        "--persona",
        help="View through a persona: one of the journey's, segment:KEY, "
        "value_tier:TIER or rfm:SEGMENT.",
    ),
]
SegmentOption = Annotated[
    str | None, typer.Option("--segment", help="Only customers of this segment.")
]
ChannelOption = Annotated[
    str | None, typer.Option("--channel", help="Only interactions on this channel.")
]
FromOption = Annotated[
    datetime | None,
    typer.Option("--from", formats=["%Y-%m-%d"], help="First day, inclusive."),
]
ToOption = Annotated[
    datetime | None,
    typer.Option("--to", formats=["%Y-%m-%d"], help="Last day, inclusive."),
]


def _filters(
    persona: str | None,
    segment: str | None,
    channel: str | None,
    date_from: datetime | None,
    date_to: datetime | None,
) -> JourneyFilters:
    from cxloop.journeys.service import JourneyFilters

    return JourneyFilters(
        persona=persona,
        segment=segment,
        channel=channel,
        date_from=date_from.date() if date_from else None,
        date_to=date_to.date() if date_to else None,
    )


@app.command("list")
def list_(language: LanguageOption = "zh-TW", as_json: JsonOption = False) -> None:
    """List the journeys: the shipped retail journey and those imported."""
    from cxloop.journeys.definitions import localized
    from cxloop.journeys.service import list_journeys

    journeys = list_journeys(settings=get_settings())
    if as_json:
        typer.echo(json.dumps([j.name for j in journeys], ensure_ascii=False))
        return
    table = Table(title="journeys")
    for column in ("name", "title", "stages", "touchpoints"):
        table.add_column(column)
    for j in journeys:
        table.add_row(
            j.name, localized(j.title, language), str(len(j.stages)),
            str(len(j.touchpoints())),
        )  # fmt: skip
    console.print(table)


@app.command("show")
def show(
    name: NameArgument, language: LanguageOption = "zh-TW", as_json: JsonOption = False
) -> None:
    """Show a journey's stages, touchpoints and placement rules."""
    from cxloop.journeys.definitions import localized
    from cxloop.journeys.exports import journey_document
    from cxloop.journeys.service import get_journey

    journey = get_journey(settings=get_settings(), name=name)
    if as_json:
        typer.echo(json.dumps(journey_document(journey), ensure_ascii=False, indent=2))
        return
    table = Table(title=localized(journey.title, language))
    for column in ("stage", "touchpoint", "rules"):
        table.add_column(column)
    for stage, touchpoint in journey.touchpoints():
        rules = " | ".join(
            ", ".join(f"{k}={'/'.join(v)}" for k, v in rule.conditions().items())
            for rule in touchpoint.match
        )
        split = " (each)" if touchpoint.split else ""
        table.add_row(
            localized(stage.label, language),
            localized(touchpoint.label, language) + split,
            rules,
        )
    console.print(table)


@app.command("import")
def import_(
    file: Annotated[
        Path, typer.Argument(dir_okay=False, help="A journey in YAML or JSON.")
    ],
    replace: Annotated[
        bool, typer.Option("--replace", help="Overwrite a journey of the same name.")
    ] = False,
) -> None:
    """Check a journey file and keep it (in CXLOOP_JOURNEY_DIR)."""
    from cxloop.journeys.service import import_journey

    journey = import_journey(settings=get_settings(), path=file, replace=replace)
    console.print(
        f"journey {journey.name!r} saved: {len(journey.stages)} stages, "
        f"{len(journey.touchpoints())} touchpoints",
        highlight=False,
    )


@app.command("map")
def map_(
    name: Annotated[str, typer.Argument(help="Journey name.")] = "retail",
    persona: PersonaOption = None,
    segment: SegmentOption = None,
    channel: ChannelOption = None,
    date_from: FromOption = None,
    date_to: ToOption = None,
    csv_file: Annotated[
        Path | None, typer.Option("--csv", help="Also write the map to this CSV file.")
    ] = None,
    language: LanguageOption = "zh-TW",
    as_json: JsonOption = False,
) -> None:
    """The journey map: volume, NPS/CSAT/CES and score per touchpoint, worst first."""
    from cxloop.journeys.exports import map_document
    from cxloop.journeys.service import journey_map, map_csv

    filters = _filters(persona, segment, channel, date_from, date_to)
    found = journey_map(settings=get_settings(), name=name, filters=filters)
    if csv_file is not None:
        csv_file.write_text(map_csv(journey_map=found, language=language), "utf-8")
    if as_json:
        document = map_document(found, language)
        typer.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    console.print(_map_table(found, language))
    console.print(_worst_table(found, language))


def _number(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _map_table(found: JourneyMap, language: str) -> Table:
    from cxloop.journeys.definitions import localized
    from cxloop.journeys.placement import cell_name

    table = Table(title=localized(found.journey.title, language))
    for column in ("stage", "touchpoint", "volume", "NPS", "CSAT %", "CES", "score"):
        table.add_column(
            column, justify="left" if column in {"stage", "touchpoint"} else "right"
        )
    for cell in found.cells:
        metrics = [cell.metrics.get(m) for m in ("nps", "csat", "ces")]
        score = cell.score
        table.add_row(
            localized(cell.slot.stage_label, language),
            cell_name(cell.slot, cell.detail, language),
            f"{cell.volume:,}",
            *(_number(m.value, 2 if m.metric == "ces" else 1) if m else "—" for m in metrics),
            f"{score.mean:.3f} ±{_number(score.moe, 3)}" if score else "—",
        )  # fmt: skip
    return table


def _worst_table(found: JourneyMap, language: str) -> Table:
    from cxloop.journeys.placement import cell_name

    mean = _number(found.overall.mean if found.overall else None, 3)
    table = Table(title=f"worst touchpoints (journey mean {mean})")
    for column in ("rank", "touchpoint", "score", "95 % margin", "n"):
        table.add_column(column)
    for cell in found.worst:
        if cell.score is not None:
            table.add_row(
                str(cell.worst_rank), cell_name(cell.slot, cell.detail, language),
                f"{cell.score.mean:.3f}", f"±{_number(cell.score.moe, 3)}",
                f"{cell.score.n:,}",
            )  # fmt: skip
    return table


@app.command("paths")
def paths(
    name: Annotated[str, typer.Argument(help="Journey name.")] = "retail",
    k: Annotated[int, typer.Option("--k", help="Steps per sequence (2-6).")] = 3,
    top: Annotated[int, typer.Option("--top", help="How many sequences.")] = 10,
    gap_hours: Annotated[
        float | None,
        typer.Option("--gap-hours", help="A pause longer than this starts a new path."),
    ] = None,
    level: Annotated[
        str, typer.Option("--level", help="Nodes: touchpoint or stage.")
    ] = "touchpoint",
    persona: PersonaOption = None,
    segment: SegmentOption = None,
    channel: ChannelOption = None,
    date_from: FromOption = None,
    date_to: ToOption = None,
    language: LanguageOption = "zh-TW",
    as_json: JsonOption = False,
) -> None:
    """Common paths between touchpoints, drop-offs and time between steps."""
    from cxloop.journeys.exports import paths_document
    from cxloop.journeys.service import PathOptions, journey_paths

    options = PathOptions(level=level, k=k, top=top, session_gap_hours=gap_hours)
    report = journey_paths(
        settings=get_settings(), name=name, options=options, language=language,
        filters=_filters(persona, segment, channel, date_from, date_to),
    )  # fmt: skip
    if as_json:
        typer.echo(json.dumps(paths_document(report), ensure_ascii=False, indent=2))
        return
    for table in _path_tables(report):
        console.print(table)


def _path_tables(report: PathReport) -> list[Table]:
    heading = f"{report.paths:,} paths of {report.customers:,} customers"
    sequences = Table(title=f"most common sequences ({heading})")
    for column in ("path", "count", "share"):
        sequences.add_column(column)
    for s in report.sequences:
        path = " → ".join(report.name(node) for node in s.nodes)
        sequences.add_row(path, f"{s.count:,}", f"{s.share:.1%}")
    drops = Table(title="drop-off: share of visits that end the path")
    for column in ("touchpoint", "visits", "last step", "share"):
        drops.add_column(column)
    for d in report.node_dropoffs:
        drops.add_row(
            report.name(d.node), f"{d.visits:,}", f"{d.exits:,}", f"{d.share:.1%}"
        )
    times = Table(title="time between steps (hours)")
    for column in ("from", "to", "count", "median", "p90"):
        times.add_column(column)
    for t in report.transitions[:20]:
        times.add_row(
            report.name(t.source), report.name(t.target), f"{t.count:,}",
            f"{t.median_hours:.1f}", f"{t.p90_hours:.1f}",
        )  # fmt: skip
    return [sequences, drops, times]


@app.command("blueprint")
def blueprint(
    name: NameArgument,
    csv_file: Annotated[
        Path | None, typer.Option("--csv", help="Write the blueprint to this CSV file.")
    ] = None,
    language: LanguageOption = "zh-TW",
) -> None:
    """Print a journey's service blueprint, or write it as CSV."""
    from cxloop.journeys.service import blueprint_csv

    text = blueprint_csv(settings=get_settings(), name=name, language=language)
    if csv_file is None:
        typer.echo(text, nl=False)
        return
    csv_file.write_text(text, encoding="utf-8")
    console.print(f"wrote {csv_file}", highlight=False)


@app.command("rebuild")
def rebuild() -> None:
    """Copy the interaction stream of an SQLite store again (after edits or deletes)."""
    from cxloop.journeys.service import rebuild_stream

    count = rebuild_stream(settings=get_settings())
    console.print(f"interaction stream rebuilt: {count:,} interactions")
