"""Service metrics, leaderboard and recovery on seeded cases, against figures by hand.

Seed (Asia/Taipei business zone; T = Monday 2025-03-03 09:00 local):

| case | agent | team | channel | opened | 1st reply | resolved | contacts | handling |
| A1 | alice | billing | email | T | +1 h (due +2 h) | +4 h (due +8 h) | 1 | 600 |
| A2 | alice | billing | phone | T+1 d | +3 h (due +2 h) | +10 h (due +8 h) | 2 | 1200 |
| A3 | alice | billing | email | T+2 d | +30 min (due +2 h) | - (due +8 h) | 1 | - |
| X  | -     | legacy-desk | - | T+3 d | - | +2 h | 3 | 300 |
| B1 | bob   | billing | email | T+7 d | +2 h (due +2 h) | +6 h (due +8 h) | 1 | 900 |
| C1 | carol | delivery | chat | T+8 d | - (due T+11 d) | - (due T+12 d) | 1 | - |
| Z  | -     | - | email | April 1 01:00 local (March 31 UTC) | - | - | 1 | - |

Follow-up scores: A1 5 (solved), A2 4, B1 2 (not solved). "Now" is T+10 d.
Detractors: cust1 NPS 3 just before A1 (A1 is linked to that answer), later 8;
cust2 NPS 5 two hours before B1 (B1 opened within 14 days), later 4; cust3 NPS 0,
later 10, no case; cust4 NPS 6, never again; cust5 NPS 9 (not a detractor).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from service_seeding import (
    add_agent,
    add_case,
    add_customer,
    add_nps,
    add_team,
    nps_survey,
)

from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput
from cxloop.loop.recovery import recovery_report
from cxloop.loop.service_metrics import (
    ServiceRow,
    leaderboard,
    service_metrics,
    service_overview,
)

T = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)
NOW = T + timedelta(days=10)
H = timedelta(hours=1)
D = timedelta(days=1)
FIRST, LAST = date(2025, 3, 1), date(2025, 3, 31)


def _clock(opened: datetime, reply: timedelta | None, done: timedelta | None,
           fr_due: timedelta | None = 2 * H,
           res_due: timedelta | None = 8 * H) -> dict[str, object]:  # fmt: skip
    return {
        "opened": opened,
        "first_response_at": opened + reply if reply is not None else None,
        "resolved_at": opened + done if done is not None else None,
        "first_response_due_at": opened + fr_due if fr_due is not None else None,
        "resolution_due_at": opened + res_due if res_due is not None else None,
    }


@pytest.fixture
def seeded(settings: Settings) -> Settings:
    alice = add_agent(settings, "alice@heguang.example", "alice")
    bob = add_agent(settings, "bob@heguang.example", "bob")
    carol = add_agent(settings, "carol@heguang.example", "carol")
    billing, delivery = (
        add_team(settings, "billing", "帳務"),
        add_team(settings, "delivery", "物流"),
    )
    cust = [add_customer(settings, f"顧客{i}", None) for i in range(1, 6)]
    question = nps_survey(settings)
    detractor1 = add_nps(settings, question, cust[0], T - H, 3)
    add_nps(settings, question, cust[0], T + 5 * D, 8)
    add_nps(settings, question, cust[1], T + 7 * D - 2 * H, 5)
    add_nps(settings, question, cust[1], T + 9 * D, 4)
    add_nps(settings, question, cust[2], T + D, 0)
    add_nps(settings, question, cust[2], T + 2 * D, 10)
    add_nps(settings, question, cust[3], T + 4 * D, 6)
    add_nps(settings, question, cust[4], T + 4 * D, 9)

    def case(clock: dict[str, object], **values: object) -> None:
        opened = clock.pop("opened")
        assert isinstance(opened, datetime)
        add_case(settings, opened, **clock, **values)

    case(_clock(T, H, 4 * H), owner_id=alice, team_id=billing, channel="email",
         contacts=1, handling_seconds=600, followup_score=5.0, followup_solved=True,
         customer_id=cust[0], interaction_id=detractor1)  # fmt: skip
    case(_clock(T + D, 3 * H, 10 * H), owner_id=alice, team_id=billing,
         channel="phone", contacts=2, handling_seconds=1200, followup_score=4.0)  # fmt: skip
    case(_clock(T + 2 * D, H / 2, None), owner_id=alice, team_id=billing,
         channel="email", contacts=1)  # fmt: skip
    case(_clock(T + 3 * D, None, 2 * H, None, None), team="legacy-desk",
         contacts=3, handling_seconds=300)  # fmt: skip
    case(_clock(T + 7 * D, 2 * H, 6 * H), owner_id=bob, team_id=billing,
         channel="email", contacts=1, handling_seconds=900, followup_score=2.0,
         followup_solved=False, customer_id=cust[1])  # fmt: skip
    case(_clock(T + 8 * D, None, None, 3 * D, 4 * D), owner_id=carol,
         team_id=delivery, channel="chat", contacts=1)  # fmt: skip
    case(_clock(datetime(2025, 3, 31, 17, 0, tzinfo=UTC), None, None, None, None),
         channel="email", contacts=1)  # fmt: skip
    return settings


def test_overall_service_metrics_match_hand_computed_figures(seeded: Settings) -> None:
    [row] = service_metrics(settings=seeded, now=NOW, date_from=FIRST, date_to=LAST)

    assert (row.cases, row.resolved) == (6, 4)
    assert (row.fcr.value, row.fcr.n) == (50.0, 4)
    assert (row.aht_seconds.value, row.aht_seconds.n) == (750.0, 4)
    assert (row.first_response_median.value, row.first_response_mean.value) == (
        5400.0,
        5850.0,
    )
    assert row.first_response_median.n == 4
    assert (row.resolution_median.value, row.resolution_mean.value) == (
        18000.0,
        19800.0,
    )
    assert (row.sla_first_response.value, row.sla_first_response.n) == (75.0, 4)
    assert (row.sla_resolution.value, row.sla_resolution.n) == (50.0, 4)
    assert (row.recovery.value, row.recovery.n) == (50.0, 2)
    assert row.followup_csat.value == pytest.approx(200 / 3)
    assert row.followup_mean.value == pytest.approx(11 / 3)
    assert (row.followup_solved.value, row.followup_solved.n) == (50.0, 2)


def test_service_metrics_by_team_fall_back_to_imported_team(seeded: Settings) -> None:
    rows = service_metrics(
        settings=seeded, by="team", now=NOW, date_from=FIRST, date_to=LAST
    )

    assert [(r.group, r.cases, r.resolved) for r in rows] == [
        ("billing", 4, 3), ("delivery", 1, 0), ("legacy-desk", 1, 1)
    ]  # fmt: skip
    billing = rows[0]
    assert billing.fcr.value == pytest.approx(200 / 3)
    assert billing.aht_seconds.value == 900.0
    assert rows[1].sla_first_response.n == 0  # carol's clocks still run


def test_service_metrics_by_agent_and_week(seeded: Settings) -> None:
    rows = service_metrics(
        settings=seeded,
        by="agent",
        period="week",
        now=NOW,
        date_from=FIRST,
        date_to=LAST,
    )

    assert [(r.group, r.period, r.cases) for r in rows] == [
        ("alice", date(2025, 3, 3), 3),
        ("bob", date(2025, 3, 10), 1),
        ("carol", date(2025, 3, 10), 1),
        (None, date(2025, 3, 3), 1),
    ]
    assert rows[1].recovery.value == 0.0


def test_months_are_cut_in_the_business_zone(seeded: Settings) -> None:
    rows = service_metrics(settings=seeded, period="month", by="channel", now=NOW)

    email = [(r.period, r.cases) for r in rows if r.group == "email"]
    assert email == [(date(2025, 3, 1), 3), (date(2025, 4, 1), 1)]


def test_leaderboard_combines_csat_fcr_and_sla_ranks(seeded: Settings) -> None:
    rows = leaderboard(
        settings=seeded, min_cases=1, now=NOW, date_from=FIRST, date_to=LAST
    )

    assert [(r.rank, r.agent) for r in rows] == [(1, "bob"), (2, "alice"), (3, "carol")]
    bob, alice, carol = rows
    assert (bob.followup_csat.value, bob.fcr.value, bob.sla_met.value) == (
        0.0,
        100.0,
        100.0,
    )
    assert (alice.followup_csat.value, alice.fcr.value, alice.sla_met.value) == (
        100.0,
        50.0,
        50.0,
    )
    assert alice.sla_met.n == 6
    assert (bob.score, alice.score, carol.score) == pytest.approx((4 / 3, 5 / 3, 3.0))
    assert carol.fcr.value is None


def test_leaderboard_leaves_out_agents_below_the_minimum(seeded: Settings) -> None:
    rows = leaderboard(
        settings=seeded, min_cases=2, now=NOW, date_from=FIRST, date_to=LAST
    )

    assert [(r.rank, r.agent, r.cases) for r in rows] == [(1, "alice", 3)]


def test_recovery_counts_detractors_who_answer_again_higher(seeded: Settings) -> None:
    report = recovery_report(settings=seeded, by="agent", date_from=FIRST, date_to=LAST)

    overall = report.overall
    assert (overall.detractors, overall.answered_again, overall.recovered) == (4, 3, 2)
    assert (overall.promoters, overall.passives) == (1, 1)
    assert overall.rate == 50.0
    assert overall.rate_answered == pytest.approx(200 / 3)
    assert [(r.group, r.detractors, r.recovered) for r in report.rows] == [
        ("alice", 1, 1), ("bob", 1, 0), (None, 2, 1)
    ]  # fmt: skip


def test_recovery_window_keeps_later_answers_outside_it(seeded: Settings) -> None:
    report = recovery_report(
        settings=seeded, date_from=date(2025, 3, 2), date_to=date(2025, 3, 4), by="team"
    )

    assert (report.overall.detractors, report.overall.recovered) == (2, 2)
    assert [(r.group, r.detractors) for r in report.rows] == [("billing", 1), (None, 1)]


def test_unknown_cut_and_reversed_window_are_refused(seeded: Settings) -> None:
    with pytest.raises(InvalidInput, match="by 'region'"):
        service_metrics(settings=seeded, by="region")
    with pytest.raises(InvalidInput, match="period 'year'"):
        service_metrics(settings=seeded, period="year")
    with pytest.raises(InvalidInput, match="before"):
        recovery_report(
            settings=seeded, date_from=date(2025, 3, 5), date_to=date(2025, 3, 1)
        )


def test_empty_store_gives_one_empty_row(settings: Settings) -> None:
    [row] = service_metrics(settings=settings)

    assert (row.cases, row.fcr.value, row.fcr.n) == (0, None, 0)
    assert leaderboard(settings=settings) == []


def test_overview_equals_the_separate_reports(seeded: Settings) -> None:
    found = service_overview(settings=seeded, by="agent", period="week", now=NOW,
                             min_cases=1, date_from=FIRST, date_to=LAST)  # fmt: skip

    def rows(by: str | None = None, period: str | None = None) -> list[ServiceRow]:
        return service_metrics(settings=seeded, by=by, period=period, now=NOW,
                               date_from=FIRST, date_to=LAST)  # fmt: skip

    assert ([found.overall], found.trend, found.groups) == (
        rows(), rows(period="week"), rows(by="agent")
    )  # fmt: skip
    assert found.leaders == leaderboard(settings=seeded, min_cases=1, now=NOW,
                                        date_from=FIRST, date_to=LAST)  # fmt: skip
    report = recovery_report(settings=seeded, date_from=FIRST, date_to=LAST)
    assert found.recovery == report.overall
