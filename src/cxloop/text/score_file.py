"""Score a CSV, JSON Lines or Parquet file of texts into a new file.

The output holds every column of the input plus :data:`OUTPUT_COLUMNS`. Records that
cannot be read (bytes that are not UTF-8, a JSON Lines line that is not an object) are
left out of the output, listed in ``OUT.rejects.csv`` next to the output and named, with
their line, in :attr:`ScoreFileSummary.problems`.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from cxloop.domain.errors import InvalidInput
from cxloop.text.files import (
    InputTable,
    column_texts,
    file_kind,
    read_input,
    write_output,
    write_rejects,
)
from cxloop.text.results import TextScore
from cxloop.text.scoring import (
    ALL_PARTS,
    MAX_TEXT_CHARS,
    TextModels,
    score_texts,
    text_version,
)

#: The columns scoring adds to every row, in this order.
OUTPUT_COLUMNS = ("language", "supported", "sentiment", "sentiment_score", "emotion",
                  "emotion_confidence", "topics", "intent", "intent_confidence",
                  "keywords")  # fmt: skip
#: Rows scored per call of the models (and per progress report).
BATCH_ROWS = 2000

_MATCH = pa.list_(pa.string())
TOPICS_TYPE = pa.list_(pa.struct([
    ("topic", pa.string()), ("sentiment", pa.string()), ("score", pa.float64()),
    ("matches", _MATCH), ("source", pa.string()),
]))  # fmt: skip


@dataclass(frozen=True)
class ScoreFileSummary:
    """What :func:`score_file` did."""

    input: Path
    output: Path
    rows: int
    supported: int
    unsupported: int
    truncated: int
    rejects: int
    rejects_path: Path | None
    text_version: str
    seconds: float
    languages: dict[str, int] = field(default_factory=dict)
    problems: tuple[str, ...] = ()

    @property
    def texts_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


def score_file(
    *,
    input: Path,
    text_column: str,
    id_column: str | None,
    output: Path,
    model_dir: Path | None = None,
    taxonomy_path: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    parts: frozenset[str] = ALL_PARTS,
    backend: str = "linear",
    device: str = "auto",
) -> ScoreFileSummary:
    """Score every row of ``input`` and write ``output`` (formats by suffix).

    Parameters
    ----------
    input, output
        CSV (UTF-8 or Big5), JSON Lines or Parquet files; they must differ.
    text_column
        The column holding the text to score.
    id_column
        A column naming each row; checked to exist, and repeated ids are reported.
    model_dir, taxonomy_path
        See :meth:`cxloop.text.scoring.TextModels.load`.
    progress
        Called with (rows scored, rows in all) after each batch.
    parts
        The parts to score (see :data:`cxloop.text.scoring.ALL_PARTS`); the columns of
        the others stay empty.
    backend
        ``linear`` or ``embeddings`` (see :meth:`cxloop.text.scoring.TextModels.load`).
    device
        Where a transformer in ``model_dir`` runs (``auto``: the GPU when present).
    """
    start = time.perf_counter()
    file_kind(output)
    if output.resolve() == input.resolve():
        raise InvalidInput(f"{output}: the output must not overwrite the input file")
    required = (text_column,) if id_column is None else (text_column, id_column)
    found = read_input(input, required=required)
    models = TextModels.load(
        model_dir=model_dir, taxonomy_path=taxonomy_path, backend=backend, device=device
    )
    texts = column_texts(found.table, text_column)
    scores = _score_batches(texts, models, parts, progress)
    table, replaced = _with_scores(found.table, scores, parts)
    write_output(table, output)
    rejects_path = _rejects_file(found, output)
    problems = _problems(found, rejects_path, replaced, id_column)
    return _summary(found, output, texts, scores, rejects_path, problems,
                    text_version(models), time.perf_counter() - start)  # fmt: skip


def _score_batches(
    texts: list[str],
    models: TextModels,
    parts: frozenset[str],
    progress: Callable[[int, int], None] | None,
) -> list[TextScore]:
    scores: list[TextScore] = []
    total = len(texts)
    for begin in range(0, total, BATCH_ROWS):
        scores += score_texts(
            texts[begin : begin + BATCH_ROWS], models=models, parts=parts
        )
        if progress is not None:
            progress(len(scores), total)
    return scores


def score_columns(
    scores: Sequence[TextScore], parts: frozenset[str] = ALL_PARTS
) -> dict[str, pa.Array]:
    """The added columns, typed; topics and keywords are native lists.

    A list is null (empty in CSV) where the text is not in a supported language or
    its part was not scored, and ``[]`` where it was scored and nothing was found.
    """
    topics = [
        [hit.to_json() for hit in s.topics]
        if s.supported and "topics" in parts else None
        for s in scores
    ]  # fmt: skip
    keywords = [
        list(s.keywords) if s.supported and "keywords" in parts else None
        for s in scores
    ]
    return {
        "language": pa.array([s.language for s in scores], pa.string()),
        "supported": pa.array([s.supported for s in scores], pa.bool_()),
        "sentiment": pa.array([s.sentiment for s in scores], pa.string()),
        "sentiment_score": pa.array([s.sentiment_score for s in scores], pa.float64()),
        "emotion": pa.array([s.emotion for s in scores], pa.string()),
        "emotion_confidence": pa.array(
            [s.emotion_confidence for s in scores], pa.float64()
        ),
        "topics": pa.array(topics, TOPICS_TYPE),
        "intent": pa.array([s.intent for s in scores], pa.string()),
        "intent_confidence": pa.array(
            [s.intent_confidence for s in scores], pa.float64()
        ),
        "keywords": pa.array(keywords, pa.list_(pa.string())),
    }


def _with_scores(
    table: pa.Table, scores: list[TextScore], parts: frozenset[str]
) -> tuple[pa.Table, tuple[str, ...]]:
    """The input table plus the score columns; names it already had are replaced."""
    added = score_columns(scores, parts)
    replaced = tuple(name for name in OUTPUT_COLUMNS if name in table.column_names)
    kept = table.drop_columns(list(replaced))
    for name in OUTPUT_COLUMNS:
        kept = kept.append_column(name, added[name])
    return kept, replaced


def _rejects_file(found: InputTable, output: Path) -> Path | None:
    """Write ``OUT.rejects.csv`` when records were left out (else remove an old one)."""
    path = output.with_name(f"{output.stem}.rejects.csv")
    if not found.rejects:
        path.unlink(missing_ok=True)
        return None
    write_rejects(found.rejects, path)
    return path


def _problems(
    found: InputTable,
    rejects_path: Path | None,
    replaced: tuple[str, ...],
    id_column: str | None,
) -> tuple[str, ...]:
    where = f" (see {rejects_path.name})" if rejects_path is not None else ""
    lines = [f"{found.path} line {r.line}: {r.reason}; row left out{where}"
             for r in found.rejects]  # fmt: skip
    lines += [f"{found.path}: column {name!r} was replaced by the new score"
              for name in replaced]  # fmt: skip
    if id_column is not None:
        counts = Counter(column_texts(found.table, id_column))
        repeated = sorted(value for value, n in counts.items() if n > 1)
        if repeated:
            shown = ", ".join(repr(value) for value in repeated[:5])
            lines.append(f"{found.path}: {len(repeated)} ids in {id_column!r} "
                         f"appear more than once ({shown})")  # fmt: skip
    return tuple(lines)


def _summary(
    found: InputTable,
    output: Path,
    texts: list[str],
    scores: list[TextScore],
    rejects_path: Path | None,
    problems: tuple[str, ...],
    version: str,
    seconds: float,
) -> ScoreFileSummary:
    supported = sum(score.supported for score in scores)
    return ScoreFileSummary(
        input=found.path, output=output, rows=len(scores), supported=supported,
        unsupported=len(scores) - supported,
        truncated=sum(len(text) > MAX_TEXT_CHARS for text in texts),
        rejects=len(found.rejects), rejects_path=rejects_path, text_version=version,
        seconds=seconds, languages=dict(Counter(s.language for s in scores).most_common()),
        problems=problems,
    )  # fmt: skip
