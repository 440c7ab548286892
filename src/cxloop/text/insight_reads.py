"""What the text insights read from the store: scored interactions, topic hits, keywords.

The scored interactions of a window (``text_scored_at`` set) are read with plain
queries on SQLite or PostgreSQL, with the interaction's own cuts (channel, touchpoint,
journey stage, source, the language of the text) filtered in SQL. The JSON lists
``topics`` and ``keywords`` are flattened by the database itself (SQLite ``json_each``,
PostgreSQL ``jsonb_array_elements``), which is several times faster than decoding each
document in Python; only the verbatims shown read their whole ``topics`` document.
Customer cuts (region, segment, saved segment, profile fields, attributes) are resolved
by the analytics layer, exactly as the metric pages resolve them, to the set of
customers they keep.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Connection,
    String,
    case,
    cast,
    func,
    literal,
    select,
    true,
    type_coerce,
)
from sqlalchemy.dialects import postgresql

from cxloop.analytics import queries
from cxloop.analytics.changes import refuse_missing
from cxloop.analytics.engines import connect
from cxloop.config import Settings
from cxloop.store.engine import engine_for
from cxloop.store.tables import Customer, Interaction

#: The columns of :func:`read_scored`, in order.
FRAME_COLUMNS = (
    "interaction_id", "occurred_at", "customer_id", "channel", "touchpoint",
    "language", "sentiment", "sentiment_score", "emotion", "intent",
)  # fmt: skip
#: The columns of :func:`read_hits`: one row per topic a text is about.
HIT_COLUMNS = ("interaction_id", "topic", "sentiment", "score")
#: Customer cuts keeping at most this many customers are filtered in SQL (``IN``);
#: larger ones after reading (SQLite binds at most 32,766 values in one query).
MAX_IN_SQL = 20_000


@dataclass(frozen=True)
class Scope:
    """Which scored interactions to read: a window of business-zone dates and cuts."""

    window: tuple[date, date]
    zone: str
    where: Mapping[str, str]
    language: str | None = None
    customers: frozenset[int] | None = None

    @property
    def in_sql(self) -> bool:
        """Whether the SQL conditions keep exactly the texts of the scope."""
        return self.customers is None or len(self.customers) <= MAX_IN_SQL

    def conditions(self) -> list[ColumnElement[bool]]:
        """The SQL conditions of the scope (customer cuts apart: see customers_kept)."""
        first, last = self.window
        conditions: list[ColumnElement[bool]] = [
            Interaction.text_scored_at.is_not(None),
            Interaction.occurred_at >= start_of(first, self.zone),
            Interaction.occurred_at < start_of(last + timedelta(days=1), self.zone),
        ]
        conditions += [
            getattr(Interaction, field) == value
            for field, value in self.where.items()
            if field in queries.FACT_FIELDS
        ]
        if self.language is not None:
            conditions.append(Interaction.language == self.language)
        if self.customers is not None and self.in_sql:
            conditions.append(Interaction.customer_id.in_(sorted(self.customers)))
        return conditions


def start_of(day: date, zone: str) -> datetime:
    """The UTC instant at which the business-zone ``day`` begins."""
    return datetime.combine(day, time(), ZoneInfo(zone)).astimezone(UTC)


def text_counts(
    *, settings: Settings, version: str | None = None
) -> tuple[int, int, int]:
    """How many interactions carry text, how many of them are scored, and how many
    were scored by another text version than ``version`` (0 without one)."""
    has_text = Interaction.text.is_not(None) & (Interaction.text != "")
    other = Interaction.text_scored_at.is_not(None) & (
        Interaction.text_version.is_(None)
        | (Interaction.text_version != (version or ""))
    )
    query = select(
        func.count(),
        func.count(Interaction.text_scored_at),
        func.coalesce(func.sum(case((other, 1), else_=0)), 0),
    ).where(has_text)
    with engine_for(settings.database_url).connect() as connection:
        total, scored, stale = connection.execute(query).one()
    return int(total), int(scored), int(stale) if version else 0


def last_scored(*, settings: Settings) -> datetime | None:
    """When a text was last scored (the index on ``text_scored_at`` answers it)."""
    query = select(func.max(Interaction.text_scored_at))
    with engine_for(settings.database_url).connect() as connection:
        last = connection.execute(query).scalar()
    return None if last is None else _aware(last)


def scored_span(*, settings: Settings, zone: str) -> tuple[date, date] | None:
    """The business-zone dates of the first and the last scored text, if any."""
    query = select(
        func.min(Interaction.occurred_at), func.max(Interaction.occurred_at)
    ).where(Interaction.text_scored_at.is_not(None))
    with engine_for(settings.database_url).connect() as connection:
        first, last = connection.execute(query).one()
    if first is None or last is None:
        return None
    local = ZoneInfo(zone)
    return _aware(first).astimezone(local).date(), _aware(last).astimezone(local).date()


def _aware(value: Any) -> datetime:
    """A timestamp from an aggregate (SQLite gives naive UTC text) as aware UTC."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def read_scored(*, settings: Settings, scope: Scope) -> pd.DataFrame:
    """The scored interactions of ``scope`` (:data:`FRAME_COLUMNS`), customer cuts too.

    ``occurred_at`` is aware UTC (read as text on SQLite and parsed in one go).
    Rows become columns before pandas sees them: a frame built from SQLAlchemy rows
    one by one is several times slower.
    """
    names = FRAME_COLUMNS[2:]
    query = select(
        Interaction.id,
        type_coerce(Interaction.occurred_at, String),
        *(getattr(Interaction, name) for name in names),
    ).where(*scope.conditions())
    with engine_for(settings.database_url).connect() as connection:
        rows = connection.execute(query).all()
    frame = _frame(rows, FRAME_COLUMNS)
    frame["occurred_at"] = pd.to_datetime(
        frame["occurred_at"], utc=True, format="ISO8601"
    )
    if not scope.in_sql and scope.customers is not None:
        frame = frame[frame["customer_id"].isin(scope.customers)]
    return frame.reset_index(drop=True)


def _frame(rows: Sequence[Any], names: Sequence[str]) -> pd.DataFrame:
    """A frame of ``rows``, turned into columns first (empty columns when no row)."""
    columns = zip(*rows, strict=True) if rows else ([] for _ in names)
    return pd.DataFrame(dict(zip(names, map(list, columns), strict=True)))


def _elements(connection: Connection, document: Any) -> tuple[Any, Any]:
    """The elements of a JSON array column, and an expression reading a text element
    or one key of an object element (per dialect)."""
    if connection.dialect.name == "postgresql":
        empty = cast(literal("[]"), postgresql.JSONB)
        array = case((func.jsonb_typeof(document) == "array", document), else_=empty)
        found = func.jsonb_array_elements(array).table_valued("value").lateral("el")
        kind = func.jsonb_typeof(found.c.value)

        def read(key: str | None) -> Any:
            if key is None:
                top = cast(literal("{}"), postgresql.ARRAY(String))
                return case((kind == "string", found.c.value.op("#>>")(top)))
            return case((kind == "object", found.c.value.op("->>")(key)))

        return found, read
    array = case((func.json_type(document) == "array", document), else_=literal("[]"))
    found = func.json_each(array).table_valued("value", "type").alias("el")

    def read_sqlite(key: str | None) -> Any:
        if key is None:
            return case((found.c.type == "text", found.c.value))
        return case(
            (found.c.type == "object", func.json_extract(found.c.value, f"$.{key}"))
        )

    return found, read_sqlite


def read_hits(*, settings: Settings, scope: Scope) -> pd.DataFrame:
    """One row per (interaction, topic hit) of ``scope`` (:data:`HIT_COLUMNS`).

    A bare string in ``topics`` is a topic without sentiment. Customer cuts are not
    applied here: the caller keeps the hits of the interactions it kept.
    """
    with engine_for(settings.database_url).connect() as connection:
        found, read = _elements(connection, Interaction.topics)
        topic = func.coalesce(read("topic"), read(None))
        query = (
            select(Interaction.id, topic, read("sentiment"), read("score"))
            .select_from(Interaction)
            .join(found, true())
            .where(*scope.conditions())
        )
        rows = connection.execute(query).all()
    frame = _frame(rows, HIT_COLUMNS)
    frame["score"] = pd.to_numeric(frame["score"], errors="coerce").astype(float)
    return frame


def read_keywords(
    *, settings: Settings, scope: Scope, ids: pd.Series, top: int
) -> list[tuple[str, int]]:
    """The ``top`` keywords of ``scope`` with the texts that have each, largest first.

    Counted by the database; when the scope's customer cut could not be written in
    SQL, the keywords of the interactions in ``ids`` are counted after reading.
    """
    with engine_for(settings.database_url).connect() as connection:
        found, read = _elements(connection, Interaction.keywords)
        word = read(None)
        base = select(Interaction.id, word).select_from(Interaction).join(found, true())
        base = base.where(*scope.conditions(), word.is_not(None))
        if not scope.in_sql:
            pairs = _frame(connection.execute(base).all(), ("id", "word"))
            counted = pairs[pairs["id"].isin(ids)]["word"].value_counts()
            ranked = sorted(counted.items(), key=lambda p: (-p[1], str(p[0])))
            return [(str(k), int(v)) for k, v in ranked[:top]]
        words = base.subquery()
        n = func.count(func.distinct(words.c.id))
        query = select(words.c[1], n).group_by(words.c[1])
        query = query.order_by(n.desc(), words.c[1]).limit(top)
        return [(str(k), int(v)) for k, v in connection.execute(query)]


def customers_kept(
    *, settings: Settings, where: Mapping[str, str]
) -> frozenset[int] | None:
    """The customers the customer cuts of ``where`` keep (None: no customer cut)."""
    wanted = {k: v for k, v in where.items() if k not in queries.FACT_FIELDS}
    if not wanted:
        return None
    with connect(settings) as source:
        refuse_missing(source, list(wanted))
        customers = source.customers
        dim = customers.select(
            customers.customer_id.name("kept_id"),
            **{field: queries.customer_column(source, field) for field in wanted},
        )
        chosen = queries.filter_where(dim, wanted).select("kept_id").execute()
    return frozenset(int(value) for value in chosen["kept_id"])


def read_texts(
    *, settings: Settings, ids: Sequence[int]
) -> dict[int, tuple[str, str | None, Any]]:
    """The text, customer reference and ``topics`` document of each id in ``ids``."""
    if not ids:
        return {}
    query = (
        select(
            Interaction.id, Interaction.text, Customer.external_id, Interaction.topics
        )
        .outerjoin(Customer, Customer.id == Interaction.customer_id)
        .where(Interaction.id.in_(list(ids)))
    )
    with engine_for(settings.database_url).connect() as connection:
        rows = connection.execute(query).all()
    return {int(row[0]): (row[1] or "", row[2], row[3]) for row in rows}


def distinct_values(
    *, settings: Settings, fields: Sequence[str]
) -> dict[str, list[str]]:
    """The values of interaction columns among scored texts, sorted, without nulls.

    One scan: the distinct combinations of the columns, split per column.
    """
    columns = [getattr(Interaction, field) for field in fields]
    query = select(*columns).where(Interaction.text_scored_at.is_not(None)).distinct()
    with engine_for(settings.database_url).connect() as connection:
        combos = connection.execute(query).all()
    return {
        field: sorted({str(row[i]) for row in combos if row[i] is not None})
        for i, field in enumerate(fields)
    }
