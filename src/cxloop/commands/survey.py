"""``cxloop survey ...``: define surveys from files and templates, list and show them.

Other modules add to this group: :mod:`cxloop.commands.survey_distribution` (send,
triggers, dispatch) and :mod:`cxloop.commands.survey_results` (results).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cxloop.config import get_settings
from cxloop.domain.errors import Conflict, InvalidInput

if TYPE_CHECKING:
    from cxloop.domain.survey_spec import Condition, QuestionSpec, Text
    from cxloop.surveys.definitions import SurveyRecord

app = typer.Typer(
    help="Surveys: define (YAML/JSON or templates), send, and read their results.",
    no_args_is_help=True,
)
console = Console()

KeyArgument = Annotated[str, typer.Argument(help="Survey key (cxloop survey list).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print plain JSON.")]
LanguageOption = Annotated[
    str, typer.Option("--language", help="Language of texts: zh-TW or en.")
]


def _localized(text: Text | None, language: str) -> str:
    return text.get(language) if text is not None else ""


def _record_json(record: SurveyRecord) -> dict[str, Any]:
    from cxloop.domain.survey_parse import spec_to_dict
    from cxloop.surveys.documents import survey_links

    links = survey_links(settings=get_settings(), public_token=record.public_token)
    return {
        "key": record.key,
        "status": record.status,
        "public_token": record.public_token,
        "form_url": links.form_url,
        "embed_snippet": links.embed_snippet,
        "question_ids": record.question_ids,
        "created_at": record.created_at.isoformat(),
        "updated_at": record.updated_at.isoformat() if record.updated_at else None,
        "definition": spec_to_dict(record.spec),
    }


def _print_links(record: SurveyRecord) -> None:
    from cxloop.surveys.documents import survey_links

    links = survey_links(settings=get_settings(), public_token=record.public_token)
    typer.echo(f"form link: {links.form_url}")
    typer.echo(f"embed:     {links.embed_snippet}")


@app.command("create")
def create(
    file: Annotated[
        Path | None, typer.Argument(help="Survey definition (.yaml, .yml or .json).")
    ] = None,
    template: Annotated[
        str | None,
        typer.Option("--template", help="Start from a template (survey templates)."),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option("--key", help="Key of the survey made from a template."),
    ] = None,
    name_zh: Annotated[
        str | None, typer.Option("--name-zh", help="Chinese title (templates).")
    ] = None,
    name_en: Annotated[
        str | None, typer.Option("--name-en", help="English title (templates).")
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Update the survey if the key exists.")
    ] = False,
    status: Annotated[
        str, typer.Option("--status", help="active (takes answers) or draft.")
    ] = "active",
    as_json: JsonOption = False,
) -> None:
    """Create a survey from a YAML/JSON FILE, or from --template with --key."""
    from cxloop.surveys.documents import (
        create_survey_from_file,
        create_survey_from_template,
    )

    settings = get_settings()
    if file is not None:
        if template or key or name_zh or name_en:
            msg = "give a FILE or --template, not both (the file holds key and name)"
            raise InvalidInput(msg)
        try:
            record = create_survey_from_file(
                settings=settings, path=file, status=status, replace=replace
            )
        except Conflict as exc:
            raise Conflict(f"{file}: {exc} (--replace)") from None
    elif template is None or key is None:
        raise InvalidInput("give a FILE, or --template NAME with --key KEY")
    else:
        record = create_survey_from_template(
            settings=settings, template=template, key=key, name_zh=name_zh,
            name_en=name_en, status=status, replace=replace,
        )  # fmt: skip
    if as_json:
        typer.echo(json.dumps(_record_json(record), ensure_ascii=False, indent=2))
        return
    typer.echo(
        f"survey {record.key}: {len(record.spec.questions)} questions, {record.status}"
    )
    _print_links(record)


@app.command("templates")
def templates(language: LanguageOption = "zh-TW", as_json: JsonOption = False) -> None:
    """List the ready-made survey templates."""
    from dataclasses import asdict

    from cxloop.surveys.templates import list_templates

    infos = list_templates()
    if as_json:
        typer.echo(json.dumps([asdict(i) for i in infos], ensure_ascii=False, indent=2))
        return
    english = language.startswith("en")
    table = Table(title="survey templates")
    table.add_column("template")
    table.add_column("title", overflow="fold")
    table.add_column("questions", justify="right")
    table.add_column("description", overflow="fold")
    for info in infos:
        title = info.title_en if english else info.title_zh
        description = info.description_en if english else info.description_zh
        table.add_row(
            info.name, escape(title), str(info.questions), escape(description)
        )
    console.print(table)


@app.command("list")
def list_(language: LanguageOption = "zh-TW", as_json: JsonOption = False) -> None:
    """List the surveys, newest first, with their response counts."""
    from cxloop.surveys.definitions import list_surveys

    surveys = list_surveys(settings=get_settings())
    if as_json:
        rows = [
            {
                "key": s.key, "name_zh": s.name_zh, "name_en": s.name_en,
                "status": s.status, "questions": s.questions,
                "responses": s.responses, "created_at": s.created_at.isoformat(),
            }
            for s in surveys
        ]  # fmt: skip
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(title="surveys")
    for column in ("key", "name", "status", "questions", "responses", "created"):
        table.add_column(column)
    for s in surveys:
        name = (s.name_en or s.name_zh) if language.startswith("en") else s.name_zh
        table.add_row(
            s.key, escape(name), s.status, str(s.questions), f"{s.responses:,}",
            f"{s.created_at:%Y-%m-%d}",
        )  # fmt: skip
    console.print(table)


def _condition_text(condition: Condition | None) -> str:
    if condition is None:
        return ""
    if condition.any_of:
        return f"{condition.question} in {', '.join(condition.any_of)}"
    low, high = condition.min, condition.max
    if low is not None and high is not None:
        return f"{condition.question} {low:g}-{high:g}"
    if high is not None:
        return f"{condition.question} <= {high:g}"
    return f"{condition.question} >= {low:g}"


def _answer_text(question: QuestionSpec) -> str:
    from cxloop.domain.survey_spec import SCALED, scale_of

    if question.kind in SCALED:
        low, high = scale_of(question)
        return f"{low}-{high}"
    return ", ".join(c.value for c in question.choices)


def _role_text(question: QuestionSpec) -> str:
    if question.dimension and question.part:
        return f"{question.dimension} {question.part[0].upper()}"
    if question.pillar:
        weight = f" x{question.weight:g}" if question.weight != 1.0 else ""
        return f"{question.pillar}{weight}"
    return ""


@app.command("show")
def show(
    key: KeyArgument, language: LanguageOption = "zh-TW", as_json: JsonOption = False
) -> None:
    """Show a survey: its questions, conditions, form link and embed snippet."""
    from cxloop.surveys.definitions import get_survey

    record = get_survey(settings=get_settings(), key=key)
    if as_json:
        typer.echo(json.dumps(_record_json(record), ensure_ascii=False, indent=2))
        return
    spec = record.spec
    title = f"{spec.name.get(language)} ({record.key}, {record.status})"
    table = Table(title=escape(title))
    for column in ("#", "key", "type", "required", "answers", "scores", "shown when"):
        table.add_column(column, overflow="fold")
    table.add_column("text", overflow="fold")
    for number, q in enumerate(spec.questions, start=1):
        table.add_row(
            str(number), q.key, q.kind.value, "yes" if q.required else "",
            escape(_answer_text(q)), escape(_role_text(q)),
            escape(_condition_text(q.show_if)),
            escape(q.text.get(language)),
        )  # fmt: skip
    console.print(table)
    if spec.template:
        typer.echo(f"template:  {spec.template}")
    _print_links(record)


@app.command("export")
def export(
    key: KeyArgument,
    output: Annotated[
        Path | None, typer.Option("--output", help="Write to this file, not stdout.")
    ] = None,
) -> None:
    """Print a survey's definition as YAML (create --replace reads it back)."""
    from cxloop.surveys.documents import export_survey

    text = export_survey(settings=get_settings(), key=key)
    if output is None:
        typer.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {output}")


def _set_status(key: str, status: str) -> None:
    from cxloop.surveys.definitions import set_status

    set_status(settings=get_settings(), key=key, status=status)
    typer.echo(f"survey {key} is now {status}")


@app.command("open")
def open_(key: KeyArgument) -> None:
    """Open a survey: its links take answers (status active)."""
    _set_status(key, "active")


@app.command("pause")
def pause(key: KeyArgument) -> None:
    """Pause a survey: back to draft, its links take no answers."""
    _set_status(key, "draft")


@app.command("close")
def close(key: KeyArgument) -> None:
    """Close a survey for good: its links take no more answers."""
    _set_status(key, "closed")
