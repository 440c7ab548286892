"""The shipped survey templates: both languages, conditions, scores, and the store."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

import pytest

from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput
from cxloop.domain.servqual import DIMENSIONS
from cxloop.domain.survey_parse import parse_survey
from cxloop.domain.survey_spec import PARTS, PILLARS, SCALED, SurveySpec, Text
from cxloop.domain.survey_spec import visible_questions as visible
from cxloop.surveys.definitions import get_survey, list_surveys, save_survey
from cxloop.surveys.templates import (
    TEMPLATE_DIR,
    TEMPLATE_NAMES,
    list_templates,
    template_definition,
)

ROOT = Path(__file__).resolve().parents[2]


def _spec(name: str) -> SurveySpec:
    return parse_survey(template_definition(name))


def _texts(spec: SurveySpec) -> list[Text]:
    texts = [spec.name, *(t for t in (spec.description, spec.thanks) if t)]
    for q in spec.questions:
        texts.append(q.text)
        texts += [t for t in (q.low_label, q.high_label) if t]
        texts += [c.label for c in q.choices]
    return texts


def test_list_templates_names_every_shipped_file_in_order() -> None:
    infos = list_templates()
    assert [i.name for i in infos] == list(TEMPLATE_NAMES)
    assert sorted(p.stem for p in TEMPLATE_DIR.glob("*.yaml")) == sorted(TEMPLATE_NAMES)
    by_name = {i.name: i for i in infos}
    assert by_name["servqual"].questions == 20
    assert by_name["relational-nps"].title_en == "Relational NPS survey"
    assert all(i.title_zh and i.description_zh and i.description_en for i in infos)


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_template_parses_with_every_text_in_both_languages(name: str) -> None:
    spec = _spec(name)
    assert spec.template == name
    assert parse_survey(template_definition(name)) == spec
    missing = [t for t in _texts(spec) if not (t.zh and t.en) or t.zh == t.en]
    assert missing == []
    assert any(q.required for q in spec.questions)


def test_template_definition_takes_the_key_and_titles_given() -> None:
    data = template_definition(
        "csat-purchase", key="csat-2025q1", name_zh="第一季購物滿意度"
    )
    assert data["key"] == "csat-2025q1"
    assert data["name"] == {
        "zh-TW": "第一季購物滿意度", "en": "Purchase satisfaction survey",
    }  # fmt: skip
    assert data["template"] == "csat-purchase"
    assert template_definition("csat-purchase", name_en="Q1")["name"]["en"] == "Q1"


def test_template_definition_names_the_valid_templates_when_unknown() -> None:
    with pytest.raises(InvalidInput) as caught:
        template_definition("nps")
    assert "no survey template 'nps'" in str(caught.value)
    assert "relational-nps, csat-purchase, csat-case" in str(caught.value)


def test_template_definition_refuses_an_invalid_key() -> None:
    with pytest.raises(InvalidInput, match="key: 'NPS 2025' is not a valid key"):
        template_definition("relational-nps", key="NPS 2025")


@pytest.mark.parametrize(
    ("score", "follow_up"), [(0.0, "improve"), (6.0, "improve"), (7.0, "better"),
                             (8.0, "better"), (9.0, "liked"), (10.0, "liked")],
)  # fmt: skip
def test_relational_nps_asks_one_follow_up_by_score(
    score: float, follow_up: str
) -> None:
    spec = _spec("relational-nps")
    texts = {q.key for q in visible(spec, {"nps": score}) if q.kind.value == "text"}
    assert texts == {follow_up}
    assert not spec.question("reason").required


def test_csat_case_asks_what_is_unsolved_only_when_not_solved() -> None:
    spec = _spec("csat-case")
    solved = spec.question("solved")
    assert [c.value for c in solved.choices] == ["yes", "no"]
    assert solved.required
    assert "unsolved" not in {q.key for q in visible(spec, {"solved": "yes"})}
    assert "unsolved" in {q.key for q in visible(spec, {"solved": "no"})}


def test_ces_self_service_asks_what_was_hard_for_scores_one_to_three() -> None:
    spec = _spec("ces-self-service")
    assert "hard" in {q.key for q in visible(spec, {"ces": 3.0})}
    assert "hard" not in {q.key for q in visible(spec, {"ces": 4.0})}


def test_servqual_pairs_expectation_and_perception_on_five_dimensions() -> None:
    spec = _spec("servqual")
    items = {(q.dimension, q.part) for q in spec.questions}
    assert items == {(d, p) for d in DIMENSIONS for p in PARTS}
    assert all(q.kind.value == "rating" and q.scale == (1, 7) for q in spec.questions)
    for dimension in DIMENSIONS:
        parts = [q.part for q in spec.questions if q.dimension == dimension]
        assert parts.count("expectation") == parts.count("perception") == 2


def test_cx_index_has_the_three_pillars_with_weights() -> None:
    spec = _spec("cx-index")
    scored = [q for q in spec.questions if q.pillar]
    assert {q.pillar for q in scored} == set(PILLARS)
    assert all(q.kind in SCALED for q in scored)
    assert {q.key: q.weight for q in scored if q.weight != 1.0} == {
        "need_met": 2.0, "ease": 2.0,
    }  # fmt: skip


def test_templates_are_shipped_as_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["cxloop"]
    package = ROOT / "src" / "cxloop"
    for path in TEMPLATE_DIR.glob("*.yaml"):
        relative = path.relative_to(package).as_posix()
        assert any(fnmatch.fnmatch(relative, p) for p in patterns), relative


def test_every_template_saves_and_reads_back_from_the_store(settings: Settings) -> None:
    for name in TEMPLATE_NAMES:
        definition = template_definition(name, key=f"t-{name}")
        record = save_survey(settings=settings, definition=definition)
        assert get_survey(settings=settings, key=record.key).spec == record.spec
        assert set(record.question_ids) == {q.key for q in record.spec.questions}
    listed = {s.key: s.questions for s in list_surveys(settings=settings)}
    assert listed["t-servqual"] == 20
    assert len(listed) == len(TEMPLATE_NAMES)


@pytest.mark.parametrize("language", ["en", "zh-TW"])
def test_docs_example_definition_parses_with_every_question_kind(language: str) -> None:
    import re

    import yaml

    page = (ROOT / "docs" / language / "surveys.md").read_text(encoding="utf-8")
    example = re.findall(r"```yaml\n(.*?)```", page, re.DOTALL)[0]
    spec = parse_survey(yaml.safe_load(example))
    assert {q.kind.value for q in spec.questions} == {
        "nps", "csat", "ces", "rating", "single", "multiple", "text",
    }  # fmt: skip
