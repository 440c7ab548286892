"""Merging customers and splitting merges on the store (SQLite + PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from merge_seeding import (
    bare_customers,
    customer_ids,
    load,
    profile_count,
    seed_pair,
    snapshot,
    write_csv,
)
from sqlalchemy import delete, select, update

from cxloop.config import Settings
from cxloop.customers.merging import (
    list_merges,
    merge_customers,
    plan_resolution,
    resolve_identities,
    split_merge,
)
from cxloop.domain.errors import Conflict, InvalidInput, NotFound
from cxloop.store.engine import engine_for
from cxloop.store.tables import Customer, Identity, IdentityMerge, Interaction


def test_merge_moves_every_row_and_split_restores_them_exactly(
    settings: Settings, tmp_path: Path
) -> None:
    first, second = seed_pair(settings, tmp_path)
    before = snapshot(settings)
    record = merge_customers(
        settings=settings, keep="M1", merge="Chen.Work@example.com",
        reason="same person, told by phone", actor="agent 7",
    )  # fmt: skip
    assert (record.kept_customer_id, record.merged_customer_id) == (first, second)
    merged = snapshot(settings)
    for table in ("identity", "interaction", "purchase", "support_case", "invitation"):
        assert second not in merged[table], table
        assert (
            merged[table][first] == before[table].get(first, 0) + before[table][second]
        )
    assert merged["segment_member"] == {first: 2}
    assert len(record.moved["purchase"]) == 2
    assert len(record.moved["interaction"]) == 2
    assert record.filled == {
        "phone": "+886922000111", "language": "zh-TW", "attributes": {"vip": "yes"},
    }  # fmt: skip
    kept = merged["customer"][first]
    assert kept[1:4] == ("陳小明", "chen@example.com", "+886922000111")
    assert kept[7] == {"tier": "gold", "vip": "yes"}
    assert merged["customer"][second][-1] == first
    assert profile_count(settings, second) == 0

    split = split_merge(settings=settings, merge_id=record.id, actor="agent 9")
    assert split.undone_at is not None
    assert split.skipped == {}
    after = snapshot(settings)
    assert after == before


def test_split_twice_is_refused(settings: Settings, tmp_path: Path) -> None:
    seed_pair(settings, tmp_path)
    record = merge_customers(settings=settings, keep="M1", merge="M2", reason="dup")
    split_merge(settings=settings, merge_id=record.id)
    with pytest.raises(Conflict, match=rf"merge #{record.id} was already split"):
        split_merge(settings=settings, merge_id=record.id)
    with pytest.raises(NotFound, match="merge #999 does not exist"):
        split_merge(settings=settings, merge_id=999)


def test_split_of_a_merge_moved_on_by_a_later_merge_is_refused_until_that_is_split(
    settings: Settings, tmp_path: Path
) -> None:
    seed_pair(settings, tmp_path)
    path = write_csv(tmp_path / "third.csv", ["customer_id", "name"], [["M3", "王"]])
    load(settings, "customers", path)
    before = snapshot(settings)
    first = merge_customers(settings=settings, keep="M2", merge="M1", reason="a")
    second = merge_customers(settings=settings, keep="M3", merge="M2", reason="b")
    with pytest.raises(Conflict, match=rf"split merge #{second.id} first"):
        split_merge(settings=settings, merge_id=first.id)
    (m1,) = customer_ids(settings, "M1")
    assert snapshot(settings)["customer"][m1][-1] == second.kept_customer_id
    split_merge(settings=settings, merge_id=second.id)
    split_merge(settings=settings, merge_id=first.id)
    assert snapshot(settings) == before


def test_merge_refuses_itself_an_already_merged_customer_and_a_merged_target(
    settings: Settings, tmp_path: Path
) -> None:
    first, second = seed_pair(settings, tmp_path)
    with pytest.raises(Conflict, match="cannot be merged into itself"):
        merge_customers(settings=settings, keep="M1", merge=first, reason="x")
    record = merge_customers(settings=settings, keep=first, merge=second, reason="x")
    with pytest.raises(Conflict, match=rf"already merged into it \(merge #{record.id}"):
        merge_customers(settings=settings, keep=first, merge=second, reason="x")
    with pytest.raises(Conflict, match=f"merge into {first} instead"):
        merge_customers(settings=settings, keep=second, merge=first, reason="x")
    with pytest.raises(InvalidInput, match="give a reason"):
        merge_customers(settings=settings, keep=first, merge=second, reason=" ")
    with pytest.raises(NotFound, match=r"no customer matches 'nobody@example\.com'"):
        merge_customers(
            settings=settings, keep=first, merge="nobody@example.com", reason="x"
        )


def test_split_skips_rows_deleted_since_and_reports_them(
    settings: Settings, tmp_path: Path
) -> None:
    _first, second = seed_pair(settings, tmp_path)
    record = merge_customers(settings=settings, keep="M1", merge="M2", reason="dup")
    gone = record.moved["interaction"][0]
    with engine_for(settings.database_url).begin() as connection:
        connection.execute(delete(Interaction).where(Interaction.id == gone))
    split = split_merge(settings=settings, merge_id=record.id)
    assert split.skipped == {"interaction": [gone]}
    assert snapshot(settings)["interaction"][second] == 1


def test_split_keeps_a_filled_field_that_was_changed_after_the_merge(
    settings: Settings, tmp_path: Path
) -> None:
    first, _second = seed_pair(settings, tmp_path)
    record = merge_customers(settings=settings, keep="M1", merge="M2", reason="dup")
    with engine_for(settings.database_url).begin() as connection:
        connection.execute(
            update(Customer).where(Customer.id == first).values(language="en")
        )
    split_merge(settings=settings, merge_id=record.id)
    kept = snapshot(settings)["customer"][first]
    assert kept[3:7] == (None, "台北", None, "en")


def test_resolve_merges_customers_sharing_normalised_identities_once(
    settings: Settings, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "people.csv", ["email"], [["a@x.tw"]])
    load(settings, "customers", path)
    (holder,) = list(snapshot(settings)["customer"])
    by_column, phone_a, phone_b, alone = bare_customers(
        settings, {"email": "A@X.tw "}, {"phone": "0912 345 678"},
        {"phone": "+886912345678"}, {"email": "b@x.tw"},
    )  # fmt: skip
    planned = plan_resolution(settings=settings)
    assert [(g.survivor, g.merged) for g in planned] == [
        (holder, (by_column,)), (phone_a, (phone_b,)),
    ]  # fmt: skip
    records = resolve_identities(settings=settings)
    reasons = {r.merged_customer_id: r.reason for r in records}
    assert reasons == {
        by_column: "shared identity: email a@x.tw",
        phone_b: "shared identity: phone +886912345678",
    }
    assert resolve_identities(settings=settings) == []
    assert plan_resolution(settings=settings) == []
    with engine_for(settings.database_url).connect() as connection:
        query = select(Identity.value, Identity.customer_id)
        held = dict(connection.execute(query).all())
    assert held["+886912345678"] == phone_a
    assert alone not in {r.kept_customer_id for r in records}


def test_list_merges_filters_by_customer_reference(
    settings: Settings, tmp_path: Path
) -> None:
    first, second = seed_pair(settings, tmp_path)
    path = write_csv(tmp_path / "third.csv", ["customer_id"], [["M3"]])
    load(settings, "customers", path)
    (third,) = customer_ids(settings, "M3")
    one = merge_customers(settings=settings, keep="M1", merge="M2", reason="a")
    two = merge_customers(
        settings=settings, keep="M1", merge="M3", reason="b", actor="agent 7"
    )
    assert [r.id for r in list_merges(settings=settings)] == [one.id, two.id]
    assert [r.id for r in list_merges(settings=settings, customer=second)] == [one.id]
    only_third = list_merges(settings=settings, customer=f"id:{third}")
    assert [(r.id, r.actor, r.reason) for r in only_third] == [(two.id, "agent 7", "b")]
    # M3 now names the customer it was merged into: both merges are that customer's.
    assert len(list_merges(settings=settings, customer="M3")) == 2
    assert len(list_merges(settings=settings, customer=first)) == 2
    with engine_for(settings.database_url).connect() as connection:
        stored = connection.scalar(
            select(IdentityMerge.undone_at).where(IdentityMerge.id == one.id)
        )
    assert stored is None
