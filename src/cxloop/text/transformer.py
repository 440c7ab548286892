"""The transformer backend: a Hugging Face text classifier from a local directory.

A user's model directory (``cxloop text score --model-dir DIR``, the setting
``CXLOOP_TEXT_MODEL_DIR``) may hold, for a task (intent, emotion or sentiment), a folder
``<task>.transformer/``: a sequence-classification model as Hugging Face's
``save_pretrained`` writes it (``config.json`` with the label names in ``id2label``,
the weights as ``model.safetensors`` and the tokenizer files). ``cxloop text train
--backend transformer --base-model DIR`` fine-tunes one from a local pre-trained model;
a model fine-tuned elsewhere can be copied (or linked) there as it is.

It runs on the GPU when one is present (``CXLOOP_TEXT_DEVICE=auto``, the default) and
on the CPU otherwise. Loading is strictly local and cannot run code from the directory:
no download is ever tried (``local_files_only``), remote code is refused and only
safetensors weights are read (a pickled ``pytorch_model.bin`` is refused).

A ``cxloop.json`` beside the model (written by ``text train``) gives the ``other``
threshold and the training report; without it no text is sent to ``other``. A
sentiment model must name its labels ``positive`` and ``negative`` (and optionally
``neutral``); its score is P(positive) - P(negative).

Needs ``pip install 'cxloop[transformer]'`` (PyTorch and transformers). On the CPU,
PyTorch uses every core; set ``OMP_NUM_THREADS`` to share them with other work.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cxloop.domain.errors import InvalidInput
from cxloop.text.chinese import to_simplified

#: The folder of a task's transformer inside a model directory.
SUFFIX = ".transformer"
#: cxloop's own notes beside the Hugging Face files.
META_FILE = "cxloop.json"
DEVICES = ("auto", "cpu", "cuda")
#: How a model's notes say it reads Chinese: Traditional folded to Simplified first
#: (what ``text train`` does by default), or each text as written.
CHINESE_SIMPLIFIED = "simplified"
CHINESE_AS_WRITTEN = "as-written"
CHINESE_MODES = (CHINESE_SIMPLIFIED, CHINESE_AS_WRITTEN)
#: Texts are cut to this many tokens unless the model's notes say otherwise.
DEFAULT_MAX_LENGTH = 256
SENTIMENT_LABELS = frozenset({"positive", "negative", "neutral"})
INSTALL_HINT = "pip install 'cxloop[transformer]' (PyTorch and transformers)"


def transformer_available() -> bool:
    """Whether PyTorch and transformers are installed."""
    try:
        return all(
            importlib.util.find_spec(n) is not None for n in ("torch", "transformers")
        )
    except (ImportError, ValueError):  # a broken install counts as none
        return False


def transformer_path(model_dir: Path, task: str) -> Path:
    """Where the transformer for ``task`` lives in ``model_dir``."""
    return Path(model_dir) / f"{task}{SUFFIX}"


def check_device(device: str) -> str:
    """``device`` normalised (``auto``, ``cpu``, ``cuda`` or ``cuda:N``).

    Raises
    ------
    InvalidInput
        For anything else.
    """
    value = device.strip().lower()
    if value in DEVICES or (value.startswith("cuda:") and value[5:].isdigit()):
        return value
    raise InvalidInput(f"unknown text device {device!r}; use auto, cpu, cuda or cuda:N")


def resolve_device(device: str) -> str:
    """The torch device to run on: ``auto`` is the GPU when present, else the CPU.

    Raises
    ------
    InvalidInput
        When a GPU is asked for and none is present.
    """
    import torch

    value = check_device(device)
    if value == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if value.startswith("cuda") and not torch.cuda.is_available():
        raise InvalidInput(
            f"text device {device!r}: no GPU is available here (use auto or cpu)"
        )
    return value


def offline() -> None:
    """Tell the Hugging Face libraries never to reach the network (before importing them)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


def hugging_face() -> Any:
    """The ``transformers`` module, offline and quiet (it ships no type hints)."""
    offline()
    module: Any = importlib.import_module("transformers")
    module.logging.set_verbosity_error()
    module.utils.logging.disable_progress_bar()  # cxloop shows its own progress
    importlib.import_module("huggingface_hub.utils").disable_progress_bars()
    return module


def check_directory(path: Path) -> None:
    """Raise :class:`InvalidInput` unless ``path`` looks like a loadable local model.

    It needs ``config.json`` and safetensors weights; pickled weights are refused
    because loading them can run code.
    """
    if not path.is_dir():
        raise InvalidInput(f"{path}: no such model directory")
    if not (path / "config.json").is_file():
        raise InvalidInput(
            f"{path}: no config.json (not a Hugging Face model directory)"
        )
    if not any(path.glob("*.safetensors")):
        pickled = [p.name for p in path.glob("*.bin")] + [
            p.name for p in path.glob("*.pt")
        ]
        hint = (f" ({', '.join(sorted(pickled))} is pickled and can run code: save the model "
                "with safe_serialization=True)") if pickled else ""  # fmt: skip
        raise InvalidInput(f"{path}: no .safetensors weights{hint}")


def _require_installed() -> None:
    if not transformer_available():
        raise InvalidInput(f"the transformer text backend needs {INSTALL_HINT}")


@dataclass
class TransformerModel:
    """A loaded text classifier: its labels, ``other`` threshold and device.

    Build it with :func:`load_transformer`; :meth:`proba` and :meth:`predict` batch
    the texts (longest first, so batches pad little).
    """

    path: Path
    task: str
    labels: tuple[str, ...]
    threshold: float
    other_label: str
    max_length: int
    device: str
    version: str
    meta: dict[str, Any]
    _model: Any = field(repr=False)
    _tokenizer: Any = field(repr=False)
    batch_size: int = 32
    chinese: str = CHINESE_AS_WRITTEN
    #: The shipped model's probabilities are averaged in at this weight (``text train``
    #: sets it when that does better on held-out texts; see :mod:`shipped_blend`).
    shipped_weight: float = 0.0
    #: Log-offsets added to the model's own probabilities, one per label, before the
    #: average (``text train`` fits them for macro-F1 on held-out texts); None: none.
    label_offsets: np.ndarray | None = None

    def proba(
        self, texts: Sequence[str], *, progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """Probabilities over :attr:`labels`, shape (len(texts), labels)."""
        import torch

        out = np.zeros((len(texts), len(self.labels)), dtype=np.float32)
        if len(texts) == 0:
            return out
        shipped = None
        if self.shipped_weight > 0:
            from cxloop.text.shipped_blend import shipped_proba

            shipped = shipped_proba(self.task, self.labels, texts)
        if self.chinese == CHINESE_SIMPLIFIED:
            texts = to_simplified(texts)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                rows = order[start : start + self.batch_size]
                batch = self._tokenizer(
                    [texts[i] or " " for i in rows], padding=True, truncation=True,
                    max_length=self.max_length, return_tensors="pt",
                ).to(self.device)  # fmt: skip
                logits = self._model(**batch).logits.float()
                out[rows] = torch.softmax(logits, dim=-1).cpu().numpy()
                if progress is not None:
                    progress(len(rows))
        if self.label_offsets is not None:
            from cxloop.text._fitting import with_offsets

            out = with_offsets(out, self.label_offsets)
        if shipped is None:
            return out
        from cxloop.text.shipped_blend import mix

        return mix(out, shipped, self.shipped_weight)

    def predict(self, texts: Sequence[str]) -> list[tuple[str, float]]:
        """(label, confidence) per text; ``other`` below the threshold.

        An ``other`` text's confidence is one minus its best label's probability.
        """
        proba = self.proba(texts)
        best, top = proba.argmax(axis=1), proba.max(axis=1)
        return [
            (self.labels[i], round(float(p), 4))
            if p >= self.threshold
            else (self.other_label, round(float(1.0 - p), 4))
            for i, p in zip(best, top, strict=True)
        ]

    def sentiment(self, texts: Sequence[str]) -> list[tuple[str, float]]:
        """(label, P(positive) - P(negative)) per text, for a sentiment model."""
        proba = self.proba(texts)
        positive = proba[:, self.labels.index("positive")]
        negative = proba[:, self.labels.index("negative")]
        return [
            (self.labels[int(i)], round(float(p - n), 4))
            for i, p, n in zip(proba.argmax(axis=1), positive, negative, strict=True)
        ]


def read_labels(config: Any, path: Path) -> tuple[str, ...]:
    """The model's label names in output order, from ``id2label``."""
    id2label = getattr(config, "id2label", None) or {}
    labels = tuple(str(id2label[i]) for i in sorted(id2label, key=int))
    if len(labels) < 2:
        raise InvalidInput(f"{path}/config.json: the model has fewer than 2 labels")
    if all(label.upper().startswith("LABEL_") for label in labels):
        raise InvalidInput(
            f"{path}/config.json: the labels are unnamed ({', '.join(labels)}): set "
            "id2label to your label names"
        )
    return labels


def _check_task_labels(
    task: str, labels: tuple[str, ...], path: Path
) -> tuple[str, ...]:
    if task != "sentiment":
        return labels
    lowered = tuple(label.strip().lower() for label in labels)
    if (
        not {"positive", "negative"} <= set(lowered)
        or not set(lowered) <= SENTIMENT_LABELS
    ):
        raise InvalidInput(
            f"{path}/config.json: a sentiment model's labels must be positive, negative "
            f"and optionally neutral, not {', '.join(labels)} (rename them in id2label)"
        )
    return lowered


def version_of(path: Path) -> str:
    """A short digest that changes when the model's config, notes or weights change."""
    digest = hashlib.sha256()
    for name in ("config.json", META_FILE):
        if (path / name).is_file():
            digest.update((path / name).read_bytes())
    for weights in sorted(path.glob("*.safetensors")):
        info = weights.stat()
        digest.update(f"{weights.name}:{info.st_size}:{info.st_mtime_ns}".encode())
    return digest.hexdigest()[:12]


def read_meta(path: Path) -> dict[str, Any]:
    """cxloop's notes beside the model (``{}`` when there are none)."""
    file = path / META_FILE
    if not file.is_file():
        return {}
    try:
        meta = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{file}: cannot read it ({exc})") from exc
    if not isinstance(meta, dict):
        raise InvalidInput(f"{file}: not a JSON object")
    return meta


def load_transformer(
    path: Path, task: str, *, device: str = "auto"
) -> TransformerModel:
    """Load the classifier in ``path`` for ``task`` on ``device``.

    Raises
    ------
    InvalidInput
        PyTorch/transformers missing, not a model directory, pickled weights only,
        unnamed labels, a sentiment model without positive/negative labels, or a GPU
        asked for where there is none.
    """
    _require_installed()
    check_directory(path)
    meta = read_meta(path)
    transformers = hugging_face()
    try:
        config = transformers.AutoConfig.from_pretrained(
            path, local_files_only=True, trust_remote_code=False
        )
        labels = _check_task_labels(task, read_labels(config, path), path)
        tokenizer = transformers.AutoTokenizer.from_pretrained(
            path, local_files_only=True, trust_remote_code=False
        )
        model = transformers.AutoModelForSequenceClassification.from_pretrained(
            path, local_files_only=True, trust_remote_code=False, use_safetensors=True
        )
    except (OSError, ValueError, KeyError) as exc:
        raise InvalidInput(f"{path}: cannot load the model ({exc})") from exc
    where = resolve_device(device)
    model.to(where).eval()
    return TransformerModel(
        path=path, task=task, labels=labels,
        threshold=float(meta.get("other_threshold", 0.0)),
        other_label=str(meta.get("other_label", "other")),
        max_length=int(meta.get("max_length", DEFAULT_MAX_LENGTH)), device=where,
        version=f"{task}-transformer-{version_of(path)}", meta=meta,
        _model=model, _tokenizer=tokenizer, batch_size=128 if where != "cpu" else 32,
        chinese=str(meta.get("chinese", CHINESE_AS_WRITTEN)),
        shipped_weight=_shipped_weight(meta),
        label_offsets=_label_offsets(meta, labels, path),
    )  # fmt: skip


def _shipped_weight(meta: dict[str, Any]) -> float:
    weight = meta.get("shipped_weight", 0.0)
    if isinstance(weight, bool) or not isinstance(weight, int | float):
        return 0.0
    return float(weight) if 0.0 <= weight <= 1.0 else 0.0


def _label_offsets(meta: dict[str, Any], labels: Sequence[str], path: Path) -> np.ndarray | None:  # fmt: skip
    """The ``label_offsets`` of ``cxloop.json`` in label order; None when absent."""
    given = meta.get("label_offsets")
    if given is None:
        return None
    if (
        not isinstance(given, dict)
        or set(given) != set(labels)
        or not all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            for v in given.values()
        )
    ):
        raise InvalidInput(
            f"{path / META_FILE}: label_offsets must map each of the model's labels "
            f"({', '.join(labels)}) to a number"
        )
    return np.array([float(given[label]) for label in labels])
