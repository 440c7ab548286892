"""``cxloop webhook ...``: endpoints that other systems push signed events to."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cxloop.config import get_settings
from cxloop.domain.errors import InvalidInput

app = typer.Typer(
    help="Webhook endpoints (HMAC-SHA256 signed) for systems that push events.",
    no_args_is_help=True,
)
console = Console()
err_console = Console(stderr=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _read_mapping(path: Path) -> dict[str, Any]:
    """A mapping file: JSON, or YAML when it ends in .yaml or .yml."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InvalidInput(
            f"--mapping {path}: cannot read it ({exc.strerror})"
        ) from None
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            loaded = yaml.safe_load(text)
        else:
            loaded = json.loads(text)
    except (ValueError, ImportError) as exc:
        raise InvalidInput(f"--mapping {path}: not valid JSON/YAML ({exc})") from None
    if not isinstance(loaded, dict):
        raise InvalidInput(f"--mapping {path}: must hold an object with fields")
    return loaded


@app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="What sends to it.")],
    source: Annotated[
        str, typer.Option("--source", help="Source of every interaction it brings.")
    ],
    kind: Annotated[
        str,
        typer.Option(
            "--kind",
            help="Kind of items that name none: chat, call, review, social_post, "
            "kiosk, ticket, visit or other.",
        ),
    ] = "other",
    mapping: Annotated[
        Path | None,
        typer.Option(
            "--mapping",
            help="JSON or YAML file mapping the sender's fields to intake fields "
            "(see docs/en/intake-api.md); without it the body is in intake format.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Create an endpoint and print its address and secret (shown only once)."""
    from cxloop.ingest import webhooks

    settings = get_settings()
    loaded = _read_mapping(mapping) if mapping is not None else None
    endpoint = webhooks.create_endpoint(
        settings=settings, name=name, source=source, kind=kind, mapping=loaded
    )
    url = settings.public_url.rstrip("/") + endpoint.path
    if as_json:
        record = {"key": endpoint.key, "secret": endpoint.secret, "url": url}
        typer.echo(json.dumps(record, ensure_ascii=False))
        return
    err_console.print(
        "[yellow]Copy the secret now: it is shown only once.[/yellow] The sender "
        "signs each delivery with it (X-Cxloop-Signature)."
    )
    console.print(f"key:    {endpoint.key}", markup=False)
    console.print(f"url:    {url}", markup=False)
    console.print(f"secret: {endpoint.secret}", markup=False)


@app.command("list")
def list_(as_json: JsonOption = False) -> None:
    """The endpoints, with how many deliveries each took in."""
    from cxloop.ingest import webhooks

    endpoints = webhooks.list_endpoints(settings=get_settings())
    if as_json:
        records = [vars(endpoint) for endpoint in endpoints]
        typer.echo(json.dumps(records, ensure_ascii=False, indent=2, default=str))
        return
    table = Table(title="Webhook endpoints")
    for column in ("key", "name", "source", "kind", "active", "mapping", "deliveries"):
        table.add_column(column, justify="right" if column == "deliveries" else "left")
    table.add_column("last delivery")
    for e in endpoints:
        last = (
            e.last_delivery_at.isoformat(timespec="seconds")
            if e.last_delivery_at
            else ""
        )
        table.add_row(
            e.key, e.name, e.source, e.kind, "yes" if e.active else "no",
            "yes" if e.has_mapping else "no", f"{e.deliveries:,}", last,
        )  # fmt: skip
    console.print(table)


@app.command("disable")
def disable(
    key: Annotated[str, typer.Argument(help="The endpoint's key (wh_...).")],
) -> None:
    """Refuse further deliveries to an endpoint (what it stored stays)."""
    from cxloop.ingest import webhooks

    webhooks.disable_endpoint(settings=get_settings(), key=key)
    console.print(f"disabled webhook endpoint {key}", markup=False)


@app.command("sign")
def sign(
    key: Annotated[str, typer.Option("--key", help="The endpoint's key (wh_...).")],
    body: Annotated[
        Path, typer.Option("--body", help="File holding the body to send.")
    ],
    delivery: Annotated[
        str | None,
        typer.Option("--delivery", help="A delivery id (X-Cxloop-Delivery)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Sign a body as a sender would and print the headers and a curl command."""
    from cxloop.ingest import webhooks

    try:
        raw = body.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"--body {body}: cannot read it ({exc.strerror})") from None
    settings = get_settings()
    headers = webhooks.signature_headers(
        settings=settings, key=key, body=raw, delivery_id=delivery
    )
    if as_json:
        typer.echo(json.dumps(headers))
        return
    url = f"{settings.public_url.rstrip('/')}/api/v1/webhooks/{key}"
    parts = ["curl", "-X", "POST", url, "-H", "Content-Type: application/json"]
    for name, value in headers.items():
        parts += ["-H", f"{name}: {value}"]
    parts += ["--data-binary", f"@{body}"]
    for name, value in headers.items():
        typer.echo(f"{name}: {value}")
    typer.echo("")
    typer.echo(shlex.join(parts))
    err_console.print("The signature holds for 5 minutes.")
