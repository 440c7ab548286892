"""``cxloop text score-spark``: score a large file or folder of texts on Spark.

The Spark twin of :mod:`cxloop.text.score_file`: the same scores (by
:func:`cxloop.text.spark_scoring.score_dataframe`), read and written by Spark so that
the input may be a folder of part files (or a glob) and the work spreads over every
core of a machine or a cluster. The output is a folder of part files, as Spark writes.

Records Spark cannot read (a JSON Lines line that is not an object, a CSV row with the
wrong number of fields) are written to ``OUT.rejects/`` (CSV: reason and the raw
record) and counted; Spark reads files in parallel and cannot name their line numbers.
Bytes that are not UTF-8 are read as U+FFFD by Spark: such texts are scored and
counted in the problems.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cxloop.domain.errors import InvalidInput
from cxloop.text.score_file import ScoreFileSummary
from cxloop.text.scoring import ALL_PARTS, MAX_TEXT_CHARS, TextModels, text_version

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

#: Input formats Spark reads, by file suffix (a folder or glob says it with --format).
FORMATS = {".parquet": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl",
           ".json": "jsonl", ".csv": "csv", ".tsv": "tsv"}  # fmt: skip
OUTPUT_FORMATS = ("parquet", "jsonl", "csv")
CORRUPT = "_corrupt_record"
#: CSV as spreadsheets read it: a header, quotes doubled inside quoted cells.
CSV_OUT = {"header": "true", "escape": '"'}
#: Spark's success marker: a folder holding it is an earlier Spark output.
SUCCESS = "_SUCCESS"


@dataclass(frozen=True)
class _Input:
    frame: DataFrame
    rejects: DataFrame | None


def score_spark_file(
    *,
    spark: SparkSession,
    input: str,
    text_column: str,
    output: Path,
    id_column: str | None = None,
    input_format: str | None = None,
    output_format: str = "parquet",
    model_dir: Path | None = None,
    taxonomy_path: Path | None = None,
    parts: frozenset[str] = ALL_PARTS,
    backend: str = "linear",
    device: str = "auto",
    partitions: int | None = None,
) -> ScoreFileSummary:
    """Score every record of ``input`` on ``spark`` into the folder ``output``.

    Parameters
    ----------
    input
        A file, a folder of part files or a glob (``data/*.parquet``).
    input_format
        ``parquet``, ``jsonl``, ``csv`` or ``tsv``; ``None``: from the suffix.
    output
        A new folder, or one an earlier Spark job wrote (it is replaced).
    output_format
        ``parquet`` (topics and keywords as nested lists), ``jsonl`` or ``csv``
        (nested values as JSON text).
    partitions
        Spread the input over this many partitions first; ``None``: as Spark reads
        it, or over every core Spark has when it reads fewer partitions than that.
    """
    from cxloop.text.spark_scoring import score_dataframe

    start = time.perf_counter()
    kind = _input_format(input, input_format)
    _check_output(output, output_format, input)
    models = TextModels.load(model_dir=model_dir, taxonomy_path=taxonomy_path,
                             backend=backend, device=device)  # fmt: skip
    found = _read(spark, input, kind)
    frame = found.frame
    for name in (text_column,) if id_column is None else (text_column, id_column):
        if name not in frame.columns:
            present = ", ".join(repr(column) for column in frame.columns)
            raise InvalidInput(
                f"{input}: no column {name!r}; the columns are {present}"
            )
    parallel = spark.sparkContext.defaultParallelism
    if partitions is None and frame.rdd.getNumPartitions() < parallel:
        partitions = parallel  # a small file is one partition: use every core
    if partitions is not None:
        frame = frame.repartition(partitions)
    scored = score_dataframe(frame, text_column, model_dir=model_dir,
                             taxonomy_path=taxonomy_path, parts=parts, backend=backend,
                             device=device)  # fmt: skip
    _write(scored, output, output_format)
    rejects_path = output.with_name(f"{output.name}.rejects")
    rejected = _write_rejects(found.rejects, rejects_path)
    written = _read_back(spark, output, output_format)
    problems = _problems(input, frame, found.frame.columns, text_column, id_column,
                         rejected, rejects_path)  # fmt: skip
    return _summary(input, output, written, text_column, rejected,
                    rejects_path if rejected else None, problems, text_version(models),
                    time.perf_counter() - start)  # fmt: skip


def _input_format(input: str, given: str | None) -> str:
    if given is not None:
        kind = given.lower()
        if kind not in set(FORMATS.values()):
            known = ", ".join(sorted(set(FORMATS.values())))
            raise InvalidInput(f"unknown input format {given!r}; use {known}")
        return kind
    suffix = Path(input.rstrip("/*")).suffix.lower()
    if suffix not in FORMATS:
        msg = (f"{input}: cannot tell the format from the name; say --format "
               "parquet, jsonl, csv or tsv")  # fmt: skip
        raise InvalidInput(msg)
    return FORMATS[suffix]


def _check_output(output: Path, output_format: str, input: str) -> None:
    if output_format not in OUTPUT_FORMATS:
        known = ", ".join(OUTPUT_FORMATS)
        raise InvalidInput(f"unknown output format {output_format!r}; use {known}")
    if output.resolve() == Path(input).resolve():
        raise InvalidInput(f"{output}: the output must not overwrite the input")
    if output.exists() and not (output.is_dir() and (output / SUCCESS).exists()):
        msg = (f"{output} exists and is not an earlier Spark output: choose a new "
               "folder (it is replaced only when Spark wrote it)")  # fmt: skip
        raise InvalidInput(msg)


def _read(spark: SparkSession, path: str, kind: str) -> _Input:
    reader = spark.read
    if kind == "parquet":
        return _Input(reader.parquet(path), None)
    if kind == "jsonl":
        frame = (reader.option("mode", "PERMISSIVE")
                 .option("columnNameOfCorruptRecord", CORRUPT).json(path))  # fmt: skip
    else:
        frame = _read_csv(spark, path, "\t" if kind == "tsv" else ",")
    if CORRUPT not in frame.columns:
        return _Input(frame, None)
    # Spark refuses queries on the raw corrupt-record column unless the rows are cached.
    frame = frame.cache()
    from pyspark.sql import functions as F

    bad = frame.where(F.col(CORRUPT).isNotNull()).select(CORRUPT)
    good = frame.where(F.col(CORRUPT).isNull()).drop(CORRUPT)
    return _Input(good, bad)


def _read_csv(spark: SparkSession, path: str, delimiter: str) -> DataFrame:
    """Every column as text; rows with the wrong number of fields are corrupt."""
    from pyspark.sql.types import StringType, StructField, StructType

    options = {"header": "true", "sep": delimiter, "multiLine": "true",
               "escape": '"', "encoding": "UTF-8"}  # fmt: skip
    header = spark.read.options(**options).csv(path).columns
    names = [name.lstrip("\ufeff") for name in header]
    schema = StructType([StructField(name, StringType()) for name in names]
                        + [StructField(CORRUPT, StringType())])  # fmt: skip
    return (spark.read.options(**options).option("mode", "PERMISSIVE")
            .option("columnNameOfCorruptRecord", CORRUPT).schema(schema).csv(path))  # fmt: skip


def _write(frame: DataFrame, output: Path, output_format: str) -> None:
    writer = frame.write.mode("overwrite")
    if output_format == "parquet":
        writer.parquet(str(output))
    elif output_format == "jsonl":
        writer.option("ignoreNullFields", "false").json(str(output))
    else:
        from pyspark.sql import functions as F

        nested = [name for name, kind in frame.dtypes
                  if kind.startswith(("array", "struct", "map"))]  # fmt: skip
        flat = frame.withColumns({name: F.to_json(name) for name in nested})
        flat.write.mode("overwrite").options(**CSV_OUT).csv(str(output))


def _write_rejects(rejects: DataFrame | None, path: Path) -> int:
    """Write the unreadable records (reason, record); how many there were."""
    import shutil

    from pyspark.sql import functions as F

    if rejects is None or rejects.isEmpty():
        if path.is_dir() and (path / SUCCESS).exists():
            shutil.rmtree(path)
        return 0
    reasons = rejects.select(
        F.lit("Spark could not read this record (malformed JSON or wrong number of "
              "fields)").alias("reason"),
        F.col(CORRUPT).alias("record"),
    )  # fmt: skip
    reasons.write.mode("overwrite").options(**CSV_OUT).csv(str(path))
    return int(reasons.count())


def _read_back(spark: SparkSession, output: Path, output_format: str) -> DataFrame:
    if output_format == "parquet":
        return spark.read.parquet(str(output))
    if output_format == "jsonl":
        return spark.read.json(str(output))
    return (
        spark.read.option("header", "true")
        .option("multiLine", "true")
        .option("escape", '"')
        .csv(str(output))
    )


def _problems(
    input: str,
    frame: DataFrame,
    columns: list[str],
    text_column: str,
    id_column: str | None,
    rejected: int,
    rejects_path: Path,
) -> tuple[str, ...]:
    from pyspark.sql import functions as F

    from cxloop.text.score_file import OUTPUT_COLUMNS

    lines = []
    if rejected:
        lines.append(f"{input}: {rejected:,} records could not be read; left out "
                     f"(see {rejects_path})")  # fmt: skip
    lines += [f"{input}: column {name!r} was replaced by the new score"
              for name in OUTPUT_COLUMNS if name in columns]  # fmt: skip
    text = F.col(text_column).cast("string")
    replaced = frame.where(text.contains("\ufffd")).count()
    if replaced:
        lines.append(f"{input}: {replaced:,} texts hold U+FFFD (bytes that were not "
                     "UTF-8 were replaced when read); they were scored as read")  # fmt: skip
    if id_column is not None:
        repeated = (frame.groupBy(id_column).count().where(F.col("count") > 1)
                    .select(id_column).limit(5).collect())  # fmt: skip
        if repeated:
            total = frame.groupBy(id_column).count().where(F.col("count") > 1).count()
            shown = ", ".join(repr(row[0]) for row in repeated)
            lines.append(f"{input}: {total:,} ids in {id_column!r} appear more than "
                         f"once ({shown})")  # fmt: skip
    return tuple(lines)


def _summary(
    input: str,
    output: Path,
    written: DataFrame,
    text_column: str,
    rejected: int,
    rejects_path: Path | None,
    problems: tuple[str, ...],
    version: str,
    seconds: float,
) -> ScoreFileSummary:
    from pyspark.sql import functions as F

    text = F.coalesce(F.col(text_column).cast("string"), F.lit(""))
    totals = written.select(
        F.count(F.lit(1)).alias("rows"),
        F.sum(F.when(F.col("supported").cast("boolean"), 1).otherwise(0)).alias("ok"),
        F.sum(F.when(F.length(text) > MAX_TEXT_CHARS, 1).otherwise(0)).alias("long"),
    ).first()
    languages = {row["language"]: int(row["count"]) for row in
                 written.groupBy("language").count().orderBy(F.desc("count")).collect()}  # fmt: skip
    rows = int(totals["rows"] or 0) if totals is not None else 0
    supported = int(totals["ok"] or 0) if totals is not None else 0
    return ScoreFileSummary(
        input=Path(input), output=output, rows=rows, supported=supported,
        unsupported=rows - supported,
        truncated=int(totals["long"] or 0) if totals is not None else 0,
        rejects=rejected, rejects_path=rejects_path, text_version=version,
        seconds=seconds, languages=languages, problems=problems,
    )  # fmt: skip
