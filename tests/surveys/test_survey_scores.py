"""SERVQUAL gaps and the CX index computed from a survey's responses."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import pytest

from cxloop.domain.servqual import servqual_gaps
from cxloop.domain.survey_parse import parse_survey
from cxloop.domain.survey_scores import cx_index_report, servqual_report
from cxloop.domain.survey_spec import AnswerValue, SurveySpec
from cxloop.surveys.templates import template_definition

Response = dict[str, AnswerValue]


def _servqual_spec() -> SurveySpec:
    def item(key: str, dimension: str, part: str) -> dict[str, Any]:
        return {"key": key, "type": "rating", "scale": [1, 7], "dimension": dimension,
                "part": part, "text": key}  # fmt: skip

    return parse_survey({"key": "sq", "name": "SQ", "questions": [
        item("e_rel_1", "reliability", "expectation"),
        item("e_rel_2", "reliability", "expectation"),
        item("p_rel_1", "reliability", "perception"),
        item("e_emp_1", "empathy", "expectation"),
        item("p_emp_1", "empathy", "perception"),
        item("e_tan_1", "tangibles", "expectation"),  # no perception item: left out
        {"key": "note", "type": "text", "text": "意見"},
    ]})  # fmt: skip


def test_servqual_report_pairs_each_respondents_dimension_means() -> None:
    responses: list[Response] = [
        {"e_rel_1": 7.0, "e_rel_2": 6.0, "p_rel_1": 5.0, "e_emp_1": 6.0, "p_emp_1": 6.0},
        {"e_rel_1": 6.0, "p_rel_1": 6.0, "e_emp_1": 5.0, "p_emp_1": 7.0, "note": "好"},
        {"e_rel_1": 5.0, "e_rel_2": 7.0, "p_rel_1": 3.0, "e_tan_1": 4.0},
        {"p_rel_1": 4.0},  # no expectation: not paired
    ]  # fmt: skip
    gaps = {g.dimension: g for g in servqual_report(_servqual_spec(), responses)}
    assert list(gaps) == ["reliability", "empathy"]
    reference = servqual_gaps(
        {"reliability": [6.5, 6.0, 6.0], "empathy": [6.0, 5.0]},
        {"reliability": [5.0, 6.0, 3.0], "empathy": [6.0, 7.0]},
    )
    assert [gaps[r.dimension] for r in reference] == reference
    assert gaps["reliability"].gap == pytest.approx(-1.5)
    assert gaps["reliability"].n == 3
    assert gaps["empathy"].gap == pytest.approx(1.0)


def test_servqual_report_is_empty_without_paired_answers() -> None:
    spec = _servqual_spec()
    assert servqual_report(spec, []) == []
    assert servqual_report(spec, [{"e_rel_1": 7.0}, {"p_emp_1": 2.0}]) == []
    nps_only = parse_survey(template_definition("relational-nps"))
    assert servqual_report(nps_only, [{"nps": 9.0}]) == []


def test_servqual_report_covers_the_five_dimensions_of_the_template() -> None:
    spec = parse_survey(template_definition("servqual"))
    responses: list[Response] = []
    for respondent in range(6):
        answers: Response = {}
        for q in spec.questions:
            base = 6.0 if q.part == "expectation" else 4.0 + (respondent % 3)
            answers[q.key] = base if q.dimension != "empathy" else 5.0
        responses.append(answers)
    gaps = servqual_report(spec, responses)
    assert [g.dimension for g in gaps] == [
        "tangibles", "reliability", "responsiveness", "assurance", "empathy",
    ]  # fmt: skip
    assert all(g.n == 6 for g in gaps)
    assert gaps[0].gap == pytest.approx(-1.0)  # perceptions 4, 5, 6 against 6
    assert gaps[0].low is not None
    assert gaps[0].low < -1.0 < (gaps[0].high or 0.0)
    assert gaps[-1].gap == 0.0


def _cx_spec() -> SurveySpec:
    return parse_survey({"key": "cx", "name": "CX", "questions": [
        {"key": "need_a", "type": "rating", "pillar": "need", "weight": 3, "text": "a"},
        {"key": "need_b", "type": "rating", "scale": [0, 10], "pillar": "need", "text": "b"},
        {"key": "ease", "type": "ces", "pillar": "ease", "text": "c"},
        {"key": "wow", "type": "nps", "pillar": "delight", "text": "d"},
        {"key": "other", "type": "csat", "text": "not in the index"},
    ]})  # fmt: skip


def test_cx_index_normalises_each_scale_and_weights_items() -> None:
    responses: list[Response] = [
        {"need_a": 5.0, "need_b": 5.0, "ease": 7.0, "other": 1.0},
        {"need_a": 3.0, "ease": 4.0, "wow": 10.0},
        {"need_b": 0.0, "wow": 0.0},
        {"other": 5.0},
    ]  # fmt: skip
    report = cx_index_report(_cx_spec(), responses)
    need_a = (100.0 + 50.0) / 2
    need_b = (50.0 + 0.0) / 2
    assert report.items == {
        "need_a": need_a, "need_b": need_b, "ease": 75.0, "wow": 50.0,
    }  # fmt: skip
    assert report.pillars["need"] == pytest.approx((3 * need_a + need_b) / 4)
    assert report.pillars == pytest.approx(
        {"need": 62.5, "ease": 75.0, "delight": 50.0}
    )
    assert report.score == pytest.approx((62.5 + 75.0 + 50.0) / 3)
    assert report.n == 3


def test_cx_index_leaves_out_a_pillar_without_answers() -> None:
    report = cx_index_report(_cx_spec(), [{"need_a": 1.0, "ease": 1.0}])
    assert report.pillars == {"need": 0.0, "ease": 0.0, "delight": None}
    assert report.score == 0.0
    empty = cx_index_report(_cx_spec(), [])
    assert (empty.score, empty.n) == (None, 0)
    assert set(empty.pillars) == {"need", "ease", "delight"}


def test_cx_index_need_pillar_matches_olist_review_scores(shared_data: Path) -> None:
    path = shared_data / "olist" / "olist_classified_public_dataset_dev.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        scores = [float(row["review_score"]) for row in csv.DictReader(handle)]
    assert len(scores) > 2000
    spec = parse_survey(template_definition("cx-index"))
    report = cx_index_report(spec, [{"need_met": s} for s in scores])
    expected = sum((s - 1.0) / 4.0 * 100.0 for s in scores) / len(scores)
    assert report.pillars["need"] == pytest.approx(expected)
    assert report.pillars["ease"] is None
    assert report.score == pytest.approx(expected)
    assert report.n == len(scores)
    assert not math.isnan(report.score or math.nan)
