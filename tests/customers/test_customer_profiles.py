"""Scoring the demo company: RFM, value tiers, clusters, CLV, churn risk, segments.

The small demo company is loaded and scored once per module (on SQLite); tests read
the result. One test scores the same company on PostgreSQL.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

from cxloop.analytics import service as analytics
from cxloop.analytics.rfm import RFM_SEGMENTS
from cxloop.analytics.segment_rules import Condition, SegmentDefinition
from cxloop.config import Settings
from cxloop.customers import outreach, profiles, segments, summaries
from cxloop.customers.features import FEATURE_LABELS
from cxloop.customers.profiles import ScoreSummary
from cxloop.customers.view import customer_360
from cxloop.demo.service import load_demo
from cxloop.domain.errors import InvalidInput, NotFound
from cxloop.store.engine import engine_for
from cxloop.store.tables import Case, Customer, CustomerProfile


def make_settings(database_url: str, folder: Path) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key="test-secret-key-not-for-production",
        analytics_dir=str(folder / "analytics"),
        timezone="Asia/Taipei",
    )


@pytest.fixture(scope="module")
def scored(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Settings, ScoreSummary]:
    folder = tmp_path_factory.mktemp("scored")
    shutil.copy(sqlite_template, folder / "store.db")
    settings = make_settings(f"sqlite:///{folder / 'store.db'}", folder)
    load_demo(settings=settings, size="small", seed=42)
    return settings, profiles.score_customers(settings=settings)


def _profiles(settings: Settings) -> pd.DataFrame:
    with engine_for(settings.database_url).connect() as connection:
        rows = connection.execute(select(CustomerProfile)).all()
    return pd.DataFrame([dict(row._mapping) for row in rows]).set_index("customer_id")


def test_score_gives_every_live_customer_a_profile(
    scored: tuple[Settings, ScoreSummary],
) -> None:
    settings, summary = scored
    with engine_for(settings.database_url).connect() as connection:
        customers = connection.execute(select(func.count()).select_from(Customer)).one()
    frame = _profiles(settings)
    assert len(frame) == customers[0] == summary.customers
    assert 0 < summary.with_purchases < summary.customers
    assert summary.clv_fitted
    assert summary.churn_auc is not None
    assert summary.churn_auc > 0.7
    assert frame["value_tier"].isin(["top", "high", "medium", "low"]).all()


def test_value_tiers_follow_the_default_cuts(
    scored: tuple[Settings, ScoreSummary],
) -> None:
    settings, _ = scored
    pyramid = summaries.value_pyramid(settings=settings).set_index("tier")
    total = pyramid["customers"].sum()
    assert pyramid.loc["top", "customers"] == pytest.approx(0.01 * total, abs=2)
    assert pyramid.loc["high", "customers"] == pytest.approx(0.04 * total, abs=2)
    assert pyramid.loc["medium", "customers"] == pytest.approx(0.15 * total, abs=3)
    frame = _profiles(settings)
    by_tier = frame.groupby("value_tier")["clv"].mean()
    assert by_tier["top"] > by_tier["high"] > by_tier["medium"] > by_tier["low"]


def test_rfm_segments_name_recent_frequent_buyers_champions(
    scored: tuple[Settings, ScoreSummary],
) -> None:
    settings, _ = scored
    frame = _profiles(settings)
    buyers = frame[frame["orders"] > 0]
    assert buyers["rfm_segment"].isin(list(RFM_SEGMENTS)).all()
    champions = buyers[buyers["rfm_segment"] == "champions"]
    lost = buyers[buyers["rfm_segment"].isin(["lost", "hibernating"])]
    assert len(champions) > 0
    assert len(lost) > 0
    assert champions["recency_days"].mean() < lost["recency_days"].mean()
    assert champions["orders"].mean() > lost["orders"].mean()
    overview = summaries.rfm_overview(settings=settings, language="zh-TW")
    assert overview["customers"].sum() == len(buyers)
    assert "冠軍顧客" in set(overview["name"])


def test_churn_risk_is_higher_for_customers_who_stopped_buying(
    scored: tuple[Settings, ScoreSummary],
) -> None:
    settings, _ = scored
    frame = _profiles(settings)
    buyers = frame[frame["orders"] > 0]
    assert buyers["churn_risk"].between(0, 1).all()
    lapsed = buyers[buyers["recency_days"] > 240]["churn_risk"].mean()
    active = buyers[buyers["recency_days"] < 30]["churn_risk"].mean()
    assert lapsed > active + 0.2
    reasons = [r for found in buyers["churn_reasons"] for r in found]
    assert reasons
    assert {r["feature"] for r in reasons} <= set(FEATURE_LABELS)
    assert all(r["text"] for r in reasons)


def test_clusters_are_described_in_words(
    scored: tuple[Settings, ScoreSummary],
) -> None:
    settings, summary = scored
    clusters = summaries.cluster_overview(settings=settings)
    assert len(clusters) == summary.clusters >= 2
    assert clusters["label"].str.len().min() > 0
    assert clusters["customers"].sum() == summary.with_purchases


def test_value_tier_and_rfm_segment_cut_every_metric(
    scored: tuple[Settings, ScoreSummary],
) -> None:
    settings, _ = scored
    frame = analytics.metric_frame(settings=settings, metric="nps", by=["value_tier"])
    assert set(frame["value_tier"].dropna()) <= {"top", "high", "medium", "low"}
    assert (
        frame["n"].sum()
        == analytics.metric_frame(settings=settings, metric="nps")["n"].sum()
    )
    by_rfm = analytics.metric_frame(
        settings=settings, metric="csat", by=["rfm_segment"]
    )
    assert "champions" in set(by_rfm["rfm_segment"])


def test_saved_segment_is_a_filter_for_metrics(
    scored: tuple[Settings, ScoreSummary],
) -> None:
    settings, _ = scored
    risky = SegmentDefinition(
        key="risky-north",
        name="北區高風險",
        conditions=[
            Condition(field="churn_risk", op="ge", value=0.5),
            Condition(field="region", op="eq", value="北部"),
        ],
    )
    (info,) = segments.save_segments(settings=settings, definitions=[risky])
    frame = _profiles(settings)
    with engine_for(settings.database_url).connect() as connection:
        north = set(
            connection.execute(
                select(Customer.id).where(Customer.region == "北部")
            ).scalars()
        )
    expected = {
        c for c, risk in frame["churn_risk"].items() if risk >= 0.5 and c in north
    }
    assert info.members == len(expected) > 0
    assert set(segments.segment_members(settings=settings, key="risky-north")) == (
        expected
    )
    inside = analytics.metric_frame(
        settings=settings, metric="nps", where={"in_segment": "risky-north"}
    )
    everyone = analytics.metric_frame(settings=settings, metric="nps")
    assert 0 < inside["n"].iloc[0] < everyone["n"].iloc[0]


def test_saved_segment_with_an_unknown_field_is_refused(
    scored: tuple[Settings, ScoreSummary],
) -> None:
    settings, _ = scored
    bad = SegmentDefinition(
        key="bad",
        name="bad",
        conditions=[Condition(field="shoe_size", op="gt", value=40)],
    )
    with pytest.raises(InvalidInput, match="shoe_size"):
        segments.save_segments(settings=settings, definitions=[bad])
    with pytest.raises(NotFound):
        segments.segment_members(settings=settings, key="bad")


def test_in_segment_cannot_be_a_cut(scored: tuple[Settings, ScoreSummary]) -> None:
    settings, _ = scored
    with pytest.raises(InvalidInput, match="filter"):
        analytics.metric_frame(settings=settings, metric="nps", by=["in_segment"])


def test_outreach_cases_open_once_per_customer(
    scored: tuple[Settings, ScoreSummary],
) -> None:
    settings, _ = scored
    listed = outreach.outreach_list(settings=settings, min_risk=0.3, limit=15)
    assert 0 < len(listed) <= 15
    assert listed["churn_risk"].is_monotonic_decreasing
    assert (listed["churn_risk"] >= 0.3).all()
    first = outreach.create_outreach_cases(settings=settings, min_risk=0.3, limit=15)
    again = outreach.create_outreach_cases(settings=settings, min_risk=0.3, limit=15)
    assert first.opened == len(listed)
    assert again.opened == 0
    assert again.already_open == len(listed)
    with engine_for(settings.database_url).connect() as connection:
        opened = connection.execute(
            select(func.count()).where(Case.source == outreach.OUTREACH_SOURCE)
        ).scalar()
    assert opened == len(listed)


def test_outreach_refuses_a_risk_outside_zero_to_one(
    scored: tuple[Settings, ScoreSummary],
) -> None:
    settings, _ = scored
    with pytest.raises(InvalidInput, match="between 0 and 1"):
        outreach.outreach_list(settings=settings, min_risk=1.5)


def test_customer_360_shows_profile_and_timeline_newest_first(
    scored: tuple[Settings, ScoreSummary],
) -> None:
    settings, _ = scored
    frame = _profiles(settings)
    busiest = int(frame["orders"].idxmax())
    view = customer_360(settings=settings, ref=busiest)
    assert view.id == busiest
    assert view.profile is not None
    assert view.profile["orders"] == frame.loc[busiest, "orders"]
    assert {kind for kind, _ in view.identities} >= {"member_id"}
    times = [event.at for event in view.timeline]
    assert times == sorted(times, reverse=True)
    assert {"purchase", "survey_response"} <= {event.kind for event in view.timeline}
    by_member_id = customer_360(settings=settings, ref=view.external_id or "")
    assert by_member_id.id == busiest


def test_score_runs_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    settings = make_settings(postgres_url, tmp_path)
    load_demo(settings=settings, size="small", seed=7)
    summary = profiles.score_customers(settings=settings)
    assert summary.churn_auc is not None
    assert summary.clv_fitted
    frame = analytics.metric_frame(settings=settings, metric="nps", by=["value_tier"])
    assert set(frame["value_tier"].dropna()) == {"top", "high", "medium", "low"}


def test_score_on_an_empty_store_writes_empty_profiles(
    sqlite_settings: Settings,
) -> None:
    summary = profiles.score_customers(settings=sqlite_settings)
    assert summary.customers == 0
    assert summary.as_of is None
    assert summaries.value_pyramid(settings=sqlite_settings)["customers"].sum() == 0
