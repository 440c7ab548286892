"""Labels of the survey pages and the numbers their charts draw.

The charts (ECharts, drawn by ``static/js/survey_results.js``) read one JSON block; the
same numbers are in tables beside each chart, so nothing depends on JavaScript.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cxloop.surveys.result_stats import Bucket, SurveyResults
from cxloop.web.i18n import N_

NAMES: dict[str, dict[str, str]] = {
    "status": {"draft": N_("Draft (paused)"), "active": N_("Open"),
               "closed": N_("Closed")},
    "kind": {"nps": N_("NPS (0-10)"), "csat": N_("CSAT (1-5)"), "ces": N_("CES (1-7)"),
             "rating": N_("Rating"), "single": N_("Single choice"),
             "multiple": N_("Multiple choice"), "text": N_("Open text")},
    "metric": {"nps": N_("NPS"), "csat": N_("CSAT (share of 4-5)"), "ces": N_("CES (mean)"),
               "rating": N_("Mean rating")},
    "dimension": {"tangibles": N_("Tangibles"), "reliability": N_("Reliability"),
                  "responsiveness": N_("Responsiveness"),
                  "assurance": N_("Assurance"), "empathy": N_("Empathy")},
    "pillar": {"need": N_("Need fulfilment"), "ease": N_("Ease"),
               "delight": N_("Delight")},
    "reason": {"no e-mail address": N_("no e-mail address"),
               "unsubscribed": N_("unsubscribed"), "contact cap": N_("contact cap"),
               "already invited to this survey": N_("already invited to this survey"),
               "unknown": N_("reason not recorded")},
    "period": {"day": N_("Responses per day"), "week": N_("Responses per week")},
}  # fmt: skip


def bucket_label(bucket: Bucket, language: str) -> str:
    """A scale point as it is, a choice by its label in ``language``."""
    return bucket.label.get(language) if bucket.label is not None else bucket.value


def chart_data(
    results: SurveyResults, language: str, translate: Callable[[str], str]
) -> dict[str, Any]:
    """Distributions per question, responses over time, SERVQUAL gaps (if any)."""
    questions = [
        {"id": f"dist-{q.key}",
         "labels": [bucket_label(b, language) for b in q.distribution],
         "counts": [b.count for b in q.distribution]}
        for q in results.questions if q.distribution
    ]  # fmt: skip
    data: dict[str, Any] = {
        "questions": questions,
        "responses": translate(N_("Responses")),
        "complete": translate(N_("Complete")),
        "timeline": {
            "labels": [p.start.isoformat() for p in results.timeline],
            "responses": [p.responses for p in results.timeline],
            "complete": [p.complete for p in results.timeline],
        },
        "servqual": None,
    }
    if results.servqual:
        names = NAMES["dimension"]
        gaps = results.servqual
        data["servqual"] = {
            "name": translate(N_("Gap (perception − expectation)")),
            "labels": [translate(names[g.dimension]) if g.dimension in names
                       else g.dimension for g in gaps],
            "values": [g.gap for g in gaps],
            "low": [g.low if g.low is not None else g.gap for g in gaps],
            "high": [g.high if g.high is not None else g.gap for g in gaps],
        }  # fmt: skip
    return data
