"""The Spark engine: the metric definitions on the Parquet export of a store.

:func:`connect_spark` reads the folder that ``cxloop analytics export`` wrote
(``settings.spark_data_dir``) on the Spark session of ``settings.spark_master`` and
gives the same :class:`~cxloop.analytics.engines.Source` as the embedded engines: an
Ibis pyspark backend, ``answer_fact`` and ``customer_dim`` as temporary views with the
columns and types of :mod:`cxloop.analytics.exports`, and an attribute reader written
with Spark SQL's ``get_json_object``.

Times need no conversion: ``occurred_local`` is stored as the wall-clock time in the
business zone without a zone and read as ``TIMESTAMP_NTZ``, and the period columns are
plain dates, so the session time zone (UTC) shifts nothing. The views are dropped when
the ``with`` block ends; the Spark session keeps running for the next request.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir

from cxloop.analytics.engines import Source, business_zone
from cxloop.analytics.exports import TABLES, read_manifest
from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput
from cxloop.spark import require_pyspark, spark_session

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

#: Spark SQL type of each Ibis type used in the export.
_SPARK_TYPES = {
    "int64": "bigint",
    "float64": "double",
    "string": "string",
    "date": "date",
    "timestamp(6)": "timestamp_ntz",
}
_EXPORT_HINT = "write it with `cxloop analytics export --to DIR`"


@ibis.udf.scalar.builtin(name="get_json_object")  # type: ignore[untyped-decorator]
def _spark_json_text(document: str, path: str) -> str:  # type: ignore[empty-body]
    """Spark SQL's ``get_json_object``: the value at the JSON ``path`` as text."""


def spark_attribute(customers: ir.Table, key: str) -> ir.StringValue:
    """The customer attribute ``key`` as text (numbers as written, JSON null: null)."""
    return _spark_json_text(customers.attributes, f"$['{key}']")


@contextmanager
def connect_spark(settings: Settings) -> Iterator[Source]:
    """A :class:`Source` over the export in ``settings.spark_data_dir`` on Spark.

    Raises :class:`InvalidInput` when the folder is not set or holds no export, when
    the export was cut in another business zone, or when PySpark is missing.
    """
    location = data_location(settings)
    require_pyspark()
    session = spark_session(settings.spark_master or None)
    backend = ibis.pyspark.connect(session)
    suffix = uuid.uuid4().hex[:12]
    views: list[str] = []

    def register(name: str) -> ir.Table:
        view = f"cxloop_{name}_{suffix}"
        read_table(session, location, name).createOrReplaceTempView(view)
        views.append(view)
        return backend.table(view)

    try:
        facts = register("answer_fact")
        customers = partial(register, "customer_dim")
        yield Source(backend, facts, spark_attribute, customers)
    finally:
        for view in views:
            session.catalog.dropTempView(view)


def data_location(settings: Settings) -> str:
    """The export folder (a local path or a URL), checked as far as it can be here."""
    where = settings.spark_data_dir.strip()
    if not where:
        msg = f"CXLOOP_SPARK_DATA_DIR is not set: {_EXPORT_HINT} and set it to DIR"
        raise InvalidInput(msg)
    if "://" in where and not where.startswith("file://"):
        return where  # hdfs://, s3a://...: only the executors can look
    folder = Path(where.removeprefix("file://")).expanduser().absolute()
    if not folder.is_dir():
        msg = f"the Spark data folder {folder} does not exist: {_EXPORT_HINT}"
        raise InvalidInput(msg)
    missing = [name for name in TABLES if not (folder / name).is_dir()]
    if missing:
        msg = f"{folder} holds no {' or '.join(missing)} table: {_EXPORT_HINT}"
        raise InvalidInput(msg)
    _check_zone(folder, business_zone(settings))
    return str(folder)


def _check_zone(folder: Path, zone: str) -> None:
    """Refuse an export whose local times were cut in another business zone."""
    manifest = read_manifest(folder)
    exported = None if manifest is None else manifest.get("timezone")
    if exported is not None and exported != zone:
        msg = (
            f"the export in {folder} has local times in {exported}, the settings say "
            f"{zone} (CXLOOP_TIMEZONE): export again, or set the zone it was cut in"
        )
        raise InvalidInput(msg)


def read_table(session: SparkSession, location: str, name: str) -> DataFrame:
    """The exported table ``name`` with the export's columns and types."""
    from pyspark.errors import AnalysisException
    from pyspark.sql import functions as F

    types: Mapping[str, str] = TABLES[name]
    path = f"{location.rstrip('/')}/{name}"
    try:
        frame = session.read.parquet(path)
    except AnalysisException as exc:
        msg = f"cannot read the {name} table at {path}: {_EXPORT_HINT}"
        raise InvalidInput(msg) from exc
    missing = [column for column in types if column not in frame.columns]
    if missing:
        msg = (
            f"the {name} table at {path} has no column {', '.join(missing)}: it was not "
            f"written by this cxloop; {_EXPORT_HINT}"
        )
        raise InvalidInput(msg)
    return frame.select(
        *(
            F.col(column).cast(_SPARK_TYPES[t]).alias(column)
            for column, t in types.items()
        )
    )
