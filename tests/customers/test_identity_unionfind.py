"""The pure part of identity resolution: normalisers, union-find, groups and reasons."""

from __future__ import annotations

import pytest

from cxloop.customers.identity import (
    CustomerGroups,
    describe,
    group_by_identity,
    normal_email,
    normal_member_id,
    normal_phone,
    normal_social,
    normalise,
)


def test_groups_survivor_is_the_lowest_id_whatever_the_union_order() -> None:
    groups = CustomerGroups()
    groups.union(40, 12)
    groups.union(12, 77)
    groups.union(77, 5)
    groups.union(8, 9)
    assert [groups.find(c) for c in (40, 12, 77, 5)] == [5, 5, 5, 5]
    assert groups.groups() == [[5, 12, 40, 77], [8, 9]]


def test_groups_leave_unlinked_customers_out() -> None:
    groups = CustomerGroups()
    groups.union(3, 3)
    assert groups.find(99) == 99
    assert groups.groups() == []


def test_groups_are_transitive_over_a_long_chain() -> None:
    groups = CustomerGroups()
    for customer in range(2_000, 1, -1):
        groups.union(customer, customer - 1)
    assert groups.find(2_000) == 1
    assert len(groups.groups()[0]) == 2_000


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" Chen@Example.COM ", "chen@example.com"),
        ("no-at-sign", None),
        ("two@@x.tw", None),
    ],
)
def test_normal_email_lower_cases_and_checks(raw: str, expected: str | None) -> None:
    assert normal_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0912-345-678", "+886912345678"),
        ("0912 345 678", "+886912345678"),
        ("+886 912 345 678", "+886912345678"),
        ("(02) 2345-6789", "+886223456789"),
        ("+1 650 253 0000", "+16502530000"),
        ("12", None),
        ("call me", None),
    ],
)
def test_normal_phone_reads_taiwan_local_numbers_as_e164(
    raw: str, expected: str | None
) -> None:
    assert normal_phone(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("@Lin.Mei", "lin.mei"),
        ("lin.mei", "lin.mei"),
        (" Instagram:@Lin.Mei ", "instagram:lin.mei"),
        ("line:林美", "line:林美"),
        ("two words", None),
        ("@", None),
        ("a@b", None),
    ],
)
def test_normal_social_strips_the_at_and_keeps_the_platform(
    raw: str, expected: str | None
) -> None:
    assert normal_social(raw) == expected


def test_normalise_dispatches_by_kind() -> None:
    assert normalise("email", "A@X.TW") == "a@x.tw"
    assert normalise("member_id", "  M0012 ") == "M0012"
    assert normalise("social", "@X") == "x"
    assert normal_member_id("   ") is None


def test_describe_names_each_identifier_once_in_order() -> None:
    idents = [("member_id", "M1"), ("email", "a@x.tw"), ("member_id", "M1")]
    assert describe(idents) == "member id M1 and email a@x.tw"
    assert describe([("social", "instagram:lin")]) == "social handle instagram:lin"


def test_group_by_identity_links_through_different_identifiers() -> None:
    holders = {
        ("email", "a@x.tw"): [30, 12],
        ("phone", "+886912345678"): [30, 41],
        ("member_id", "M9"): [50],
        ("social", "lin"): [60, 61, 60],
    }
    found = group_by_identity(holders, "shared")
    assert [(g.survivor, g.merged) for g in found] == [(12, (30, 41)), (60, (61,))]
    assert found[0].reasons == {
        30: "shared: email a@x.tw and phone +886912345678",
        41: "shared: phone +886912345678",
    }
    assert found[1].reasons == {61: "shared: social handle lin"}


def test_group_by_identity_finds_nothing_when_no_identifier_is_shared() -> None:
    assert (
        group_by_identity({("email", "a@x.tw"): [3], ("phone", "+1"): [4]}, "x") == []
    )
