"""Survey definitions: question types, conditional follow-ups and answer validation.

A survey is written as a mapping (YAML or JSON, or built by the dashboard's form
builder) and parsed into a frozen :class:`SurveySpec` by
:func:`cxloop.domain.survey_parse.parse_survey`. Everything here is pure: the store keeps
``spec_to_dict(spec)`` and the response form checks what a respondent sent with
:func:`check_answers`.

>>> from cxloop.domain.survey_parse import parse_survey
>>> spec = parse_survey({
...     "key": "nps", "name": "關係型 NPS",
...     "questions": [
...         {"key": "nps", "type": "nps", "text": "推薦我們的可能性？", "required": True},
...         {"key": "improve", "type": "text", "text": "我們該改進什麼？",
...          "show_if": {"question": "nps", "max": 6}},
...     ],
... })
>>> [q.key for q in visible_questions(spec, {"nps": 9.0})]
['nps']
>>> check = check_answers(spec, {"nps": "4", "improve": "送貨太慢"})
>>> check.values, check.errors
({'nps': 4.0, 'improve': '送貨太慢'}, {})
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from cxloop.domain.errors import InvalidInput

KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
LANGUAGES = ("zh-TW", "en")
MAX_TEXT = 5000
MAX_QUESTIONS = 100
MAX_CHOICES = 50


class QuestionKind(StrEnum):
    NPS = "nps"
    CSAT = "csat"
    CES = "ces"
    RATING = "rating"
    SINGLE = "single"
    MULTIPLE = "multiple"
    TEXT = "text"


#: The metric (``answer.metric``) each question kind is stored under.
METRIC_OF_KIND = {
    QuestionKind.NPS: "nps",
    QuestionKind.CSAT: "csat",
    QuestionKind.CES: "ces",
    QuestionKind.RATING: "rating",
    QuestionKind.SINGLE: "choice",
    QuestionKind.MULTIPLE: "choice",
    QuestionKind.TEXT: "text",
}
#: Fixed scales of the standard metrics; ratings default to 1-5 and may set their own.
FIXED_SCALES = {
    QuestionKind.NPS: (0, 10),
    QuestionKind.CSAT: (1, 5),
    QuestionKind.CES: (1, 7),
}
SCALED = frozenset({*FIXED_SCALES, QuestionKind.RATING})
PARTS = ("expectation", "perception")
PILLARS = ("need", "ease", "delight")


class AnswerError(StrEnum):
    """Why an answer was refused; the web layer words each in the respondent's language."""

    REQUIRED = "required"
    NOT_A_NUMBER = "not_a_number"
    OUT_OF_RANGE = "out_of_range"
    NOT_A_CHOICE = "not_a_choice"
    TOO_LONG = "too_long"
    ONE_CHOICE = "one_choice"


#: An answer after checking: a score, a choice value, choice values, or text.
AnswerValue = float | str | tuple[str, ...]


@dataclass(frozen=True)
class Text:
    """A text in both interface languages (either may stand in for the other)."""

    zh: str
    en: str

    def get(self, language: str) -> str:
        """The text in ``language`` (``zh-TW`` or ``en``), else the other one."""
        return (
            (self.en or self.zh) if language.startswith("en") else (self.zh or self.en)
        )


@dataclass(frozen=True)
class Choice:
    value: str
    label: Text


@dataclass(frozen=True)
class Condition:
    """Show a question only when an earlier answer is in a range or among choices."""

    question: str
    min: float | None = None
    max: float | None = None
    any_of: tuple[str, ...] = ()

    def holds(self, answers: Mapping[str, AnswerValue]) -> bool:
        """Whether the answers so far make the question appear."""
        value = answers.get(self.question)
        if value is None:
            return False
        if isinstance(value, float):
            low = self.min if self.min is not None else float("-inf")
            high = self.max if self.max is not None else float("inf")
            return low <= value <= high
        chosen = (value,) if isinstance(value, str) else value
        return any(v in self.any_of for v in chosen)


@dataclass(frozen=True)
class QuestionSpec:
    """One question; ``dimension``/``part`` mark SERVQUAL items, ``pillar`` CX-index ones."""

    key: str
    kind: QuestionKind
    text: Text
    required: bool = False
    choices: tuple[Choice, ...] = ()
    scale: tuple[int, int] | None = None
    low_label: Text | None = None
    high_label: Text | None = None
    show_if: Condition | None = None
    dimension: str | None = None
    part: str | None = None
    pillar: str | None = None
    weight: float = 1.0

    @property
    def metric(self) -> str:
        return METRIC_OF_KIND[self.kind]


@dataclass(frozen=True)
class SurveySpec:
    key: str
    name: Text
    questions: tuple[QuestionSpec, ...]
    description: Text | None = None
    thanks: Text | None = None
    template: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)

    def question(self, key: str) -> QuestionSpec:
        """The question named ``key``; NotFound-like InvalidInput otherwise."""
        for question in self.questions:
            if question.key == key:
                return question
        msg = f"survey {self.key!r} has no question {key!r}"
        raise InvalidInput(msg)


@dataclass(frozen=True)
class AnswerCheck:
    """Checked answers by question key, and the refused ones with their reason."""

    values: dict[str, AnswerValue]
    errors: dict[str, AnswerError]

    @property
    def ok(self) -> bool:
        return not self.errors


def visible_questions(
    spec: SurveySpec, answers: Mapping[str, AnswerValue]
) -> list[QuestionSpec]:
    """The questions a respondent sees given the answers so far, in order."""
    return [q for q in spec.questions if q.show_if is None or q.show_if.holds(answers)]


def check_answers(
    spec: SurveySpec,
    raw: Mapping[str, str | Sequence[str]],
    *,
    complete: bool = True,
) -> AnswerCheck:
    """Check what a respondent sent (form fields by question key).

    Empty fields are no answer. Answers to questions hidden by their condition are
    dropped. With ``complete`` a visible required question without an answer is an error;
    without it (a partial save) only the answers given are checked.
    """
    values: dict[str, AnswerValue] = {}
    errors: dict[str, AnswerError] = {}
    for question in spec.questions:
        if question.show_if is not None and not question.show_if.holds(values):
            continue
        given = _given(raw.get(question.key))
        if not given:
            if complete and question.required:
                errors[question.key] = AnswerError.REQUIRED
            continue
        value, error = _check_one(question, given)
        if error is not None:
            errors[question.key] = error
        elif value is not None:
            values[question.key] = value
    return AnswerCheck(values, errors)


def _given(field_value: str | Sequence[str] | None) -> list[str]:
    if field_value is None:
        return []
    items = [field_value] if isinstance(field_value, str) else list(field_value)
    return [item.strip() for item in items if item and item.strip()]


def _check_one(
    question: QuestionSpec, given: list[str]
) -> tuple[AnswerValue | None, AnswerError | None]:
    if question.kind in SCALED:
        return _check_score(question, given[0])
    if question.kind is QuestionKind.TEXT:
        text = "\n".join(given)
        return (None, AnswerError.TOO_LONG) if len(text) > MAX_TEXT else (text, None)
    allowed = {choice.value for choice in question.choices}
    if any(item not in allowed for item in given):
        return None, AnswerError.NOT_A_CHOICE
    if question.kind is QuestionKind.SINGLE:
        if len(set(given)) > 1:
            return None, AnswerError.ONE_CHOICE
        return given[0], None
    order = [c.value for c in question.choices if c.value in set(given)]
    return tuple(order), None


def _check_score(
    question: QuestionSpec, given: str
) -> tuple[AnswerValue | None, AnswerError | None]:
    try:
        score = float(given)
    except ValueError:
        return None, AnswerError.NOT_A_NUMBER
    low, high = scale_of(question)
    if not (low <= score <= high) or score != int(score):
        return None, AnswerError.OUT_OF_RANGE
    return score, None


def scale_of(question: QuestionSpec) -> tuple[int, int]:
    """The inclusive scale of a scored question."""
    fixed = FIXED_SCALES.get(question.kind)
    return fixed or question.scale or (1, 5)


def encode_answer(value: AnswerValue) -> tuple[float | None, str | None]:
    """``(answer.value, answer.text)`` for storage: scores as values, choices as text.

    Several choices are stored one per line, in the order the question lists them.
    """
    if isinstance(value, float):
        return value, None
    if isinstance(value, tuple):
        return None, "\n".join(value)
    return None, value


def decode_choices(text: str | None) -> tuple[str, ...]:
    """The choice values stored by :func:`encode_answer` for a choice question."""
    return tuple(line for line in (text or "").split("\n") if line)
