"""Metric definitions: pure Ibis expressions from answer facts to sufficient statistics.

Each function takes an Ibis table of answer facts (at least the columns ``metric`` and
``value``, plus whatever the grouping keys use) and returns an aggregate expression with
one row per group. Nothing here runs a query or knows an engine: the same expression
compiles for DuckDB, PostgreSQL or PySpark. The formulas that turn the statistics into
a value, a margin of error and a test of change live in :mod:`cxloop.domain.metrics`.

>>> import ibis
>>> facts = ibis.memtable(
...     {"metric": ["nps"] * 5, "value": [10.0, 9.0, 8.0, 6.0, 0.0],
...      "channel": ["web", "web", "web", "app", "app"]}
... )
>>> nps_statistics(facts, by=["channel"]).order_by("channel").to_pandas()
  channel  n  promoters  detractors
0     app  2          0           2
1     web  3          2           0
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import ibis.expr.types as ir

from cxloop.domain.vocab import MetricKind

#: Grouping keys: column names of the facts table or named Ibis expressions.
Keys = Sequence[str | ir.Value]
Definition = Callable[[ir.Table, Keys], ir.Table]

#: The facts column holding the first day of each period (in the business zone);
#: weeks are ISO weeks starting on Monday.
PERIOD_COLUMNS: Mapping[str, str] = {
    "day": "occurred_on",
    "week": "week_start",
    "month": "month_start",
    "quarter": "quarter_start",
}


def _scored(facts: ir.Table, metric: MetricKind) -> ir.Table:
    return facts.filter(facts.metric == metric.value, facts.value.notnull())


def _count(flag: ir.BooleanValue) -> ir.IntegerScalar:
    """How many rows meet ``flag`` (compiles to ``sum(cast(flag as int))``)."""
    return flag.sum()


def nps_statistics(facts: ir.Table, by: Keys = ()) -> ir.Table:
    """NPS statistics per group: ``n``, ``promoters`` (9-10) and ``detractors`` (0-6).

    >>> import ibis
    >>> t = ibis.table({"metric": "string", "value": "float64"}, name="answer_fact")
    >>> nps_statistics(t).schema().names
    ('n', 'promoters', 'detractors')
    """
    scored = _scored(facts, MetricKind.NPS)
    value = scored.value
    return scored.aggregate(
        by=list(by),
        n=scored.count(),
        promoters=_count(value >= 9),
        detractors=_count(value <= 6),
    )


def csat_statistics(facts: ir.Table, by: Keys = ()) -> ir.Table:
    """CSAT statistics per group: ``n``, ``top_two`` (4-5 on 1-5) and ``total``.

    >>> import ibis
    >>> t = ibis.memtable({"metric": ["csat"] * 4, "value": [5.0, 4.0, 3.0, 1.0]})
    >>> csat_statistics(t).to_pandas().to_dict("records")
    [{'n': 4, 'top_two': 2, 'total': 13.0}]
    """
    scored = _scored(facts, MetricKind.CSAT)
    value = scored.value
    return scored.aggregate(
        by=list(by),
        n=scored.count(),
        top_two=_count(value >= 4),
        total=value.sum(),
    )


def ces_statistics(facts: ir.Table, by: Keys = ()) -> ir.Table:
    """CES statistics per group: ``n``, ``total``, ``total_sq`` and ``top_three`` (5-7).

    >>> import ibis
    >>> t = ibis.memtable({"metric": ["ces"] * 4, "value": [7.0, 5.0, 3.0, 1.0]})
    >>> ces_statistics(t).to_pandas().to_dict("records")
    [{'n': 4, 'total': 16.0, 'total_sq': 84.0, 'top_three': 2}]
    """
    scored = _scored(facts, MetricKind.CES)
    value = scored.value
    return scored.aggregate(
        by=list(by),
        n=scored.count(),
        total=value.sum(),
        total_sq=(value * value).sum(),
        top_three=_count(value >= 5),
    )


#: The definition of each scored metric.
DEFINITIONS: Mapping[MetricKind, Definition] = {
    MetricKind.NPS: nps_statistics,
    MetricKind.CSAT: csat_statistics,
    MetricKind.CES: ces_statistics,
}


def period_start(facts: ir.Table, period: str) -> ir.DateValue:
    """The first day of the ``period`` (day, week, month, quarter) of each answer.

    The engine adapter computes these columns once, in the business zone, so that a
    grouping by period is a grouping by a plain date column on every engine.

    >>> import ibis
    >>> t = ibis.table({"occurred_on": "date", "month_start": "date"}, name="f")
    >>> period_start(t, "month").get_name()
    'month_start'
    """
    return facts[PERIOD_COLUMNS[period]]
