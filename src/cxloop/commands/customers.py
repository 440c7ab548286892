"""``cxloop customers``: identity resolution (merge, split, resolve, merges) and the
customer 360 view."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cxloop.config import get_settings

if TYPE_CHECKING:
    from cxloop.customers.merging import MergeGroup, MergeRecord

app = typer.Typer(
    help="Customers: identity resolution (merge, split) and the customer 360 view.",
    no_args_is_help=True,
)
console = Console()

REF_HELP = (
    "id, member id, e-mail, phone or @social handle; prefix id:, member:, email:, "
    "phone: or social: to be exact."
)
ActorOption = Annotated[
    str, typer.Option("--actor", help="Who does this, kept in the merge audit.")
]

#: How each table of a merge's moved rows is named to a person.
TABLE_WORDS = {
    "identity": "identities",
    "interaction": "interactions",
    "purchase": "transactions",
    "support_case": "cases",
    "invitation": "invitations",
    "segment_member": "segment memberships",
}


def _moved_table(title: str, rows: dict[str, list[int]]) -> Table:
    table = Table(title=title)
    table.add_column("rows")
    table.add_column("count", justify="right")
    for name, word in TABLE_WORDS.items():
        table.add_row(word, f"{len(rows.get(name, [])):,}")
    return table


@app.command("merge")
def merge(
    keep: Annotated[str, typer.Argument(help=f"The customer to keep: {REF_HELP}")],
    other: Annotated[
        str, typer.Argument(metavar="MERGE", help="The customer merged into KEEP.")
    ],
    reason: Annotated[
        str, typer.Option("--reason", help="Why the two are one person (audited).")
    ],
    actor: ActorOption = "cli",
) -> None:
    """Merge customer MERGE into KEEP: its identities, interactions, transactions,
    cases, invitations and segment memberships move to KEEP. Undo with `split`."""
    from cxloop.customers import merging

    record = merging.merge_customers(
        settings=get_settings(), keep=keep, merge=other, reason=reason, actor=actor
    )
    console.print(
        f"merged customer {record.merged_customer_id} into customer "
        f"{record.kept_customer_id} (merge #{record.id}); undo with "
        f"`cxloop customers split {record.id}`",
        highlight=False,
        markup=False,
    )
    console.print(_moved_table("moved", record.moved))
    if record.filled:
        filled = ", ".join(sorted(record.filled))
        console.print(f"filled on the kept customer: {filled}", markup=False)


@app.command("split")
def split(
    merge_id: Annotated[int, typer.Argument(help="The merge number (see `merges`).")],
    actor: ActorOption = "cli",
) -> None:
    """Undo a merge: move back exactly the rows it moved and clear what it filled."""
    from cxloop.customers import merging

    record = merging.split_merge(
        settings=get_settings(), merge_id=merge_id, actor=actor
    )
    console.print(
        f"split merge #{record.id}: customer {record.merged_customer_id} is apart "
        f"from customer {record.kept_customer_id} again",
        highlight=False,
        markup=False,
    )
    back = {
        name: [i for i in ids if i not in record.skipped.get(name, [])]
        for name, ids in record.moved.items()
    }
    console.print(_moved_table("moved back", back))
    for name, ids in record.skipped.items():
        shown = ", ".join(str(i) for i in ids[:10]) + (" ..." if len(ids) > 10 else "")
        word = TABLE_WORDS.get(name, name)
        console.print(
            f"not moved back (deleted or moved since): {len(ids)} {word}: {shown}",
            markup=False,
        )


def _groups_table(groups: list[MergeGroup]) -> Table:
    table = Table(title="customers that share an identity")
    table.add_column("keep", justify="right")
    table.add_column("merge", justify="right")
    table.add_column("reason")
    for group in groups:
        for merged in group.merged:
            table.add_row(str(group.survivor), str(merged), group.reasons[merged])
    return table


@app.command("resolve")
def resolve(
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="List the groups it would merge; merge none."),
    ] = False,
    reason_prefix: Annotated[
        str, typer.Option("--reason-prefix", help="Start of each merge's reason.")
    ] = "shared identity",
    actor: ActorOption = "cli",
) -> None:
    """Merge customers that share a normalised e-mail, phone, member id or social
    handle, each group into its oldest customer."""
    from cxloop.customers import merging

    settings = get_settings()
    if dry_run:
        groups = merging.plan_resolution(settings=settings, reason_prefix=reason_prefix)
        if groups:
            console.print(_groups_table(groups))
        count = sum(len(group.merged) for group in groups)
        console.print(f"dry run: {count:,} customers would be merged; none was")
        return
    records = merging.resolve_identities(
        settings=settings, reason_prefix=reason_prefix, actor=actor
    )
    if records:
        console.print(_merges_table(records))
    console.print(f"{len(records):,} customers merged")


def _merges_table(records: list[MergeRecord]) -> Table:
    table = Table(title="merges")
    for name in ("#", "keep", "merged", "reason", "when", "by", "rows", "split"):
        right = name in {"#", "keep", "merged", "rows"}
        table.add_column(name, justify="right" if right else "left")
    for r in records:
        undone = r.undone_at.strftime("%Y-%m-%d %H:%M") if r.undone_at else ""
        table.add_row(
            str(r.id), str(r.kept_customer_id), str(r.merged_customer_id), r.reason,
            r.created_at.strftime("%Y-%m-%d %H:%M"), r.actor or "",
            f"{r.moved_rows:,}", undone,
        )  # fmt: skip
    return table


def _as_json(record: MergeRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "kept_customer_id": record.kept_customer_id,
        "merged_customer_id": record.merged_customer_id,
        "reason": record.reason,
        "actor": record.actor,
        "created_at": record.created_at.isoformat(),
        "undone_at": record.undone_at.isoformat() if record.undone_at else None,
        "moved": {name: len(ids) for name, ids in record.moved.items()},
        "filled": record.filled,
        "skipped": {name: len(ids) for name, ids in record.skipped.items()},
    }


@app.command("merges")
def merges(
    customer: Annotated[
        str | None,
        typer.Option("--customer", help=f"Only merges of this customer: {REF_HELP}"),
    ] = None,
    output_json: Annotated[
        bool, typer.Option("--json", help="Print JSON to stdout.")
    ] = False,
) -> None:
    """List recorded merges (times in UTC), oldest first, with who merged and why."""
    from cxloop.customers import merging

    records = merging.list_merges(settings=get_settings(), customer=customer)
    if output_json:
        typer.echo(json.dumps([_as_json(r) for r in records], ensure_ascii=False))
    elif records:
        console.print(_merges_table(records))
    else:
        console.print("no merges recorded")
