"""Column parsers on whole columns: times, scores, vocabularies, phones, emails."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from cxloop.domain.vocab import CaseStatus, Channel, JourneyStage
from cxloop.ingest import parsers

MARCH_1_0130_UTC = datetime(2024, 3, 1, 1, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "2024-03-01 09:30", "2024/03/01 09:30:00", "2024-03-01T09:30:00", "2024-3-1 9:30",
        "2024-03-01T09:30:00+08:00", "2024-03-01 01:30Z", "2024-03-01 09:30 +0800",
        " 2024-03-01 09:30:00.000 ",
    ],
)  # fmt: skip
def test_timestamp_forms_read_in_taipei_unless_they_carry_an_offset(text: str) -> None:
    parsed = parsers.timestamp("Asia/Taipei")(pa.array([text]))
    assert parsed.errors == {}
    assert parsed.values.to_pylist() == [MARCH_1_0130_UTC]


def test_timestamp_date_alone_is_local_midnight() -> None:
    parsed = parsers.timestamp("Asia/Taipei")(pa.array(["2024-03-01"]))
    assert parsed.values.to_pylist() == [datetime(2024, 2, 29, 16, 0, tzinfo=UTC)]


@pytest.mark.parametrize(
    "text", ["2024-02-30", "yesterday", "2024", "2024-03", "01/03/2024", "1800-01-01"]
)
def test_timestamp_refuses_what_it_cannot_read(text: str) -> None:
    parsed = parsers.timestamp("Asia/Taipei")(pa.array(["2024-03-01", text]))
    assert list(parsed.errors) == [1]
    assert parsed.values.to_pylist()[1] is None


def test_blank_cells_are_missing_not_errors() -> None:
    for parse in (
        parsers.timestamp("UTC"),
        parsers.integer(0, 10),
        parsers.email(),
        parsers.phone(),
    ):
        parsed = parse(pa.array(["", "   "]))
        assert parsed.errors == {}
        assert parsed.values.to_pylist() == [None, None]


def test_integer_accepts_whole_numbers_in_range_only() -> None:
    parsed = parsers.integer(0, 10)(
        pa.array(["0", "10", "9.0", " 7 ", "11", "-1", "9.5", "九"])
    )
    assert parsed.values.to_pylist() == [0, 10, 9, 7, None, None, None, None]
    assert sorted(parsed.errors) == [4, 5, 6, 7]


@pytest.mark.parametrize(
    ("vocabulary", "text", "value"),
    [
        (Channel, "門市", "store"), (Channel, "官網", "web"), (Channel, "網站", "web"),
        (Channel, "電話", "phone"), (Channel, "客服專線", "phone"), (Channel, "App", "app"),
        (Channel, "線上客服", "chat"), (Channel, "Review Site", "review_site"),
        (JourneyStage, "售後", "support"), (CaseStatus, "已結案", "closed"),
    ],
)  # fmt: skip
def test_vocabulary_accepts_any_case_and_zh_tw_aliases(
    vocabulary: type[Channel], text: str, value: str
) -> None:
    parsed = parsers.vocabulary(vocabulary, "value")(pa.array([text]))
    assert parsed.values.to_pylist() == [value]


def test_phone_reads_taiwan_local_numbers_as_e164() -> None:
    parsed = parsers.phone()(
        pa.array(["0912-345-678", "+886 912 345 678", "(02) 2345-6789", "12"])
    )
    assert parsed.values.to_pylist() == [
        "+886912345678",
        "+886912345678",
        "+886223456789",
        None,
    ]
    assert list(parsed.errors) == [3]


def test_text_is_kept_verbatim() -> None:
    hostile = " <script>alert(1)</script>\n{{7*7}} "
    assert parsers.text()(pa.array([hostile])).values.to_pylist() == [hostile]
