"""Saved segments: rule masks over a customer frame and loading definitions from files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from cxloop.analytics.segment_rules import (
    SegmentDefinition,
    load_segment_definitions,
    segment_mask,
)
from cxloop.domain.errors import InvalidInput


def _customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "region": ["北部", "南部", "北部", None, "中部"],
            "monetary": [25_000.0, 3_000.0, None, 900.0, 12_000.0],
            "last_nps": [3, 9, 6, 10, 0],
            "member": [True, False, True, False, True],
            "email": ["a@shop.tw", "B@Gmail.com", "c@gmail.com", None, "e@shop.tw"],
            "topics": [["配送延遲"], [], ["品質", "配送延遲"], None, ["價格"]],
            "last_purchase": pd.to_datetime(
                ["2026-01-05", "2025-06-30", "2026-03-01", None, "2025-12-31"]
            ),
        },
        index=pd.Index(["c1", "c2", "c3", "c4", "c5"], name="customer_id"),
    )


def _segment(*conditions: dict[str, Any], match: str = "all") -> SegmentDefinition:
    return SegmentDefinition.model_validate(
        {"key": "test", "name": "測試", "match": match, "conditions": list(conditions)}
    )


def _members(definition: SegmentDefinition) -> list[str]:
    mask = segment_mask(definition, _customers())
    assert mask.dtype == bool
    assert mask.name == "test"
    return [str(c) for c in mask[mask].index]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"field": "region", "op": "eq", "value": "北部"}, ["c1", "c3"]),
        ({"field": "region", "op": "ne", "value": "北部"}, ["c2", "c5"]),
        ({"field": "monetary", "op": "gt", "value": 3000}, ["c1", "c5"]),
        ({"field": "monetary", "op": "ge", "value": 3000}, ["c1", "c2", "c5"]),
        ({"field": "monetary", "op": "lt", "value": 3000}, ["c4"]),
        ({"field": "last_nps", "op": "le", "value": 6}, ["c1", "c3", "c5"]),
        ({"field": "last_nps", "op": "between", "value": [7, 9]}, ["c2"]),
        ({"field": "region", "op": "in", "value": ["南部", "中部"]}, ["c2", "c5"]),
        ({"field": "region", "op": "not_in", "value": ["南部"]}, ["c1", "c3", "c5"]),
        ({"field": "email", "op": "contains", "value": "gmail"}, ["c2", "c3"]),
        ({"field": "topics", "op": "contains", "value": "配送延遲"}, ["c1", "c3"]),
        ({"field": "monetary", "op": "is_null"}, ["c3"]),
        ({"field": "region", "op": "not_null"}, ["c1", "c2", "c3", "c5"]),
        ({"field": "member", "op": "eq", "value": True}, ["c1", "c3", "c5"]),
        ({"field": "last_purchase", "op": "ge", "value": "2026-01-01"}, ["c1", "c3"]),
    ],
)
def test_segment_mask_each_operator(
    condition: dict[str, Any], expected: list[str]
) -> None:
    assert _members(_segment(condition)) == expected


def test_segment_mask_all_and_any() -> None:
    unhappy = {"field": "last_nps", "op": "le", "value": 6}
    big = {"field": "monetary", "op": "ge", "value": 10_000}
    assert _members(_segment(unhappy, big)) == ["c1", "c5"]
    assert _members(_segment(unhappy, big, match="any")) == ["c1", "c3", "c5"]


def test_segment_mask_nulls_never_match_comparisons() -> None:
    assert "c3" not in _members(_segment({"field": "monetary", "op": "ne", "value": 1}))
    assert "c4" not in _members(
        _segment({"field": "region", "op": "not_in", "value": ["x"]})
    )


def test_segment_mask_unknown_field_lists_known_ones() -> None:
    with pytest.raises(
        InvalidInput, match="unknown field 'spend'; known fields: email, "
    ):
        segment_mask(_segment({"field": "spend", "op": "gt", "value": 1}), _customers())


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ({"field": "monetary", "op": "gt", "value": "big"}, "holds numbers.*'big'"),
        ({"field": "region", "op": "eq", "value": 3}, "holds text.*write it in quotes"),
        ({"field": "member", "op": "gt", "value": True}, "gt does not apply"),
        (
            {"field": "monetary", "op": "contains", "value": 5},
            "contains does not apply",
        ),
        (
            {"field": "last_purchase", "op": "lt", "value": "soon"},
            "'soon' is not a date",
        ),
        ({"field": "last_nps", "op": "between", "value": [9, 7]}, "low <= high"),
    ],
)
def test_segment_mask_type_mismatch_is_explained(
    condition: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        segment_mask(_segment(condition), _customers())


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"key": "Big Spenders", "name": "x", "conditions": []}, "key: String should match"),
        ({"key": "a", "name": "x", "conditions": [{"field": "f", "op": "like"}]}, "conditions.0.op"),
        ({"key": "a", "name": "x", "conditions": [{"field": "f", "op": "in", "value": 1}]}, "non-empty list"),
        ({"key": "a", "name": "x", "conditions": [{"field": "f", "op": "is_null", "value": 1}]}, "takes no value"),
        ({"key": "a", "name": "x", "colour": "red", "conditions": [{"field": "f", "op": "not_null"}]}, "colour"),
    ],
)  # fmt: skip
def test_definition_errors_name_file_entry_and_field(
    tmp_path: Path, entry: dict[str, Any], message: str
) -> None:
    path = tmp_path / "segments.json"
    path.write_text(json.dumps([entry]), encoding="utf-8")
    with pytest.raises(InvalidInput, match=f"segments.json: segment 1 .*{message}"):
        load_segment_definitions(path)


YAML_SEGMENTS = """\
segments:
  - key: unhappy_big_spenders
    name: 高消費但不滿意
    name_en: Unhappy big spenders
    conditions:
      - {field: monetary, op: ge, value: 10000}
      - {field: last_nps, op: le, value: 6}
  - key: north
    name: 北部顧客
    match: any
    conditions:
      - {field: region, op: eq, value: 北部}
"""


def test_load_yaml_definitions_and_apply_them(tmp_path: Path) -> None:
    path = tmp_path / "segments.yaml"
    path.write_text(YAML_SEGMENTS, encoding="utf-8")
    first, second = load_segment_definitions(path)
    assert first.name_en == "Unhappy big spenders"
    assert first.match == "all"
    assert second.match == "any"
    mask = segment_mask(first, _customers())
    assert mask[mask].index.tolist() == ["c1", "c5"]


def test_load_single_json_definition(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    entry = {"key": "north", "name": "北部", "conditions": [{"field": "region", "op": "eq", "value": "北部"}]}  # fmt: skip
    path.write_text(json.dumps(entry, ensure_ascii=False), encoding="utf-8")
    assert [d.key for d in load_segment_definitions(path)] == ["north"]


def test_load_refuses_bad_yaml_duplicate_keys_and_other_suffixes(
    tmp_path: Path,
) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("key: a\nname: [unclosed\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"broken\.yml line 3: not valid YAML"):
        load_segment_definitions(broken)
    twice = tmp_path / "twice.yaml"
    one = "- {key: a, name: A, conditions: [{field: f, op: not_null}]}\n"
    twice.write_text(one + one, encoding="utf-8")
    with pytest.raises(InvalidInput, match="keys appear more than once: a"):
        load_segment_definitions(twice)
    with pytest.raises(InvalidInput, match=r"YAML .* or JSON"):
        load_segment_definitions(tmp_path / "segments.txt")
