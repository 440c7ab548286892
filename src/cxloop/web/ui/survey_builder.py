"""The survey form builder's form: posted fields to rows, rows to a definition, and back.

The builder works without JavaScript: every button submits the whole form with an
``action`` (``add``, ``remove-3``, ``up-2``, ``down-0``, ``template``, ``save``); the
server applies it to the rows and renders the form again, keeping what was typed.
Question fields are named ``q{i}.{field}``. Choices are written one a line as
``value | 中文 | English`` (or ``value | text``, or only a text). What the builder does not
edit (SERVQUAL dimension and part, CX-index pillar and weight, scale labels, thanks)
travels in a hidden JSON field, so editing a template-made survey keeps it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from cxloop.domain.errors import InvalidInput
from cxloop.domain.survey_spec import MAX_QUESTIONS, QuestionKind

KINDS = tuple(kind.value for kind in QuestionKind)
CHOICE_KINDS = ("single", "multiple")
#: Question fields the builder does not show; they ride along in ``q{i}.extra``.
QUESTION_EXTRAS = ("low_label", "high_label", "dimension", "part", "pillar", "weight")
SURVEY_EXTRAS = ("thanks", "template", "attributes")
_ROW_FIELDS = ("key", "type", "text_zh", "text_en", "scale_low", "scale_high",
               "choices", "if_question", "if_min", "if_max", "if_in", "extra")  # fmt: skip


@dataclass(frozen=True)
class QuestionRow:
    """One question as the builder shows it: every field a text, as typed."""

    key: str = ""
    type: str = "nps"
    text_zh: str = ""
    text_en: str = ""
    required: bool = False
    scale_low: str = ""
    scale_high: str = ""
    choices: str = ""
    if_question: str = ""
    if_min: str = ""
    if_max: str = ""
    if_in: str = ""
    extra: str = ""


@dataclass(frozen=True)
class BuilderForm:
    """The whole builder form: the survey's fields and its question rows."""

    key: str = ""
    name_zh: str = ""
    name_en: str = ""
    description_zh: str = ""
    description_en: str = ""
    status: str = "active"
    extra: str = ""
    rows: tuple[QuestionRow, ...] = field(default_factory=tuple)


def form_from_post(data: Mapping[str, Any]) -> BuilderForm:
    """The builder form as posted (``data`` is the request's form)."""
    rows = []
    for i in range(MAX_QUESTIONS + 1):
        if f"q{i}.type" not in data:
            break
        values = {name: _text(data.get(f"q{i}.{name}")) for name in _ROW_FIELDS}
        rows.append(QuestionRow(required=f"q{i}.required" in data, **values))
    return BuilderForm(
        key=_text(data.get("key")).strip(),
        name_zh=_text(data.get("name_zh")),
        name_en=_text(data.get("name_en")),
        description_zh=_text(data.get("description_zh")),
        description_en=_text(data.get("description_en")),
        status=_text(data.get("status")) or "active",
        extra=_text(data.get("extra")),
        rows=tuple(rows),
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def apply_action(form: BuilderForm, action: str, new_type: str = "nps") -> BuilderForm:
    """The form after ``add``, ``remove-I``, ``up-I`` or ``down-I``.

    Raises
    ------
    InvalidInput
        An unknown action, a row number out of range, or too many questions.
    """
    rows = list(form.rows)
    if action == "add":
        if len(rows) >= MAX_QUESTIONS:
            raise InvalidInput(f"a survey has at most {MAX_QUESTIONS} questions")
        kind = new_type if new_type in KINDS else "nps"
        rows.append(QuestionRow(key=_free_key(rows, kind), type=kind))
        return replace(form, rows=tuple(rows))
    verb, _, number = action.partition("-")
    index = int(number) if number.isdigit() else -1
    if verb not in ("remove", "up", "down") or not 0 <= index < len(rows):
        raise InvalidInput(f"unknown builder action {action!r}")
    if verb == "remove":
        del rows[index]
    else:
        other = index - 1 if verb == "up" else index + 1
        if 0 <= other < len(rows):
            rows[index], rows[other] = rows[other], rows[index]
    return replace(form, rows=tuple(rows))


def _free_key(rows: list[QuestionRow], kind: str) -> str:
    taken = {row.key for row in rows}
    if kind not in taken:
        return kind
    return next(
        f"{kind}{n}" for n in range(2, MAX_QUESTIONS + 2) if f"{kind}{n}" not in taken
    )


# --- form -> definition -----------------------------------------------------------------


def to_definition(form: BuilderForm) -> dict[str, Any]:
    """The definition mapping ``save_survey`` validates (errors name the question).

    Raises
    ------
    InvalidInput
        A number field that is not a number, or a broken hidden extra field.
    """
    definition: dict[str, Any] = {
        "key": form.key,
        "name": _both(form.name_zh, form.name_en),
        "questions": [_question(row, i) for i, row in enumerate(form.rows)],
    }
    if form.description_zh.strip() or form.description_en.strip():
        definition["description"] = _both(form.description_zh, form.description_en)
    definition.update(_extra(form.extra, SURVEY_EXTRAS, "survey"))
    if not definition["questions"]:
        raise InvalidInput("add at least one question")
    return definition


def _both(zh: str, en: str) -> dict[str, str] | str:
    zh, en = zh.strip(), en.strip()
    return {"zh-TW": zh, "en": en} if zh or en else ""


def _question(row: QuestionRow, index: int) -> dict[str, Any]:
    where = f"question {index + 1}"
    data: dict[str, Any] = {
        "key": row.key.strip(),
        "type": row.type,
        "text": _both(row.text_zh, row.text_en),
    }
    if row.required:
        data["required"] = True
    if row.type == "rating" and (row.scale_low.strip() or row.scale_high.strip()):
        data["scale"] = [_whole(row.scale_low, f"{where}: scale low"),
                         _whole(row.scale_high, f"{where}: scale high")]  # fmt: skip
    if row.type in CHOICE_KINDS:
        data["choices"] = parse_choices(row.choices)
    if row.if_question.strip():
        data["show_if"] = _condition(row, where)
    data.update(_extra(row.extra, QUESTION_EXTRAS, where))
    return data


def parse_choices(text: str) -> list[dict[str, Any] | str]:
    """Choices from the textarea: ``value | 中文 | English``, ``value | text`` or text.

    >>> parse_choices("walk | 步行 | Walk\\n開車")
    [{'value': 'walk', 'text': {'zh-TW': '步行', 'en': 'Walk'}}, '開車']
    """
    choices: list[dict[str, Any] | str] = []
    for line in text.splitlines():
        parts = [part.strip() for part in line.split("|")]
        if not any(parts):
            continue
        if len(parts) == 1:
            choices.append(parts[0])
        else:
            zh = parts[1]
            en = parts[2] if len(parts) > 2 else ""
            choices.append({"value": parts[0], "text": _both(zh, en) or parts[0]})
    return choices


def _condition(row: QuestionRow, where: str) -> dict[str, Any]:
    condition: dict[str, Any] = {"question": row.if_question.strip()}
    if row.if_in.strip():
        condition["in"] = [v.strip() for v in row.if_in.split(",") if v.strip()]
    for name, raw in (("min", row.if_min), ("max", row.if_max)):
        if raw.strip():
            condition[name] = _number(raw, f"{where}: show if {name}")
    return condition


def _number(raw: str, what: str) -> float | int:
    try:
        value = float(raw.strip())
    except ValueError:
        raise InvalidInput(f"{what}: {raw.strip()!r} is not a number") from None
    return int(value) if value.is_integer() else value


def _whole(raw: str, what: str) -> int:
    value = _number(raw, what)
    if not isinstance(value, int):
        raise InvalidInput(f"{what}: {raw.strip()!r} is not a whole number")
    return value


def _extra(raw: str, allowed: tuple[str, ...], where: str) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        raise InvalidInput(
            f"{where}: the hidden settings are damaged; reload"
        ) from None
    if not isinstance(data, dict) or set(data) - set(allowed):
        raise InvalidInput(f"{where}: the hidden settings are damaged; reload")
    return data


# --- definition -> form -----------------------------------------------------------------


def form_from_definition(definition: Mapping[str, Any], status: str) -> BuilderForm:
    """The builder form showing a definition (``spec_to_dict`` or a template's)."""
    name = _pair(definition.get("name"))
    description = _pair(definition.get("description"))
    extra = {k: definition[k] for k in SURVEY_EXTRAS if definition.get(k)}
    return BuilderForm(
        key=str(definition.get("key") or ""),
        name_zh=name[0],
        name_en=name[1],
        description_zh=description[0],
        description_en=description[1],
        status=status,
        extra=json.dumps(extra, ensure_ascii=False) if extra else "",
        rows=tuple(_row(q) for q in definition.get("questions") or []),
    )


def _pair(value: Any) -> tuple[str, str]:
    if isinstance(value, str):
        return value, ""
    if isinstance(value, Mapping):
        return str(value.get("zh-TW") or ""), str(value.get("en") or "")
    return "", ""


def _row(question: Mapping[str, Any]) -> QuestionRow:
    text = _pair(question.get("text"))
    scale = question.get("scale") or ["", ""]
    show_if = question.get("show_if") or {}
    extra = {k: question[k] for k in QUESTION_EXTRAS if question.get(k) is not None}
    return QuestionRow(
        key=str(question.get("key") or ""),
        type=str(question.get("type") or "nps"),
        text_zh=text[0],
        text_en=text[1],
        required=bool(question.get("required")),
        scale_low=str(scale[0]),
        scale_high=str(scale[1]),
        choices="\n".join(_choice_line(c) for c in question.get("choices") or []),
        if_question=str(show_if.get("question") or ""),
        if_min=_plain(show_if.get("min")),
        if_max=_plain(show_if.get("max")),
        if_in=", ".join(show_if.get("in") or []),
        extra=json.dumps(extra, ensure_ascii=False) if extra else "",
    )


def _choice_line(choice: Any) -> str:
    if isinstance(choice, str):
        return choice
    zh, en = _pair(choice.get("text"))
    return " | ".join(part for part in (str(choice.get("value")), zh, en) if part)


def _plain(value: Any) -> str:
    if value is None:
        return ""
    number = float(value)
    return str(int(number)) if number.is_integer() else str(number)
