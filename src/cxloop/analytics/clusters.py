"""Behaviour clusters: k-means on standardised customer features, described in words.

Columns that are never negative and strongly right-skewed (money, counts) are taken as
``log1p`` before every column is standardised to mean 0 and standard deviation 1, so no
feature dominates by its unit. Clusters are numbered by size, the largest first, and each
is described by its most distinctive features (mean z-score at least 0.5 away from 0).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from cxloop.analytics.rfm import check_language
from cxloop.domain.errors import InvalidInput

#: Words for a feature: (high in English, low in English, high in zh-TW, low in zh-TW).
Words = tuple[str, str, str, str]

DEFAULT_WORDS: Mapping[str, Words] = {
    "recency_days": ("not seen lately", "recent", "久未消費", "近期活躍"),
    "frequency": ("frequent", "infrequent", "購買頻繁", "購買稀少"),
    "monetary": ("high spend", "low spend", "高消費", "低消費"),
    "tenure_days": ("long-standing", "newly joined", "資深顧客", "新近加入"),
    "nps": ("high NPS", "low NPS", "推薦意願高", "推薦意願低"),
    "complaints": ("many complaints", "few complaints", "抱怨多", "抱怨少"),
}
#: A feature whose cluster mean is this many standard deviations from 0 is distinctive.
DISTINCTIVE_Z = 0.5
MAX_WORDS = 3
SILHOUETTE_SAMPLE = 3_000
SKEW_FOR_LOG = 1.0


@dataclass(frozen=True)
class ClusterResult:
    """A fitted clustering.

    Attributes
    ----------
    labels
        Cluster number (0 = largest) per customer, with the features' index.
    k
        Number of clusters.
    centers
        One row per cluster: the mean of each feature in its own units, then
        ``<feature>_z``, the mean z-score (after ``log1p`` where it was applied).
    sizes
        Customers per cluster.
    silhouette
        Mean silhouette of the chosen k on the sample (None when k was given).
    log_columns
        Features taken as ``log1p`` before standardising.
    """

    labels: pd.Series
    k: int
    centers: pd.DataFrame
    sizes: pd.Series
    silhouette: float | None = None
    log_columns: tuple[str, ...] = ()
    words: Mapping[str, Words] = field(default_factory=lambda: dict(DEFAULT_WORDS))

    def describe(self, language: str) -> dict[int, str]:
        """Each cluster in words, e.g. ``"high spend, frequent, recent"``.

        Parameters
        ----------
        language
            ``zh-TW`` (joined with ``、``) or ``en`` (joined with ``, ``).
        """
        check_language(language)
        z_columns = [str(c) for c in self.centers.columns if str(c).endswith("_z")]
        features = [c.removesuffix("_z") for c in z_columns]
        z = self.centers[z_columns].to_numpy(dtype=np.float64)
        clusters = self.centers.index.to_numpy(dtype=np.int64)
        return {
            int(cluster): self._words_for(
                dict(zip(features, row, strict=True)), language
            )
            for cluster, row in zip(clusters, z, strict=True)
        }

    def _words_for(self, z: Mapping[str, float], language: str) -> str:
        distinctive = sorted(
            (name for name in z if abs(z[name]) >= DISTINCTIVE_Z),
            key=lambda name: -abs(z[name]),
        )[:MAX_WORDS]
        if not distinctive:
            if language == "zh-TW":
                return "各項接近平均"
            return "close to average on every feature"
        words = [self._word(name, z[name] > 0, language) for name in distinctive]
        return ("、" if language == "zh-TW" else ", ").join(words)

    def _word(self, name: str, high: bool, language: str) -> str:
        pair = self.words.get(name)
        if pair is None:
            if language == "zh-TW":
                return f"{name}{'高' if high else '低'}"
            return f"{'high' if high else 'low'} {name}"
        offset = 2 if language == "zh-TW" else 0
        return pair[offset + (0 if high else 1)]


def behaviour_clusters(
    features: pd.DataFrame,
    *,
    k: int | None = None,
    seed: int = 0,
    k_range: range = range(3, 7),
    words: Mapping[str, Words] = DEFAULT_WORDS,
) -> ClusterResult:
    """Cluster customers by behaviour with k-means on standardised features.

    Parameters
    ----------
    features
        One row per customer (the index is kept), numeric columns only, no missing
        values.
    k
        Number of clusters; when None, the k of ``k_range`` with the best mean
        silhouette on a sample of at most 3,000 customers.
    seed
        Seed of the sample and of k-means; the same seed gives the same clusters.
    k_range
        Candidate numbers of clusters when ``k`` is None.
    words
        Feature words for :meth:`ClusterResult.describe`; merged over the defaults.

    Returns
    -------
    ClusterResult
    """
    numbers = _checked(features)
    log_columns = tuple(c for c in numbers.columns if _skewed(numbers[c]))
    z = _standardised(numbers, log_columns)
    silhouette = None
    if k is None:
        k, silhouette = _best_k(z, k_range, seed)
    _check_k(k, z)
    raw = kmeans_labels(z, k, seed)
    order = np.argsort(-np.bincount(raw, minlength=k), kind="stable")
    labels = np.empty(k, dtype=np.int64)
    labels[order] = np.arange(k)
    label_series = pd.Series(labels[raw], index=features.index, name="cluster")
    return ClusterResult(
        labels=label_series,
        k=k,
        centers=_centers(numbers, z, label_series),
        sizes=label_series.value_counts().sort_index().rename("customers"),
        silhouette=silhouette,
        log_columns=log_columns,
        words={**DEFAULT_WORDS, **words},
    )


def _checked(features: pd.DataFrame) -> pd.DataFrame:
    if features.shape[1] == 0:
        raise InvalidInput("behaviour clusters need at least one feature column")
    text = [
        str(c)
        for c in features.columns
        if not pd.api.types.is_numeric_dtype(features[c])
    ]
    if text:
        raise InvalidInput(
            f"behaviour clusters need numeric features; not numeric: {', '.join(text)}"
        )
    numbers = features.astype("float64")
    numbers.columns = [str(c) for c in features.columns]
    missing = {str(c): int(n) for c, n in numbers.isna().sum().items() if n}
    if missing or not np.isfinite(numbers.to_numpy()).all():
        detail = (
            ", ".join(f"{c} ({n} missing)" for c, n in missing.items())
            or "infinite values"
        )
        raise InvalidInput(
            f"behaviour clusters need a finite value in every cell: {detail}"
        )
    return numbers


def _skewed(column: pd.Series) -> bool:
    """Never negative and with a sample skewness above SKEW_FOR_LOG."""
    values = column.to_numpy(dtype=np.float64)
    centred = values - values.mean()
    spread = float(np.mean(centred**2))
    if values.min() < 0 or spread == 0:
        return False
    return bool(float(np.mean(centred**3)) / spread**1.5 > SKEW_FOR_LOG)


def _standardised(numbers: pd.DataFrame, log_columns: tuple[str, ...]) -> pd.DataFrame:
    shaped = numbers.copy()
    for column in log_columns:
        shaped[column] = np.log1p(shaped[column])
    spread = shaped.std(ddof=0).replace(0.0, 1.0)
    return (shaped - shaped.mean()) / spread


def _check_k(k: int, z: pd.DataFrame) -> None:
    distinct = len(z.drop_duplicates())
    if k < 2 or k > distinct:
        msg = f"k must be between 2 and the number of distinct customers ({distinct}), not {k}"
        raise InvalidInput(msg)


def _best_k(z: pd.DataFrame, k_range: range, seed: int) -> tuple[int, float]:
    from sklearn.metrics import pairwise_distances, silhouette_score
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(seed)
    rows = np.sort(
        rng.choice(len(z), size=min(len(z), SILHOUETTE_SAMPLE), replace=False)
    )
    sample = z.iloc[rows]
    distinct = len(sample.drop_duplicates())
    candidates = [k for k in k_range if 2 <= k < distinct]
    if not candidates:
        msg = f"no k in {list(k_range)} fits {distinct} distinct customers: give k or more customers"
        raise InvalidInput(msg)
    scores: dict[int, float] = {}
    with threadpool_limits(limits=1):
        distances = pairwise_distances(sample.to_numpy())
    for k in candidates:
        labels = kmeans_labels(sample, k, seed)
        scores[k] = float(silhouette_score(distances, labels, metric="precomputed"))
    best = max(candidates, key=lambda k: (scores[k], -k))
    return best, scores[best]


def kmeans_labels(z: pd.DataFrame, k: int, seed: int) -> npt.NDArray[np.int64]:
    """k-means labels (best of 4 starts) on one thread.

    OpenMP threads that spin on a busy machine made k-means 20 times slower on two
    shared cores; one thread is as fast on an idle machine for customer-sized data.
    """
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        model = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(z.to_numpy())
    return np.asarray(model.labels_, dtype=np.int64)


def _centers(numbers: pd.DataFrame, z: pd.DataFrame, labels: pd.Series) -> pd.DataFrame:
    means = numbers.groupby(labels.to_numpy()).mean()
    z_means = z.groupby(labels.to_numpy()).mean().add_suffix("_z")
    centers = pd.concat([means, z_means], axis=1)
    centers.index = pd.Index(centers.index.astype(np.int64), name="cluster")
    return centers
