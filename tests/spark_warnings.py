"""Warnings PySpark 4.0 raises by itself, ignored in the modules that drive Spark.

- ``collect()`` and ``toPandas()`` leave the loopback socket they read results from to
  the garbage collector (pyspark/util.py ``_load_from_socket``: "The socket will be
  automatically closed when garbage-collected"), a ResourceWarning that pytest reports
  as unraisable;
- ``toPandas()`` passes ``copy=`` to ``astype``, which pandas 3 deprecates.

Use as ``pytestmark = SPARK_WARNINGS``; the rest of the suite keeps every warning an
error, so a socket cxloop itself leaks is still caught.
"""

from __future__ import annotations

import pytest

SPARK_WARNINGS = [
    pytest.mark.filterwarnings(
        "ignore:Exception ignored in. <socket.socket.*127.0.0.1:"
        "pytest.PytestUnraisableExceptionWarning"
    ),
    pytest.mark.filterwarnings("ignore:unclosed <socket.socket:ResourceWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:pyspark.*"),
]
