"""The survey that imported feedback answers belong to: ``import:<source>``."""

from __future__ import annotations

from cxloop.domain.vocab import MetricKind
from cxloop.ingest.writers import BulkWriter

#: The questions of an import survey: key, zh-TW text, English text.
IMPORT_QUESTIONS = (
    (MetricKind.NPS, "您有多大可能向親友或同事推薦我們？", "How likely are you to recommend us to a friend or colleague?"),
    (MetricKind.CSAT, "您對這次的體驗有多滿意？", "How satisfied were you with this experience?"),
    (MetricKind.CES, "這次要完成您的需求有多容易？", "How easy was it to get what you needed?"),
)  # fmt: skip


def survey_key(source: str) -> str:
    """The key of the survey that holds answers imported from ``source``."""
    return f"import:{source}"


def ensure_import_survey(writer: BulkWriter, source: str) -> dict[str, int]:
    """Create the import survey of ``source`` and its questions if missing.

    Returns
    -------
    dict
        Question id by metric (``nps``, ``csat``, ``ces``).
    """
    key = survey_key(source)
    sql = "SELECT id FROM survey WHERE key IN ({values})"
    found = writer.lookup(sql, [key])
    if not found:
        name = f"匯入 Import: {source}"
        writer.insert(
            "survey", ("key", "name", "created_at"), [(key, name, writer.now)]
        )
        found = writer.lookup(sql, [key])
    survey_id = found[0][0]
    sql = "SELECT key, id FROM question WHERE survey_id = ? AND key IN ({values})"
    keys = [metric.value for metric, _, _ in IMPORT_QUESTIONS]
    questions = dict(writer.lookup(sql, keys, survey_id))
    missing = [
        (survey_id, metric.value, metric.value, zh, en, position, False)
        for position, (metric, zh, en) in enumerate(IMPORT_QUESTIONS)
        if metric.value not in questions
    ]
    columns = (
        "survey_id",
        "key",
        "metric",
        "text_zh",
        "text_en",
        "position",
        "required",
    )
    writer.insert("question", columns, missing)
    if missing:
        questions = dict(writer.lookup(sql, keys, survey_id))
    return {key: int(questions[key]) for key in keys}
