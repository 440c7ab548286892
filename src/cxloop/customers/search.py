"""Find customers by what a person types: an id, a member id, an e-mail, a phone, a name.

:func:`search_customers` serves the search box of the dashboard and
``GET /api/v1/customers?q=``. Exact identifiers are normalised the way identity
resolution stores them (:mod:`cxloop.customers.identity`); any other text is matched
as a part of the customer's name, case-insensitively, with ``%`` and ``_`` taken
literally. Only live customers are returned: a customer merged into another is found
as the customer it was merged into. Without a query, the most valuable customers come
first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Executable, case, func, or_, select

from cxloop.config import Settings
from cxloop.customers.identity import (
    normal_email,
    normal_member_id,
    normal_phone,
    normal_social,
)
from cxloop.customers.lookup import survivor_of
from cxloop.domain.errors import InvalidInput
from cxloop.domain.vocab import IdentityKind
from cxloop.store.engine import engine_for
from cxloop.store.tables import Customer, CustomerProfile, Identity

#: The most hits one search returns, and the longest query it takes.
MAX_LIMIT = 500
MAX_QUERY = 200
_LIKE_ESCAPE = "\\"


@dataclass(frozen=True)
class CustomerHit:
    """One customer a search found, with the value and risk ``customers score`` set.

    ``matched`` says how: ``id``, ``member_id``, ``email``, ``phone``, ``social``,
    ``name`` or, without a query, ``value``.
    """

    id: int
    external_id: str | None
    name: str | None
    email: str | None
    value_tier: str | None
    churn_risk: float | None
    clv: float | None
    revenue: float | None
    matched: str


def search_customers(
    *, settings: Settings, query: str = "", limit: int = 50
) -> list[CustomerHit]:
    """Live customers that ``query`` names, exact identifier matches first.

    Parameters
    ----------
    settings
        Names the store.
    query
        An id, member id, e-mail, phone number, ``@handle`` or a part of a name.
        Empty: the most valuable customers (by CLV, then revenue).
    limit
        The most hits returned, 1 to :data:`MAX_LIMIT`.

    Raises
    ------
    InvalidInput
        ``limit`` is out of range or ``query`` is longer than :data:`MAX_QUERY`.
    """
    text = _checked(query, limit)
    with engine_for(settings.database_url).connect() as connection:
        exact = _exact_matches(connection, text) if text else {}
        condition: ColumnElement[bool] | None = None
        if text:
            condition = or_(Customer.id.in_(list(exact)), _name_like(text))
        rows = connection.execute(_hits_query(exact, condition, limit)).all()
    fallback = "name" if text else "value"
    return [_hit(row, exact.get(row[0], fallback)) for row in rows]


def _hit(row: Any, matched: str) -> CustomerHit:
    return CustomerHit(
        id=row.id,
        external_id=row.external_id,
        name=row.name,
        email=row.email,
        value_tier=row.value_tier,
        churn_risk=row.churn_risk,
        clv=row.clv,
        revenue=row.revenue,
        matched=matched,
    )


def _checked(query: str, limit: int) -> str:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit {limit} must be between 1 and {MAX_LIMIT}")
    text = query.strip()
    if len(text) > MAX_QUERY:
        msg = f"a customer search is at most {MAX_QUERY} characters, not {len(text)}"
        raise InvalidInput(msg)
    return text


def _identifiers(text: str) -> list[tuple[str, str]]:
    """(kind, normalised value) pairs that ``text`` could be."""
    found = [
        (IdentityKind.MEMBER_ID.value, normal_member_id(text)),
        (IdentityKind.EMAIL.value, normal_email(text)),
        (IdentityKind.SOCIAL.value, normal_social(text) if _social(text) else None),
    ]
    if sum(ch.isdigit() for ch in text) >= 6:
        found.append((IdentityKind.PHONE.value, normal_phone(text)))
    return [(kind, value) for kind, value in found if value]


def _social(text: str) -> bool:
    return text.startswith("@") or (":" in text and " " not in text)


def _exact_matches(connection: Connection, text: str) -> dict[int, str]:
    """Live customer id -> how ``text`` named it exactly (an id or an identifier)."""
    matched: dict[int, str] = {}
    if text.isdigit() and len(text) < 16:
        ids = connection.execute(select(Customer.id).where(Customer.id == int(text)))
        matched.update((found, "id") for found in ids.scalars())
    columns = {
        IdentityKind.MEMBER_ID.value: Customer.external_id,
        IdentityKind.EMAIL.value: func.lower(Customer.email),
        IdentityKind.PHONE.value: Customer.phone,
    }
    for kind, value in _identifiers(text):
        held = select(Identity.customer_id).where(
            Identity.kind == kind, Identity.value == value
        )
        owners = set(connection.execute(held).scalars())
        if kind in columns:
            own = select(Customer.id).where(columns[kind] == value)
            owners.update(connection.execute(own).scalars())
        for owner in owners:
            matched.setdefault(owner, kind)
    return {survivor_of(connection, found): how for found, how in matched.items()}


def _name_like(text: str) -> ColumnElement[bool]:
    escaped = (
        text.lower()
        .replace(_LIKE_ESCAPE, _LIKE_ESCAPE * 2)
        .replace("%", _LIKE_ESCAPE + "%")
        .replace("_", _LIKE_ESCAPE + "_")
    )
    return func.lower(Customer.name).like(f"%{escaped}%", escape=_LIKE_ESCAPE)


def _hits_query(
    exact: dict[int, str], condition: ColumnElement[bool] | None, limit: int
) -> Executable:
    query = (
        select(
            Customer.id,
            Customer.external_id,
            Customer.name,
            Customer.email,
            CustomerProfile.value_tier,
            CustomerProfile.churn_risk,
            CustomerProfile.clv,
            CustomerProfile.revenue,
        )
        .outerjoin(CustomerProfile, CustomerProfile.customer_id == Customer.id)
        .where(Customer.merged_into_id.is_(None))
    )
    if condition is not None:
        query = query.where(condition)
    order: list[ColumnElement[Any]] = [
        CustomerProfile.clv.desc().nulls_last(),
        CustomerProfile.revenue.desc().nulls_last(),
        Customer.id.asc(),
    ]
    if exact:
        order.insert(0, case((Customer.id.in_(list(exact)), 0), else_=1))
    return query.order_by(*order).limit(limit)
