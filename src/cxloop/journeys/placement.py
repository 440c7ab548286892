"""Placing interactions (or answers) on a journey, as Ibis expressions.

The rules of a :class:`~cxloop.journeys.definitions.Journey` become one ``CASE``
expression over the rule fields, so placement runs inside the engine (DuckDB or
PostgreSQL) and matches :meth:`Journey.place` row for row: each row goes to the first
touchpoint, in journey order, that one of its rules matches.

- ``slot``: the index of the touchpoint in ``journey.touchpoints()`` (null: unplaced);
- ``detail``: for a touchpoint with ``split: true``, the interaction's touchpoint
  (one cell per store, say), otherwise the empty string.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from cxloop.journeys.definitions import Journey, Labels, Rule, localized

#: The kind of the interactions that carry scored answers.
ANSWER_KIND = "survey_response"


@dataclass(frozen=True)
class Slot:
    """One touchpoint of a journey and where it stands."""

    index: int
    stage: str
    stage_label: Labels
    touchpoint: str
    label: Labels
    split: bool


def slots(journey: Journey) -> list[Slot]:
    """The touchpoints of ``journey`` in order, as slots."""
    return [
        Slot(i, stage.key, stage.label, tp.key, tp.label, tp.split)
        for i, (stage, tp) in enumerate(journey.touchpoints())
    ]


def _rule_condition(table: ir.Table, rule: Rule) -> ir.BooleanValue:
    condition: ir.BooleanValue = ibis.literal(True)
    for field, values in rule.conditions().items():
        column = table[field]
        test = column == values[0] if len(values) == 1 else column.isin(values)
        condition &= test.fill_null(False)
    return condition


def slot_expression(journey: Journey, table: ir.Table) -> ir.IntegerValue:
    """The index of the first touchpoint each row matches, or null."""
    branches = []
    for index, (_stage, touchpoint) in enumerate(journey.touchpoints()):
        matched: ir.BooleanValue = ibis.literal(False)
        for rule in touchpoint.match:
            matched |= _rule_condition(table, rule)
        branches.append((matched, ibis.literal(index, type="int32")))
    return ibis.cases(*branches, else_=ibis.null("int32"))


def place(journey: Journey, table: ir.Table) -> ir.Table:
    """``table`` with ``slot`` and ``detail`` columns, keeping the placed rows.

    ``table`` needs the columns ``channel``, ``touchpoint``, ``kind`` and
    ``journey_stage``; answer facts get ``kind`` = ``survey_response`` first.
    """
    if "kind" not in table.columns:
        table = table.mutate(kind=ibis.literal(ANSWER_KIND))
    placed = table.mutate(slot=slot_expression(journey, table))
    split = [slot.index for slot in slots(journey) if slot.split]
    detail = (
        ibis.cases((placed.slot.isin(split), placed.touchpoint.fill_null("")), else_="")
        if split
        else ibis.literal("")
    )
    return placed.filter(placed.slot.notnull()).mutate(detail=detail)


def cell_name(slot: Slot, detail: str, language: str) -> str:
    """The name a cell shows: the interaction touchpoint of a split slot, else its label."""
    if slot.split and detail:
        return detail
    return localized(slot.label, language)
