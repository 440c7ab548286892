"""Score stored interactions: new ones as they arrive, or everything again.

:func:`score_pending` is a step of the periodic worker pass (``cxloop worker``, and the
loop of ``cxloop serve``): it scores the interactions that have a text and no
``text_scored_at`` yet, a batch at a time, so imports and API intake never wait for the
models. :func:`rescore` (``cxloop text rescore``) scores every stored text again after
a model or taxonomy change. Both use the settings ``text_model_dir`` and
``taxonomy_path``, and write with one executemany UPDATE per batch (SQLite and
PostgreSQL alike). A row whose text changed while it was being scored keeps its
``text_scored_at`` empty, so the next pass scores the new text.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BindParameter,
    Connection,
    Engine,
    Table,
    Update,
    bindparam,
    func,
    select,
    update,
)

from cxloop.config import Settings
from cxloop.store.engine import engine_for
from cxloop.store.tables import Interaction
from cxloop.store.types import utcnow
from cxloop.text.results import TextScore
from cxloop.text.scoring import TextModels, score_texts, text_version

#: Interactions read, scored and written per transaction.
BATCH_ROWS = 1000

_TABLE: Table = Interaction.__table__  # type: ignore[assignment]
_PENDING = Interaction.text.is_not(None) & Interaction.text_scored_at.is_(None)


@dataclass(frozen=True)
class TextPassSummary:
    """What one scoring pass over the store did."""

    scored: int
    unsupported: int
    remaining: int
    text_version: str
    seconds: float


def models_for(settings: Settings) -> TextModels:
    """The models the settings name, loaded again only when their files change."""
    model_dir = Path(settings.text_model_dir) if settings.text_model_dir else None
    taxonomy = Path(settings.taxonomy_path) if settings.taxonomy_path else None
    backend = settings.text_backend.strip().lower()
    device = settings.text_device.strip().lower()
    return _cached_models(
        model_dir, taxonomy, backend, device, _stamp(model_dir), _stamp(taxonomy)
    )


@lru_cache(maxsize=4)
def _cached_models(
    model_dir: Path | None, taxonomy: Path | None, backend: str, device: str,
    *_stamps: object,
) -> TextModels:  # fmt: skip
    return TextModels.load(model_dir=model_dir, taxonomy_path=taxonomy, backend=backend,
                           device=device)  # fmt: skip


def _stamp(path: Path | None) -> tuple[tuple[str, int], ...]:
    """Names and modification times of a file or a folder's files (cache key)."""
    if path is None or not path.exists():
        return ()
    if not path.is_dir():
        return ((path.name, path.stat().st_mtime_ns),)
    files = sorted(
        [*path.glob("*"), *path.glob("*/*")]
    )  # a transformer's own folder too
    return tuple(
        (str(file.relative_to(path)), file.stat().st_mtime_ns) for file in files
    )


def score_pending(
    *, settings: Settings, limit: int = 5000, now: datetime | None = None
) -> TextPassSummary:
    """Score the interactions with a text that were never scored, oldest id first.

    Parameters
    ----------
    settings
        The store and the text settings (``text_model_dir``, ``taxonomy_path``).
    limit
        At most this many interactions in one call (the worker calls it every pass).
    now
        The time written to ``text_scored_at`` (default: now).
    """
    return _score_new(settings, limit, now, None)


def score_backlog(
    *, settings: Settings, progress: Callable[[int, int], None] | None = None
) -> TextPassSummary:
    """Score every interaction with a text that was never scored (no limit).

    For a large import or the demo company, so the texts are scored before the
    dashboard is opened; ``progress`` gets (scored, pending at the start).
    """
    return _score_new(settings, None, None, progress)


def _score_new(
    settings: Settings,
    limit: int | None,
    now: datetime | None,
    progress: Callable[[int, int], None] | None,
) -> TextPassSummary:
    start = time.perf_counter()
    models = models_for(settings)
    version = text_version(models)
    engine = engine_for(settings.database_url)
    when = now if now is not None else utcnow()
    total = count_texts(engine, pending=True) if progress is not None else 0
    scored = unsupported = 0
    while limit is None or scored < limit:
        size = BATCH_ROWS if limit is None else min(BATCH_ROWS, limit - scored)
        with engine.connect() as conn:
            rows = conn.execute(_pending_query(size)).all()
        unsupported += _score_and_write(engine, rows, models, version, when)
        scored += len(rows)
        if progress is not None:
            progress(scored, max(total, scored))
        if len(rows) < size:
            break
    remaining = count_texts(engine, pending=True)
    seconds = time.perf_counter() - start
    return TextPassSummary(scored, unsupported, remaining, version, seconds)


def rescore(
    *, settings: Settings, progress: Callable[[int, int], None] | None = None
) -> TextPassSummary:
    """Score every interaction with a text again, in id order.

    ``progress`` is called with (interactions scored, interactions in all) after
    each batch.
    """
    start = time.perf_counter()
    models = models_for(settings)
    version = text_version(models)
    engine = engine_for(settings.database_url)
    total = count_texts(engine, pending=False)

    def report(scored: int) -> None:
        if progress is not None:
            progress(scored, max(total, scored))

    done = score_id_range(engine, models, version, utcnow(), first=0, last=None,
                          pending=False, progress=report)  # fmt: skip
    remaining = count_texts(engine, pending=True)
    seconds = time.perf_counter() - start
    return TextPassSummary(done[0], done[1], remaining, version, seconds)


def score_id_range(
    engine: Engine,
    models: TextModels,
    version: str,
    when: datetime,
    *,
    first: int,
    last: int | None,
    pending: bool,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, int]:
    """Score the interactions with a text and ``first <= id <= last`` (no upper bound
    when ``last`` is None), or only the never scored ones among them (``pending``),
    a batch at a time in id order.

    The one loop of :func:`rescore` and of each Spark task of
    :mod:`cxloop.text.spark_rescore`. Returns (scored, unsupported); ``progress`` gets
    the number scored so far after each batch.
    """
    scored = unsupported = 0
    after = first - 1
    while True:
        with engine.connect() as conn:
            rows = conn.execute(_range_query(after, last, pending)).all()
        if not rows:
            break
        unsupported += _score_and_write(engine, rows, models, version, when)
        scored += len(rows)
        after = rows[-1][0]
        if progress is not None:
            progress(scored)
    return scored, unsupported


def _pending_query(size: int) -> Any:
    columns = select(Interaction.id, Interaction.text)
    return columns.where(_PENDING).order_by(Interaction.id).limit(size)


def _range_query(after_id: int, last: int | None, pending: bool) -> Any:
    columns = select(Interaction.id, Interaction.text)
    where = (_PENDING if pending else Interaction.text.is_not(None)) & (
        Interaction.id > after_id
    )
    if last is not None:
        where = where & (Interaction.id <= last)
    return columns.where(where).order_by(Interaction.id).limit(BATCH_ROWS)


def count_texts(engine: Engine, *, pending: bool) -> int:
    """How many interactions have a text (``pending``: and were never scored)."""
    where = _PENDING if pending else Interaction.text.is_not(None)
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).where(where)).scalar_one())


def id_span(engine: Engine, *, pending: bool) -> tuple[int, int] | None:
    """(smallest id, largest id) of the interactions to score; None when there are none."""
    where = _PENDING if pending else Interaction.text.is_not(None)
    query = select(func.min(Interaction.id), func.max(Interaction.id))
    with engine.connect() as conn:
        low, high = conn.execute(query.where(where)).one()
    return None if low is None else (int(low), int(high))


def _score_and_write(
    engine: Engine,
    rows: Sequence[Any],
    models: TextModels,
    version: str,
    when: datetime,
) -> int:
    """Score the rows' texts, write the scores; the number of unsupported texts."""
    if not rows:
        return 0
    scores = score_texts([row[1] for row in rows], models=models)
    params = [_row_params(row[0], row[1], score, version, when)
              for row, score in zip(rows, scores, strict=True)]  # fmt: skip
    with engine.begin() as conn:
        _write(conn, params)
    return sum(not score.supported for score in scores)


def _write(conn: Connection, params: list[dict[str, Any]]) -> None:
    conn.execute(_update_statement(), params)


def _update_statement() -> Update:
    """One UPDATE per row by id, only while the row still holds the scored text."""
    names = ("language", "sentiment", "sentiment_score", "emotion",
             "emotion_confidence", "topics", "intent", "intent_confidence", "keywords",
             "text_version", "text_scored_at")  # fmt: skip
    condition = (_TABLE.c.id == bindparam("b_id")) & (
        _TABLE.c.text == bindparam("b_text")
    )
    values: dict[str, BindParameter[Any]] = {n: bindparam(f"b_{n}") for n in names}
    return update(_TABLE).where(condition).values(values)


def _row_params(
    row_id: int, text: str, score: TextScore, version: str, when: datetime
) -> dict[str, Any]:
    topics = [hit.to_json() for hit in score.topics] if score.supported else None
    keywords = list(score.keywords) if score.supported else None
    return {
        "b_id": row_id, "b_text": text, "b_language": _fit("language", score.language),
        "b_sentiment": _fit("sentiment", score.sentiment),
        "b_sentiment_score": score.sentiment_score,
        "b_emotion": _fit("emotion", score.emotion),
        "b_emotion_confidence": score.emotion_confidence,
        "b_topics": topics, "b_intent": _fit("intent", score.intent),
        "b_intent_confidence": score.intent_confidence, "b_keywords": keywords,
        "b_text_version": version, "b_text_scored_at": when,
    }  # fmt: skip


def _fit(column: str, value: str | None) -> str | None:
    """A label cut to its column's width (a user's own labels may be longer)."""
    width = getattr(_TABLE.c[column].type, "length", None)
    return value[:width] if value is not None and width else value
