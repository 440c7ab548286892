"""Feedback files: interactions, answers, customers, idempotency, rejects (SQLite + PG)."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest
from ingest_files import FEEDBACK_HEADER, count, fetch, write_csv
from sqlalchemy import select

from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput
from cxloop.ingest.service import import_file
from cxloop.store.tables import (
    Answer,
    Customer,
    Identity,
    ImportReject,
    ImportRun,
    Interaction,
    Question,
    Survey,
)

HOSTILE = "<script>alert(1)</script> {{7*7}} 服務很好，但是等太久"

GOOD_ROWS = [
    ["R1", "Amy@Example.com", "", "2024-03-01 09:30", "門市", "台北信義店", "support", "9", "5", "", HOSTILE],
    ["R2", "", "0912-345-678", "2024/03/02 10:00:00", "官網", "checkout", "購買", "3", "", "6", "太慢了\n下次改進"],
    ["R3", "amy@example.com", "", "2024-03-03T08:00:00+08:00", "App", "", "", "", "", "", ""],
]  # fmt: skip


def _feedback(
    tmp_path: Path, rows: list[list[str]] = GOOD_ROWS, name: str = "survey.csv"
) -> Path:
    return write_csv(tmp_path / name, FEEDBACK_HEADER, rows)


def test_feedback_creates_one_interaction_and_one_answer_per_score(
    settings: Settings, tmp_path: Path
) -> None:
    summary = import_file(settings=settings, kind="feedback", path=_feedback(tmp_path))
    assert (summary.rows_read, summary.inserted, summary.rejected) == (3, 3, 0)
    assert summary.committed
    assert summary.source == "survey"
    url = settings.database_url
    answers = fetch(
        url,
        select(Interaction.external_id, Answer.metric, Answer.value)
        .join(Answer)
        .order_by(Interaction.external_id, Answer.metric),
    )
    assert [tuple(a) for a in answers] == [
        ("R1", "csat", 5.0), ("R1", "nps", 9.0), ("R2", "ces", 6.0), ("R2", "nps", 3.0),
    ]  # fmt: skip
    kinds = fetch(url, select(Interaction.kind).distinct())
    assert [k[0] for k in kinds] == ["survey_response"]


def test_feedback_stores_channel_stage_time_and_text_verbatim(
    settings: Settings, tmp_path: Path
) -> None:
    import_file(settings=settings, kind="feedback", path=_feedback(tmp_path))
    rows = fetch(
        settings.database_url,
        select(Interaction.external_id, Interaction.channel, Interaction.journey_stage,
               Interaction.occurred_at, Interaction.text, Interaction.touchpoint)
        .order_by(Interaction.external_id),
    )  # fmt: skip
    assert rows[0][1:3] == ("store", "support")
    assert rows[0][3] == datetime(2024, 3, 1, 1, 30, tzinfo=UTC)
    assert rows[0][4] == HOSTILE
    assert rows[0][5] == "台北信義店"
    assert rows[1][1:4] == ("web", "purchase", datetime(2024, 3, 2, 2, 0, tzinfo=UTC))
    assert rows[1][4] == "太慢了\n下次改進"
    assert rows[2][1:4] == ("app", None, datetime(2024, 3, 3, 0, 0, tzinfo=UTC))
    assert rows[2][4] is None


def test_feedback_creates_the_import_survey_with_three_questions(
    settings: Settings, tmp_path: Path
) -> None:
    import_file(
        settings=settings, kind="feedback", path=_feedback(tmp_path), source="qualtrics"
    )
    surveys = fetch(settings.database_url, select(Survey.key))
    assert [s[0] for s in surveys] == ["import:qualtrics"]
    questions = fetch(
        settings.database_url,
        select(Question.key, Question.metric).order_by(Question.position),
    )
    assert [tuple(q) for q in questions] == [
        ("nps", "nps"),
        ("csat", "csat"),
        ("ces", "ces"),
    ]


def test_feedback_matches_customers_by_lower_cased_email_and_local_phone(
    settings: Settings, tmp_path: Path
) -> None:
    import_file(settings=settings, kind="feedback", path=_feedback(tmp_path))
    later = [
        ["L1", "AMY@example.COM", "", "2024-04-01", "", "", "", "10", "", "", ""],
        ["L2", "", "+886 912 345 678", "2024-04-02", "", "", "", "8", "", "", ""],
    ]
    import_file(
        settings=settings, kind="feedback", path=_feedback(tmp_path, later, "later.csv")
    )
    url = settings.database_url
    assert count(url, Customer) == 2
    identities = fetch(
        url, select(Identity.kind, Identity.value).order_by(Identity.kind)
    )
    assert [tuple(i) for i in identities] == [
        ("email", "amy@example.com"),
        ("phone", "+886912345678"),
    ]
    owners = dict(fetch(url, select(Interaction.external_id, Interaction.customer_id)))
    assert owners["R1"] == owners["R3"] == owners["L1"]
    assert owners["R2"] == owners["L2"] != owners["R1"]


def test_feedback_reimport_adds_nothing_and_counts_duplicates(
    settings: Settings, tmp_path: Path
) -> None:
    path = _feedback(tmp_path)
    import_file(settings=settings, kind="feedback", path=path)
    again = import_file(settings=settings, kind="feedback", path=path)
    assert (again.inserted, again.duplicates, again.rejected) == (0, 3, 0)
    url = settings.database_url
    assert (count(url, Interaction), count(url, Answer), count(url, Customer)) == (
        3,
        4,
        2,
    )
    runs = fetch(
        url,
        select(
            ImportRun.rows_inserted, ImportRun.rows_duplicate, ImportRun.status
        ).order_by(ImportRun.id),
    )
    assert [tuple(r) for r in runs] == [(3, 0, "done"), (0, 3, "done")]


def test_feedback_other_source_imports_the_same_ids_again(
    settings: Settings, tmp_path: Path
) -> None:
    path = _feedback(tmp_path)
    import_file(settings=settings, kind="feedback", path=path, source="a")
    other = import_file(settings=settings, kind="feedback", path=path, source="b")
    assert other.inserted == 3
    assert count(settings.database_url, Interaction) == 6


def test_feedback_extra_columns_are_kept_as_attributes(
    settings: Settings, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "extra.csv",
        ["response_id", "submitted_at", "nps", "store_code", "門市區域"],
        [["X1", "2024-05-01 12:00", "7", "S-01", "北區"]],
    )
    import_file(settings=settings, kind="feedback", path=path)
    stored = fetch(
        settings.database_url, select(Interaction.attributes, Interaction.customer_id)
    )
    assert stored[0][0] == {"store_code": "S-01", "門市區域": "北區"}
    assert stored[0][1] is None


def test_map_renames_columns_before_validation(
    settings: Settings, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "export.csv",
        ["編號", "填答時間", "推薦分數", "意見"],
        [["M1", "2024-05-01 12:00", "10", "很好"]],
    )
    mapping = {
        "編號": "response_id",
        "填答時間": "submitted_at",
        "推薦分數": "nps",
        "意見": "comment",
    }
    summary = import_file(
        settings=settings, kind="feedback", path=path, mapping=mapping
    )
    assert summary.inserted == 1
    stored = fetch(
        settings.database_url,
        select(Interaction.external_id, Interaction.text, Interaction.attributes),
    )
    assert tuple(stored[0]) == ("M1", "很好", None)


def _bad_rows() -> list[list[str]]:
    return [
        ["B1", "", "", "2024-03-01 09:30", "", "", "", "11", "", "", ""],
        ["B2", "", "", "2024-13-45", "", "", "", "5", "", "", ""],
        ["B1", "", "", "2024-03-01 10:30", "", "", "", "5", "", "", ""],
        ["B4", "", "", "2024-03-01 10:30", "火星", "", "", "5", "", "", HOSTILE],
        ["B5", "not-an-email", "", "2024-03-01 10:30", "", "", "", "", "", "", ""],
        ["B6", "", "", "", "", "", "", "", "3", "", ""],
        ["OK", "", "", "2024-03-01 10:30", "", "", "", "8", "", "", ""],
    ]


def test_rejected_rows_stop_the_import_and_write_the_rejects_file(
    settings: Settings, tmp_path: Path
) -> None:
    path = _feedback(tmp_path, _bad_rows(), "bad.csv")
    summary = import_file(settings=settings, kind="feedback", path=path)
    assert not summary.committed
    assert (summary.rejected, summary.inserted) == (6, 0)
    url = settings.database_url
    assert [
        count(url, t) for t in (Interaction, Answer, Customer, ImportRun, Survey)
    ] == [0] * 5
    assert summary.rejects_path == tmp_path / "bad.csv.rejects.csv"
    with summary.rejects_path.open(encoding="utf-8-sig", newline="") as handle:
        rejects = list(csv.DictReader(handle))
    assert [(r["line"], r["field"]) for r in rejects] == [
        ("2", "nps"), ("3", "submitted_at"), ("4", "response_id"), ("5", "channel"),
        ("6", "email"), ("7", "submitted_at"),
    ]  # fmt: skip
    reasons = [r["reason"] for r in rejects]
    assert "'11' must be a whole number from 0 to 10" in reasons[0]
    assert "'2024-13-45' is not a date" in reasons[1]
    assert "duplicate response_id 'B1' in this file (first on line 2)" in reasons[2]
    assert "'火星' is not a valid channel; allowed: web, app" in reasons[3]
    assert "not an email address" in reasons[4]
    assert reasons[5] == "a value is required"
    assert rejects[3]["comment"] == HOSTILE
    assert rejects[0]["response_id"] == "B1"


def test_allow_rejects_imports_the_good_rows_and_records_the_rejects(
    settings: Settings, tmp_path: Path
) -> None:
    path = _feedback(tmp_path, _bad_rows(), "bad.csv")
    summary = import_file(
        settings=settings, kind="feedback", path=path, allow_rejects=True
    )
    assert summary.committed
    assert (summary.inserted, summary.rejected) == (1, 6)
    url = settings.database_url
    stored = fetch(url, select(Interaction.external_id, Answer.value).join(Answer))
    assert [tuple(r) for r in stored] == [("OK", 8.0)]
    rejects = fetch(
        url,
        select(ImportReject.line, ImportReject.field, ImportReject.raw).order_by(
            ImportReject.line
        ),
    )
    assert [r[0] for r in rejects] == [2, 3, 4, 5, 6, 7]
    assert rejects[3][1] == "channel"
    assert rejects[3][2]["comment"] == HOSTILE
    runs = fetch(
        url, select(ImportRun.rows_inserted, ImportRun.rows_rejected, ImportRun.status)
    )
    assert tuple(runs[0]) == (1, 6, "partial")


def test_a_clean_rerun_removes_the_stale_rejects_file(
    settings: Settings, tmp_path: Path
) -> None:
    path = _feedback(tmp_path, _bad_rows(), "bad.csv")
    import_file(settings=settings, kind="feedback", path=path)
    assert (tmp_path / "bad.csv.rejects.csv").exists()
    _feedback(tmp_path, GOOD_ROWS, "bad.csv")
    summary = import_file(settings=settings, kind="feedback", path=path)
    assert summary.rejects_path is None
    assert not (tmp_path / "bad.csv.rejects.csv").exists()


def test_batches_commit_every_row(settings: Settings, tmp_path: Path) -> None:
    rows = [
        [
            f"N{i}",
            f"c{i % 7}@example.com",
            "",
            "2024-06-01 08:00",
            "",
            "",
            "",
            str(i % 11),
            "",
            "",
            "",
        ]
        for i in range(23)
    ]
    small = settings.model_copy(update={"import_batch_size": 5})
    seen: list[tuple[int, int]] = []
    summary = import_file(
        settings=small,
        kind="feedback",
        path=_feedback(tmp_path, rows),
        progress=lambda d, t: seen.append((d, t)),
    )
    assert summary.inserted == 23
    assert count(settings.database_url, Interaction) == 23
    assert count(settings.database_url, Customer) == 7
    assert seen[0] == (0, 23)
    assert seen[-1] == (23, 23)
    assert len(seen) == 6


def test_missing_required_column_names_file_and_column(
    settings: Settings, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "nodate.csv", ["response_id", "nps"], [["R1", "9"]])
    with pytest.raises(
        InvalidInput, match=r"nodate\.csv line 1: missing required column submitted_at"
    ):
        import_file(settings=settings, kind="feedback", path=path)
    assert count(settings.database_url, ImportRun) == 0


def test_unknown_kind_lists_the_kinds(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(
        InvalidInput,
        match="use one of: customers, transactions, feedback, interactions, cases",
    ):
        import_file(settings=settings, kind="surveys", path=_feedback(tmp_path))


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"Nope": "nps"}, r"--map Nope=nps: .*has no column 'Nope'"),
        ({"comment": "mood"}, r"--map comment=mood: feedback has no field 'mood'"),
        ({"comment": "nps"}, r"columns 'nps' and 'comment' both give field 'nps'"),
    ],
)
def test_bad_map_entry_is_refused(
    settings: Settings, tmp_path: Path, mapping: dict[str, str], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        import_file(
            settings=settings,
            kind="feedback",
            path=_feedback(tmp_path),
            mapping=mapping,
        )
    assert count(settings.database_url, Interaction) == 0
