"""Knowledge base: import a FAQ into the store and search it with BM25.

:func:`import_faq` loads a file of (id, question, answer) rows; several rows may share
an id (one article, several phrasings of its question; their distinct answers are
joined). Re-importing a file changes nothing. :func:`search` and :func:`search_file`
rank the stored articles for free-text queries; the index is built in memory from the
store on every call (about a second for a few thousand articles, most of it loading
jieba's dictionary).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput
from cxloop.ingest.readers import RawTable, read_table
from cxloop.ingest.rejects import REJECT_COLUMNS, rejects_path_for
from cxloop.loop.embeddings import Embedder, local_embedder
from cxloop.loop.kb_index import article_scores, build_index, top_of
from cxloop.loop.kb_vectors import (
    ArticleTexts,
    ensure_vectors,
    hybrid_scores,
    load_vectors,
)
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import KbArticle, KbQuestion

#: Languages an article may be written in.
LANGUAGES = ("zh-TW", "en")
#: Longest article id (the ``external_id`` column).
MAX_ID_LENGTH = 200
_CHUNK = 256

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Reject:
    """A row left out of an import: its line, the empty field and why."""

    line: int
    field: str
    reason: str


@dataclass
class KbImportSummary:
    """What an import read, wrote and refused."""

    path: Path
    source: str
    rows_read: int
    articles_inserted: int = 0
    articles_updated: int = 0
    questions_inserted: int = 0
    questions_existing: int = 0
    rejects: list[Reject] = field(default_factory=list)
    rejects_path: Path | None = None
    committed: bool = False
    embedded: int = 0
    embedding_model: str | None = None


@dataclass(frozen=True)
class KbMatch:
    """A suggested article for a query."""

    external_id: str
    source: str
    score: float
    title: str | None


@dataclass(frozen=True)
class KbSearchSummary:
    """What a file search read and wrote."""

    rows: int
    articles: int
    output: Path


def _column(table: RawTable, name: str, role: str) -> list[str]:
    if name not in table.columns:
        known = ", ".join(table.columns)
        raise InvalidInput(
            f"{table.path}: no {role} column {name!r}; the file has: {known}"
        )
    return [str(value).strip() for value in table.values[name].to_pylist()]


def _check_rows(
    table: RawTable, id_column: str, columns: dict[str, list[str]]
) -> tuple[list[int], list[Reject]]:
    """Positions of the good rows, and a reject for each bad one."""
    good: list[int] = []
    rejects: list[Reject] = []
    for row, line in enumerate(table.lines.tolist()):
        empty = [name for name, cells in columns.items() if not cells[row]]
        if empty:
            rejects.append(Reject(line, empty[0], f"{empty[0]} is empty"))
        elif len(columns[id_column][row]) > MAX_ID_LENGTH:
            reason = f"{id_column} is longer than {MAX_ID_LENGTH} characters"
            rejects.append(Reject(line, id_column, reason))
        else:
            good.append(row)
    return good, rejects


def _write_rejects(table: RawTable, rejects: Sequence[Reject]) -> Path | None:
    """``FILE.rejects.csv`` (UTF-8 with BOM) with each rejected row; removed when none."""
    path = rejects_path_for(table.path)
    if not rejects:
        path.unlink(missing_ok=True)
        return None
    position = {line: row for row, line in enumerate(table.lines.tolist())}
    cells = {name: table.values[name].to_pylist() for name in table.columns}
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*REJECT_COLUMNS, *table.columns])
        for reject in rejects:
            row = position[reject.line]
            original = [cells[name][row] for name in table.columns]
            writer.writerow([reject.line, reject.field, reject.reason, *original])
    return path


def _group(
    ids: list[str], questions: list[str], answers: list[str], rows: list[int]
) -> dict[str, tuple[list[str], str]]:
    """Each id's distinct questions and its distinct answers joined, in file order."""
    grouped: dict[str, tuple[dict[str, None], dict[str, None]]] = {}
    for row in rows:
        asked, answered = grouped.setdefault(ids[row], ({}, {}))
        asked[questions[row]] = None
        answered[answers[row]] = None
    return {
        key: (list(asked), "\n".join(answered))
        for key, (asked, answered) in grouped.items()
    }


def _save_articles(
    session: Session,
    articles: dict[str, tuple[list[str], str]],
    *,
    source: str,
    language: str,
    summary: KbImportSummary,
) -> None:
    stored = {
        article.external_id: article
        for article in session.scalars(
            select(KbArticle).where(KbArticle.source == source)
        )
    }
    for key, (questions, answer) in articles.items():
        article = stored.get(key)
        if article is None:
            article = KbArticle(source=source, external_id=key)
            stored[key] = article
            session.add(article)
            summary.articles_inserted += 1
        elif (article.answer, article.language, article.title) != (
            answer, language, questions[0][:500],
        ):  # fmt: skip
            summary.articles_updated += 1
        article.answer, article.language = answer, language
        article.title = questions[0][:500]
    session.flush()
    _save_questions(
        session, {key: stored[key].id for key in articles}, articles, summary
    )


def _save_questions(
    session: Session,
    ids: dict[str, int],
    articles: dict[str, tuple[list[str], str]],
    summary: KbImportSummary,
) -> None:
    rows = session.execute(
        select(KbQuestion.article_id, KbQuestion.text).where(
            KbQuestion.article_id.in_(list(ids.values()))
        )
    )
    known = {(article_id, text) for article_id, text in rows}
    for key, (questions, _answer) in articles.items():
        for text in questions:
            if (ids[key], text) in known:
                summary.questions_existing += 1
            else:
                session.add(KbQuestion(article_id=ids[key], text=text))
                summary.questions_inserted += 1


def _check_options(language: str, source: str | None) -> None:
    if language not in LANGUAGES:
        raise InvalidInput(
            f"unknown language {language!r}; use one of {', '.join(LANGUAGES)}"
        )
    if source is not None and not 0 < len(source.strip()) <= 100:
        raise InvalidInput("--source must be 1 to 100 characters")


def _read_columns(
    table: RawTable, id_column: str, question_column: str, answer_column: str
) -> dict[str, list[str]]:
    """The three columns' cells, stripped, keyed by column name (id first)."""
    if len({id_column, question_column, answer_column}) < 3:
        raise InvalidInput(
            "the id, question and answer columns must be three different columns"
        )
    return {
        id_column: _column(table, id_column, "id"),
        question_column: _column(table, question_column, "question"),
        answer_column: _column(table, answer_column, "answer"),
    }


def import_faq(
    *,
    settings: Settings,
    path: Path,
    id_column: str,
    question_column: str,
    answer_column: str,
    language: str = "zh-TW",
    source: str | None = None,
    allow_rejects: bool = False,
    progress: Progress | None = None,
) -> KbImportSummary:
    """Load a FAQ file (CSV, XLSX or JSON Lines) into the knowledge base.

    Rows with an empty id, question or answer are rejected and written to
    ``FILE.rejects.csv``; nothing is written when some are rejected unless
    ``allow_rejects``. Articles are idempotent on ``(source, id)``; the source
    defaults to the file name without extension, lower-cased. When a local embedding
    model is available (``CXLOOP_EMBEDDINGS``), new or changed texts are embedded
    (``progress(done, total)`` follows that part).
    """
    _check_options(language, source)
    table = read_table(path)
    name = source or path.stem.lower()[:100]
    columns = _read_columns(table, id_column, question_column, answer_column)
    ids, questions, answers = columns.values()
    good, rejects = _check_rows(table, id_column, columns)
    summary = KbImportSummary(path, name, table.n_rows, rejects=rejects)
    summary.rejects_path = _write_rejects(table, rejects)
    if rejects and not allow_rejects:
        return summary
    articles = _group(ids, questions, answers, good)
    embedder = local_embedder(settings)
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        _save_articles(
            session, articles, source=name, language=language, summary=summary
        )
    summary.committed = True
    if embedder is not None:
        summary.embedding_model = embedder.name
        corpus = _load_corpus(settings, name)
        summary.embedded = _embed_corpus(settings, corpus, embedder, progress)
    return summary


def _embed_corpus(
    settings: Settings, corpus: _Corpus, embedder: Embedder, progress: Progress | None
) -> int:
    texts = [
        ArticleTexts(article.id, questions, article.answer)
        for article, questions in zip(corpus.articles, corpus.questions, strict=True)
    ]
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        return ensure_vectors(session, texts, embedder, progress)


@dataclass(frozen=True)
class _Corpus:
    articles: list[KbArticle]
    questions: list[list[str]]


def _load_corpus(settings: Settings, source: str | None) -> _Corpus:
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        query = select(KbArticle).order_by(KbArticle.id)
        if source is not None:
            query = query.where(KbArticle.source == source)
        articles = list(session.scalars(query))
        rows = session.execute(
            select(KbQuestion.article_id, KbQuestion.text).order_by(KbQuestion.id)
        )
        asked: dict[int, list[str]] = {article.id: [] for article in articles}
        for article_id, text in rows:
            if article_id in asked:
                asked[article_id].append(text)
    if not articles:
        where = f" from source {source!r}" if source else ""
        raise InvalidInput(
            f"the knowledge base has no articles{where}; run `cxloop kb import` first"
        )
    return _Corpus(articles, [asked[article.id] for article in articles])


def _ranked(
    settings: Settings,
    corpus: _Corpus,
    queries: Sequence[str],
    top: int,
    progress: Progress | None,
) -> list[list[KbMatch]]:
    if top < 1:
        raise InvalidInput(f"--top must be at least 1, got {top}")
    index = build_index(corpus.questions, [a.answer for a in corpus.articles])
    embedder = local_embedder(settings)
    vectors = None
    if embedder is not None:
        _embed_corpus(settings, corpus, embedder, None)
        ids = [article.id for article in corpus.articles]
        with UnitOfWork(engine_for(settings.database_url)).session() as session:
            vectors = load_vectors(session, ids, embedder)
    results: list[list[KbMatch]] = []
    for start in range(0, len(queries), _CHUNK):
        batch = queries[start : start + _CHUNK]
        scores = article_scores(index, batch)
        if embedder is not None and vectors is not None:
            scores = hybrid_scores(scores, embedder.queries(batch), vectors)
        positions, values = top_of(scores, top)
        for row_positions, row_scores in zip(
            positions.tolist(), values.tolist(), strict=True
        ):
            results.append([
                KbMatch(corpus.articles[p].external_id, corpus.articles[p].source, round(s, 4), corpus.articles[p].title)
                for p, s in zip(row_positions, row_scores, strict=True) if p >= 0
            ])  # fmt: skip
        if progress is not None:
            progress(len(results), len(queries))
    return results


def search(
    *,
    settings: Settings,
    queries: Sequence[str],
    top: int = 3,
    source: str | None = None,
    progress: Progress | None = None,
) -> list[list[KbMatch]]:
    """The ``top`` best articles for each query, best first (fewer when few match)."""
    return _ranked(settings, _load_corpus(settings, source), queries, top, progress)


def search_file(
    *,
    settings: Settings,
    input_path: Path,
    query_column: str,
    output: Path,
    top: int = 3,
    source: str | None = None,
    progress: Progress | None = None,
) -> KbSearchSummary:
    """Write ``input_path``'s columns plus ``match_i`` / ``score_i`` for i in 1..top.

    The output is JSON Lines when ``output`` ends in ``.jsonl``, else CSV (UTF-8 with
    BOM). Slots without a matching article are left empty.
    """
    import pandas as pd

    if output.suffix.lower() not in (".csv", ".jsonl"):
        raise InvalidInput(f"{output}: the output must end in .csv or .jsonl")
    table = read_table(input_path)
    queries = _column(table, query_column, "query")
    corpus = _load_corpus(settings, source)
    ranked = _ranked(settings, corpus, queries, top, progress)
    frame = pd.DataFrame(
        {name: table.values[name].to_pylist() for name in table.columns}
    )
    for i in range(top):
        frame[f"match_{i + 1}"] = [
            row[i].external_id if i < len(row) else None for row in ranked
        ]
        frame[f"score_{i + 1}"] = [
            row[i].score if i < len(row) else None for row in ranked
        ]
    if output.suffix.lower() == ".jsonl":
        frame.to_json(output, orient="records", lines=True, force_ascii=False)
    else:
        frame.to_csv(output, index=False, encoding="utf-8-sig")
    return KbSearchSummary(len(frame), len(corpus.articles), output)
