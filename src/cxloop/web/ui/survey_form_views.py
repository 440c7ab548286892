"""What the response form shows: questions with their options, words and errors.

The page is built here in plain values so the template only lays it out. Every text
that comes from a survey definition stays customer data: it is escaped by the template
and never passed through gettext. Conditional follow-ups are always in the page with
their condition in words (the no-JavaScript path is complete); ``survey_form.js`` hides
them live, and the server drops answers whose condition does not hold.
"""

from __future__ import annotations

import gettext
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cxloop.domain.survey_spec import (
    MAX_TEXT,
    SCALED,
    AnswerError,
    AnswerValue,
    Condition,
    QuestionKind,
    QuestionSpec,
    SurveySpec,
    scale_of,
)
from cxloop.web.i18n import N_

ERRORS: dict[AnswerError, str] = {
    AnswerError.REQUIRED: N_("Please answer this question."),
    AnswerError.NOT_A_NUMBER: N_("Choose one of the numbers shown."),
    AnswerError.OUT_OF_RANGE: N_("Choose a number from %(low)s to %(high)s."),
    AnswerError.NOT_A_CHOICE: N_("Choose one of the options shown."),
    AnswerError.TOO_LONG: N_("Keep your answer under %(max)s characters."),
    AnswerError.ONE_CHOICE: N_("Choose only one option."),
}
END_LABELS: dict[QuestionKind, tuple[str, str]] = {
    QuestionKind.NPS: (N_("Not at all likely"), N_("Extremely likely")),
    QuestionKind.CSAT: (N_("Very dissatisfied"), N_("Very satisfied")),
    QuestionKind.CES: (N_("Strongly disagree"), N_("Strongly agree")),
}
IF_RANGE = N_("Answer this if your answer to “%(question)s” was %(low)s to %(high)s.")
IF_AT_LEAST = N_("Answer this if your answer to “%(question)s” was %(low)s or more.")
IF_AT_MOST = N_("Answer this if your answer to “%(question)s” was %(high)s or less.")
IF_CHOSEN = N_("Answer this if you chose %(choices)s for “%(question)s”.")


@dataclass(frozen=True)
class OptionView:
    value: str
    label: str
    checked: bool
    #: Words read out after the number by a screen reader (the scale's end labels).
    hint: str = ""


@dataclass(frozen=True)
class QuestionView:
    key: str
    kind: str
    text: str
    required: bool
    #: "scale" (radio buttons in a row), "single", "multiple" or "text".
    control: str
    options: tuple[OptionView, ...]
    low_label: str
    high_label: str
    value: str
    error: str
    condition: str
    #: data-* attributes for the live show/hide script.
    show_if: dict[str, str]
    max_length: int = MAX_TEXT

    @property
    def described_by(self) -> str:
        """Ids of the condition and error texts that describe the field."""
        ids = [f"c-{self.key}"] if self.condition else []
        return " ".join([*ids, f"e-{self.key}"] if self.error else ids)


def form_values(answers: Mapping[str, AnswerValue]) -> dict[str, list[str]]:
    """Stored answers as the form fields that would send them again."""
    values: dict[str, list[str]] = {}
    for key, value in answers.items():
        if isinstance(value, float):
            values[key] = [_number(value)]
        elif isinstance(value, str):
            values[key] = [value]
        else:
            values[key] = list(value)
    return values


def question_views(
    spec: SurveySpec,
    *,
    language: str,
    translations: gettext.NullTranslations,
    values: Mapping[str, Sequence[str]],
    errors: Mapping[str, AnswerError],
) -> list[QuestionView]:
    """Every question of ``spec`` ready to lay out, with the respondent's answers."""
    return [
        _view(spec, q, language, translations, values.get(q.key, ()), errors.get(q.key))
        for q in spec.questions
    ]


def _view(
    spec: SurveySpec,
    question: QuestionSpec,
    language: str,
    translations: gettext.NullTranslations,
    given: Sequence[str],
    error: AnswerError | None,
) -> QuestionView:
    low, high = _end_labels(question, language, translations)
    control = _control(question)
    return QuestionView(
        key=question.key,
        kind=question.kind.value,
        text=question.text.get(language),
        required=question.required,
        control=control,
        options=_options(question, language, given, (low, high)),
        low_label=low,
        high_label=high,
        value=given[0] if given and control == "text" else "",
        error=error_text(question, error, translations) if error else "",
        condition=_condition_text(spec, question.show_if, language, translations),
        show_if=_show_if(question.show_if),
    )


def _control(question: QuestionSpec) -> str:
    if question.kind in SCALED:
        return "scale"
    if question.kind is QuestionKind.TEXT:
        return "text"
    return question.kind.value


def _options(
    question: QuestionSpec,
    language: str,
    given: Sequence[str],
    ends: tuple[str, str],
) -> tuple[OptionView, ...]:
    chosen = set(given)
    if question.kind in SCALED:
        low, high = scale_of(question)
        return tuple(
            OptionView(
                str(n), str(n), str(n) in chosen,
                ends[0] if n == low else ends[1] if n == high else "",
            )
            for n in range(low, high + 1)
        )  # fmt: skip
    return tuple(
        OptionView(c.value, c.label.get(language), c.value in chosen)
        for c in question.choices
    )


def _end_labels(
    question: QuestionSpec, language: str, translations: gettext.NullTranslations
) -> tuple[str, str]:
    default = END_LABELS.get(question.kind)
    low = question.low_label.get(language) if question.low_label else ""
    high = question.high_label.get(language) if question.high_label else ""
    if default is not None:
        low = low or translations.gettext(default[0])
        high = high or translations.gettext(default[1])
    return low, high


def error_text(
    question: QuestionSpec, error: AnswerError, translations: gettext.NullTranslations
) -> str:
    """The words for an :class:`AnswerError` on ``question``."""
    low, high = scale_of(question) if question.kind in SCALED else (0, 0)
    return translations.gettext(ERRORS[error]) % {
        "low": low,
        "high": high,
        "max": f"{MAX_TEXT:,}",
    }


def _condition_text(
    spec: SurveySpec,
    condition: Condition | None,
    language: str,
    translations: gettext.NullTranslations,
) -> str:
    if condition is None:
        return ""
    target = spec.question(condition.question)
    words = {"question": target.text.get(language)}
    if condition.any_of:
        labels = {c.value: c.label.get(language) for c in target.choices}
        quoted = [f"“{labels.get(v, v)}”" for v in condition.any_of]
        words["choices"] = (" / " if language == "en" else "、").join(quoted)
        return translations.gettext(IF_CHOSEN) % words
    words["low"] = _number(condition.min) if condition.min is not None else ""
    words["high"] = _number(condition.max) if condition.max is not None else ""
    if condition.min is not None and condition.max is not None:
        return translations.gettext(IF_RANGE) % words
    if condition.min is not None:
        return translations.gettext(IF_AT_LEAST) % words
    return translations.gettext(IF_AT_MOST) % words


def _show_if(condition: Condition | None) -> dict[str, str]:
    if condition is None:
        return {}
    data = {"data-if-question": condition.question}
    if condition.min is not None:
        data["data-if-min"] = _number(condition.min)
    if condition.max is not None:
        data["data-if-max"] = _number(condition.max)
    if condition.any_of:
        data["data-if-any"] = "\n".join(condition.any_of)
    return data


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)
