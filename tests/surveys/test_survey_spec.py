"""Survey definitions (domain): parsing with located errors, conditions, answer checks."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from cxloop.domain.errors import InvalidInput
from cxloop.domain.survey_parse import parse_survey, spec_to_dict
from cxloop.domain.survey_spec import (
    MAX_TEXT,
    AnswerError,
    QuestionKind,
    check_answers,
    decode_choices,
    encode_answer,
    scale_of,
    visible_questions,
)

CHANNELS = [
    {"value": "app", "text": {"zh-TW": "App", "en": "App"}},
    {"value": "store", "text": {"zh-TW": "門市", "en": "Store"}},
    {"value": "web", "text": {"zh-TW": "網站", "en": "Website"}},
]
FULL: dict[str, Any] = {
    "key": "every-kind",
    "name": {"zh-TW": "每種題型", "en": "Every kind"},
    "description": {"zh-TW": "說明", "en": "About"},
    "thanks": "謝謝",
    "template": "custom",
    "attributes": {"team": "cx"},
    "questions": [
        {"key": "nps", "type": "nps", "required": True, "text": {"zh-TW": "推薦？", "en": "Recommend?"}},
        {"key": "improve", "type": "text", "text": "改進？", "show_if": {"question": "nps", "max": 6}},
        {"key": "liked", "type": "text", "text": "喜歡？", "show_if": {"question": "nps", "min": 9}},
        {"key": "csat", "type": "csat", "text": "滿意？", "low_label": "不滿意", "high_label": {"en": "Very"}},
        {"key": "ces", "type": "ces", "text": "輕鬆？"},
        {"key": "rate", "type": "rating", "scale": [0, 3], "weight": 2, "pillar": "ease", "text": "評分"},
        {"key": "channel", "type": "single", "required": True, "text": "通路", "choices": CHANNELS},
        {"key": "why_app", "type": "text", "text": "為何 App？", "show_if": {"question": "channel", "in": ["app"]}},
        {"key": "used", "type": "multiple", "text": "用過", "choices": ["Line Pay", "信用卡"]},
        {"key": "e1", "type": "rating", "scale": [1, 7], "dimension": "empathy", "part": "expectation", "text": "期望"},
    ],
}  # fmt: skip


def _with(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(FULL)
    target: Any = data
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return data


def test_parse_reads_every_question_kind_and_its_options() -> None:
    spec = parse_survey(FULL)
    assert [q.kind for q in spec.questions][:7] == [
        QuestionKind.NPS, QuestionKind.TEXT, QuestionKind.TEXT, QuestionKind.CSAT,
        QuestionKind.CES, QuestionKind.RATING, QuestionKind.SINGLE,
    ]  # fmt: skip
    assert spec.name.get("en") == "Every kind"
    assert spec.thanks is not None
    assert spec.thanks.get("en") == "謝謝"
    used = spec.question("used")
    assert [c.value for c in used.choices] == ["line_pay", "信用卡"]
    assert [scale_of(spec.question(k)) for k in ("nps", "csat", "ces", "rate")] == [
        (0, 10), (1, 5), (1, 7), (0, 3),
    ]  # fmt: skip
    assert spec.question("rate").weight == 2.0
    assert spec.question("csat").high_label is not None
    assert [spec.question(k).metric for k in ("channel", "used", "rate")] == [
        "choice", "choice", "rating",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("key",), "Bad Key", "key: 'Bad Key' is not a valid key"),
        (("name",), None, "name: is required"),
        (("name",), {"fr": "x"}, "name: unknown languages ['fr']"),
        (("questions",), [], "questions: a survey needs a list"),
        (("questions", 1, "type"), "essay", "questions[1].type: 'essay'; choose nps"),
        (("questions", 2, "key"), "nps", "questions[2].key: 'nps' is used twice"),
        (("questions", 3, "text"), "", "questions[3].text: is required"),
        (("questions", 4, "required"), "yes", "questions[4].required: must be true"),
        (("questions", 5, "scale"), [5, 1], "questions[5].scale: give [low, high]"),
        (("questions", 4, "scale"), [1, 9], "questions[4].scale: only rating"),
        (("questions", 5, "weight"), 0, "questions[5].weight: must be a positive"),
        (("questions", 5, "pillar"), "joy", "questions[5].pillar: 'joy'; choose one"),
        (("questions", 9, "part"), "hope", "questions[9].part: 'hope'; choose one"),
        (("questions", 9, "part"), None, "questions[9]: a SERVQUAL item needs both"),
        (("questions", 1, "pillar"), "need", "questions[1].pillar: only nps, csat"),
        (("questions", 6, "choices"), ["one"], "questions[6].choices: give 2 to 50"),
        (("questions", 6, "choices", 1, "value"), "app", "choices[1].value: 'app' is used twice"),
        (("questions", 4, "choices"), ["a", "b"], "questions[4].choices: only single"),
        (("questions", 1, "show_if"), {"question": "liked", "max": 6}, "questions[1].show_if.question: 'liked' is not an earlier"),
        (("questions", 1, "show_if"), {"question": "nps"}, "questions[1].show_if: a scored question needs min"),
        (("questions", 1, "show_if"), {"question": "nps", "max": True}, "questions[1].show_if: a scored question needs min"),
        (("questions", 7, "show_if"), {"question": "channel", "in": ["tv"]}, "questions[7].show_if.in: a list of 'channel'"),
        (("questions", 7, "show_if"), {"question": "channel", "in": [["app"]]}, "questions[7].show_if.in: a list of 'channel'"),
        (("questions", 7, "show_if"), {"question": "improve", "in": ["x"]}, "questions[7].show_if: cannot depend on an open-text"),
    ],
)  # fmt: skip
def test_parse_error_names_the_path_when_a_definition_is_wrong(
    path: tuple[Any, ...], value: Any, message: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_survey(_with(path, value))
    assert message in str(caught.value)


def test_visible_questions_follow_score_ranges_and_choices() -> None:
    spec = parse_survey(FULL)

    def shown(answers: dict[str, Any]) -> set[str]:
        return {q.key for q in visible_questions(spec, answers)}

    conditional = {"improve", "liked", "why_app"}
    assert shown({"nps": 6.0}) & conditional == {"improve"}
    assert shown({"nps": 7.0}) & conditional == set()
    assert shown({"nps": 9.0, "channel": "app"}) & conditional == {"liked", "why_app"}
    assert shown({"channel": ("store", "app")}) & conditional == {"why_app"}
    assert shown({}) & conditional == set()


@pytest.mark.parametrize(
    ("key", "given", "expected"),
    [
        ("nps", "0", 0.0),
        ("nps", " 10 ", 10.0),
        ("csat", "5", 5.0),
        ("ces", "1", 1.0),
        ("rate", "0", 0.0),
        ("channel", "store", "store"),
        ("channel", ["web", "web"], "web"),
        ("used", ["信用卡", "line_pay"], ("line_pay", "信用卡")),
        ("improve", ["送貨太慢", "客服很好"], "送貨太慢\n客服很好"),
    ],
)
def test_check_answers_accepts_each_kind_when_the_answer_is_valid(
    key: str, given: str | list[str], expected: Any
) -> None:
    raw = {"nps": "3", "channel": "app", key: given}
    check = check_answers(parse_survey(FULL), raw)
    assert check.errors == {}
    assert check.values[key] == expected


@pytest.mark.parametrize(
    ("key", "given", "error"),
    [
        ("nps", "11", AnswerError.OUT_OF_RANGE),
        ("nps", "-1", AnswerError.OUT_OF_RANGE),
        ("nps", "7.5", AnswerError.OUT_OF_RANGE),
        ("nps", "nan", AnswerError.OUT_OF_RANGE),
        ("nps", "seven", AnswerError.NOT_A_NUMBER),
        ("csat", "0", AnswerError.OUT_OF_RANGE),
        ("ces", "8", AnswerError.OUT_OF_RANGE),
        ("rate", "4", AnswerError.OUT_OF_RANGE),
        ("channel", "tv", AnswerError.NOT_A_CHOICE),
        ("channel", ["app", "web"], AnswerError.ONE_CHOICE),
        ("used", ["line_pay", "cash"], AnswerError.NOT_A_CHOICE),
        ("improve", "長" * (MAX_TEXT + 1), AnswerError.TOO_LONG),
    ],
)
def test_check_answers_refuses_an_answer_when_it_is_invalid(
    key: str, given: str | list[str], error: AnswerError
) -> None:
    raw = {"nps": "3", "channel": "app", key: given}
    check = check_answers(parse_survey(FULL), raw)
    assert check.errors == {key: error}
    assert key not in check.values
    assert not check.ok


def test_check_answers_requires_visible_required_questions_only_when_complete() -> None:
    spec = parse_survey(FULL)
    complete = check_answers(spec, {"csat": "4", "nps": "  "})
    assert complete.errors == {
        "nps": AnswerError.REQUIRED, "channel": AnswerError.REQUIRED,
    }  # fmt: skip
    partial = check_answers(spec, {"csat": "4", "nps": "  "}, complete=False)
    assert (partial.errors, partial.values) == ({}, {"csat": 4.0})


def test_check_answers_drops_answers_to_hidden_questions() -> None:
    spec = parse_survey(FULL)
    raw = {"nps": "10", "improve": "沒什麼", "liked": "快", "channel": "web"}
    raw |= {"why_app": "方便"}
    check = check_answers(spec, raw)
    assert check.ok
    assert check.values == {"nps": 10.0, "liked": "快", "channel": "web"}


def test_check_answers_hides_a_follow_up_when_its_question_was_refused() -> None:
    check = check_answers(parse_survey(FULL), {"nps": "12", "improve": "x"})
    assert check.errors["nps"] is AnswerError.OUT_OF_RANGE
    assert "improve" not in check.values


def test_spec_to_dict_round_trips_every_field() -> None:
    spec = parse_survey(FULL)
    data = spec_to_dict(spec)
    assert parse_survey(data) == spec
    assert data["questions"][1]["show_if"] == {"question": "nps", "max": 6.0}
    assert data["questions"][7]["show_if"] == {"question": "channel", "in": ["app"]}
    assert data["questions"][5]["weight"] == 2.0
    assert data["attributes"] == {"team": "cx"}


def test_encode_answer_stores_scores_as_values_and_choices_as_lines() -> None:
    assert encode_answer(9.0) == (9.0, None)
    assert encode_answer("web") == (None, "web")
    assert encode_answer(("app", "web")) == (None, "app\nweb")
    assert decode_choices("app\nweb") == ("app", "web")
    assert decode_choices(None) == ()


def test_survey_module_doctests_pass() -> None:
    import doctest

    from cxloop.domain import survey_parse, survey_scores, survey_spec
    from cxloop.surveys import templates

    for module in (survey_spec, survey_parse, survey_scores, templates):
        result = doctest.testmod(module)
        assert result.attempted > 0, module.__name__
        assert result.failed == 0, module.__name__
