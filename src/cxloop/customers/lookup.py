"""Find the customer a person means: by id, member id, e-mail, phone or social handle.

A reference may carry its kind as a prefix (``id:12``, ``member:M0012``,
``email:chen@example.com``, ``phone:0912-345-678``, ``social:@lin``). Without one, a
reference is tried as every kind it could be: digits as an id and a member id, text
with ``@`` inside as an e-mail, a leading ``@`` as a social handle, text that reads as
a phone number as a phone. Matches through the ``identity`` table and through the
customer's own columns both count; when they name different customers that are not
one merged person, the reference is ambiguous and the caller is told how to be exact.
"""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from cxloop.customers.identity import (
    normal_email,
    normal_member_id,
    normal_phone,
    normal_social,
)
from cxloop.domain.errors import InvalidInput, NotFound
from cxloop.domain.vocab import IdentityKind
from cxloop.store.tables import Base

customer = Base.metadata.tables["customer"]
identity = Base.metadata.tables["identity"]

#: Reference prefixes and the kind each names.
PREFIXES = {
    "id": "id",
    "member": IdentityKind.MEMBER_ID.value,
    "email": IdentityKind.EMAIL.value,
    "phone": IdentityKind.PHONE.value,
    "social": IdentityKind.SOCIAL.value,
}
#: Customer column of each identity kind, where there is one.
COLUMNS = {
    IdentityKind.MEMBER_ID.value: customer.c.external_id,
    IdentityKind.EMAIL.value: func.lower(customer.c.email),
    IdentityKind.PHONE.value: customer.c.phone,
}
NORMALISERS = {
    IdentityKind.MEMBER_ID.value: normal_member_id,
    IdentityKind.EMAIL.value: normal_email,
    IdentityKind.PHONE.value: normal_phone,
    IdentityKind.SOCIAL.value: normal_social,
}


def _candidates(ref: str) -> list[tuple[str, str]]:
    """(kind, normalised value) pairs that ``ref`` could mean."""
    prefix, colon, rest = ref.partition(":")
    if colon and prefix.strip().lower() in PREFIXES:
        kind = PREFIXES[prefix.strip().lower()]
        value = rest.strip() if kind == "id" else NORMALISERS[kind](rest)
        if value is None or (kind == "id" and not value.isdigit()):
            raise InvalidInput(f"customer {ref!r}: not a valid {prefix.strip()}")
        return [(kind, value)]
    text = ref.strip()
    found: list[tuple[str, str | None]] = []
    if text.isdigit():
        found.append(("id", text))
    if "@" in text[1:]:
        found.append((IdentityKind.EMAIL.value, normal_email(text)))
    elif text.startswith("@"):
        found.append((IdentityKind.SOCIAL.value, normal_social(text)))
    elif any(ch.isdigit() for ch in text):
        found.append((IdentityKind.PHONE.value, normal_phone(text)))
    found.append((IdentityKind.MEMBER_ID.value, normal_member_id(text)))
    return [(kind, value) for kind, value in found if value is not None]


def _matches(connection: Connection, kind: str, value: str) -> set[int]:
    if kind == "id":
        query = select(customer.c.id).where(customer.c.id == int(value))
        return set(connection.execute(query).scalars())
    held = select(identity.c.customer_id).where(
        identity.c.kind == kind, identity.c.value == value
    )
    found = set(connection.execute(held).scalars())
    column = COLUMNS.get(kind)
    if column is not None:
        by_column = select(customer.c.id).where(column == value)
        found.update(connection.execute(by_column).scalars())
    return found


def survivor_of(connection: Connection, customer_id: int) -> int:
    """The live customer that ``customer_id`` was merged into (itself if live)."""
    seen = {customer_id}
    current = customer_id
    while True:
        query = select(customer.c.merged_into_id).where(customer.c.id == current)
        into = connection.execute(query).scalar()
        if into is None or into in seen:
            return current
        seen.add(into)
        current = into


def find_customer(connection: Connection, ref: str | int) -> int:
    """The id of the customer ``ref`` names (it may be a merged customer).

    Raises
    ------
    NotFound
        Nothing matches.
    InvalidInput
        ``ref`` is empty, or matches customers that are not one merged person.
    """
    if isinstance(ref, int):
        candidates = [("id", str(ref))]
    elif not ref.strip():
        raise InvalidInput("a customer reference is empty")
    else:
        candidates = _candidates(ref)
    how: dict[int, list[str]] = {}
    for kind, value in candidates:
        for found in _matches(connection, kind, value):
            how.setdefault(found, []).append(kind.replace("_", " "))
    if not how:
        raise NotFound(f"no customer matches {ref!r}")
    if len(how) == 1:
        return next(iter(how))
    live = {survivor_of(connection, found) for found in how}
    if len(live) == 1 and live <= how.keys():
        return live.pop()
    named = "; ".join(f"customer {c} by {', '.join(k)}" for c, k in sorted(how.items()))
    msg = (
        f"customer {ref!r} is ambiguous ({named}): prefix it with id:, member:, "
        "email:, phone: or social:"
    )
    raise InvalidInput(msg)
