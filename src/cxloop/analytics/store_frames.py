"""Survey responses, cases and profiles read from the store as pandas frames.

Key-driver and peak-end analysis read the same thing: one row per survey response with
where it happened, its NPS / CSAT / CES answers, its text scores and its attributes
(the extra columns of the imported file, such as ``survey`` and ``delivery_days``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, Executable, String, select, type_coerce

from cxloop.analytics.driver_fields import METRICS, PROFILE_FIELDS
from cxloop.domain.errors import InvalidInput
from cxloop.domain.vocab import InteractionKind
from cxloop.store.tables import Answer, Case, CustomerProfile, Interaction

RESPONSE_COLUMNS = (
    "interaction_id", "customer_id", "occurred_at", "channel", "touchpoint",
    "journey_stage", "sentiment_score", "topics", "attributes",
)  # fmt: skip


@dataclass(frozen=True)
class StoreData:
    """What the analyses read: responses, cases and customer profiles."""

    responses: pd.DataFrame
    cases: pd.DataFrame
    profiles: pd.DataFrame


def _rows(engine: Engine, query: Executable, columns: list[str]) -> pd.DataFrame:
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    frame = pd.DataFrame(rows, columns=columns)
    for column in columns:
        if column.endswith("_at"):
            frame[column] = pd.to_datetime(
                frame[column], utc=True, format="ISO8601"
            ).astype("datetime64[ns, UTC]")
    return frame


def _utc_text(column: Any) -> Any:
    return type_coerce(column, String)


def read_responses(engine: Engine) -> pd.DataFrame:
    """Survey responses of known customers with their answers, one row each.

    Columns: :data:`RESPONSE_COLUMNS`, ``survey`` (from the attributes) and ``nps``,
    ``csat``, ``ces`` (``nan`` where not answered). InvalidInput when there are none.
    """
    query = select(
        Interaction.id,
        Interaction.customer_id,
        _utc_text(Interaction.occurred_at),
        Interaction.channel,
        Interaction.touchpoint,
        Interaction.journey_stage,
        Interaction.sentiment_score,
        Interaction.topics,
        Interaction.attributes,
    ).where(
        Interaction.kind == InteractionKind.SURVEY_RESPONSE.value,
        Interaction.customer_id.is_not(None),
    )
    responses = _rows(engine, query, list(RESPONSE_COLUMNS))
    if responses.empty:
        raise InvalidInput("the store holds no survey responses: import feedback first")
    answers = _rows(
        engine,
        select(Answer.interaction_id, Answer.metric, Answer.value).where(
            Answer.metric.in_(METRICS), Answer.value.is_not(None)
        ),
        ["interaction_id", "metric", "value"],
    )
    wide = answers.pivot_table(
        index="interaction_id", columns="metric", values="value", aggfunc="mean"
    )
    wide = wide.reindex(columns=list(METRICS)).astype(np.float64)
    responses = responses.join(wide, on="interaction_id")
    responses["survey"] = [
        str(a["survey"]) if isinstance(a, dict) and a.get("survey") else None
        for a in responses["attributes"]
    ]
    responses["sentiment_score"] = responses["sentiment_score"].astype(np.float64)
    return responses.sort_values(["occurred_at", "interaction_id"], ignore_index=True)


def read_store(engine: Engine) -> StoreData:
    """Responses (:func:`read_responses`), cases and profiles."""
    cases = _rows(
        engine,
        select(Case.customer_id, Case.kind, _utc_text(Case.opened_at)).where(
            Case.customer_id.is_not(None)
        ),
        ["customer_id", "kind", "opened_at"],
    )
    profile_columns = [getattr(CustomerProfile, name) for name in PROFILE_FIELDS]
    profiles = _rows(
        engine,
        select(CustomerProfile.customer_id, *profile_columns),
        ["customer_id", *PROFILE_FIELDS],
    )
    numbers = list(PROFILE_FIELDS)
    profiles[numbers] = profiles[numbers].astype(np.float64)
    return StoreData(read_responses(engine), cases, profiles)
