"""Customers (upsert), transactions, interactions and cases (SQLite + PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from ingest_files import count, fetch, write_csv
from sqlalchemy import select

from cxloop.config import Settings
from cxloop.ingest.service import import_file
from cxloop.store.tables import Case, Customer, Identity, Interaction, Transaction

CUSTOMER_HEADER = [
    "customer_id",
    "name",
    "email",
    "phone",
    "region",
    "segment",
    "language",
    "member_tier",
]


def test_customers_are_created_with_identities_and_attributes(
    settings: Settings, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "customers.csv", CUSTOMER_HEADER, [
        ["M001", "王小明", "Ming@Example.com", "0912-345-678", "北部", "家庭", "zh-TW", "gold"],
        ["M002", "<script>alert(1)</script>", "", "", "", "", "", ""],
    ])  # fmt: skip
    summary = import_file(settings=settings, kind="customers", path=path)
    assert (summary.inserted, summary.updated, summary.duplicates) == (2, 0, 0)
    url = settings.database_url
    stored = fetch(
        url,
        select(
            Customer.external_id,
            Customer.name,
            Customer.email,
            Customer.phone,
            Customer.region,
            Customer.attributes,
        ).order_by(Customer.external_id),
    )
    assert tuple(stored[0]) == (
        "M001",
        "王小明",
        "ming@example.com",
        "+886912345678",
        "北部",
        {"member_tier": "gold"},
    )
    assert tuple(stored[1])[:2] == ("M002", "<script>alert(1)</script>")
    identities = fetch(
        url, select(Identity.kind, Identity.value).order_by(Identity.value)
    )
    assert sorted(tuple(i) for i in identities) == [
        ("email", "ming@example.com"), ("member_id", "M001"), ("member_id", "M002"), ("phone", "+886912345678"),
    ]  # fmt: skip


def test_customers_reimport_updates_changes_and_counts_the_rest_as_duplicates(
    settings: Settings, tmp_path: Path
) -> None:
    rows = [
        ["M001", "王小明", "", "", "北部", "", "", ""],
        ["M002", "陳美麗", "", "", "南部", "", "", ""],
    ]
    import_file(
        settings=settings,
        kind="customers",
        path=write_csv(tmp_path / "a.csv", CUSTOMER_HEADER, rows),
    )
    rows[0][4] = "中部"
    rows[1][4] = ""  # an empty cell never erases
    again = import_file(
        settings=settings,
        kind="customers",
        path=write_csv(tmp_path / "a.csv", CUSTOMER_HEADER, rows),
    )
    assert (again.inserted, again.updated, again.duplicates) == (0, 1, 1)
    regions = fetch(
        settings.database_url,
        select(Customer.external_id, Customer.region).order_by(Customer.external_id),
    )
    assert [tuple(r) for r in regions] == [("M001", "中部"), ("M002", "南部")]
    assert count(settings.database_url, Customer) == 2


def test_customer_matched_by_email_gets_the_member_id(
    settings: Settings, tmp_path: Path
) -> None:
    feedback = write_csv(
        tmp_path / "fb.csv",
        ["response_id", "email", "submitted_at"],
        [["R1", "amy@example.com", "2024-01-01"]],
    )
    import_file(settings=settings, kind="feedback", path=feedback)
    customers = write_csv(
        tmp_path / "c.csv",
        CUSTOMER_HEADER,
        [["M9", "Amy", "AMY@example.com", "", "", "", "", ""]],
    )
    summary = import_file(settings=settings, kind="customers", path=customers)
    assert (summary.inserted, summary.updated) == (0, 1)
    stored = fetch(settings.database_url, select(Customer.external_id, Customer.name))
    assert [tuple(s) for s in stored] == [("M9", "Amy")]


def test_customers_without_any_reference_are_rejected(
    settings: Settings, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "c.csv", CUSTOMER_HEADER, [["", "無名氏", "", "", "", "", "", ""]]
    )
    summary = import_file(settings=settings, kind="customers", path=path)
    assert (
        summary.first_rejects[0].reason == "a customer_id, email or phone is required"
    )
    assert count(settings.database_url, Customer) == 0


TRANSACTION_HEADER = [
    "transaction_id",
    "customer_id",
    "occurred_at",
    "amount",
    "currency",
    "kind",
    "channel",
    "product",
    "coupon",
]


def test_transactions_store_amounts_kinds_and_customers(
    settings: Settings, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "t.csv", TRANSACTION_HEADER, [
        ["T1", "M001", "2024-03-01 12:00", "1,234.50", "", "", "官網", "掃地機器人", "SPRING"],
        ["T2", "M001", "2024-03-05 12:00", "-200", "", "", "門市", "濾網", ""],
        ["T3", "M002", "2024-03-06T04:00:00Z", "300", "usd", "退貨", "web", "", ""],
    ])  # fmt: skip
    summary = import_file(settings=settings, kind="transactions", path=path)
    assert summary.inserted == 3
    rows = fetch(
        settings.database_url,
        select(
            Transaction.external_id,
            Transaction.kind,
            Transaction.amount,
            Transaction.currency,
            Transaction.channel,
            Transaction.occurred_at,
            Transaction.attributes,
        ).order_by(Transaction.external_id),
    )
    assert [tuple(r)[:5] for r in rows] == [
        ("T1", "purchase", Decimal("1234.50"), "TWD", "web"),
        ("T2", "refund", Decimal("-200.00"), "TWD", "store"),
        ("T3", "refund", Decimal("-300.00"), "USD", "web"),
    ]
    assert rows[2][5] == datetime(2024, 3, 6, 4, 0, tzinfo=UTC)
    assert rows[0][6] == {"coupon": "SPRING"}
    owners = fetch(settings.database_url, select(Transaction.customer_id).distinct())
    assert len(owners) == 2
    assert count(settings.database_url, Customer) == 2


def test_transaction_purchase_with_negative_amount_is_rejected(
    settings: Settings, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "t.csv", TRANSACTION_HEADER, [
        ["T1", "M1", "2024-03-01", "-5", "", "purchase", "", "", ""],
        ["T2", "M1", "2024-03-01", "12.345", "", "", "", "", ""],
    ])  # fmt: skip
    summary = import_file(settings=settings, kind="transactions", path=path)
    assert [(r.line, r.field) for r in summary.first_rejects] == [
        (2, "amount"),
        (3, "amount"),
    ]
    assert "give the row kind refund" in summary.first_rejects[0].reason
    assert count(settings.database_url, Transaction) == 0


def test_interactions_store_kind_text_and_stage(
    settings: Settings, tmp_path: Path
) -> None:
    header = [
        "interaction_id",
        "phone",
        "occurred_at",
        "kind",
        "channel",
        "journey_stage",
        "text",
        "language",
    ]
    path = write_csv(tmp_path / "i.csv", header, [
        ["C1", "0912345678", "2024-03-01 10:00", "通話", "電話", "售後", "客人抱怨 {{7*7}}", "zh-TW"],
        ["C2", "", "2024-03-01 11:00", "Review", "評論網站", "use", "Great!", "en"],
    ])  # fmt: skip
    assert import_file(settings=settings, kind="interactions", path=path).inserted == 2
    rows = fetch(
        settings.database_url,
        select(
            Interaction.external_id,
            Interaction.kind,
            Interaction.channel,
            Interaction.journey_stage,
            Interaction.text,
            Interaction.language,
            Interaction.customer_id,
        ).order_by(Interaction.external_id),
    )
    assert tuple(rows[0])[:6] == (
        "C1",
        "call",
        "phone",
        "support",
        "客人抱怨 {{7*7}}",
        "zh-TW",
    )
    assert tuple(rows[1])[:6] == ("C2", "review", "review_site", "use", "Great!", "en")
    assert rows[0][6] is not None
    assert rows[1][6] is None


def test_interaction_kind_is_required_and_checked(
    settings: Settings, tmp_path: Path
) -> None:
    header = ["interaction_id", "occurred_at", "kind"]
    path = write_csv(
        tmp_path / "i.csv",
        header,
        [["C1", "2024-03-01", ""], ["C2", "2024-03-01", "fax"]],
    )
    summary = import_file(settings=settings, kind="interactions", path=path)
    assert summary.first_rejects[0].reason == "a value is required"
    assert "'fax' is not a valid interaction kind" in summary.first_rejects[1].reason


CASE_HEADER = [
    "case_id", "email", "opened_at", "title", "status", "priority", "kind", "team", "root_cause",
    "contacts", "handling_seconds", "first_response_at", "resolved_at", "closed_at", "resolution",
]  # fmt: skip


def test_cases_store_clocks_vocabularies_and_defaults(
    settings: Settings, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "cases.csv", CASE_HEADER, [
        ["K1", "a@example.com", "2024-03-01 09:00", "退款太慢", "已結案", "高", "客訴", "客服一組", "系統",
         "2", "900", "2024-03-01 10:00", "2024-03-02 09:00", "2024-03-02 10:00", "已退款"],
        ["K2", "", "2024-03-03 09:00", "詢問保固", "", "", "", "", "", "", "", "", "", "", ""],
    ])  # fmt: skip
    assert import_file(settings=settings, kind="cases", path=path).inserted == 2
    rows = fetch(
        settings.database_url,
        select(
            Case.external_id,
            Case.status,
            Case.priority,
            Case.kind,
            Case.root_cause,
            Case.contacts,
            Case.handling_seconds,
            Case.resolved_at,
        ).order_by(Case.external_id),
    )
    assert tuple(rows[0]) == (
        "K1",
        "closed",
        "high",
        "complaint",
        "system",
        2,
        900,
        datetime(2024, 3, 2, 1, 0, tzinfo=UTC),
    )
    assert tuple(rows[1]) == ("K2", "new", "normal", "complaint", None, 1, None, None)


def test_case_clock_before_opening_is_rejected(
    settings: Settings, tmp_path: Path
) -> None:
    row = [
        "K1",
        "",
        "2024-03-01 09:00",
        "t",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "2024-02-28 09:00",
        "",
        "",
    ]
    summary = import_file(
        settings=settings,
        kind="cases",
        path=write_csv(tmp_path / "c.csv", CASE_HEADER, [row]),
    )
    assert (summary.first_rejects[0].field, summary.first_rejects[0].reason) == (
        "resolved_at",
        "is before opened_at (opened_at)",
    )
    assert count(settings.database_url, Case) == 0
