"""Score the stored texts again on Spark: ``cxloop text rescore --spark``.

The driver cuts the ids of the interactions to score into ranges, one Spark task per
range. Each task reads its range from the store, scores the texts with the same models
as ``cxloop text rescore`` and writes the scores back with the same conditional UPDATE,
one transaction per 1,000 rows (:func:`cxloop.text.pipeline.score_id_range`), so a text
gets the same scores either way and a text changed meanwhile is left for the next pass.

Every executor needs cxloop installed and must reach the store: PostgreSQL at scale;
an SQLite file only with a local Spark session on the machine that holds it. The user's
model folder and taxonomy file are copied to the executors by Spark, as ``text
score-spark`` does.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from cxloop.config import Settings
from cxloop.store.engine import engine_for
from cxloop.store.types import utcnow
from cxloop.text.pipeline import (
    TextPassSummary,
    count_texts,
    id_span,
    models_for,
    score_id_range,
)
from cxloop.text.scoring import text_version
from cxloop.text.spark_scoring import ModelFiles, ship_to_workers

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: Ranges per Spark core when ``partitions`` is not given: small enough that a slow
#: range does not hold the others up, large enough that a task does real work.
RANGES_PER_CORE = 4


@dataclass(frozen=True)
class _RangeScorer:
    """What each Spark task runs on its id ranges (pickled to the workers)."""

    database_url: str
    files: ModelFiles
    version: str
    when: datetime
    pending: bool

    def __call__(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        models = self.files.load()
        engine = engine_for(self.database_url)
        for batch in batches:
            firsts, lasts = batch.column(0).to_pylist(), batch.column(1).to_pylist()
            scored, unsupported = [], []
            for first, last in zip(firsts, lasts, strict=True):
                done = score_id_range(engine, models, self.version, self.when,
                                      first=first, last=last, pending=self.pending)  # fmt: skip
                scored.append(done[0])
                unsupported.append(done[1])
            yield pa.RecordBatch.from_arrays(
                [pa.array(scored, pa.int64()), pa.array(unsupported, pa.int64())],
                names=["scored", "unsupported"],
            )


def id_ranges(low: int, high: int, pieces: int) -> list[tuple[int, int]]:
    """``low..high`` cut into at most ``pieces`` consecutive, non-empty ranges.

    Examples
    --------
    >>> id_ranges(1, 10, 3)
    [(1, 4), (5, 7), (8, 10)]
    """
    pieces = max(1, min(pieces, high - low + 1))
    size, extra = divmod(high - low + 1, pieces)
    out, start = [], low
    for i in range(pieces):
        end = start + size + (1 if i < extra else 0) - 1
        out.append((start, end))
        start = end + 1
    return out


def rescore_on_spark(
    spark: SparkSession,
    *,
    settings: Settings,
    only_new: bool = False,
    partitions: int | None = None,
) -> TextPassSummary:
    """Score every stored text again (or, ``only_new``, the never scored ones) on Spark.

    Parameters
    ----------
    spark
        The session whose executors do the work.
    settings
        The store and the text settings (``text_model_dir``, ``taxonomy_path``,
        ``text_backend``, ``text_device``), as for :func:`cxloop.text.pipeline.rescore`.
    only_new
        Only the interactions with a text and no ``text_scored_at``.
    partitions
        How many id ranges (Spark tasks); default: four per Spark core.
    """
    start = time.perf_counter()
    models = models_for(settings)  # a bad folder or taxonomy fails here, on the driver
    version = text_version(models)
    engine = engine_for(settings.database_url)
    span = id_span(engine, pending=only_new)
    scored = unsupported = 0
    if span is not None:
        pieces = partitions or spark.sparkContext.defaultParallelism * RANGES_PER_CORE
        ranges = id_ranges(span[0], span[1], pieces)
        model_dir = Path(settings.text_model_dir) if settings.text_model_dir else None
        taxonomy = Path(settings.taxonomy_path) if settings.taxonomy_path else None
        files = ModelFiles(
            model_dir=ship_to_workers(spark, model_dir),
            taxonomy=ship_to_workers(spark, taxonomy),
            backend=settings.text_backend.strip().lower(),
            device=settings.text_device.strip().lower(),
        )
        scorer = _RangeScorer(database_url=settings.database_url, files=files,
                              version=version, when=utcnow(), pending=only_new)  # fmt: skip
        frame = spark.createDataFrame(ranges, "first long, last long")
        frame = frame.repartition(len(ranges))
        counts = frame.mapInArrow(scorer, "scored long, unsupported long").collect()
        scored = sum(int(row["scored"]) for row in counts)
        unsupported = sum(int(row["unsupported"]) for row in counts)
    remaining = count_texts(engine, pending=True)
    seconds = time.perf_counter() - start
    return TextPassSummary(scored, unsupported, remaining, version, seconds)
