"""What an API key or a person may do beyond reading: the scopes.

An API key created without scopes acts with the full rights of its role, as before
scopes existed. A key created with scopes may do what its scopes name and nothing
else, whatever its role: a key with only ``interactions:write`` can push interactions
but read nothing (add ``read`` to let it read what its role may read). A person signed
in acts with the rights of the role.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from cxloop.domain.errors import InvalidInput
from cxloop.domain.vocab import Role

INTERACTIONS_WRITE = "interactions:write"
READ = "read"

#: Every scope, with what it allows.
SCOPES: dict[str, str] = {
    READ: "read what the key's role may read (metrics, customers, surveys, cases)",
    INTERACTIONS_WRITE: "push interactions (chat, calls, reviews, social posts, "
    "kiosk answers) through POST /api/v1/interactions",
}

#: The scopes each role holds when a key names none (and for signed-in people).
ROLE_SCOPES: dict[str, frozenset[str]] = {
    Role.ADMIN.value: frozenset(SCOPES),
    Role.ANALYST.value: frozenset(SCOPES),
    Role.AGENT.value: frozenset({READ}),
    Role.VIEWER.value: frozenset({READ}),
}


def check_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    """The scopes trimmed, lower-cased and without repeats; InvalidInput names an
    unknown one and lists the valid ones.

    >>> check_scopes([" Interactions:Write ", "interactions:write"])
    ('interactions:write',)
    """
    found: list[str] = []
    for scope in scopes:
        cleaned = scope.strip().lower()
        if cleaned not in SCOPES:
            choices = ", ".join(SCOPES)
            msg = f"scope {scope!r} is unknown: choose one of {choices}"
            raise InvalidInput(msg)
        if cleaned not in found:
            found.append(cleaned)
    return tuple(found)


def allows(*, role: str, scopes: Sequence[str] | None, scope: str) -> bool:
    """Whether a key or person with ``role`` and ``scopes`` (None: by role) may
    act with ``scope``.

    >>> allows(role="viewer", scopes=None, scope="interactions:write")
    False
    >>> allows(role="viewer", scopes=["interactions:write"], scope="interactions:write")
    True
    >>> allows(role="admin", scopes=[], scope="interactions:write")
    False
    """
    if scopes is None:
        return scope in ROLE_SCOPES.get(role, frozenset())
    return scope in scopes
