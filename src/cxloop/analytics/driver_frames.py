"""The analysis frame of key-driver analysis: an outcome and its drivers, from the store.

At the **response** level each survey response that answered the outcome is a row. At
the **customer** level each customer with a relational answer (the latest answer of the
relational survey, ``relationship`` in the demo) is a row, and the drivers summarise
their other responses, cases and profile in the :data:`DRIVER_WINDOW_DAYS` before it;
for the outcome ``churn`` each scored customer is a row, with the window ending at the
last event in the store. Field syntax: :mod:`cxloop.analytics.driver_fields`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cxloop.analytics.driver_fields import PLACES, Field, Level, Scale
from cxloop.analytics.store_frames import StoreData
from cxloop.domain.errors import InvalidInput
from cxloop.domain.peak_end import WINDOW_DAYS

#: Days before the outcome that a customer-level driver looks back over: the journey
#: window of peak-end analysis, so that both read the same touchpoints.
DRIVER_WINDOW_DAYS = WINDOW_DAYS
#: ``FIELD=*`` expands to the values with at least this many rows.
EXPAND_MIN_ROWS = 30
#: Outcomes: the three scored metrics and churn risk (customer level).
OUTCOMES = ("nps", "csat", "ces", "churn")


@dataclass(frozen=True)
class AnalysisFrame:
    """Outcome and drivers, one row each; drivers keep their gaps (``nan``)."""

    outcome: str
    values: pd.Series
    drivers: pd.DataFrame
    scales: dict[str, Scale]
    metrics: dict[str, str]


def analysis_frame(
    data: StoreData, *, outcome: str, fields: list[Field], level: Level, survey: str
) -> AnalysisFrame:
    """The rows of ``level`` with ``outcome`` and one column per driver field."""
    if outcome not in OUTCOMES:
        raise InvalidInput(f"outcome {outcome!r} is unknown: use {', '.join(OUTCOMES)}")
    if level is Level.RESPONSE:
        if outcome == "churn":
            raise InvalidInput("the outcome churn needs --level customer")
        responses = data.responses[data.responses[outcome].notna()]
        rows = responses.reset_index(drop=True)
        values = rows[outcome].astype(np.float64)
        columns = {f.text: f for f in _expanded(fields, data.responses)}
        drivers = {name: _response_column(rows, f) for name, f in columns.items()}
    else:
        anchors = _anchors(data, outcome, survey)
        window = _window(data.responses, anchors, survey)
        columns = {f.text: f for f in _expanded(fields, window)}
        drivers = {
            name: _customer_column(data, anchors, window, f)
            for name, f in columns.items()
        }
        values = anchors["value"].astype(np.float64)
    frame = pd.DataFrame(drivers, index=values.index, dtype=np.float64)
    return AnalysisFrame(
        outcome=outcome,
        values=values,
        drivers=frame,
        scales={name: f.scale for name, f in columns.items()},
        metrics={name: f.metric for name, f in columns.items() if f.metric},
    )


def _expanded(fields: list[Field], rows: pd.DataFrame) -> list[Field]:
    """``FIELD=*`` becomes one field per value with enough rows; values are checked."""
    out: list[Field] = []
    for field in fields:
        if field.kind not in ("place", "metric_at"):
            out.append(field)
            continue
        column = rows[PLACES[field.place]]
        counts = column.value_counts()
        if field.value == "*":
            wanted = sorted(str(v) for v, k in counts.items() if k >= EXPAND_MIN_ROWS)
            prefix = field.text[: -len("*")]
            out.extend(_with_value(field, prefix, str(v)) for v in wanted)
        elif field.value not in counts.index:
            known = ", ".join(sorted(str(v) for v in counts.index))
            msg = f"{field.place} {field.value!r} has no responses: known are {known}"
            raise InvalidInput(msg)
        else:
            out.append(field)
    return out


def _with_value(field: Field, prefix: str, value: str) -> Field:
    return Field(
        text=prefix + value,
        kind=field.kind,
        metric=field.metric,
        place=field.place,
        value=value,
    )


def _attribute(rows: pd.DataFrame, key: str, known: pd.Series) -> pd.Series:
    """The numeric attribute ``key`` of each row (``nan`` where it is missing)."""
    raw = pd.Series(
        [a.get(key) if isinstance(a, dict) else None for a in rows["attributes"]],
        index=rows.index,
        dtype=object,
    )
    if not any(isinstance(a, dict) and key in a for a in known):
        keys = sorted({k for a in known if isinstance(a, dict) for k in a})
        msg = f"no response has the attribute {key!r}: known are {', '.join(keys)}"
        raise InvalidInput(msg)
    numbers = pd.to_numeric(raw, errors="coerce")
    if numbers.notna().sum() == 0 and raw.notna().any():
        raise InvalidInput(f"the attribute {key!r} holds no numbers")
    return numbers.astype(np.float64)


def _topic(rows: pd.DataFrame, name: str) -> pd.Series:
    return pd.Series(
        [isinstance(t, list) and name in t for t in rows["topics"]],
        index=rows.index,
        dtype=np.float64,
    )


def _response_column(rows: pd.DataFrame, field: Field) -> pd.Series:
    kind = field.kind
    if kind == "metric":
        return rows[field.metric].astype(np.float64)
    if kind == "place":
        return (rows[PLACES[field.place]] == field.value).astype(np.float64)
    if kind in ("attr", "attr_over"):
        numbers = _attribute(rows, field.key, rows["attributes"])
        if kind == "attr":
            return numbers
        return (numbers > field.threshold).astype(np.float64)
    if kind == "sentiment":
        return rows["sentiment_score"].astype(np.float64)
    return _topic(rows, field.key)


def _anchors(data: StoreData, outcome: str, survey: str) -> pd.DataFrame:
    """One row per customer: ``customer_id``, ``as_of`` and the outcome ``value``."""
    if outcome == "churn":
        risk = data.profiles[["customer_id", "churn_risk"]].dropna()
        if risk.empty:
            raise InvalidInput("no churn risk yet: run `cxloop customers score` first")
        end = data.responses["occurred_at"].max()
        return pd.DataFrame(
            {
                "customer_id": risk["customer_id"],
                "as_of": end,
                "value": risk["churn_risk"],
            }
        ).reset_index(drop=True)
    responses = data.responses
    answered = responses[(responses["survey"] == survey) & responses[outcome].notna()]
    if answered.empty:
        known = ", ".join(sorted(str(s) for s in responses["survey"].dropna().unique()))
        msg = f"no {outcome} answers of the relational survey {survey!r}: surveys are {known}"
        raise InvalidInput(msg)
    last = answered.sort_values("occurred_at").groupby("customer_id").tail(1)
    return pd.DataFrame(
        {
            "customer_id": last["customer_id"],
            "as_of": last["occurred_at"],
            "value": last[outcome],
        }
    ).reset_index(drop=True)


def _window(
    responses: pd.DataFrame, anchors: pd.DataFrame, survey: str
) -> pd.DataFrame:
    """Each anchor's other responses in the window before it (``row`` = anchor row)."""
    others = responses[responses["survey"] != survey]
    pairs = anchors[["customer_id", "as_of"]].reset_index(names="row")
    joined = pairs.merge(others, on="customer_id")
    start = joined["as_of"] - pd.Timedelta(days=DRIVER_WINDOW_DAYS)
    inside = (joined["occurred_at"] < joined["as_of"]) & (
        joined["occurred_at"] >= start
    )
    return joined[inside].reset_index(drop=True)


def _per_anchor(values: pd.Series, rows: pd.Series, how: str, size: int) -> pd.Series:
    grouped = values.groupby(rows)
    summary = grouped.mean() if how == "mean" else grouped.sum()
    full = summary.reindex(range(size))
    return full.fillna(0.0) if how == "sum" else full


def _customer_column(
    data: StoreData, anchors: pd.DataFrame, window: pd.DataFrame, field: Field
) -> pd.Series:
    size, rows, kind = len(anchors), window["row"], field.kind
    if kind == "profile":
        profile = data.profiles.set_index("customer_id")[field.key]
        return anchors["customer_id"].map(profile).astype(np.float64)
    if kind == "cases":
        return _cases(data.cases, anchors, field.key)
    if kind in ("metric", "metric_at"):
        values = window[field.metric].astype(np.float64)
        if kind == "metric_at":
            values = values.where(window[PLACES[field.place]] == field.value)
        return _per_anchor(values, rows, "mean", size)
    if kind == "place":
        at = (window[PLACES[field.place]] == field.value).astype(np.float64)
        return _per_anchor(at, rows, "sum", size).clip(upper=1.0)
    if kind in ("attr", "attr_over"):
        numbers = _attribute(window, field.key, data.responses["attributes"])
        if kind == "attr":
            return _per_anchor(numbers, rows, "mean", size)
        over = (numbers > field.threshold).astype(float).where(numbers.notna())
        return _per_anchor(over, rows, "mean", size)
    if kind == "sentiment":
        return _per_anchor(window["sentiment_score"].astype(float), rows, "mean", size)
    return _per_anchor(_topic(window, field.key), rows, "sum", size)


def _cases(cases: pd.DataFrame, anchors: pd.DataFrame, kind: str) -> pd.Series:
    chosen = cases if not kind else cases[cases["kind"] == kind]
    if kind and chosen.empty:
        known = ", ".join(sorted(str(k) for k in cases["kind"].unique()))
        raise InvalidInput(f"no cases of kind {kind!r}: known are {known or 'none'}")
    pairs = anchors[["customer_id", "as_of"]].reset_index(names="row")
    joined = pairs.merge(chosen[["customer_id", "opened_at"]], on="customer_id")
    start = joined["as_of"] - pd.Timedelta(days=DRIVER_WINDOW_DAYS)
    inside = (joined["opened_at"] < joined["as_of"]) & (joined["opened_at"] >= start)
    counts = inside.astype(np.float64)
    return _per_anchor(counts, joined["row"], "sum", len(anchors))
