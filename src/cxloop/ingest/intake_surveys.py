"""The survey that scores pushed through the intake belong to: ``intake:<source>``.

A kiosk's ``answers`` and a review's ``rating`` are stored as ``answer`` rows on the
questions ``nps``, ``csat``, ``ces`` and ``rating`` of this survey (created when first
needed), like the answers of imported feedback on ``import:<source>``.
"""

from __future__ import annotations

from collections.abc import Sequence

from cxloop.ingest.surveys import IMPORT_QUESTIONS
from cxloop.ingest.writers import BulkWriter

#: The questions of an intake survey: key (= metric), zh-TW text, English text.
INTAKE_QUESTIONS = (
    *((metric.value, zh, en) for metric, zh, en in IMPORT_QUESTIONS),
    ("rating", "您給幾顆星（1 到 5）？", "How many stars do you give (1 to 5)?"),
)


def intake_survey_key(source: str) -> str:
    """The key of the survey that holds the scores pushed from ``source``."""
    return f"intake:{source}"


def ensure_intake_survey(
    writer: BulkWriter, source: str, metrics: Sequence[str]
) -> dict[str, int]:
    """Create the intake survey of ``source`` and the questions of ``metrics`` if
    missing; returns the question id of each metric."""
    key = intake_survey_key(source)
    sql = "SELECT id FROM survey WHERE key IN ({values})"
    found = writer.lookup(sql, [key])
    if not found:
        name = f"串接 Intake: {source}"
        writer.insert(
            "survey", ("key", "name", "created_at"), [(key, name[:200], writer.now)]
        )
        found = writer.lookup(sql, [key])
    survey_id = found[0][0]
    sql = "SELECT key, id FROM question WHERE survey_id = ? AND key IN ({values})"
    questions = dict(writer.lookup(sql, list(metrics), survey_id))
    missing = [
        (survey_id, metric, metric, metric, zh, en, position, False)
        for position, (metric, zh, en) in enumerate(INTAKE_QUESTIONS)
        if metric in metrics and metric not in questions
    ]
    columns = (
        "survey_id", "key", "metric", "kind", "text_zh", "text_en", "position",
        "required",
    )  # fmt: skip
    if missing:
        writer.insert("question", columns, missing)
        questions = dict(writer.lookup(sql, list(metrics), survey_id))
    return {metric: int(questions[metric]) for metric in metrics}
