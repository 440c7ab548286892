"""Customers for the customer-page tests: imported through the importers, with profiles.

``seed_customers`` loads a handful of named customers (one with a hostile name, one
whose member id is another customer's id) with their feedback, purchases and a case,
then writes the profiles that ``cxloop customers score`` would write for three of
them (no importer writes profiles). ``seed_population`` makes a store that the real
scoring can learn churn from.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from cxloop.config import Settings
from cxloop.ingest.service import import_file
from cxloop.store.engine import engine_for
from cxloop.store.tables import Customer, CustomerProfile

HOSTILE_NAME = "<script>alert(1)</script>{{7*7}}\u202e王"
WILDCARD_NAME = "100% Juice_Co"
COMPUTED = datetime(2025, 4, 1, tzinfo=UTC)

CUSTOMERS = (
    ("M1", "chen@example.com", "0912-345-678", "陳小明"),
    ("M2", "evil@example.com", "", HOSTILE_NAME),
    ("M3", "juice@example.com", "", WILDCARD_NAME),
    ("M4", "", "0922-000-111", "Lin Mei"),
    ("M5", "tai.chen@example.com", "", "陳大文"),
    ("1", "one@example.com", "", "Member One"),
)
REASONS = [
    {"feature": "recency_days", "value": 120.0, "effect": 0.21,
     "text": "days since last purchase = 120 (+21 pts)"},
    {"feature": "last_nps", "value": 3.0, "effect": 0.08,
     "text": "last NPS answer = 3 (+8 pts)"},
    {"feature": "frequency", "value": 2.0, "effect": -0.03,
     "text": "purchases = 2 (-3 pts)"},
]  # fmt: skip
#: Profiles by member id: tier, CLV, revenue, churn risk, RFM segment.
PROFILES: dict[str, dict[str, Any]] = {
    "M1": {"value_tier": "top", "clv": 5000.0, "revenue": 200.0, "orders": 2,
           "churn_risk": 0.72, "rfm_segment": "at_risk", "r_score": 1, "f_score": 3,
           "m_score": 4, "cluster": 0, "cluster_label": "not seen lately",
           "p_alive": 0.3, "expected_purchases": 0.8, "churn_reasons": REASONS,
           "last_nps": 3.0, "last_csat": 2.0, "sentiment_trend": -0.4},
    "M2": {"value_tier": "low", "clv": 10.0, "revenue": 5.0, "orders": 1,
           "churn_risk": 0.9, "rfm_segment": "lost", "cluster": 1,
           "cluster_label": "newly joined"},
    "M5": {"value_tier": "high", "clv": 3000.0, "revenue": 900.0, "orders": 6,
           "churn_risk": 0.6, "rfm_segment": "champions", "cluster": 0,
           "cluster_label": "not seen lately"},
}  # fmt: skip


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def load(settings: Settings, kind: str, path: Path) -> None:
    summary = import_file(settings=settings, kind=kind, path=path)
    assert summary.committed, summary.first_rejects
    assert summary.rejected == 0, summary.first_rejects


def seed_customers(settings: Settings, folder: Path) -> dict[str, int]:
    """Import CUSTOMERS with M1's history; returns customer ids by member id."""
    header = ["customer_id", "email", "phone", "name"]
    load(settings, "customers", write_csv(folder / "c.csv", header, CUSTOMERS))
    header = ["response_id", "customer_id", "submitted_at", "nps", "csat", "comment"]
    rows = [["R1", "M1", "2025-03-02 10:00", 3, 2, "<b>送貨</b> too slow"],
            ["R2", "M1", "2025-01-10 09:00", 9, "", ""]]  # fmt: skip
    load(settings, "feedback", write_csv(folder / "f.csv", header, rows))
    header = ["transaction_id", "customer_id", "occurred_at", "amount", "product"]
    rows = [["T1", "M1", "2025-01-05", "120", "<i>Kettle</i>"],
            ["T2", "M1", "2025-02-01", "80", "茶葉"]]  # fmt: skip
    load(settings, "transactions", write_csv(folder / "t.csv", header, rows))
    header = ["case_id", "customer_id", "opened_at", "title"]
    rows = [["C1", "M1", "2025-03-03 12:00", "退款太慢"]]
    load(settings, "cases", write_csv(folder / "k.csv", header, rows))
    ids = customer_ids(settings)
    write_profiles(settings, {ids[member]: row for member, row in PROFILES.items()})
    return ids


def customer_ids(settings: Settings) -> dict[str, int]:
    with engine_for(settings.database_url).connect() as connection:
        rows = connection.execute(select(Customer.external_id, Customer.id)).all()
    return {str(member): int(found) for member, found in rows}


def write_profiles(settings: Settings, profiles: dict[int, dict[str, Any]]) -> None:
    with engine_for(settings.database_url).begin() as connection:
        for customer_id, values in profiles.items():
            connection.execute(
                insert(CustomerProfile).values(
                    customer_id=customer_id, computed_at=COMPUTED, **values
                )
            )


def seed_population(settings: Settings, folder: Path, size: int = 150) -> None:
    """``size`` customers buying at random over two years, each able to stop for good."""
    draw = random.Random(20250101)  # noqa: S311 - reproducible test data
    start = date(2023, 1, 1)
    customers: list[list[Any]] = []
    sales: list[list[Any]] = []
    answers: list[list[Any]] = []
    for number in range(size):
        member = f"P{number:04d}"
        customers.append([member, f"p{number}@example.com", f"顧客{number}"])
        rate, drop = draw.uniform(1 / 90, 1 / 10), draw.uniform(0.01, 0.15)
        spend = draw.uniform(200, 2000)
        day = draw.expovariate(rate) / 4
        while day < 730:
            when = start + timedelta(days=int(day))
            amount = round(spend * draw.uniform(0.7, 1.3))
            sales.append([f"S{len(sales)}", member, when.isoformat(), amount, "茶葉"])
            if draw.random() < drop:
                break
            day += draw.expovariate(rate)
        answers.append([f"A{number}", member, "2024-06-01", draw.randint(0, 10)])
    load(settings, "customers", write_csv(folder / "pc.csv",
         ["customer_id", "email", "name"], customers))  # fmt: skip
    load(settings, "transactions", write_csv(folder / "ps.csv",
         ["transaction_id", "customer_id", "occurred_at", "amount", "product"],
         sales))  # fmt: skip
    load(settings, "feedback", write_csv(folder / "pf.csv",
         ["response_id", "customer_id", "submitted_at", "nps"], answers))  # fmt: skip
