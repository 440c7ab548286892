"""Engine adapters: an Ibis backend and the two tables every metric query reads.

:func:`connect` gives a :class:`Source` for the configured store:

- an SQLite store (the embedded default) is read through its DuckDB analytics mirror
  (:mod:`cxloop.analytics.mirror`), refreshed when connecting;
- a PostgreSQL store is read in place by the Ibis postgres backend, through two SQL
  views built with ``AT TIME ZONE`` for the business zone;
- with ``analytics_engine = "spark"``, the Parquet export of the store (``cxloop
  analytics export``) is read on a Spark session
  (:mod:`cxloop.analytics.spark_source`).

All expose the same columns, so the definitions in
:mod:`cxloop.analytics.definitions` run unchanged on each of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
from sqlalchemy.engine import make_url

from cxloop.analytics.mirror import CUSTOMERS_SQL, open_mirror, refresh
from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput
from cxloop.store.engine import sqlite_path

#: Columns of the answer facts table, the same on every engine. Times are in the
#: business zone: ``occurred_local`` (timestamp), ``occurred_on`` (date) and the first
#: day of the ISO week (Monday), month and quarter holding it.
FACT_COLUMNS = (
    "answer_id",
    "metric",
    "value",
    "occurred_local",
    "occurred_on",
    "week_start",
    "month_start",
    "quarter_start",
    "channel",
    "touchpoint",
    "journey_stage",
    "source",
    "customer_id",
)
#: Columns of the customer table, the same on every engine (attributes as JSON).
CUSTOMER_COLUMNS = (
    "customer_id",
    "region",
    "segment",
    "language",
    "attributes",
    "rfm_segment",
    "value_tier",
    "cluster_label",
    "segments",
)

_PG_FACTS = """
SELECT answer_id, metric, value, occurred_local,
       CAST(occurred_local AS DATE) AS occurred_on,
       CAST(date_trunc('week', occurred_local) AS DATE) AS week_start,
       CAST(date_trunc('month', occurred_local) AS DATE) AS month_start,
       CAST(date_trunc('quarter', occurred_local) AS DATE) AS quarter_start,
       channel, touchpoint, journey_stage, source, customer_id
FROM (
  SELECT a.id AS answer_id, a.metric, a.value,
         (i.occurred_at AT TIME ZONE '{zone}') AS occurred_local,
         i.channel, i.touchpoint, i.journey_stage, i.source, i.customer_id
  FROM answer AS a JOIN interaction AS i ON i.id = a.interaction_id
  WHERE a.value IS NOT NULL AND a.metric IN ('nps', 'csat', 'ces')
) AS answers
"""
_PG_CUSTOMERS = """
SELECT id AS customer_id, region, segment, language,
       CAST(attributes AS JSON) AS attributes, rfm_segment, value_tier, cluster_label,
       segments
FROM ({customers}) AS c
""".format(
    customers=CUSTOMERS_SQL.format(concat="string_agg(s.key, '|' ORDER BY s.key)")
)


#: The analytics engines ``settings.analytics_engine`` may name.
ENGINES = ("embedded", "spark")

#: Reads one key of the customers' JSON attributes as text (numbers as written).
AttributeReader = Callable[[ir.Table, str], ir.StringValue]


@ibis.udf.scalar.builtin(name="json_extract_string")  # type: ignore[untyped-decorator]
def _duckdb_json_text(document: str, path: str) -> str:  # type: ignore[empty-body]
    """DuckDB's ``json_extract_string``: the value at ``path`` as text."""


@ibis.udf.scalar.builtin(name="json_extract_path_text")  # type: ignore[untyped-decorator]
def _postgres_json_text(document: dt.JSON, key: str) -> str:  # type: ignore[empty-body]
    """PostgreSQL's ``json_extract_path_text``: the value under ``key`` as text."""


def _duckdb_attribute(customers: ir.Table, key: str) -> ir.StringValue:
    return _duckdb_json_text(customers.attributes, f'$."{key}"')


def _postgres_attribute(customers: ir.Table, key: str) -> ir.StringValue:
    return _postgres_json_text(customers.attributes, key)


class Source:
    """An Ibis backend with the answer facts and customer tables of one store.

    ``attribute`` reads a customer attribute; it is the only part of a query that is
    written per engine, because JSON functions differ between SQL dialects. The
    customer table is loaded (and, for the mirror, refreshed) when first read.
    """

    def __init__(
        self,
        backend: Any,
        facts: ir.Table,
        attribute: AttributeReader,
        load_customers: Callable[[], ir.Table],
    ) -> None:
        self.backend = backend
        self.facts = facts
        self.attribute = attribute
        self._load_customers = load_customers
        self._customers: ir.Table | None = None

    @property
    def customers(self) -> ir.Table:
        """The customer table, loaded on first use."""
        if self._customers is None:
            self._customers = self._load_customers()
        return self._customers


def business_zone(settings: Settings) -> str:
    """The business time zone, checked against the IANA database."""
    try:
        ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        msg = f"CXLOOP_TIMEZONE {settings.timezone!r} is not an IANA time zone"
        raise InvalidInput(msg) from exc
    return settings.timezone


def analytics_engine(settings: Settings) -> str:
    """The analytics engine the settings name, checked against :data:`ENGINES`."""
    if settings.analytics_engine not in ENGINES:
        msg = (
            f"CXLOOP_ANALYTICS_ENGINE {settings.analytics_engine!r} is not one of "
            f"{', '.join(ENGINES)}"
        )
        raise InvalidInput(msg)
    return settings.analytics_engine


@contextmanager
def connect(settings: Settings) -> Iterator[Source]:
    """The :class:`Source` the metrics of ``settings`` run on.

    The embedded engine reads the store itself (:func:`connect_store`); the spark
    engine reads the Parquet export in ``settings.spark_data_dir`` on the Spark
    session of ``settings.spark_master``
    (:func:`cxloop.analytics.spark_source.connect_spark`).
    """
    if analytics_engine(settings) == "spark":
        from cxloop.analytics.spark_source import connect_spark

        with connect_spark(settings) as source:
            yield source
        return
    with connect_store(settings) as source:
        yield source


@contextmanager
def connect_store(settings: Settings) -> Iterator[Source]:
    """The :class:`Source` of the store named by ``settings.database_url``.

    The backend is closed when the ``with`` block ends. For an SQLite store the
    mirror is refreshed on entry (its customers when they are first read) and stays
    locked until the block ends.
    """
    zone = business_zone(settings)
    database = sqlite_path(settings.database_url)
    if database is None:
        backend = _postgres(settings.database_url)
        try:
            facts = backend.sql(_PG_FACTS.format(zone=zone.replace("'", "''")))
            yield Source(backend, facts, _postgres_attribute, _pg_customers(backend))
        finally:
            backend.disconnect()
        return
    if not database.exists():
        msg = f"the SQLite store {database} does not exist: run `cxloop db upgrade`"
        raise InvalidInput(msg)
    with open_mirror(
        database, timezone=zone, analytics_dir=settings.analytics_dir, customers=False
    ) as con:
        backend = ibis.duckdb.from_connection(con)

        def customers() -> ir.Table:
            refresh(con, database, timezone=zone, customers=True)
            return backend.table("customer_dim")

        facts = backend.table("answer_fact")
        yield Source(backend, facts, _duckdb_attribute, customers)


def _pg_customers(backend: Any) -> Callable[[], ir.Table]:
    def customers() -> ir.Table:
        return backend.sql(_PG_CUSTOMERS)

    return customers


def _postgres(url: str) -> Any:
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        msg = (
            f"analytics supports SQLite and PostgreSQL stores, not {parsed.drivername}"
        )
        raise InvalidInput(msg)
    return ibis.postgres.connect(
        host=parsed.host or "localhost",
        port=parsed.port or 5432,
        user=parsed.username,
        password=parsed.password,
        database=parsed.database,
    )
