"""What the demo company starts with beyond its data: two saved segments to send
surveys to, and the relational NPS survey (Traditional Chinese and English), open.

So that a first look at ``make run`` can build or pick a survey, send it to a segment
and watch the answers arrive without writing any rule first.
"""

from __future__ import annotations

from cxloop.analytics.segment_rules import Condition, SegmentDefinition
from cxloop.config import Settings
from cxloop.customers.segments import save_segments
from cxloop.domain.errors import Conflict
from cxloop.surveys.documents import create_survey_from_template

#: The survey the demo company opens with.
DEMO_SURVEY = "relational-nps"

DEMO_SEGMENTS = [
    SegmentDefinition(
        key="vip",
        name="高價值顧客",
        name_en="High-value customers",
        description="Top and high value tiers (by 12-month CLV)",
        conditions=[Condition(field="value_tier", op="in", value=["top", "high"])],
    ),
    SegmentDefinition(
        key="unhappy_big_spenders",
        name="高消費但不滿意",
        name_en="Unhappy big spenders",
        description="Spent NT$20,000 or more and last gave NPS 6 or less",
        conditions=[
            Condition(field="revenue", op="ge", value=20000),
            Condition(field="last_nps", op="le", value=6),
        ],
    ),
]


def setup_demo_surveys(*, settings: Settings) -> None:
    """Save the demo segments and open the relational NPS survey (once)."""
    save_segments(settings=settings, definitions=DEMO_SEGMENTS)
    try:
        create_survey_from_template(
            settings=settings,
            template=DEMO_SURVEY,
            key=DEMO_SURVEY,
            name_zh="禾光生活年度顧客體驗調查",
            name_en="Heguang Living annual customer survey",
        )
    except Conflict:
        return
