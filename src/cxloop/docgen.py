"""Generate the reference pages ``docs/cli.md`` and ``docs/settings.md``.

    python -m cxloop.docgen cli > docs/cli.md
    python -m cxloop.docgen settings > docs/settings.md

``tests/test_docs.py`` fails when a committed page differs from what this module writes,
so the reference can never drift from the code.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from typing import Any

WIDTH = 88

CLI_HEADER = """\
# Command-line reference

Generated from the help of every `cxloop` command by
`python -m cxloop.docgen cli > docs/cli.md` (or `make docs`); do not edit by hand.
Every command reads its settings from `CXLOOP_*` environment variables
(see [settings.md](settings.md)).
"""

SETTINGS_HEADER = """\
# Settings

Generated from `cxloop.config.Settings` by
`python -m cxloop.docgen settings > docs/settings.md` (or `make docs`); do not edit by
hand. Every setting is read from an environment variable named `CXLOOP_` plus the
setting's name in capitals (`CXLOOP_DATABASE_URL` for `database_url`). cxloop runs
with none of them set; in production set at least `CXLOOP_ENV=prod`,
`CXLOOP_SECRET_KEY` and `CXLOOP_DATABASE_URL`.

| setting | environment variable | default | what it does |
| --- | --- | --- | --- |
"""


def _walk(command: Any, ctx: Any) -> Iterator[tuple[Any, Any]]:
    """Each command of the tree with its context, parents before children."""
    import typer

    command.rich_markup_mode = None  # plain click help, no boxes or colours
    yield command, ctx
    list_commands = getattr(command, "list_commands", None)
    for name in list_commands(ctx) if list_commands else []:
        child = command.get_command(ctx, name)
        if child is None or child.hidden:
            continue
        child_ctx = typer.Context(
            child,
            info_name=name,
            parent=ctx,
            terminal_width=WIDTH,
            max_content_width=WIDTH,
        )
        yield from _walk(child, child_ctx)


def cli_reference() -> str:
    """The help of every command and sub-command of ``cxloop``, as Markdown."""
    import typer
    import typer.main

    from cxloop.cli import app

    root = typer.main.get_command(app)
    ctx = typer.Context(
        root, info_name="cxloop", terminal_width=WIDTH, max_content_width=WIDTH
    )
    parts = [CLI_HEADER]
    for command, command_ctx in _walk(root, ctx):
        help_text = command.get_help(command_ctx).rstrip()
        parts.append(f"## {command_ctx.command_path}\n\n```text\n{help_text}\n```\n")
    return "\n".join(parts)


def command_paths() -> list[str]:
    """``cxloop``, ``cxloop db``, ``cxloop db upgrade``... for every command."""
    import typer
    import typer.main

    from cxloop.cli import app

    root = typer.main.get_command(app)
    ctx = typer.Context(root, info_name="cxloop")
    return [command_ctx.command_path for _, command_ctx in _walk(root, ctx)]


def _cell(value: object) -> str:
    text = str(value).replace("|", "\\|").replace("\n", " ")
    return f"`{text}`" if text else "(empty)"


def settings_reference() -> str:
    """Every field of :class:`cxloop.config.Settings` as a Markdown table."""
    from cxloop.config import Settings

    prefix = str(Settings.model_config.get("env_prefix", ""))
    rows = []
    for name, info in Settings.model_fields.items():
        env = f"{prefix}{name}".upper()
        help_text = (info.description or "").replace("|", "\\|").replace("\n", " ")
        rows.append(f"| `{name}` | `{env}` | {_cell(info.default)} | {help_text} |")
    return SETTINGS_HEADER + "\n".join(rows) + "\n"


PAGES = {"cli": cli_reference, "settings": settings_reference}


def main(argv: Sequence[str] | None = None) -> int:
    """Write the page named by the first argument (``cli`` by default) to stdout."""
    args = list(sys.argv[1:] if argv is None else argv)
    page = args[0] if args else "cli"
    if page not in PAGES:
        sys.stderr.write(f"usage: python -m cxloop.docgen [{'|'.join(PAGES)}]\n")
        return 2
    sys.stdout.write(PAGES[page]())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
