"""``cxloop reply ...``: Reply templates and suggested replies for cases."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cxloop.config import get_settings

app = typer.Typer(
    help="Reply templates and suggested replies for cases.", no_args_is_help=True
)
templates_app = typer.Typer(help="Reply templates.", no_args_is_help=True)
app.add_typer(templates_app, name="templates")
console = Console()

JsonOption = Annotated[bool, typer.Option("--json", help="Print plain JSON.")]


def _json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


@templates_app.command("apply")
def templates_apply(
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, help="Templates in YAML or JSON."),
    ],
) -> None:
    """Save the templates of FILE by key; unknown placeholders are refused."""
    from cxloop.loop.reply_templates import save_templates

    saved = save_templates(settings=get_settings(), path=file)
    for label, keys in (("new", saved.inserted), ("updated", saved.updated),
                        ("unchanged", saved.unchanged)):  # fmt: skip
        if keys:
            console.print(f"{label}: {', '.join(keys)}", highlight=False, markup=False)


@app.command("suggest")
def suggest(
    case_id: Annotated[int, typer.Argument(help="The case id.")],
    top: Annotated[int, typer.Option("--top", min=1, help="How many of each.")] = 3,
    as_json: JsonOption = False,
) -> None:
    """Knowledge-base articles and filled reply templates for a case, best first."""
    from cxloop.loop.replies import suggest_replies

    found = suggest_replies(settings=get_settings(), case_id=case_id, top=top)
    if as_json:
        _json(asdict(found))
        return
    articles = Table("article", "score", "title", title="articles")
    for a in found.articles:
        articles.add_row(f"{a.source}:{a.external_id}", f"{a.score:.3f}", a.title or "")
    console.print(articles)
    for t in found.templates:
        missing = f" (no value for {', '.join(t.missing)})" if t.missing else ""
        console.print(f"\n[{t.key}] {t.title}{missing}", highlight=False, markup=False)
        console.print(t.body, highlight=False, markup=False)


@app.command("auto")
def auto(
    interaction: Annotated[
        int,
        typer.Option("--interaction", help="The inbound chat or e-mail interaction."),
    ],
    threshold: Annotated[
        float | None,
        typer.Option(
            "--threshold",
            min=0.0,
            max=1.0,
            help="Answer only above this confidence (default: the calibrated one).",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Answer an inbound question with the best article when confident, else open a case."""
    from cxloop.loop.replies import auto_reply

    decision = auto_reply(
        settings=get_settings(), interaction_id=interaction, threshold=threshold
    )
    if as_json:
        _json(asdict(decision))
        return
    line = (f"{decision.action}: confidence {decision.confidence:.2f} "
            f"(threshold {decision.threshold:.2f}), article {decision.article or '-'}")  # fmt: skip
    if decision.case_id is not None:
        line += f", case {decision.case_id}"
    if decision.sent_to:
        line += f", sent to {decision.sent_to}"
    if decision.repeated:
        line += " (decided earlier; nothing sent again)"
    console.print(line, highlight=False, markup=False)
    if decision.reason:
        console.print(decision.reason, highlight=False, markup=False)
