"""Fine-tune a local pre-trained transformer on a user's labelled texts.

``cxloop text train --backend transformer --base-model DIR`` reads a pre-trained model
from a local folder (any Hugging Face encoder with a tokenizer and safetensors weights:
a Chinese or multilingual BERT, RoBERTa or MiniLM the user has on disk), adds a
classification layer for the user's labels and fine-tunes the whole network, on the
GPU when one is present. Nothing is downloaded.

Fine-tuning a transformer several times for cross-validation costs too much, so the
report is measured once, on a stratified held-out part (``validation``, 10 % by
default) that the saved model never saw; the ``other`` threshold is chosen on the same
part (and on any rows labelled ``other``, which are never trained on). On that part
too, an emotion or intent model gets per-label offsets that raise its macro-F1 (when
every label has enough held-out texts), and a model with the shipped model's labels is
averaged with it when that does at least as well (:mod:`cxloop.text.shipped_blend`);
the report's figures are of the final model, so they are a little flattered by those
choices. The model is
written to ``<model_dir>/<task>.transformer/`` with a ``cxloop.json`` of notes, and
replaces any earlier model of that task in the folder.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cxloop.domain.errors import InvalidInput
from cxloop.text import _fitting, shipped_blend
from cxloop.text import transformer as tf
from cxloop.text.chinese import to_simplified
from cxloop.text.training import (
    OTHER,
    LabelFigures,
    TrainReport,
    check_training_data,
    replace_task_model,
)

#: Defaults of the fine-tuning run (the CLI exposes them).
EPOCHS = 3
BATCH_SIZE = 16
LEARNING_RATE = 5e-5
MAX_LENGTH = 128
VALIDATION = 0.1
WARMUP = 0.1
SEED = 0
#: Label offsets for macro-F1 (emotion and intent models) are fitted when every label
#: has at least this many held-out texts, within -OFFSET_SPAN..OFFSET_SPAN.
MIN_OFFSET_TEXTS = 50
OFFSET_SPAN = 1.5


def fine_tune(
    *,
    task: str,
    texts: Sequence[str],
    labels: Sequence[str],
    model_dir: Path,
    base_model: Path,
    epochs: int = EPOCHS,
    batch_size: int = BATCH_SIZE,
    learning_rate: float = LEARNING_RATE,
    max_length: int = MAX_LENGTH,
    validation: float = VALIDATION,
    device: str = "auto",
    max_other: float = _fitting.MAX_OTHER_SHARE,
    freeze_embeddings: bool = True,
    chinese: str = tf.CHINESE_SIMPLIFIED,
    progress: Callable[[str], None] | None = None,
) -> TrainReport:
    """Fine-tune ``base_model`` on the labelled texts, measure it, and save it.

    Parameters
    ----------
    task : {"intent", "emotion", "sentiment"}
        The column of ``text score`` the model fills (a sentiment model's labels must
        be positive, negative and optionally neutral).
    texts, labels
        The user's labelled texts; rows labelled ``other`` only tune the threshold.
    model_dir
        Where ``<task>.transformer/`` is written.
    base_model
        A local folder with a pre-trained Hugging Face model and its tokenizer.
    epochs, batch_size, learning_rate, max_length
        The fine-tuning run (AdamW, linear decay after a 10 % warm-up).
    validation
        Share of the labelled texts held out for the report and the threshold.
    device
        ``auto`` (the GPU when present), ``cpu``, ``cuda`` or ``cuda:N``.
    max_other
        The most of the held-out labelled texts the threshold may send to ``other``.
    freeze_embeddings
        Keep the pre-trained token vectors as they are and train the rest. A
        multilingual vocabulary (250,000 pieces in XLM-R's) is most of the weights:
        freezing it makes a step on the CPU about a third cheaper and keeps the
        vectors of tokens the training texts never use consistent with the others.
    chinese
        ``simplified`` (default): Traditional Chinese is converted to Simplified before
        the model reads it, in training and in scoring, so both scripts score alike
        whatever script the labelled texts are in. ``as-written``: each text as it is
        (for a base model pre-trained on one script only).

    Raises
    ------
    InvalidInput
        Bad training data, bad settings, PyTorch/transformers not installed, or a base
        model that is not a loadable local model directory.
    """
    _check_settings(
        epochs, batch_size, learning_rate, max_length, validation, max_other
    )
    check_training_data(
        task=task, texts=texts, labels=labels, folds=2, backend="transformer"
    )
    if chinese not in tf.CHINESE_MODES:
        raise InvalidInput(
            f"chinese must be one of {', '.join(tf.CHINESE_MODES)}, not {chinese!r}"
        )
    if chinese == tf.CHINESE_SIMPLIFIED:
        texts = to_simplified(texts)
    if not tf.transformer_available():
        raise InvalidInput(f"the transformer backend needs {tf.INSTALL_HINT}")
    tf.check_directory(Path(base_model))
    say = progress or (lambda _message: None)
    names = _label_names(task, labels)
    known = [i for i, label in enumerate(labels) if label != OTHER]
    unknown = [texts[i] for i, label in enumerate(labels) if label == OTHER]
    y = np.array([names.index(_label_key(task, labels[i])) for i in known])
    fit_rows, val_rows = _split(y, validation)
    where = tf.resolve_device(device)
    say(f"loading {base_model} on {where}")
    model, tokenizer = _load_base(Path(base_model), names)
    model.to(where)
    run = _Run(
        model,
        tokenizer,
        where,
        max_length,
        batch_size,
        freeze_embeddings=freeze_embeddings,
    )
    run.train([texts[known[i]] for i in fit_rows], y[fit_rows], epochs=epochs,
              learning_rate=learning_rate, say=say)  # fmt: skip
    say(f"measuring on {len(val_rows):,} held-out texts")
    proba = run.proba([texts[known[i]] for i in val_rows])
    other_proba = run.proba(unknown) if unknown else None
    offsets = _fit_label_offsets(task, proba, y[val_rows])
    if offsets is not None:
        say("label offsets for macro-F1: "
            + ", ".join(f"{n} {o:+.1f}" for n, o in zip(names, offsets, strict=True)))  # fmt: skip
        proba = _fitting.with_offsets(proba, offsets)
        if other_proba is not None:
            other_proba = _fitting.with_offsets(other_proba, offsets)
    val_texts = [texts[known[i]] for i in val_rows]
    blend, mixed = shipped_blend.judge(task, proba, names, val_texts, y[val_rows])
    if blend:
        say(f"held-out {blend['measure']} alone {blend['alone']:.3f}, averaged with the "
            f"shipped model {blend['with_shipped']:.3f}")  # fmt: skip
    if mixed is not None:  # the threshold applies to what text score will compute
        proba = mixed
        if other_proba is not None:
            shipped_other = shipped_blend.shipped_proba(task, names, unknown)
            if shipped_other is not None:
                other_proba = shipped_blend.mix(other_proba, shipped_other,
                                                shipped_blend.WEIGHT)  # fmt: skip
    threshold = _threshold(proba, y[val_rows], other_proba, max_other)
    path = tf.transformer_path(model_dir, task)
    report = _report(task, names, y[val_rows], proba, threshold, path,
                     n_texts=len(texts), n_fit=len(fit_rows))  # fmt: skip
    named_offsets = (None if offsets is None else
                     {n: round(float(o), 3) for n, o in zip(names, offsets, strict=True)})  # fmt: skip
    report = dataclasses.replace(
        report, extra=report.extra | {"shipped": blend, "label_offsets": named_offsets}
    )
    say(f"saving {path}")
    meta = {"kind": "user", "task": task, "backend": "transformer",
            "base_model": str(base_model), "other_threshold": report.other_threshold,
            "other_label": OTHER, "max_length": max_length, "epochs": epochs,
            "batch_size": batch_size, "learning_rate": learning_rate,
            "freeze_embeddings": freeze_embeddings, "chinese": chinese,
            "shipped_weight": blend.get("shipped_weight", 0.0),
            "label_offsets": named_offsets,
            "report": report.to_json() | {"model_path": str(path)}}  # fmt: skip
    _save(model, tokenizer, meta, Path(model_dir), task)
    return report


def _check_settings(epochs: int, batch_size: int, learning_rate: float, max_length: int,
                    validation: float, max_other: float) -> None:  # fmt: skip
    problems = []
    if not 1 <= epochs <= 100:
        problems.append(f"epochs must be 1 to 100, not {epochs}")
    if not 1 <= batch_size <= 1024:
        problems.append(f"batch size must be 1 to 1024, not {batch_size}")
    if not 0 < learning_rate < 1:
        problems.append(f"learning rate must be between 0 and 1, not {learning_rate}")
    if not 8 <= max_length <= 4096:
        problems.append(f"max length must be 8 to 4096 tokens, not {max_length}")
    if not 0.05 <= validation <= 0.5:
        problems.append(f"validation share must be 0.05 to 0.5, not {validation}")
    if not 0 <= max_other <= 0.5:
        problems.append(f"max other must be 0 to 0.5, not {max_other}")
    if problems:
        raise InvalidInput("; ".join(problems))


def _label_key(task: str, label: str) -> str:
    return label.strip().lower() if task == "sentiment" else label


def _label_names(task: str, labels: Sequence[str]) -> list[str]:
    names = sorted({_label_key(task, label) for label in labels if label != OTHER})
    if task == "sentiment" and (
        not {"positive", "negative"} <= set(names)
        or not set(names) <= tf.SENTIMENT_LABELS
    ):
        raise InvalidInput(
            "a sentiment model's labels must be positive, negative and optionally "
            f"neutral, not {', '.join(names)}"
        )
    return names


def _split(y: np.ndarray, share: float) -> tuple[np.ndarray, np.ndarray]:
    """Stratified (fit, validation) row indices; every label has a validation text."""
    from sklearn.model_selection import train_test_split

    k = len(np.unique(y))
    n_val = max(k, math.ceil(share * len(y)))
    rows = np.arange(len(y))
    fit, val = train_test_split(rows, test_size=n_val, random_state=SEED, stratify=y)
    return np.sort(fit), np.sort(val)


def _load_base(base: Path, names: list[str]) -> tuple[Any, Any]:
    transformers = tf.hugging_face()
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(
            base, local_files_only=True, trust_remote_code=False
        )
        model = transformers.AutoModelForSequenceClassification.from_pretrained(
            base, local_files_only=True, trust_remote_code=False, use_safetensors=True,
            num_labels=len(names), id2label=dict(enumerate(names)),
            label2id={name: i for i, name in enumerate(names)},
            ignore_mismatched_sizes=True,
        )  # fmt: skip
    except (OSError, ValueError, KeyError) as exc:
        raise InvalidInput(f"{base}: cannot load the base model ({exc})") from exc
    return model, tokenizer


class _Run:
    """One model on one device: the training loop and batched probabilities."""

    def __init__(self, model: Any, tokenizer: Any, device: str, max_length: int,
                 batch_size: int, *, freeze_embeddings: bool = False) -> None:  # fmt: skip
        self.model, self.tokenizer, self.device = model, tokenizer, device
        self.max_length, self.batch_size = max_length, batch_size
        self.freeze_embeddings = freeze_embeddings

    def _batch(self, texts: Sequence[str]) -> Any:
        return self.tokenizer(
            [t or " " for t in texts], padding=True, truncation=True,
            max_length=self.max_length, return_tensors="pt",
        ).to(self.device)  # fmt: skip

    def lengths(self, texts: Sequence[str]) -> np.ndarray:
        """Token counts (cut at ``max_length``), to batch texts of like length."""
        ids = self.tokenizer([t or " " for t in texts], truncation=True,
                             max_length=self.max_length)["input_ids"]  # fmt: skip
        return np.array([len(row) for row in ids], dtype=np.int64)

    def train(self, texts: list[str], y: np.ndarray, *, epochs: int,
              learning_rate: float, say: Callable[[str], None]) -> None:  # fmt: skip
        import torch

        torch.manual_seed(SEED)
        if self.freeze_embeddings:
            self.model.get_input_embeddings().weight.requires_grad_(False)
        weights = [p for p in self.model.parameters() if p.requires_grad]
        lengths = self.lengths(texts)
        steps_per_epoch = math.ceil(len(texts) / self.batch_size)
        total = steps_per_epoch * epochs
        optimizer = torch.optim.AdamW(weights, lr=learning_rate, weight_decay=0.01)
        schedule = tf.hugging_face().get_linear_schedule_with_warmup(
            optimizer, num_warmup_steps=int(WARMUP * total), num_training_steps=total
        )
        shuffle = random.Random(SEED)  # noqa: S311 - a reproducible order, not a secret
        self.model.train()
        step, losses = 0, []
        for epoch in range(1, epochs + 1):
            for rows in _batches(lengths, self.batch_size, shuffle):
                batch = self._batch([texts[i] for i in rows])
                target = torch.tensor(y[rows], dtype=torch.long, device=self.device)
                loss = self.model(**batch, labels=target).loss
                loss.backward()
                torch.nn.utils.clip_grad_norm_(weights, 1.0)
                optimizer.step()
                schedule.step()
                optimizer.zero_grad()
                step += 1
                losses.append(float(loss.detach()))
                if step % max(1, total // 20) == 0 or step == total:
                    say(f"epoch {epoch}/{epochs}, step {step:,}/{total:,}, "
                        f"loss {np.mean(losses[-50:]):.3f}")  # fmt: skip
        self.model.eval()

    def proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities, one row per text in the given order."""
        import torch

        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        order = np.argsort(self.lengths(texts), kind="stable")
        parts = []
        size = self.batch_size * 2
        with torch.inference_mode():
            for start in range(0, len(order), size):
                batch = self._batch([texts[i] for i in order[start : start + size]])
                logits = self.model(**batch).logits.float()
                parts.append(torch.softmax(logits, dim=-1).cpu().numpy())
        out = np.empty_like(np.concatenate(parts))
        out[order] = np.concatenate(parts)
        return out


def _batches(lengths: np.ndarray, size: int, shuffle: random.Random) -> list[list[int]]:
    """One epoch's batches: shuffled, then texts of like length batched together.

    Rows are shuffled, sorted by length within pools of 50 batches, cut into batches,
    and the batches shuffled: little padding (the cost on a CPU) and a random order.
    """
    rows = list(range(len(lengths)))
    shuffle.shuffle(rows)
    pool = size * 50
    batches: list[list[int]] = []
    for start in range(0, len(rows), pool):
        part = sorted(rows[start : start + pool], key=lambda i: int(lengths[i]))
        batches.extend(part[i : i + size] for i in range(0, len(part), size))
    shuffle.shuffle(batches)
    return batches


def _fit_label_offsets(
    task: str, proba: np.ndarray, y: np.ndarray
) -> np.ndarray | None:
    """Offsets for macro-F1 fitted on held-out texts, or None where they are not fitted.

    Not for sentiment (judged by accuracy), nor where a label has fewer than
    :data:`MIN_OFFSET_TEXTS` held-out texts (offsets would fit noise), nor when every
    offset comes out 0.
    """
    counts = np.bincount(y, minlength=proba.shape[1])
    if task == "sentiment" or counts.min() < MIN_OFFSET_TEXTS:
        return None
    offsets = _fitting.macro_f1_offsets(proba, y, span=OFFSET_SPAN)
    return offsets if np.any(offsets) else None


def _threshold(proba: np.ndarray, y: np.ndarray, other: np.ndarray | None,
               max_other: float) -> _fitting.Threshold:  # fmt: skip
    """Best separation of held-out texts from rows labelled other, capped by ``max_other``."""
    top = proba.max(axis=1)
    cap = float(np.quantile(top, max_other)) if max_other > 0 else 0.0
    if other is None or len(other) == 0:
        return _fitting.Threshold(cap, float(np.mean(top < cap)), None, "share")
    unknown = other.max(axis=1)
    value, rule = (
        _fitting._best_threshold(top, proba.argmax(axis=1) == y, unknown),
        "open-set",
    )
    if value > cap:
        value, rule = cap, "share"
    return _fitting.Threshold(
        value, float(np.mean(top < value)), float(np.mean(unknown < value)), rule
    )


def _report(task: str, names: list[str], truth: np.ndarray, proba: np.ndarray,
            threshold: _fitting.Threshold, path: Path, *, n_texts: int,
            n_fit: int) -> TrainReport:  # fmt: skip
    from sklearn.metrics import precision_recall_fscore_support

    guess = proba.argmax(axis=1)
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, guess, labels=range(len(names)), zero_division=0
    )
    per_label = tuple(
        LabelFigures(label, round(float(p), 4), round(float(r), 4), round(float(f), 4), int(s))
        for label, p, r, f, s in zip(names, precision, recall, f1, support, strict=True)
    )  # fmt: skip
    return TrainReport(
        task=task, backend="transformer", n_texts=n_texts, labels=tuple(names), folds=1,
        accuracy=round(float(np.mean(truth == guess)), 4),
        macro_f1=round(float(np.mean(f1)), 4), per_label=per_label,
        other_threshold=round(threshold.value, 4), other_rate=round(threshold.known_rate, 4),
        unknown_recall=None if threshold.unknown_recall is None else round(threshold.unknown_recall, 4),
        model_path=path, extra={"validation_texts": len(truth), "fitted_texts": n_fit,
                                "rule": threshold.rule},
    )  # fmt: skip


def _save(
    model: Any, tokenizer: Any, meta: dict[str, Any], model_dir: Path, task: str
) -> None:
    """Write the model to a fresh folder, then put it in place of the task's old model."""
    model_dir.mkdir(parents=True, exist_ok=True)
    staging = model_dir / f".{task}{tf.SUFFIX}.new"
    shutil.rmtree(staging, ignore_errors=True)
    model.save_pretrained(staging, safe_serialization=True)
    tokenizer.save_pretrained(staging)
    text = json.dumps(meta, ensure_ascii=False, indent=2, sort_keys=True)
    (staging / tf.META_FILE).write_text(text + "\n", encoding="utf-8")
    replace_task_model(model_dir, task)
    staging.rename(tf.transformer_path(model_dir, task))
