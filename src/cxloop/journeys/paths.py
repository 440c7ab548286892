"""Customer paths between touchpoints, computed set-based in the engine.

From the interaction stream placed on a journey, each customer's interactions are
ordered by time (then id); consecutive repeats of the same node are collapsed, and
with a session gap a pause longer than the gap starts a new path. Window functions
(``LAG``, ``LEAD``, ``ROW_NUMBER``) number the steps of every path in one pass, and
plain aggregates give:

- the most common sequences of ``k`` consecutive nodes (anywhere in a path);
- drop-offs: per node, the share of visits that are the last step of their path,
  and per step number, the share of paths that end there;
- time between steps (median and 90th percentile, in hours) per transition;
- Sankey links: transitions between step ``s`` and ``s + 1`` for the first steps.

A node is a journey touchpoint (a split touchpoint's value, a store say) or, with
``level="stage"``, a stage. The same Ibis expressions compile for DuckDB and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import ibis
import ibis.expr.types as ir

from cxloop.domain.errors import InvalidInput
from cxloop.journeys import filters as journey_filters
from cxloop.journeys.definitions import Journey, localized
from cxloop.journeys.filters import JourneyFilters
from cxloop.journeys.placement import place, slots
from cxloop.journeys.stream import Stream

LEVELS = ("touchpoint", "stage")
MAX_K = 6
SANKEY_STEPS = 5
SANKEY_LINKS = 40


@dataclass(frozen=True)
class PathOptions:
    """How to cut the stream into paths and what to report."""

    level: str = "touchpoint"
    k: int = 3
    top: int = 10
    session_gap_hours: float | None = None
    sankey_steps: int = SANKEY_STEPS

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            msg = f"level {self.level!r} is unknown: choose {' or '.join(LEVELS)}"
            raise InvalidInput(msg)
        if not 2 <= self.k <= MAX_K:
            msg = f"k = {self.k}: sequences must have 2 to {MAX_K} steps"
            raise InvalidInput(msg)
        if not 1 <= self.top <= 1000:
            msg = f"top = {self.top}: ask for 1 to 1000 sequences"
            raise InvalidInput(msg)
        if self.session_gap_hours is not None and not self.session_gap_hours > 0:
            msg = "the session gap must be a positive number of hours"
            raise InvalidInput(msg)
        if not 2 <= self.sankey_steps <= 10:
            msg = "the Sankey view shows 2 to 10 steps"
            raise InvalidInput(msg)


@dataclass(frozen=True)
class Sequence:
    nodes: tuple[str, ...]
    count: int
    share: float


@dataclass(frozen=True)
class NodeDropOff:
    node: str
    visits: int
    exits: int

    @property
    def share(self) -> float:
        return self.exits / self.visits if self.visits else 0.0


@dataclass(frozen=True)
class StepDropOff:
    step: int
    reached: int
    ended: int

    @property
    def share(self) -> float:
        return self.ended / self.reached if self.reached else 0.0


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    count: int
    median_hours: float
    p90_hours: float


@dataclass(frozen=True)
class Link:
    step: int
    source: str
    target: str
    count: int


def node_name(labels: dict[str, str], key: str) -> str:
    """The display name of a node key; a split touchpoint's value names itself.

    >>> node_name({"a/b": "Stores"}, "a/b/台中公益店")
    '台中公益店'
    """
    if key in labels:
        return labels[key]
    return key.split("/", 2)[-1]


@dataclass(frozen=True)
class PathReport:
    """Paths of one journey under one set of filters."""

    options: PathOptions
    paths: int
    customers: int
    steps: int
    sequences: tuple[Sequence, ...]
    node_dropoffs: tuple[NodeDropOff, ...]
    step_dropoffs: tuple[StepDropOff, ...]
    transitions: tuple[Transition, ...]
    links: tuple[Link, ...]
    labels: dict[str, str]

    def name(self, key: str) -> str:
        """The display name of the node ``key``."""
        return node_name(self.labels, key)


def node_labels(journey: Journey, level: str, language: str) -> dict[str, str]:
    """The display name of each node key a path report uses."""
    if level == "stage":
        return {s.key: localized(s.label, language) for s in journey.stages}
    return {
        f"{slot.stage}/{slot.touchpoint}": localized(slot.label, language)
        for slot in slots(journey)
    }


def _nodes(journey: Journey, placed: ir.Table, level: str) -> ir.StringValue:
    """The node of each placed row: a stage key, a touchpoint key or a split value."""
    keys = slots(journey)
    if level == "stage":
        names = [slot.stage for slot in keys]
    else:
        names = [f"{slot.stage}/{slot.touchpoint}" for slot in keys]
    branches = [
        (placed.slot == slot.index, ibis.literal(names[slot.index])) for slot in keys
    ]
    node = ibis.cases(*branches, else_=ibis.null("string"))
    if level == "stage":
        return node
    return ibis.cases(
        (placed.detail != "", node.concat("/", placed.detail)), else_=node
    )


Decoder = Callable[[Any], str]


def _coded_nodes(
    coded: tuple[ir.Table, ir.Table],
    journey: Journey,
    filters: JourneyFilters,
    level: str,
) -> tuple[ir.Table, Decoder]:
    """Node codes placed on the few distinct combinations, joined to the events."""
    events, combos = coded
    if filters.channel:
        combos = combos.filter(combos.channel == filters.channel)
    placed = place(journey, combos)
    frame = placed.select("combo_id", node=_nodes(journey, placed, level)).execute()
    keys = sorted(set(frame["node"]))
    codes = {key: number for number, key in enumerate(keys)}
    mapping = ibis.memtable(
        {"combo_id": [int(c) for c in frame["combo_id"]],
         "node": [codes[key] for key in frame["node"]]},
        schema={"combo_id": "int32", "node": "int32"},
    )  # fmt: skip
    joined = events.inner_join(mapping, "combo_id")
    return joined.select(
        "customer_id", "seq", at=joined.occurred_local, node=joined.node
    ), lambda code: keys[int(code)]


def _base(
    stream: Stream, journey: Journey, filters: JourneyFilters, level: str
) -> tuple[ir.Table, Decoder, list[str]]:
    """One row per placed interaction of a known customer: time and node; also how
    to decode a node and the columns that order a customer's interactions."""
    where = journey_filters.customer_where(journey, filters)
    source = stream.source
    if stream.coded is not None:
        base, decode = _coded_nodes(stream.coded, journey, filters, level)
        chosen = replace(filters, channel=None)
        base = base.mutate(occurred_on=base.at.date())
        base = journey_filters.apply(source, base, where, chosen)
        return base.filter(base.customer_id.notnull()), decode, ["seq"]
    table = journey_filters.apply(source, stream.interactions, where, filters)
    placed = place(journey, table.filter(table.customer_id.notnull()))
    base = placed.select(
        "customer_id",
        "interaction_id",
        at=placed.occurred_local,
        node=_nodes(journey, placed, level),
    )
    return base, str, ["at", "interaction_id"]


def numbered_steps(
    stream: Stream, journey: Journey, filters: JourneyFilters, options: PathOptions
) -> tuple[ir.Table, Decoder]:
    """One row per path step: customer, path, step (1-based), node, time, next nodes.

    Also returns how to turn a node value of the table into its node key.
    """
    base, decode, order = _base(stream, journey, filters, options.level)
    base = base.select(*dict.fromkeys(["customer_id", "at", "node", *order]))
    by_time = ibis.window(group_by=base.customer_id, order_by=[base[c] for c in order])
    previous = base.mutate(
        prev_node=base.node.lag().over(by_time), prev_at=base.at.lag().over(by_time)
    )
    gap = previous.at.epoch_seconds() - previous.prev_at.epoch_seconds()
    starts = previous.prev_at.isnull()
    if options.session_gap_hours is not None:
        starts |= gap > options.session_gap_hours * 3600
    kept = previous.mutate(starts=starts.cast("int32")).filter(
        starts | (previous.prev_node != previous.node)
    )
    if options.session_gap_hours is None:
        kept = kept.mutate(path=ibis.literal(0, type="int64"))
    else:
        running = ibis.window(
            group_by=kept.customer_id, order_by=[kept[c] for c in order]
        )
        kept = kept.mutate(path=kept.starts.cumsum().over(running))
    within = ibis.window(
        group_by=[kept.customer_id, kept.path], order_by=[kept[c] for c in order]
    )
    ahead = {f"n{j}": kept.node.lead(j).over(within) for j in range(1, options.k)}
    steps = kept.select(
        "customer_id",
        "path",
        "node",
        "at",
        step=ibis.row_number().over(within) + 1,
        next_at=kept.at.lead(1).over(within),
        **ahead,
    )
    return steps, decode


def path_report(
    stream: Stream,
    journey: Journey,
    filters: JourneyFilters,
    options: PathOptions,
    *,
    language: str = "zh-TW",
) -> PathReport:
    """The path analysis of ``journey`` under ``filters``."""
    steps, decode = numbered_steps(stream, journey, filters, options)
    with steps.cache() as cached:
        totals = _totals(cached)
        report = PathReport(
            options=options,
            paths=totals[0],
            customers=totals[1],
            steps=totals[2],
            sequences=tuple(_sequences(cached, options, decode)),
            node_dropoffs=tuple(_node_dropoffs(cached, decode)),
            step_dropoffs=tuple(_step_dropoffs(cached)),
            transitions=tuple(_transitions(cached, decode)),
            links=tuple(_links(cached, options, decode)),
            labels=node_labels(journey, options.level, language),
        )
    return report


def _totals(steps: ir.Table) -> tuple[int, int, int]:
    firsts = steps.filter(steps.step == 1)
    row = firsts.aggregate(
        paths=firsts.count(), customers=firsts.customer_id.nunique()
    ).execute()
    total = int(steps.count().execute())
    return int(row["paths"][0]), int(row["customers"][0]), total


def _sequences(
    steps: ir.Table, options: PathOptions, decode: Decoder
) -> list[Sequence]:
    last = f"n{options.k - 1}"
    windows = steps.filter(steps[last].notnull())
    keys = ["node", *(f"n{j}" for j in range(1, options.k))]
    counts = windows.group_by(keys).aggregate(count=windows.count())
    total = int(windows.count().execute())
    top = counts.order_by([ibis.desc("count"), *keys]).limit(options.top).execute()
    return [
        Sequence(tuple(decode(row[key]) for key in keys), int(row["count"]),
                 int(row["count"]) / total if total else 0.0)
        for row in top.to_dict("records")
    ]  # fmt: skip


def _node_dropoffs(steps: ir.Table, decode: Decoder) -> list[NodeDropOff]:
    counts = steps.group_by("node").aggregate(
        visits=steps.count(), exits=steps.n1.isnull().sum()
    )
    frame = counts.order_by([ibis.desc("visits"), "node"]).execute()
    return [
        NodeDropOff(decode(row["node"]), int(row["visits"]), int(row["exits"]))
        for row in frame.to_dict("records")
    ]


def _step_dropoffs(steps: ir.Table) -> list[StepDropOff]:
    counts = steps.group_by("step").aggregate(
        reached=steps.count(), ended=steps.n1.isnull().sum()
    )
    frame = counts.order_by("step").limit(50).execute()
    return [
        StepDropOff(int(row["step"]), int(row["reached"]), int(row["ended"]))
        for row in frame.to_dict("records")
    ]


def _transitions(steps: ir.Table, decode: Decoder) -> list[Transition]:
    moves = steps.filter(steps.n1.notnull())
    hours = (moves.next_at.epoch_seconds() - moves.at.epoch_seconds()) / 3600.0
    moves = moves.mutate(hours=hours)
    stats = moves.group_by(["node", "n1"]).aggregate(
        count=moves.count(),
        median=moves.hours.quantile(0.5),
        p90=moves.hours.quantile(0.9),
    )
    frame = stats.order_by([ibis.desc("count"), "node", "n1"]).limit(200).execute()
    return [
        Transition(decode(row["node"]), decode(row["n1"]), int(row["count"]),
                   float(row["median"]), float(row["p90"]))
        for row in frame.to_dict("records")
    ]  # fmt: skip


def _links(steps: ir.Table, options: PathOptions, decode: Decoder) -> list[Link]:
    moves = steps.filter(steps.n1.notnull(), steps.step < options.sankey_steps)
    counts = moves.group_by(["step", "node", "n1"]).aggregate(count=moves.count())
    frame = counts.order_by([ibis.desc("count"), "step", "node", "n1"]).execute()
    per_step: dict[int, int] = {}
    links = []
    for row in frame.to_dict("records"):
        step = int(row["step"])
        if per_step.get(step, 0) >= SANKEY_LINKS // (options.sankey_steps - 1) + 1:
            continue
        per_step[step] = per_step.get(step, 0) + 1
        links.append(
            Link(step, decode(row["node"]), decode(row["n1"]), int(row["count"]))
        )
    return sorted(links, key=lambda link: (link.step, -link.count))
