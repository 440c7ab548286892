"""Embeddings of knowledge-base articles, kept in ``kb_vector``, and hybrid ranking.

Every question of an article is embedded as a query and every line of its answer as a
passage; vectors are computed once (at import, or by the first search that misses
them) and stored with the model's name and a hash of their text.

A query's hybrid score for an article is

    BM25_WEIGHT * bm25 / best bm25 of the query
    + QUESTION_SIMILARITY_WEIGHT * max cosine(query, article's questions)
    + ANSWER_SIMILARITY_WEIGHT * max cosine(query, article's answer lines)

Only articles sharing at least one term with the query (BM25 > 0) are ranked.
The weights were chosen by two-fold cross-validation on the E.SUN bank FAQ (held-out
questions): 0.726 top-1 and 0.903 top-3 on the held-out halves, against 0.695 and
0.878 for BM25 alone (``bench/bench_kb.py`` measures it again).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cxloop.loop.embeddings import Embedder, Vectors
from cxloop.store.tables import KbVector

BM25_WEIGHT = 0.25
QUESTION_SIMILARITY_WEIGHT = 1.0
ANSWER_SIMILARITY_WEIGHT = 0.75
_BATCH = 32

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ArticleTexts:
    """What is embedded of one article."""

    article_id: int
    questions: Sequence[str]
    answer: str


@dataclass(frozen=True)
class VectorSet:
    """Vectors of every article's questions and answer lines, with their owners."""

    question_vectors: Vectors
    question_owner: npt.NDArray[np.int64]
    answer_vectors: Vectors
    answer_owner: npt.NDArray[np.int64]


def answer_lines(answer: str) -> list[str]:
    """The passages of an answer: its non-empty lines."""
    return [line.strip() for line in answer.split("\n") if line.strip()]


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _wanted(articles: Sequence[ArticleTexts]) -> dict[tuple[int, str, str], str]:
    wanted: dict[tuple[int, str, str], str] = {}
    for article in articles:
        for text in article.questions:
            wanted[(article.article_id, "question", _sha(text))] = text
        for text in answer_lines(article.answer):
            wanted[(article.article_id, "answer", _sha(text))] = text
    return wanted


def ensure_vectors(
    session: Session,
    articles: Sequence[ArticleTexts],
    embedder: Embedder,
    progress: Progress | None = None,
) -> int:
    """Embed what has no stored vector yet and drop vectors of changed texts.

    Returns how many texts were embedded.
    """
    wanted = _wanted(articles)
    ids = [a.article_id for a in articles]
    stored = {
        (row.article_id, row.kind, row.text_sha): row.id
        for row in session.execute(
            select(KbVector.id, KbVector.article_id, KbVector.kind, KbVector.text_sha)
            .where(KbVector.model == embedder.name)
            .where(KbVector.article_id.in_(ids))
        )
    }
    stale = [row_id for key, row_id in stored.items() if key not in wanted]
    if stale:
        session.execute(delete(KbVector).where(KbVector.id.in_(stale)))
    missing = [(key, text) for key, text in wanted.items() if key not in stored]
    for start in range(0, len(missing), _BATCH):
        batch = missing[start : start + _BATCH]
        _embed_batch(session, batch, embedder)
        if progress is not None:
            progress(start + len(batch), len(missing))
    session.flush()
    return len(missing)


def _embed_batch(
    session: Session, batch: list[tuple[tuple[int, str, str], str]], embedder: Embedder
) -> None:
    for kind, embed in (("question", embedder.queries), ("answer", embedder.passages)):
        items = [(key, text) for key, text in batch if key[1] == kind]
        if not items:
            continue
        vectors = embed([text for _, text in items])
        session.add_all(
            KbVector(
                article_id=key[0],
                kind=kind,
                text_sha=key[2],
                model=embedder.name,
                vector=vector.astype(np.float32).tobytes(),
            )
            for (key, _), vector in zip(items, vectors, strict=True)
        )


def load_vectors(
    session: Session, article_ids: Sequence[int], embedder: Embedder
) -> VectorSet:
    """The stored vectors of ``article_ids`` (owners are positions in that list)."""
    position = {article_id: i for i, article_id in enumerate(article_ids)}
    found: dict[str, tuple[list[bytes], list[int]]] = {
        "question": ([], []),
        "answer": ([], []),
    }
    rows = session.execute(
        select(KbVector.article_id, KbVector.kind, KbVector.vector)
        .where(KbVector.model == embedder.name)
        .order_by(KbVector.article_id, KbVector.id)
    )
    for article_id, kind, vector in rows:
        if article_id in position and kind in found:
            found[kind][0].append(vector)
            found[kind][1].append(position[article_id])
    return VectorSet(*_stack(*found["question"]), *_stack(*found["answer"]))


def _stack(
    blobs: list[bytes], owners: list[int]
) -> tuple[Vectors, npt.NDArray[np.int64]]:
    if not blobs:
        return np.zeros((0, 0), dtype=np.float32), np.zeros(0, dtype=np.int64)
    matrix = np.vstack([np.frombuffer(blob, dtype=np.float32) for blob in blobs])
    return matrix, np.asarray(owners, dtype=np.int64)


def _best_per_article(
    similarity: npt.NDArray[np.float32], owner: npt.NDArray[np.int64], n_articles: int
) -> npt.NDArray[np.float64]:
    """Max similarity per article (queries x articles); 0 where an article has none."""
    best = np.zeros((similarity.shape[0], n_articles))
    if owner.size == 0:
        return best
    order = np.argsort(owner, kind="stable")
    sorted_owner = owner[order]
    starts = np.flatnonzero(np.r_[True, sorted_owner[1:] != sorted_owner[:-1]])
    maxima = np.maximum.reduceat(similarity[:, order], starts, axis=1)
    best[:, sorted_owner[starts]] = maxima
    return best


def hybrid_scores(
    bm25: npt.NDArray[np.float64], queries: Vectors, vectors: VectorSet
) -> npt.NDArray[np.float64]:
    """Hybrid scores, queries x articles (see the module docstring)."""
    n_articles = bm25.shape[1]
    top = bm25.max(axis=1, keepdims=True) if n_articles else bm25
    lexical = bm25 / np.maximum(top, 1e-9)
    scores = BM25_WEIGHT * lexical
    for matrix, owner, weight in (
        (vectors.question_vectors, vectors.question_owner, QUESTION_SIMILARITY_WEIGHT),
        (vectors.answer_vectors, vectors.answer_owner, ANSWER_SIMILARITY_WEIGHT),
    ):
        if owner.size:
            similarity = queries @ matrix.T
            scores = scores + weight * _best_per_article(similarity, owner, n_articles)
    # Only articles that share a term with the question are candidates: embeddings
    # rank them, but would otherwise give every article some similarity.
    return np.asarray(np.where(bm25 > 0, scores, 0.0), dtype=np.float64)
