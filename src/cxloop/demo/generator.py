"""The demo company's data as pandas frames, one per import kind, from one seed.

>>> data = generate(seed=1, size="small")
>>> sorted(data.frames())
['cases', 'customers', 'feedback', 'interactions', 'transactions']

Everything is drawn from ``numpy.random.default_rng(seed)`` in a fixed order, so the same
seed and size always give the same frames, on any machine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cxloop.demo import company as co
from cxloop.demo.cases import make_cases
from cxloop.demo.contacts import make_interactions
from cxloop.demo.feedback import make_feedback
from cxloop.demo.people import make_customers
from cxloop.demo.sales import make_orders, make_transactions
from cxloop.domain.errors import InvalidInput

#: Import kinds in the order they must be loaded (later kinds name earlier customers).
KINDS = ("customers", "transactions", "feedback", "interactions", "cases")


@dataclass(frozen=True)
class Size:
    """How many customers, purchases, survey responses and other interactions."""

    customers: int
    purchases: int
    responses: int
    interactions: int


SIZES: dict[str, Size] = {
    "small": Size(
        customers=1_000, purchases=6_000, responses=3_600, interactions=6_400
    ),
    "full": Size(
        customers=20_000, purchases=120_000, responses=72_000, interactions=128_000
    ),
}


@dataclass(frozen=True)
class DemoData:
    """One frame per import kind, in the importer's column format."""

    customers: pd.DataFrame
    transactions: pd.DataFrame
    feedback: pd.DataFrame
    interactions: pd.DataFrame
    cases: pd.DataFrame

    def frames(self) -> dict[str, pd.DataFrame]:
        """The frames by import kind, in load order."""
        return {kind: getattr(self, kind) for kind in KINDS}


def size_of(size: str) -> Size:
    """The :class:`Size` named ``size``; InvalidInput names the choices otherwise."""
    try:
        return SIZES[size]
    except KeyError:
        choices = " or ".join(SIZES)
        msg = f"demo size {size!r} is unknown: choose {choices}"
        raise InvalidInput(msg) from None


def generate(*, seed: int = 42, size: str = "full") -> DemoData:
    """The demo company's customers, transactions, feedback, interactions and cases.

    Parameters
    ----------
    seed
        Seed of ``numpy.random.default_rng``; the same seed gives the same data.
    size
        ``"full"`` (about 20,000 customers and 200,000 interactions) or ``"small"``
        (about 1,000 customers and 10,000 interactions, for tests).
    """
    counts = size_of(size)
    rng = np.random.default_rng(seed)
    customers, people = make_customers(rng, counts.customers)
    orders = make_orders(rng, people, round(counts.purchases * co.ORDER_DRAWS))
    transactions = make_transactions(rng, people, orders)
    feedback = make_feedback(rng, people, orders, counts.responses)
    contacts = make_interactions(rng, people, counts.interactions)
    cases = make_cases(rng, people, feedback, contacts)
    return DemoData(
        customers=customers,
        transactions=transactions,
        feedback=feedback.frame,
        interactions=contacts.frame,
        cases=cases,
    )
