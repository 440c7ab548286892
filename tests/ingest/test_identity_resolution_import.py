"""Imports that link customers merge them, with the file and line in the audit
(SQLite + PostgreSQL); social handles are normalised and matched."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
from ingest_files import fetch, write_csv
from sqlalchemy import select

from cxloop.config import Settings
from cxloop.customers.identity import normal_email, normal_phone, normal_social
from cxloop.customers.merging import list_merges, split_merge
from cxloop.ingest import parsers
from cxloop.ingest.service import import_file
from cxloop.store.tables import Customer, Identity, Interaction, Transaction

FEEDBACK = ["response_id", "customer_id", "email", "phone", "submitted_at", "nps"]


def _customers(settings: Settings, path: Path, rows: list[list[str]]) -> dict[str, int]:
    """Import customers (customer_id, email, phone); their ids by first non-empty ref."""
    header = ["customer_id", "email", "phone"]
    summary = import_file(
        settings=settings, kind="customers", path=write_csv(path, header, rows)
    )
    assert summary.rejected == 0, summary.first_rejects
    query = select(Identity.value, Identity.customer_id)
    owners = dict(fetch(settings.database_url, query))
    normalisers = (str.strip, normal_email, normal_phone)
    found = {}
    for row in rows:
        column, value = next((i, v) for i, v in enumerate(row) if v)
        found[value] = owners[normalisers[column](value)]
    return found


def _owners(
    settings: Settings, table: type[Interaction] | type[Transaction]
) -> dict[str, int]:
    query = select(table.external_id, table.customer_id)
    return dict(fetch(settings.database_url, query))


def test_feedback_row_linking_two_customers_merges_them_with_file_and_line(
    settings: Settings, tmp_path: Path
) -> None:
    ids = _customers(
        settings, tmp_path / "people.csv", [["M1", "", ""], ["", "a@x.tw", ""]]
    )
    rows = [
        ["R1", "", "a@x.tw", "", "2025-03-01", "8"],
        ["R2", "M1", "A@X.tw", "", "2025-03-02", "9"],
        ["R3", "M1", "", "", "2025-03-03", "10"],
    ]
    path = write_csv(tmp_path / "feedback.csv", FEEDBACK, rows)
    summary = import_file(settings=settings, kind="feedback", path=path)
    assert (summary.inserted, summary.customers_merged) == (3, 1)
    assert summary.customers_created == 0
    (merge,) = list_merges(settings=settings)
    assert (merge.kept_customer_id, merge.merged_customer_id) == (
        ids["M1"],
        ids["a@x.tw"],
    )
    assert merge.reason == "import feedback.csv line 3: member id M1 and email a@x.tw"
    assert merge.actor == "import feedback"
    assert set(_owners(settings, Interaction).values()) == {ids["M1"]}
    split_merge(settings=settings, merge_id=merge.id)
    assert _owners(settings, Interaction) == {
        "R1": ids["a@x.tw"], "R2": ids["M1"], "R3": ids["M1"],
    }  # fmt: skip


def test_links_over_several_rows_merge_everyone_into_the_oldest(
    settings: Settings, tmp_path: Path
) -> None:
    ids = _customers(
        settings, tmp_path / "people.csv",
        [["M1", "", ""], ["", "e2@x.tw", ""], ["", "", "0912-000-003"]],
    )  # fmt: skip
    header = [
        "transaction_id",
        "customer_id",
        "email",
        "phone",
        "occurred_at",
        "amount",
    ]
    rows = [
        ["T1", "", "e2@x.tw", "0912 000 003", "2025-01-01", "10"],
        ["T2", "", "", "+886912000003", "2025-01-02", "20"],
        ["T3", "M1", "e2@x.tw", "", "2025-01-03", "30"],
    ]
    path = write_csv(tmp_path / "sales.csv", header, rows)
    summary = import_file(settings=settings, kind="transactions", path=path)
    assert summary.customers_merged == 2
    reasons = {m.merged_customer_id: m.reason for m in list_merges(settings=settings)}
    link_2 = "line 2: email e2@x.tw and phone +886912000003"
    assert reasons == {
        ids["e2@x.tw"]: f"import sales.csv {link_2}; line 4: member id M1 and email "
        "e2@x.tw",
        ids["0912-000-003"]: f"import sales.csv {link_2}",
    }
    assert {m.kept_customer_id for m in list_merges(settings=settings)} == {ids["M1"]}
    assert set(_owners(settings, Transaction).values()) == {ids["M1"]}


def test_new_customer_linked_by_a_later_row_is_not_created(
    settings: Settings, tmp_path: Path
) -> None:
    ids = _customers(settings, tmp_path / "people.csv", [["", "", "0912-111-222"]])
    rows = [
        ["R1", "N7", "new@x.tw", "", "2025-03-01", "8"],
        ["R2", "", "new@x.tw", "0912111222", "2025-03-02", "9"],
    ]
    path = write_csv(tmp_path / "web.csv", FEEDBACK, rows)
    summary = import_file(settings=settings, kind="feedback", path=path)
    assert (summary.customers_created, summary.customers_merged) == (0, 0)
    stored = ids["0912-111-222"]
    assert set(_owners(settings, Interaction).values()) == {stored}
    held = fetch(settings.database_url, select(Identity.value, Identity.customer_id))
    assert {value for value, owner in held if owner == stored} == {
        "+886912111222", "N7", "new@x.tw",
    }  # fmt: skip
    customers = fetch(settings.database_url, select(Customer.id, Customer.external_id))
    assert customers == [(stored, "N7")]


def test_reimporting_a_linking_file_merges_nothing_more(
    settings: Settings, tmp_path: Path
) -> None:
    _customers(settings, tmp_path / "people.csv", [["M1", "", ""], ["", "a@x.tw", ""]])
    rows = [["R1", "M1", "a@x.tw", "", "2025-03-01", "8"]]
    path = write_csv(tmp_path / "feedback.csv", FEEDBACK, rows)
    assert (
        import_file(settings=settings, kind="feedback", path=path).customers_merged == 1
    )
    again = write_csv(
        tmp_path / "more.csv", FEEDBACK, [["R9", "M1", "a@x.tw", "", "2025-03-09", "7"]]
    )
    assert (
        import_file(settings=settings, kind="feedback", path=again).customers_merged
        == 0
    )
    assert len(list_merges(settings=settings)) == 1


def test_customers_file_row_linking_two_customers_merges_and_updates(
    settings: Settings, tmp_path: Path
) -> None:
    ids = _customers(
        settings, tmp_path / "people.csv", [["M1", "", ""], ["", "a@x.tw", ""]]
    )
    header = ["customer_id", "email", "name"]
    path = write_csv(tmp_path / "crm.csv", header, [["M1", "a@x.tw", "陳小明"]])
    summary = import_file(settings=settings, kind="customers", path=path)
    assert (summary.updated, summary.customers_merged) == (1, 1)
    (merge,) = list_merges(settings=settings)
    assert merge.reason == "import crm.csv line 2: member id M1 and email a@x.tw"
    query = select(Customer.id, Customer.name, Customer.email, Customer.merged_into_id)
    assert sorted(fetch(settings.database_url, query)) == [
        (ids["M1"], "陳小明", "a@x.tw", None),
        (ids["a@x.tw"], None, "a@x.tw", ids["M1"]),
    ]


def test_social_handles_are_normalised_and_matched(
    settings: Settings, tmp_path: Path
) -> None:
    header = ["customer_id", "social_handle"]
    people = write_csv(tmp_path / "people.csv", header, [["M5", "@Lin.Mei"]])
    assert import_file(settings=settings, kind="customers", path=people).inserted == 1
    header = ["interaction_id", "social_handle", "occurred_at", "kind", "text"]
    rows = [
        ["I1", "lin.mei", "2025-03-01", "social_post", "讚"],
        ["I2", "@LIN.MEI", "2025-03-02", "social_post", "好"],
        ["I3", "Instagram:@Lin.Mei", "2025-03-03", "social_post", "?"],
        ["I4", "two words", "2025-03-04", "social_post", "x"],
    ]
    path = write_csv(tmp_path / "posts.csv", header, rows)
    summary = import_file(
        settings=settings, kind="interactions", path=path, allow_rejects=True
    )
    assert (summary.inserted, summary.rejected, summary.customers_created) == (3, 1, 1)
    assert summary.first_rejects[0].line == 5
    assert "'two words' is not a social handle" in summary.first_rejects[0].reason
    owners = _owners(settings, Interaction)
    query = select(Identity.value, Identity.customer_id).where(
        Identity.kind == "social"
    )
    held = dict(fetch(settings.database_url, query))
    assert held == {"lin.mei": owners["I1"], "instagram:lin.mei": owners["I3"]}
    assert owners["I1"] == owners["I2"] != owners["I3"]


def test_social_parser_agrees_with_the_scalar_normaliser() -> None:
    raw = ["@A_b", " x:@Y ", "", "bad handle", "line:林"]
    parsed = parsers.social()(pa.array(raw, pa.string()))
    expected = [normal_social(v) if v.strip() else None for v in raw]
    assert parsed.values.to_pylist() == expected
    assert list(parsed.errors) == [3]
