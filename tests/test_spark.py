"""The shared Spark session builder (:mod:`cxloop.spark`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cxloop.spark import spark_session
from tests.spark_warnings import SPARK_WARNINGS

pytestmark = SPARK_WARNINGS


def test_local_session_stays_on_loopback_with_this_python_and_quiet_logs(spark: Any) -> None:  # fmt: skip
    conf = spark.sparkContext.getConf()
    assert conf.get("spark.driver.host") == "127.0.0.1"
    assert conf.get("spark.ui.enabled") == "false"
    assert conf.get("spark.sql.session.timeZone") == "UTC"
    option = conf.get("spark.driver.extraJavaOptions")
    assert "-Dlog4j2.configurationFile=file:" in option  # after Spark's own options
    properties = Path(option.split("-Dlog4j2.configurationFile=file:", 1)[1].split()[0])
    assert "rootLogger.level = warn" in properties.read_text(encoding="utf-8")
    assert spark.range(5).selectExpr("sum(id)").first()[0] == 10
    assert spark_session("local[2]") is spark  # the running session is reused
