"""Survey results on SQLite and PostgreSQL: rates, margins, distributions, verbatims."""

from __future__ import annotations

import statistics
from datetime import UTC, date, datetime

import pytest
from survey_results_seeding import Seeded, seed_invitations, seed_responses

from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput, NotFound
from cxloop.domain.metrics import nps
from cxloop.surveys.definitions import save_survey
from cxloop.surveys.results import survey_results

DEFINITION = {
    "key": "store-nps",
    "name": {"zh-TW": "門市 NPS", "en": "Store NPS"},
    "questions": [
        {"key": "nps", "type": "nps", "required": True,
         "text": {"zh-TW": "您有多大可能推薦我們？", "en": "How likely ...?"}},
        {"key": "improve", "type": "text", "show_if": {"question": "nps", "max": 6},
         "text": {"zh-TW": "我們該改進什麼？", "en": "What should we improve?"}},
        {"key": "staff", "type": "rating", "scale": [1, 7],
         "text": {"zh-TW": "店員服務", "en": "Staff"}},
        {"key": "visit", "type": "single", "text": {"zh-TW": "來店方式", "en": "Visit"},
         "choices": [{"value": "walk", "text": {"zh-TW": "步行", "en": "Walk"}},
                     {"value": "car", "text": {"zh-TW": "開車", "en": "Car"}}]},
        {"key": "bought", "type": "multiple", "text": {"zh-TW": "購買", "en": "Bought"},
         "choices": ["tea", "cake", "coffee"]},
    ],
}  # fmt: skip
NPS_SCORES = (10, 9, 9, 8, 7, 6, 3, 0, 10, 10)


def _at(day: int, hour: int = 3) -> datetime:
    return datetime(2025, 5, day, hour, tzinfo=UTC)


def _responses() -> list[Seeded]:
    seeded = []
    for i, score in enumerate(NPS_SCORES):
        answers: dict[str, float | str | tuple[str, ...]] = {
            "nps": float(score), "staff": float(1 + i % 7),
            "visit": "walk" if i % 3 else "car",
            "bought": ("tea", "cake") if i % 2 else ("coffee",),
        }  # fmt: skip
        if score <= 6:
            answers["improve"] = f"第 {i} 號：排隊太久 <script>alert({i})</script>"
        seeded.append(Seeded(answers, _at(1 + i), customer_ref=f"C{i:03d}",
                             invited=i < 6))  # fmt: skip
    seeded.append(Seeded({"nps": 5.0}, _at(20), status="partial"))
    return seeded


@pytest.fixture
def seeded(settings: Settings) -> Settings:
    save_survey(settings=settings, definition=DEFINITION)
    seed_responses(settings, "store-nps", _responses())
    seed_invitations(settings, "store-nps", [
        ("sent", None), ("sent", None), ("queued", None), ("failed", "smtp refused"),
        ("skipped", "contact cap"), ("skipped", "contact cap"),
        ("skipped", "unsubscribed"),
    ])  # fmt: skip
    return settings


def test_results_count_invitations_and_rates_when_seeded(seeded: Settings) -> None:
    results = survey_results(settings=seeded, key="store-nps")
    inv = results.invitations
    assert (inv.sent, inv.queued, inv.failed, inv.answered) == (8, 1, 1, 6)
    assert inv.skipped == {"contact cap": 2, "unsubscribed": 1}
    assert inv.total == 13
    assert results.response_rate == pytest.approx(6 / 8)
    assert (results.responses, results.complete) == (11, 10)
    assert results.completion_rate == pytest.approx(10 / 11)


def test_nps_matches_the_domain_formula_with_its_margin(seeded: Settings) -> None:
    results = survey_results(settings=seeded, key="store-nps")
    question = next(q for q in results.questions if q.key == "nps")
    expected = nps([*NPS_SCORES, 5])
    assert question.score is not None
    assert question.score.value == pytest.approx(expected.value)
    assert question.score.moe == pytest.approx(expected.moe)
    assert question.score.n == 11 == question.answered
    counts = {b.value: b.count for b in question.distribution}
    assert list(counts) == [str(p) for p in range(11)]
    assert (counts["10"], counts["9"], counts["5"], counts["1"]) == (3, 2, 1, 0)


def test_rating_mean_has_a_t_interval(seeded: Settings) -> None:
    staff = next(
        q for q in survey_results(settings=seeded, key="store-nps").questions
        if q.key == "staff"
    )  # fmt: skip
    scores = [1 + i % 7 for i in range(10)]
    assert staff.score is not None
    assert staff.score.value == pytest.approx(sum(scores) / 10)
    t_975_9 = 2.2621571627  # Student's t, 97.5th percentile, 9 degrees of freedom
    expected = t_975_9 * statistics.stdev(scores) / len(scores) ** 0.5
    assert staff.score.moe == pytest.approx(expected, rel=1e-8)
    assert len(staff.distribution) == 7


def test_choice_distributions_count_each_choice(seeded: Settings) -> None:
    questions = {
        q.key: q for q in survey_results(settings=seeded, key="store-nps").questions
    }
    visit = {b.value: b.count for b in questions["visit"].distribution}
    assert visit == {"walk": 6, "car": 4}
    bought = {b.value: (b.count, b.share) for b in questions["bought"].distribution}
    assert bought == {"tea": (5, 50.0), "cake": (5, 50.0), "coffee": (5, 50.0)}
    assert questions["visit"].distribution[0].label is not None
    assert questions["visit"].distribution[0].label.zh == "步行"
    assert questions["improve"].distribution == []
    assert questions["improve"].answered == 3


def test_verbatims_are_newest_first_with_score_and_customer(seeded: Settings) -> None:
    page = survey_results(settings=seeded, key="store-nps", page_size=2).verbatims
    assert page.total == 3
    assert page.pages == 2
    assert page.score_metric == "nps"
    first = page.items[0]
    assert first.text == "第 7 號：排隊太久 <script>alert(7)</script>"
    assert (first.score, first.customer_ref, first.question_key) == (
        0.0, "C007", "improve"
    )  # fmt: skip
    second_page = survey_results(
        settings=seeded, key="store-nps", page=2, page_size=2
    ).verbatims
    assert [v.customer_ref for v in second_page.items] == ["C005"]


def test_timeline_and_date_window_in_the_business_zone(seeded: Settings) -> None:
    results = survey_results(settings=seeded, key="store-nps")
    assert results.period == "day"
    assert results.timeline[0].start == date(2025, 5, 1)
    assert results.timeline[-1].start == date(2025, 5, 20)
    assert sum(p.responses for p in results.timeline) == 11
    assert sum(p.complete for p in results.timeline) == 10
    window = survey_results(
        settings=seeded, key="store-nps",
        date_from=date(2025, 5, 3), date_to=date(2025, 5, 5),
    )  # fmt: skip
    nps_question = next(q for q in window.questions if q.key == "nps")
    assert nps_question.answered == 3
    assert window.responses == 3
    weekly = survey_results(settings=seeded, key="store-nps", period="week")
    assert [p.start for p in weekly.timeline][:2] == [
        date(2025, 4, 28),
        date(2025, 5, 5),
    ]


def test_empty_survey_has_no_rates(settings: Settings) -> None:
    save_survey(settings=settings, definition=DEFINITION)
    results = survey_results(settings=settings, key="store-nps")
    assert results.response_rate is None
    assert results.completion_rate is None
    assert results.questions[0].score is not None
    assert results.questions[0].score.value is None
    assert results.timeline == []
    assert results.verbatims.total == 0


def test_results_refuse_bad_arguments(sqlite_settings: Settings) -> None:
    with pytest.raises(NotFound):
        survey_results(settings=sqlite_settings, key="missing")
    save_survey(settings=sqlite_settings, definition=DEFINITION)
    with pytest.raises(InvalidInput, match="before it starts"):
        survey_results(settings=sqlite_settings, key="store-nps",
                       date_from=date(2025, 5, 2), date_to=date(2025, 5, 1))  # fmt: skip
    with pytest.raises(InvalidInput, match="period"):
        survey_results(settings=sqlite_settings, key="store-nps", period="year")


COMPOSITE = {
    "key": "servqual-cx",
    "name": "服務品質",
    "questions": [
        {"key": "e1", "type": "rating", "scale": [1, 7], "dimension": "reliability",
         "part": "expectation", "text": "期望：準時"},
        {"key": "p1", "type": "rating", "scale": [1, 7], "dimension": "reliability",
         "part": "perception", "text": "實際：準時"},
        {"key": "need", "type": "rating", "pillar": "need", "text": "滿足需求"},
        {"key": "ease", "type": "ces", "pillar": "ease", "text": "很輕鬆"},
    ],
}  # fmt: skip


def test_servqual_gap_and_cx_index_when_the_survey_has_items(
    settings: Settings,
) -> None:
    save_survey(settings=settings, definition=COMPOSITE)
    pairs = [(7.0, 5.0), (6.0, 6.0), (7.0, 4.0)]
    seed_responses(settings, "servqual-cx", [
        Seeded({"e1": e, "p1": p, "need": 5.0, "ease": 7.0}, _at(i + 1))
        for i, (e, p) in enumerate(pairs)
    ])  # fmt: skip
    results = survey_results(settings=settings, key="servqual-cx")
    assert results.servqual is not None
    (gap,) = results.servqual
    assert (gap.dimension, gap.n) == ("reliability", 3)
    assert gap.gap == pytest.approx(-5 / 3)
    assert results.cx_index is not None
    assert results.cx_index.pillars == {"need": 100.0, "ease": 100.0}
    assert results.cx_index.n == 3


def test_no_servqual_or_cx_index_without_such_items(seeded: Settings) -> None:
    results = survey_results(settings=seeded, key="store-nps")
    assert results.servqual is None
    assert results.cx_index is None
