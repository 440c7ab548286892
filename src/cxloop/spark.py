"""The Spark session cxloop's scale path runs on (the optional ``cxloop[spark]`` extra).

:func:`spark_session` builds (or returns the running) session: ``local[*]`` by default,
a cluster when ``master`` says so (``spark://host:7077``, ``yarn``, ...). A local
session binds to 127.0.0.1 only and runs its Python workers with this interpreter, so
that they see the same installed packages (cxloop, pyarrow, the models).
"""

from __future__ import annotations

import os
import sys
from importlib import resources
from typing import TYPE_CHECKING

from cxloop.domain.errors import InvalidInput

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: Used when no master is given: every core of this machine.
DEFAULT_MASTER = "local[*]"


def require_pyspark() -> None:
    """Raise :class:`InvalidInput` with the install command when PySpark is missing."""
    try:
        import pyspark  # noqa: F401
    except ImportError as exc:
        msg = (
            "the Spark engine needs PySpark: pip install 'cxloop[spark]' (and Java 17)"
        )
        raise InvalidInput(msg) from exc


def spark_session(
    master: str | None = None,
    *,
    app_name: str = "cxloop",
    partitions: int | None = None,
) -> SparkSession:
    """The Spark session to run on (the running one when there is one).

    Parameters
    ----------
    master
        Spark master URL; ``None`` or ``""``: :data:`DEFAULT_MASTER`.
    app_name
        Name shown in the Spark UI of a cluster.
    partitions
        ``spark.sql.shuffle.partitions``; ``None``: twice the local cores for a local
        master, Spark's default otherwise.
    """
    require_pyspark()
    from pyspark.sql import SparkSession

    master = master or DEFAULT_MASTER
    local = master.startswith("local")
    # Python workers must run this interpreter (the JVM reads the variable at start).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
    )
    if local:
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        builder = (
            builder.config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
        )
        if partitions is None:
            partitions = 2 * (os.cpu_count() or 1)
        if not os.environ.get("SPARK_CONF_DIR"):  # else the user's own log4j2 config
            quiet = resources.files("cxloop").joinpath("spark_log4j2.properties")
            option = f"-Dlog4j2.configurationFile=file:{quiet}"
            builder = builder.config("spark.driver.extraJavaOptions", option)
    if partitions is not None:
        builder = builder.config("spark.sql.shuffle.partitions", str(partitions))
    try:
        return builder.getOrCreate()
    except Exception as exc:  # the JVM did not start: no Java, bad master URL, ...
        msg = f"could not start Spark ({master}): {exc}"
        raise InvalidInput(msg) from exc
