"""Score a Spark DataFrame of texts with the same models as ``cxloop text score``.

:func:`score_dataframe` adds :data:`~cxloop.text.score_file.OUTPUT_COLUMNS` to a
DataFrame. The work runs in Spark's Python workers, one Arrow batch at a time, through
the same :func:`~cxloop.text.scoring.score_texts` as the single-process command, so a
text gets the same scores on a laptop and on a cluster. Each worker loads the models
once and keeps them for the next batches.

Every executor needs cxloop installed (the shipped models are inside the package). A
folder of the user's models and a taxonomy file are copied to the executors by Spark
(``SparkContext.addFile``), so they only need to exist on the driver.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from cxloop.domain.errors import InvalidInput
from cxloop.text.files import column_texts
from cxloop.text.score_file import OUTPUT_COLUMNS, score_columns
from cxloop.text.scoring import ALL_PARTS, TextModels, score_texts

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

#: Spark SQL types of the added columns, in :data:`OUTPUT_COLUMNS` order (the Arrow
#: types of :func:`cxloop.text.score_file.score_columns`).
OUTPUT_DDL = (
    ("language", "string"),
    ("supported", "boolean"),
    ("sentiment", "string"),
    ("sentiment_score", "double"),
    ("emotion", "string"),
    ("emotion_confidence", "double"),
    (
        "topics",
        "array<struct<topic:string,sentiment:string,score:double,"
        "matches:array<string>,source:string>>",
    ),
    ("intent", "string"),
    ("intent_confidence", "double"),
    ("keywords", "array<string>"),
)
if tuple(name for name, _ in OUTPUT_DDL) != OUTPUT_COLUMNS:  # pragma: no cover
    raise RuntimeError("OUTPUT_DDL must name OUTPUT_COLUMNS in order")


@dataclass(frozen=True)
class ModelFiles:
    """Where a worker finds the user's models and taxonomy (names Spark shipped)."""

    model_dir: str | None
    taxonomy: str | None
    backend: str
    device: str

    def load(self) -> TextModels:
        return _worker_models(self)


@cache
def _worker_models(files: ModelFiles) -> TextModels:
    """The models of one worker process, loaded on its first batch."""
    return TextModels.load(
        model_dir=_shipped(files.model_dir),
        taxonomy_path=_shipped(files.taxonomy),
        backend=files.backend,
        device=files.device,
    )


def _shipped(name: str | None) -> Path | None:
    if name is None:
        return None
    from pyspark import SparkFiles

    return Path(SparkFiles.get(name))


@dataclass(frozen=True)
class _BatchScorer:
    """The function Spark runs on each partition (pickled to the workers)."""

    text_column: str
    files: ModelFiles
    parts: frozenset[str]
    replaced: tuple[str, ...]

    def __call__(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        models = self.files.load()
        for batch in batches:
            table = pa.Table.from_batches([batch])
            texts = column_texts(table, self.text_column)
            added = score_columns(score_texts(texts, models=models, parts=self.parts),
                                  self.parts)  # fmt: skip
            kept = table.drop_columns(list(self.replaced))
            arrays = [kept.column(name).combine_chunks() for name in kept.column_names]
            arrays += [added[name] for name in OUTPUT_COLUMNS]
            names = [*kept.column_names, *OUTPUT_COLUMNS]
            yield pa.RecordBatch.from_arrays(arrays, names=names)


def score_dataframe(
    frame: DataFrame,
    text_column: str,
    *,
    model_dir: Path | None = None,
    taxonomy_path: Path | None = None,
    parts: frozenset[str] = ALL_PARTS,
    backend: str = "linear",
    device: str = "auto",
) -> DataFrame:
    """``frame`` plus the score columns (a lazy DataFrame: nothing runs until written).

    Parameters
    ----------
    frame
        Any DataFrame with ``text_column`` (non-text values are scored as their text).
    text_column
        The column holding the text to score.
    model_dir, taxonomy_path, backend, device
        As for :meth:`cxloop.text.scoring.TextModels.load`; checked here on the driver
        (a bad folder fails before Spark starts any work) and copied to the workers.
    parts
        The parts to score; the columns of the others stay empty.

    Columns of ``frame`` named like a score column are replaced by the new score.
    """
    if text_column not in frame.columns:
        present = ", ".join(repr(name) for name in frame.columns)
        raise InvalidInput(f"no column {text_column!r}; the columns are {present}")
    TextModels.load(model_dir=model_dir, taxonomy_path=taxonomy_path, backend=backend,
                    device=device)  # fmt: skip
    spark = frame.sparkSession
    files = ModelFiles(
        model_dir=ship_to_workers(spark, model_dir),
        taxonomy=ship_to_workers(spark, taxonomy_path),
        backend=backend,
        device=device,
    )
    replaced = tuple(name for name in OUTPUT_COLUMNS if name in frame.columns)
    kept = frame.drop(*replaced) if replaced else frame
    ddl = ", ".join(f"`{name}` {kind}" for name, kind in OUTPUT_DDL)
    from pyspark.sql.types import StructType

    added = StructType.fromDDL(ddl)
    if not isinstance(added, StructType):  # pragma: no cover
        raise TypeError(ddl)
    schema = StructType(kept.schema.fields + added.fields)
    scorer = _BatchScorer(text_column=text_column, files=files, parts=parts,
                          replaced=replaced)  # fmt: skip
    return frame.mapInArrow(scorer, schema)


def ship_to_workers(spark: SparkSession, path: Path | None) -> str | None:
    """Copy a file or folder to every executor; the name a worker asks SparkFiles for."""
    if path is None:
        return None
    path = path.resolve()
    try:
        spark.sparkContext.addFile(str(path), recursive=path.is_dir())
    except Exception as exc:  # Spark refuses a second, different path of one name
        msg = (f"Spark could not ship {path} to its workers ({_first_line(exc)}); a "
               "file of the same name may already be shipped in this Spark session: "
               "rename the folder or start a new session")  # fmt: skip
        raise InvalidInput(msg) from exc
    return path.name


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
