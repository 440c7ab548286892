"""Churn model directories: ``model.joblib`` (the fitted estimators) and ``manifest.json``.

The manifest records the feature columns, their kinds and categories,
the labels, the in-sample metrics, the cxloop and scikit-learn versions and the SHA-256
of the model file. Loading refuses a directory written by another scikit-learn version
or another manifest format, and a model file that does not match its manifest.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cxloop import __version__
from cxloop.domain.errors import InvalidInput
from cxloop.predict.churn import ChurnModel
from cxloop.predict.churn_matrix import FeatureSchema

#: Bumped whenever the manifest or the pickled objects change shape.
FORMAT_VERSION = 1
MODEL_FILE = "model.joblib"
MANIFEST_FILE = "manifest.json"


def save_model(model: ChurnModel, directory: Path) -> None:
    """Write the estimators and the manifest; creates ``directory`` if needed."""
    import joblib
    import sklearn

    schema = model.fitted_schema()
    if directory.exists() and not directory.is_dir():
        raise InvalidInput(f"{directory}: exists and is not a directory")
    directory.mkdir(parents=True, exist_ok=True)
    estimators = {"classifier": model.classifier_, "baseline": model.baseline_}
    joblib.dump(estimators, directory / MODEL_FILE, compress=3)
    manifest = {
        "kind": "cxloop churn model",
        "format_version": FORMAT_VERSION,
        "cxloop_version": __version__,
        "sklearn_version": sklearn.__version__,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seed": model.seed,
        "features": schema.to_json(),
        "labels": model.labels,
        "metrics": model.metrics_,
        "source": model.source_,
        "model_sha256": _sha256(directory / MODEL_FILE),
    }
    text = json.dumps(manifest, ensure_ascii=False, indent=2, default=_plain)
    (directory / MANIFEST_FILE).write_text(text + "\n", encoding="utf-8")


def load_model(directory: Path) -> ChurnModel:
    """The model in ``directory``, after checking the manifest against this install."""
    import joblib

    manifest = read_manifest(directory)
    path = directory / MODEL_FILE
    if not path.is_file():
        raise InvalidInput(f"{path}: the model file is missing; train the model again")
    if _sha256(path) != manifest.get("model_sha256"):
        raise InvalidInput(f"{path}: the model file does not match {MANIFEST_FILE}")
    estimators = joblib.load(path)
    model = ChurnModel(seed=int(manifest.get("seed", 0)), labels=manifest["labels"])
    model.schema_ = FeatureSchema.from_json(manifest["features"])
    model.classifier_ = estimators["classifier"]
    model.baseline_ = estimators["baseline"]
    model.metrics_ = dict(manifest["metrics"])
    model.source_ = dict(manifest.get("source", {}))
    return model


def read_manifest(directory: Path) -> dict[str, Any]:
    """The checked manifest of a model directory."""
    import sklearn

    path = directory / MANIFEST_FILE
    if not path.is_file():
        raise InvalidInput(
            f"{directory}: no {MANIFEST_FILE}; is this a churn model directory?"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidInput(f"{path}: not a readable manifest ({error})") from error
    if not isinstance(manifest, dict) or manifest.get("kind") != "cxloop churn model":
        raise InvalidInput(f"{path}: not a cxloop churn model manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        msg = (
            f"{path}: model format {manifest.get('format_version')} was written by cxloop "
            f"{manifest.get('cxloop_version')}; this cxloop {__version__} reads format "
            f"{FORMAT_VERSION}: train the model again"
        )
        raise InvalidInput(msg)
    if manifest.get("sklearn_version") != sklearn.__version__:
        msg = (
            f"{path}: the model was saved with scikit-learn {manifest.get('sklearn_version')}, "
            f"this install has {sklearn.__version__}: train the model again"
        )
        raise InvalidInput(msg)
    return manifest


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _plain(value: object) -> object:
    """JSON for numpy scalars in metrics and categories."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")
