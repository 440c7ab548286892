"""The demo generator: deterministic, in the importer's formats, with its patterns."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import datetime
from enum import StrEnum
from pathlib import Path

import pandas as pd
import pytest

from cxloop.demo import company as co
from cxloop.demo.generator import KINDS, DemoData, generate
from cxloop.demo.service import write_demo
from cxloop.domain.errors import InvalidInput
from cxloop.domain.vocab import (
    CaseKind,
    CasePriority,
    CaseStatus,
    Channel,
    InteractionKind,
    JourneyStage,
    RootCause,
    TransactionKind,
)
from cxloop.ingest.kinds import kind_spec

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
IDS = {
    "customers": "customer_id",
    "transactions": "transaction_id",
    "feedback": "response_id",
    "interactions": "interaction_id",
    "cases": "case_id",
}


@pytest.fixture(scope="module")
def small() -> DemoData:
    return generate(seed=42, size="small")


def test_generate_gives_identical_frames_for_the_same_seed(small: DemoData) -> None:
    again = generate(seed=42, size="small")
    for kind in KINDS:
        pd.testing.assert_frame_equal(getattr(small, kind), getattr(again, kind))


def test_generate_gives_other_data_for_another_seed(small: DemoData) -> None:
    other = generate(seed=43, size="small")
    assert not small.customers["name"].equals(other.customers["name"])
    assert not small.feedback["nps"].equals(other.feedback["nps"])


def test_generate_small_has_the_promised_sizes(small: DemoData) -> None:
    assert len(small.customers) == 1_000
    assert 9_000 <= len(small.feedback) + len(small.interactions) <= 11_000
    assert 5_000 <= len(small.transactions) <= 8_000
    assert 100 <= len(small.cases) <= 1_000


def test_generate_full_has_the_promised_sizes() -> None:
    full = generate(seed=42, size="full")
    assert len(full.customers) == 20_000
    assert 190_000 <= len(full.feedback) + len(full.interactions) <= 210_000
    assert 100_000 <= len(full.transactions) <= 160_000
    assert 2_000 <= len(full.cases) <= 9_000


def test_generate_refuses_an_unknown_size() -> None:
    with pytest.raises(InvalidInput, match="small or full"):
        generate(seed=1, size="huge")


@pytest.mark.parametrize("kind", KINDS)
def test_frames_have_every_column_the_importer_knows(
    small: DemoData, kind: str
) -> None:
    spec = kind_spec(kind)
    assert spec is not None
    frame = getattr(small, kind)
    assert set(spec.required_columns) <= set(frame.columns)
    known = set(spec.field_names) - {"email", "phone", "language", "social_handle"}
    if kind == "customers":
        known |= {"email", "phone", "language", "social_handle"}
    if kind == "interactions":
        known |= {"social_handle"}
    assert known <= set(frame.columns), known - set(frame.columns)


@pytest.mark.parametrize("kind", KINDS)
def test_frames_have_unique_ids_and_known_customers(small: DemoData, kind: str) -> None:
    frame = getattr(small, kind)
    assert frame[IDS[kind]].is_unique
    assert frame[IDS[kind]].str.len().min() > 0
    assert frame["customer_id"].isin(small.customers["customer_id"]).all()


@pytest.mark.parametrize(
    ("kind", "column"),
    [
        ("transactions", "occurred_at"),
        ("feedback", "submitted_at"),
        ("interactions", "occurred_at"),
        ("cases", "opened_at"),
        ("cases", "first_response_at"),
        ("cases", "resolved_at"),
        ("cases", "closed_at"),
    ],
)
def test_timestamps_parse_and_fall_in_the_two_years(
    small: DemoData, kind: str, column: str
) -> None:
    values = getattr(small, kind)[column]
    present = values[values != ""]
    assert len(present) > 0
    times = pd.to_datetime(present, format=TIME_FORMAT)
    assert times.min() >= datetime(2024, 11, 1)  # noqa: DTZ001 - local business time
    assert times.max() < datetime(2026, 11, 1)  # noqa: DTZ001


def test_case_clocks_run_forward(small: DemoData) -> None:
    cases = small.cases
    opened = pd.to_datetime(cases["opened_at"], format=TIME_FORMAT)
    first = pd.to_datetime(cases["first_response_at"].replace("", None))
    resolved = pd.to_datetime(cases["resolved_at"].replace("", None))
    closed = pd.to_datetime(cases["closed_at"].replace("", None))
    assert ((first >= opened) | first.isna()).all()
    assert ((resolved >= first) | resolved.isna()).all()
    assert ((closed >= resolved) | closed.isna()).all()
    done = cases["status"].isin(["resolved", "closed"])
    assert resolved[done].notna().all()
    assert (cases.loc[done, "root_cause"] != "").all()
    assert closed[cases["status"] == "closed"].notna().all()


@pytest.mark.parametrize(
    ("kind", "column", "vocabulary"),
    [
        ("transactions", "channel", Channel),
        ("transactions", "kind", TransactionKind),
        ("feedback", "channel", Channel),
        ("feedback", "journey_stage", JourneyStage),
        ("interactions", "channel", Channel),
        ("interactions", "journey_stage", JourneyStage),
        ("interactions", "kind", InteractionKind),
        ("cases", "channel", Channel),
        ("cases", "status", CaseStatus),
        ("cases", "priority", CasePriority),
        ("cases", "kind", CaseKind),
    ],
)
def test_controlled_values_come_from_the_vocabulary(
    small: DemoData, kind: str, column: str, vocabulary: type[StrEnum]
) -> None:
    values = set(getattr(small, kind)[column])
    assert values <= {member.value for member in vocabulary}


def test_root_causes_come_from_the_vocabulary(small: DemoData) -> None:
    causes = set(small.cases["root_cause"]) - {""}
    assert causes <= {cause.value for cause in RootCause}
    assert len(causes) == 3


def test_scores_are_in_range_and_each_response_has_one(small: DemoData) -> None:
    fb = small.feedback
    assert fb["nps"].dropna().between(0, 10).all()
    assert fb["csat"].dropna().between(1, 5).all()
    assert fb["ces"].dropna().between(1, 7).all()
    assert fb[["nps", "csat", "ces"]].notna().any(axis=1).all()
    assert fb[["nps", "csat", "ces"]].isna().any(axis=1).mean() > 0.3


def test_transactions_are_in_twd_with_negative_refunds(small: DemoData) -> None:
    tx = small.transactions
    assert set(tx["currency"]) == {"TWD"}
    purchases, refunds = tx[tx["kind"] == "purchase"], tx[tx["kind"] == "refund"]
    assert (purchases["amount"] > 0).all()
    assert (refunds["amount"] < 0).all()
    assert refunds["refund_of"].isin(purchases["transaction_id"]).all()


def test_customers_have_unique_taiwan_contacts(small: DemoData) -> None:
    c = small.customers
    emails = c.loc[c["email"] != "", "email"].str.lower()
    assert emails.is_unique
    assert emails.str.endswith((".com", ".net", ".org")).all()
    assert emails.str.contains("@example.").all()
    digits = c.loc[c["phone"] != "", "phone"].str.replace(r"\D", "", regex=True)
    national = digits.str.replace(r"^8869", "09", regex=True)
    assert national.str.fullmatch(r"09\d{8}").all()
    assert national.is_unique
    assert c["phone"].str.startswith("+886").any()
    assert c["phone"].str.fullmatch(r"09\d\d-\d{3}-\d{3}").any()
    assert set(c["region"]) == {"北部", "中部", "南部", "東部"}
    assert c["name"].str.fullmatch(r"[A-Za-zü]+ [A-Za-zü]+").mean() > 0.03


def test_comments_are_mostly_traditional_chinese_with_some_english(
    small: DemoData,
) -> None:
    comments = small.feedback["comment"]
    written = comments[comments != ""]
    assert 0.2 < (comments == "").mean() < 0.5
    cjk = written.str.contains(r"[\u4e00-\u9fff]")
    assert cjk.mean() > 0.8
    assert (~cjk).mean() > 0.03


def _share(texts: pd.Series, pattern: str) -> float:
    written = texts[texts != ""]
    return float(written.str.contains(pattern, flags=re.IGNORECASE).mean())


def test_text_carries_the_planted_topics(small: DemoData) -> None:
    fb = small.feedback
    late = fb["delivery_days"].fillna(0) > co.LATE_AFTER_DAYS
    assert _share(fb.loc[late, "comment"], "配送|遲|晚|慢|late|slow") > 0.5
    assert _share(fb.loc[~late, "comment"], "配送遲|遲到") < 0.1
    rude = fb["touchpoint"] == co.RUDE_STORE
    assert _share(fb.loc[rude, "comment"], "店員|態度|rude") > 0.4
    month = fb["submitted_at"].str[:7] == co.PRICE_CHANGE_MONTH
    assert _share(fb.loc[month, "comment"], "漲價|價格|貴|price") > 0.25
    posts = small.interactions
    in_month = posts["occurred_at"].str[:7] == co.PRICE_CHANGE_MONTH
    assert _share(posts.loc[in_month, "text"], "漲價|價格|貴|price") > 0.25
    app = (fb["channel"] == "app") & (fb["submitted_at"] >= "2026-03-01")
    assert (
        _share(
            fb.loc[app & (fb["survey"] == "digital"), "comment"], "登入|驗證碼|log in"
        )
        > 0.3
    )


def test_write_demo_writes_one_csv_per_kind_that_reads_back(tmp_path: Path) -> None:
    paths = write_demo(out_dir=tmp_path / "demo", seed=7, size="small")
    assert [p.name for p in paths] == [f"{kind}.csv" for kind in KINDS]
    data = generate(seed=7, size="small")
    for path, kind in zip(paths, KINDS, strict=True):
        back = pd.read_csv(path, dtype=str, keep_default_na=False)
        frame = getattr(data, kind)
        assert list(back.columns) == list(frame.columns)
        assert len(back) == len(frame)
    feedback = pd.read_csv(paths[2], dtype=str, keep_default_na=False)
    assert feedback["comment"].str.contains("店員").any()
    assert (feedback["nps"] == "").any()


DIGEST = """
import hashlib
from cxloop.demo.generator import generate
data = generate(seed=42, size="small")
for kind, frame in data.frames().items():
    text = frame.to_csv(index=False).encode("utf-8")
    print(kind, hashlib.sha256(text).hexdigest())
"""


def test_generate_does_not_depend_on_the_process_hash_seed() -> None:
    digests = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-c", DIGEST],
            capture_output=True,
            text=True,
            env=env,
            check=True,
            timeout=120,
        )
        digests.append(done.stdout)
    assert digests[0] == digests[1]
    assert digests[0].count("\n") == len(KINDS)
