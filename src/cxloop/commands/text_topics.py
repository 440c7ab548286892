"""``cxloop text topics`` and ``cxloop text themes``: the taxonomy and theme discovery."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cxloop.commands.text import app
from cxloop.domain.errors import InvalidInput

console = Console()

TaxonomyOption = Annotated[
    Path | None,
    typer.Option(
        "--taxonomy",
        exists=True,
        dir_okay=False,
        help="Taxonomy YAML file (default: the shipped CX taxonomy).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print plain JSON.")]


@app.command("topics")
def topics(taxonomy: TaxonomyOption = None, as_json: JsonOption = False) -> None:
    """List the taxonomy's topics with their keywords and rules, and the names it ignores."""
    from cxloop.text.taxonomy import load_taxonomy

    found = load_taxonomy(taxonomy)
    if as_json:
        rows = [dataclasses.asdict(topic) for topic in found.topics]
        payload = {"version": found.version, "topics": rows,
                   "ignore_terms": list(found.ignore_terms)}  # fmt: skip
        typer.echo(json.dumps(payload, ensure_ascii=False))
        return
    table = Table(title=f"Topics ({found.version})")
    for column in ("key", "zh-TW", "en", "keywords zh", "keywords en", "rules"):
        table.add_column(column)
    for topic in found.topics:
        table.add_row(
            topic.key, topic.name_zh, topic.name_en, _first(topic.keywords_zh),
            _first(topic.keywords_en), str(len(topic.rules)),
        )  # fmt: skip
    console.print(table)
    if found.ignore_terms:
        console.print(f"Ignored names ({len(found.ignore_terms)}): "
                      + _first(found.ignore_terms, shown=10), markup=False)  # fmt: skip


def _first(words: tuple[str, ...], shown: int = 4) -> str:
    more = f" (+{len(words) - shown})" if len(words) > shown else ""
    return ", ".join(words[:shown]) + more


@app.command("themes")
def themes(
    input_file: Annotated[
        Path,
        typer.Option(
            "--input",
            exists=True,
            dir_okay=False,
            help="CSV (UTF-8 or Big5), JSON Lines or Parquet file.",
        ),
    ],
    text_column: Annotated[
        str, typer.Option("--text-column", help="Column holding the text.")
    ],
    taxonomy: TaxonomyOption = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            dir_okay=False,
            help="Write the themes as taxonomy topics here, with the recurring tags and "
            "accounts as ignore_terms (without --taxonomy: a file that extends the "
            "default taxonomy).",
        ),
    ] = None,
    n_themes: Annotated[
        int | None, typer.Option("--n-themes", min=1, max=50, help="Number of themes.")
    ] = None,
    examples: Annotated[int, typer.Option("--examples", min=1, max=20)] = 3,
    as_json: JsonOption = False,
) -> None:
    """Cluster the texts that match no topic into themes, proposed as new topics."""
    from cxloop.text.themes import discover_file_themes, themes_to_yaml

    if output is not None:
        for source in (input_file, taxonomy):
            if source is not None and output.resolve() == source.resolve():
                raise InvalidInput(f"{output}: the output must not overwrite {source}")
    report = discover_file_themes(
        input=input_file, text_column=text_column, taxonomy_path=taxonomy,
        n_themes=n_themes, examples=examples,
    )  # fmt: skip
    if output is not None:
        proposed = themes_to_yaml(
            report.themes, names=report.names, extends_default=taxonomy is None
        )
        output.write_text(proposed, encoding="utf-8")
    if as_json:
        typer.echo(json.dumps(dataclasses.asdict(report), ensure_ascii=False))
        return
    console.print(
        f"{report.texts} texts, {report.without_topic} with no topic, "
        f"{len(report.themes)} themes"
        + (f", {report.rejects} rejected rows" if report.rejects else "")
    )
    table = Table()
    for column in ("theme", "texts", "keywords", "example"):
        table.add_column(column)
    for theme in report.themes:
        example = theme.examples[0] if theme.examples else ""
        table.add_row(theme.key, str(theme.size), ", ".join(theme.keywords), example)
    console.print(table)
    if report.names:
        listed = ", ".join(f"{name.name} ({name.texts})" for name in report.names)
        console.print(
            f"Tags and accounts in many texts: {listed}. List the ones that are your "
            "own names under ignore_terms in the taxonomy (docs/en/text-topics.md)."
        )
    if output is not None:
        console.print(f"Proposed topics written to {output}")
