"""Identity resolution, the pure part: normalised identifiers, groups and reasons.

Customers that share a normalised identifier (an e-mail, an E.164 phone, a member id
or a social handle) are one person. :class:`CustomerGroups` is a union-find over
customer ids whose survivor is always the oldest customer (the lowest id);
:func:`group_by_identity` builds the groups from who holds which identifier and words
the reason of each merge.

Social handles are written ``@name``, ``name``, ``platform:@name`` or
``platform:name``. They are matched lower-cased and without the ``@``; a handle given
with its platform (``instagram:name``) and one given without (``name``) are different
identifiers, so that the same name on two platforms never links two people.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import phonenumbers

from cxloop.domain.vocab import IdentityKind

#: A kind and a normalised value, such as ``("email", "a@x.tw")``.
Ident = tuple[str, str]

#: How an identifier kind is named in reasons.
KIND_WORDS = {
    IdentityKind.EMAIL.value: "email",
    IdentityKind.PHONE.value: "phone",
    IdentityKind.MEMBER_ID.value: "member id",
    IdentityKind.SOCIAL.value: "social handle",
}

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SOCIAL = re.compile(r"^(?:([a-z][a-z0-9_.-]{0,31}):)?@?([^\s@:]{1,200})$")


def normal_email(value: str) -> str | None:
    """An e-mail address trimmed and lower-cased; None when it is not one.

    >>> normal_email(" Chen@Example.COM ")
    'chen@example.com'
    """
    cleaned = value.strip().lower()
    return cleaned if len(cleaned) <= 320 and EMAIL.match(cleaned) else None


def normal_phone(value: str, region: str = "TW") -> str | None:
    """A phone number as E.164; local numbers are read as ``region``; None if not one.

    >>> normal_phone("0912-345-678")
    '+886912345678'
    """
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normal_social(value: str) -> str | None:
    """A social handle lower-cased, without its ``@``; None when it is not one.

    >>> normal_social("@Lin.Mei")
    'lin.mei'
    >>> normal_social(" Instagram:@Lin.Mei ")
    'instagram:lin.mei'
    """
    found = SOCIAL.match(value.strip().lower())
    if found is None:
        return None
    platform, handle = found.groups()
    return f"{platform}:{handle}" if platform else handle


def normal_member_id(value: str) -> str | None:
    """A member id with its surrounding spaces trimmed; None when empty or too long."""
    cleaned = value.strip()
    return cleaned if 0 < len(cleaned) <= 200 else None


def normalise(kind: str, value: str) -> str | None:
    """The normalised ``value`` of identifier ``kind``; None when it is not valid."""
    normalisers = {
        IdentityKind.EMAIL.value: normal_email,
        IdentityKind.PHONE.value: normal_phone,
        IdentityKind.MEMBER_ID.value: normal_member_id,
        IdentityKind.SOCIAL.value: normal_social,
    }
    return normalisers[kind](value)


def describe(idents: Iterable[Ident]) -> str:
    """Identifiers in words, joined with "and".

    >>> describe([("member_id", "M1"), ("email", "a@x.tw")])
    'member id M1 and email a@x.tw'
    """
    words = [f"{KIND_WORDS.get(kind, kind)} {value}" for kind, value in idents]
    return " and ".join(dict.fromkeys(words))


class CustomerGroups:
    """Union-find over customer ids; the root of each group is its lowest id.

    >>> groups = CustomerGroups()
    >>> groups.union(9, 5); groups.union(12, 9); groups.union(3, 4)
    >>> groups.find(12), groups.groups()
    (5, [[3, 4], [5, 9, 12]])
    """

    def __init__(self) -> None:
        self._parent: dict[int, int] = {}

    def find(self, customer: int) -> int:
        """The survivor (lowest id) of ``customer``'s group."""
        root = self._parent.setdefault(customer, customer)
        while self._parent[root] != root:
            root = self._parent[root]
        while customer != root:  # path compression: point the whole path at root
            self._parent[customer], customer = root, self._parent[customer]
        return root

    def union(self, first: int, second: int) -> None:
        """Put ``first`` and ``second`` in one group."""
        a, b = self.find(first), self.find(second)
        if a != b:
            self._parent[max(a, b)] = min(a, b)

    def groups(self) -> list[list[int]]:
        """Every group of two or more customers, ids ascending, by survivor."""
        members: dict[int, list[int]] = defaultdict(list)
        for customer in list(self._parent):
            members[self.find(customer)].append(customer)
        return sorted(sorted(group) for group in members.values() if len(group) > 1)


@dataclass(frozen=True)
class MergeGroup:
    """Customers found to be one: the survivor, the others and why each is merged."""

    survivor: int
    merged: tuple[int, ...]
    reasons: Mapping[int, str]


def group_by_identity(
    holders: Mapping[Ident, Iterable[int]], reason_prefix: str
) -> list[MergeGroup]:
    """Groups of customers that hold a common identifier, each with its reasons.

    ``holders`` maps each normalised identifier to the customers that hold it. The
    reason of a merged customer names the shared identifiers it holds.

    >>> found = group_by_identity(
    ...     {("email", "a@x.tw"): [9, 5], ("phone", "+886912345678"): [9]},
    ...     "shared identity",
    ... )
    >>> found[0].survivor, found[0].merged, found[0].reasons[9]
    (5, (9,), 'shared identity: email a@x.tw')
    """
    groups = CustomerGroups()
    shared: dict[int, list[Ident]] = defaultdict(list)
    for ident in sorted(holders):
        customers = sorted(set(holders[ident]))
        if len(customers) < 2:
            continue
        for customer in customers:
            groups.union(customers[0], customer)
            shared[customer].append(ident)
    return [
        MergeGroup(
            survivor=members[0],
            merged=tuple(members[1:]),
            reasons={c: f"{reason_prefix}: {describe(shared[c])}" for c in members[1:]},
        )
        for members in groups.groups()
    ]
