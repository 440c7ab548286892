"""The churn model's view of a features frame: a float matrix and how it was built.

Numeric columns are copied as floats (missing stays NaN). Each other column is a
category, coded 0, 1, ... by falling frequency in the training data (at most
:data:`MAX_CATEGORIES`); a blank, a rare or an unseen value is NaN, which the trees treat
as missing and the baseline as a category of its own.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from cxloop.domain.errors import InvalidInput

#: Most categories kept per column (the boosting trees allow 255 bins, one for missing).
MAX_CATEGORIES = 254
#: Rows per thread before the models use more than one thread; on small tables
#: threads cost more in start-up and contention than they save.
ROWS_PER_THREAD = 50_000

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class FeatureSchema:
    """The columns a model was fitted on, in order, and the categories of each.

    Categories are listed most common first; a category's code is its position.
    """

    columns: tuple[str, ...]
    categorical: frozenset[str]
    categories: dict[str, tuple[str, ...]]

    @property
    def categorical_mask(self) -> list[bool]:
        """For each column in order, whether it is a category."""
        return [name in self.categorical for name in self.columns]

    def to_json(self) -> list[dict[str, Any]]:
        """One JSON object per column, for the model manifest."""
        return [
            {
                "name": name,
                "kind": "categorical" if name in self.categorical else "numeric",
                **(
                    {"categories": list(self.categories[name])}
                    if name in self.categories
                    else {}
                ),
            }
            for name in self.columns
        ]

    @classmethod
    def from_json(cls, items: list[dict[str, Any]]) -> FeatureSchema:
        """The schema :meth:`to_json` wrote."""
        categories = {
            item["name"]: tuple(item["categories"])
            for item in items
            if item["kind"] == "categorical"
        }
        return cls(
            columns=tuple(item["name"] for item in items),
            categorical=frozenset(categories),
            categories=categories,
        )


def fit_schema(features: pd.DataFrame) -> FeatureSchema:
    """Numeric dtypes are numbers, every other column a category."""
    if features.shape[1] == 0:
        raise InvalidInput("there are no feature columns to learn from")
    if len(features) == 0:
        raise InvalidInput("there are no rows to learn from")
    categories: dict[str, tuple[str, ...]] = {}
    for name in features.columns:
        column = features[name]
        if pd.api.types.is_datetime64_any_dtype(column.dtype):
            msg = f"column {name!r} holds dates: give a number such as days since it"
            raise InvalidInput(msg)
        if not _is_numeric(column):
            categories[str(name)] = _categories(column, str(name))
        elif np.isnan(_numbers(column, str(name))).all():
            raise InvalidInput(f"column {name!r} has no values")
    return FeatureSchema(
        columns=tuple(str(name) for name in features.columns),
        categorical=frozenset(categories),
        categories=categories,
    )


def encode(schema: FeatureSchema, features: pd.DataFrame) -> FloatArray:
    """The float matrix of ``features`` in the schema's column order."""
    missing = [name for name in schema.columns if name not in features.columns]
    if missing:
        raise InvalidInput(
            f"the features lack column(s) the model needs: {', '.join(missing)}"
        )
    matrix = np.empty((len(features), len(schema.columns)), dtype=float)
    for index, name in enumerate(schema.columns):
        column = features[name]
        if name in schema.categorical:
            known = pd.Index(schema.categories[name], dtype="string")
            codes = known.get_indexer(pd.Index(_as_text(column)))
            matrix[:, index] = np.where(codes < 0, np.nan, codes)
        elif _is_numeric(column):
            matrix[:, index] = _numbers(column, name)
        else:
            raise InvalidInput(
                f"column {name!r} must hold numbers, as when the model was fitted"
            )
    return matrix


def binary_target(target: pd.Series[Any], n_rows: int) -> npt.NDArray[np.int64]:
    """``target`` as 0/1 integers; both classes must be present."""
    if len(target) != n_rows:
        msg = f"the target has {len(target)} values but the features {n_rows} rows"
        raise InvalidInput(msg)
    values = pd.Series(target).to_numpy(dtype=object)
    if pd.isna(values).any():
        raise InvalidInput("the target has missing values")
    if not all(value in (0, 1) for value in values):
        raise InvalidInput("the target must hold only 0/1 or true/false")
    y = values.astype(np.int64)
    if y.min() == y.max():
        raise InvalidInput(
            "the target holds one class only: churn needs churned and active customers"
        )
    return y


@contextmanager
def thread_limit(n_rows: int) -> Iterator[None]:
    """Limit OpenMP and BLAS threads to one per :data:`ROWS_PER_THREAD` rows.

    On a busy machine, OpenMP threads that wait for each other make a small fit ten
    times slower. The limit reaches only libraries already loaded, so the boosting
    module (which loads OpenMP) is imported first.
    """
    from threadpoolctl import threadpool_limits

    importlib.import_module("sklearn.ensemble")

    threads = max(1, min(os.cpu_count() or 1, n_rows // ROWS_PER_THREAD))
    with threadpool_limits(limits=threads):
        yield


def _is_numeric(column: pd.Series[Any]) -> bool:
    return bool(pd.api.types.is_numeric_dtype(column.dtype))


def _numbers(column: pd.Series[Any], name: str) -> FloatArray:
    values = column.to_numpy(dtype=float, na_value=np.nan)
    if np.isinf(values).any():
        raise InvalidInput(f"column {name!r} holds an infinite number")
    return values


def _as_text(column: pd.Series[Any]) -> pd.Series[Any]:
    text = column.astype("string").str.strip()
    return text.mask(text == "")


def _categories(column: pd.Series[Any], name: str) -> tuple[str, ...]:
    counts = _as_text(column).dropna().value_counts()
    if counts.empty:
        raise InvalidInput(f"column {name!r} has no values")
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return tuple(str(value) for value, _ in ordered[:MAX_CATEGORIES])
