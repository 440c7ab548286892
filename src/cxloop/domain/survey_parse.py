"""Reading survey definitions (YAML/JSON mappings) into :class:`SurveySpec`, and back.

>>> spec = parse_survey({"key": "csat", "name": {"zh-TW": "滿意度", "en": "Satisfaction"},
...                      "questions": [{"key": "csat", "type": "csat", "text": "滿意嗎？"}]})
>>> spec.questions[0].metric, parse_survey(spec_to_dict(spec)) == spec
('csat', True)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from cxloop.domain.errors import InvalidInput
from cxloop.domain.survey_spec import (
    KEY_PATTERN,
    LANGUAGES,
    MAX_CHOICES,
    MAX_QUESTIONS,
    PARTS,
    PILLARS,
    SCALED,
    Choice,
    Condition,
    QuestionKind,
    QuestionSpec,
    SurveySpec,
    Text,
)


def parse_survey(data: Mapping[str, Any]) -> SurveySpec:
    """Parse and validate a survey definition; errors name the offending path.

    Raises
    ------
    InvalidInput
        For an unknown question type, a duplicate key, a condition on a later or
        unknown question, a choice question without choices, and the like.
    """
    if not isinstance(data, Mapping):
        raise InvalidInput("a survey definition must be a mapping")
    key = _key(data.get("key"), "key")
    raw_questions = data.get("questions")
    if not isinstance(raw_questions, list) or not raw_questions:
        raise InvalidInput("questions: a survey needs a list of at least one question")
    if len(raw_questions) > MAX_QUESTIONS:
        raise InvalidInput(f"questions: at most {MAX_QUESTIONS} questions")
    questions: list[QuestionSpec] = []
    for index, raw in enumerate(raw_questions):
        questions.append(_question(raw, f"questions[{index}]", questions))
    attributes = data.get("attributes") or {}
    if not isinstance(attributes, Mapping):
        raise InvalidInput("attributes: must be a mapping")
    return SurveySpec(
        key=key,
        name=_required_text(data.get("name"), "name"),
        questions=tuple(questions),
        description=_text(data.get("description"), "description"),
        thanks=_text(data.get("thanks"), "thanks"),
        template=_optional_str(data.get("template"), "template"),
        attributes=dict(attributes),
    )


def _key(value: Any, path: str) -> str:
    if not isinstance(value, str) or not KEY_PATTERN.match(value):
        msg = (
            f"{path}: {value!r} is not a valid key (lower-case letters, digits, "
            "- and _, at most 64, starting with a letter or digit)"
        )
        raise InvalidInput(msg)
    return value


def _optional_str(value: Any, path: str) -> str | None:
    if value is None or isinstance(value, str):
        return value or None
    raise InvalidInput(f"{path}: must be text")


def _text(value: Any, path: str, *, required: bool = False) -> Text | None:
    if value is None or value == "":
        if required:
            raise InvalidInput(f"{path}: is required")
        return None
    if isinstance(value, str):
        return Text(value.strip(), value.strip())
    if isinstance(value, Mapping):
        unknown = set(value) - {*LANGUAGES, "zh", "zh-Hant"}
        if unknown:
            raise InvalidInput(
                f"{path}: unknown languages {sorted(unknown)}; use zh-TW, en"
            )
        zh = value.get("zh-TW") or value.get("zh") or value.get("zh-Hant") or ""
        en = value.get("en") or ""
        if isinstance(zh, str) and isinstance(en, str) and (zh.strip() or en.strip()):
            return Text(zh.strip(), en.strip())
    raise InvalidInput(f"{path}: give a text, or {{zh-TW: ..., en: ...}}")


def _required_text(value: Any, path: str) -> Text:
    text = _text(value, path, required=True)
    if text is None:  # pragma: no cover - _text raises first
        raise InvalidInput(f"{path}: is required")
    return text


def _question(raw: Any, path: str, earlier: list[QuestionSpec]) -> QuestionSpec:
    if not isinstance(raw, Mapping):
        raise InvalidInput(f"{path}: a question must be a mapping")
    key = _key(raw.get("key"), f"{path}.key")
    if any(q.key == key for q in earlier):
        raise InvalidInput(f"{path}.key: {key!r} is used twice")
    try:
        kind = QuestionKind(raw.get("type", ""))
    except ValueError:
        kinds = ", ".join(k.value for k in QuestionKind)
        raise InvalidInput(
            f"{path}.type: {raw.get('type')!r}; choose {kinds}"
        ) from None
    text = _required_text(raw.get("text"), f"{path}.text")
    _check_roles(raw, kind, path)
    return QuestionSpec(
        key=key,
        kind=kind,
        text=text,
        required=_flag(raw.get("required", False), f"{path}.required"),
        choices=_choices(raw.get("choices"), kind, path),
        scale=_scale(raw.get("scale"), kind, path),
        low_label=_text(raw.get("low_label"), f"{path}.low_label"),
        high_label=_text(raw.get("high_label"), f"{path}.high_label"),
        show_if=_condition(raw.get("show_if"), path, earlier),
        dimension=_optional_str(raw.get("dimension"), f"{path}.dimension"),
        part=_member(raw.get("part"), PARTS, f"{path}.part"),
        pillar=_member(raw.get("pillar"), PILLARS, f"{path}.pillar"),
        weight=_weight(raw.get("weight", 1.0), f"{path}.weight"),
    )


def _check_roles(raw: Mapping[str, Any], kind: QuestionKind, path: str) -> None:
    """SERVQUAL (dimension + part) and CX-index (pillar) items must be scored."""
    roles = [name for name in ("dimension", "part", "pillar") if raw.get(name)]
    if roles and kind not in SCALED:
        msg = f"{path}.{roles[0]}: only nps, csat, ces and rating questions are scored"
        raise InvalidInput(msg)
    if bool(raw.get("dimension")) != bool(raw.get("part")):
        msg = f"{path}: a SERVQUAL item needs both dimension and part"
        raise InvalidInput(msg)


def _flag(value: Any, path: str) -> bool:
    if isinstance(value, bool):
        return value
    raise InvalidInput(f"{path}: must be true or false")


def _member(value: Any, allowed: tuple[str, ...], path: str) -> str | None:
    if value is None or value in allowed:
        return value  # type: ignore[no-any-return]
    raise InvalidInput(f"{path}: {value!r}; choose one of {', '.join(allowed)}")


def _weight(value: Any, path: str) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    raise InvalidInput(f"{path}: must be a positive number")


def _choices(raw: Any, kind: QuestionKind, path: str) -> tuple[Choice, ...]:
    if kind not in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        if raw:
            raise InvalidInput(f"{path}.choices: only single and multiple questions")
        return ()
    if not isinstance(raw, list) or not 2 <= len(raw) <= MAX_CHOICES:
        raise InvalidInput(f"{path}.choices: give 2 to {MAX_CHOICES} choices")
    choices: list[Choice] = []
    for index, item in enumerate(raw):
        where = f"{path}.choices[{index}]"
        if isinstance(item, str):
            item = {"value": _slug(item), "text": item}
        if not isinstance(item, Mapping):
            raise InvalidInput(f"{where}: a text, or {{value: ..., text: ...}}")
        value = item.get("value")
        if not isinstance(value, str) or not value.strip() or "\n" in value:
            raise InvalidInput(f"{where}.value: a one-line text is required")
        label = _required_text(item.get("text", value), f"{where}.text")
        if any(c.value == value.strip() for c in choices):
            raise InvalidInput(f"{where}.value: {value!r} is used twice")
        choices.append(Choice(value.strip(), label))
    return tuple(choices)


def _slug(text: str) -> str:
    return re.sub(r"\s+", "_", text.strip().lower())[:100]


def _scale(raw: Any, kind: QuestionKind, path: str) -> tuple[int, int] | None:
    if raw is None:
        return None
    if kind is not QuestionKind.RATING:
        raise InvalidInput(f"{path}.scale: only rating questions set a scale")
    if (
        isinstance(raw, list)
        and len(raw) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in raw)
        and 0 <= raw[0] < raw[1] <= 100
    ):
        return raw[0], raw[1]
    raise InvalidInput(
        f"{path}.scale: give [low, high], whole numbers 0-100, low < high"
    )


def _condition(raw: Any, path: str, earlier: list[QuestionSpec]) -> Condition | None:
    if raw is None:
        return None
    where = f"{path}.show_if"
    if not isinstance(raw, Mapping) or not isinstance(raw.get("question"), str):
        raise InvalidInput(
            f"{where}: give {{question: KEY, min/max: N}} or {{question, in}}"
        )
    target = next((q for q in earlier if q.key == raw["question"]), None)
    if target is None:
        raise InvalidInput(
            f"{where}.question: {raw['question']!r} is not an earlier question"
        )
    if target.kind in SCALED:
        low, high = raw.get("min"), raw.get("max")
        numbers = [v for v in (low, high) if v is not None]
        if not numbers or not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in numbers
        ):
            raise InvalidInput(f"{where}: a scored question needs min and/or max")
        return Condition(target.key, _num(low), _num(high))
    if target.kind is QuestionKind.TEXT:
        raise InvalidInput(f"{where}: cannot depend on an open-text question")
    wanted = raw.get("in")
    values = {c.value for c in target.choices}
    if (
        not isinstance(wanted, list)
        or not wanted
        or not all(isinstance(v, str) and v in values for v in wanted)
    ):
        raise InvalidInput(f"{where}.in: a list of {target.key!r} choice values")
    return Condition(target.key, any_of=tuple(wanted))


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


# --- writing back ---------------------------------------------------------------------


def spec_to_dict(spec: SurveySpec) -> dict[str, Any]:
    """The definition as a plain mapping that :func:`parse_survey` reads back equal."""
    data: dict[str, Any] = {
        "key": spec.key,
        "name": _text_dict(spec.name),
        "questions": [_question_dict(q) for q in spec.questions],
    }
    for name in ("description", "thanks"):
        value = getattr(spec, name)
        if value is not None:
            data[name] = _text_dict(value)
    if spec.template:
        data["template"] = spec.template
    if spec.attributes:
        data["attributes"] = dict(spec.attributes)
    return data


def _text_dict(text: Text) -> dict[str, str]:
    return {"zh-TW": text.zh, "en": text.en}


def _question_dict(q: QuestionSpec) -> dict[str, Any]:
    data: dict[str, Any] = {
        "key": q.key,
        "type": q.kind.value,
        "text": _text_dict(q.text),
    }
    if q.required:
        data["required"] = True
    if q.choices:
        data["choices"] = [
            {"value": c.value, "text": _text_dict(c.label)} for c in q.choices
        ]
    if q.scale is not None:
        data["scale"] = list(q.scale)
    for name in ("low_label", "high_label"):
        label = getattr(q, name)
        if label is not None:
            data[name] = _text_dict(label)
    if q.show_if is not None:
        data["show_if"] = _condition_dict(q.show_if)
    for name in ("dimension", "part", "pillar"):
        if getattr(q, name) is not None:
            data[name] = getattr(q, name)
    if q.weight != 1.0:
        data["weight"] = q.weight
    return data


def _condition_dict(condition: Condition) -> dict[str, Any]:
    data: dict[str, Any] = {"question": condition.question}
    if condition.any_of:
        data["in"] = list(condition.any_of)
    if condition.min is not None:
        data["min"] = condition.min
    if condition.max is not None:
        data["max"] = condition.max
    return data
