"""Theme discovery: clusters of texts that match no topic, proposed as new topics.

The texts that no taxonomy topic finds (neither keywords nor the classifier) are cut into
words (jieba for Chinese on folded text, a stop-worded tokenizer for English), weighted by
TF-IDF, reduced with truncated SVD (latent semantic analysis) and clustered with k-means.
Each cluster becomes a :class:`Theme`: its most weighted words (shown in the script the
texts use) and the texts nearest its centre. :func:`themes_to_yaml` writes the themes as
taxonomy topics to review, rename and paste into a taxonomy file, with the tags and
accounts that recur in many texts (:mod:`cxloop.text.recurring_names`) proposed as
``ignore_terms``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cxloop.text.ignore_terms import drop_terms
from cxloop.text.keywords import chinese_tokens, english_tokens
from cxloop.text.recurring_names import RecurringName, recurring_names
from cxloop.text.results import SUPPORTED_LANGUAGES
from cxloop.text.taxonomy import Taxonomy, english_word_ok
from cxloop.text.topic_rules import fold_many
from cxloop.text.topics import topic_keys

_MIN_TEXTS = 6
_MAX_THEMES = 12
_KEYWORDS = 8
_EXAMPLE_CHARS = 200
_SEED = 7


@dataclass(frozen=True, slots=True)
class Theme:
    """One cluster of texts with no topic."""

    key: str
    keywords: tuple[str, ...]
    examples: tuple[str, ...]
    size: int


def discover_themes(
    texts: Sequence[str],
    languages: Sequence[str],
    *,
    taxonomy: Taxonomy,
    n_themes: int | None = None,
    examples: int = 3,
) -> list[Theme]:
    """Cluster the texts that match no topic of ``taxonomy``.

    Parameters
    ----------
    texts, languages
        The texts and their language codes; unsupported languages are left out.
    taxonomy
        Texts with a topic of this taxonomy are left out, and its ``ignore_terms`` are
        not words of any theme (the examples keep them).
    n_themes
        How many clusters; ``None`` picks about ``sqrt(n / 10)`` (2 to 12).
    examples
        How many example texts per theme.

    Returns
    -------
    list of Theme
        Largest first; clusters of a single text are dropped. Empty when fewer than six
        texts are left to cluster.
    """
    if len(texts) != len(languages):
        raise ValueError("texts and languages must have the same length")
    if n_themes is not None and n_themes < 1:
        raise ValueError("n_themes must be at least 1")
    reading = drop_terms(texts, taxonomy.ignore_terms)  # the company's own names
    keys = topic_keys(reading, languages, taxonomy=taxonomy)
    pool = [
        i for i, (text, lang, found) in enumerate(zip(reading, languages, keys, strict=True))
        if lang in SUPPORTED_LANGUAGES and text.strip() and not found
    ]  # fmt: skip
    docs, shown = _documents([reading[i] for i in pool], [languages[i] for i in pool])
    kept = [j for j, doc in enumerate(docs) if doc]
    if len(kept) < _MIN_TEXTS:
        return []
    k = n_themes or int(np.clip(round((len(kept) / 10) ** 0.5), 2, _MAX_THEMES))
    return _cluster(
        [texts[pool[j]] for j in kept], [docs[j] for j in kept], shown, min(k, len(kept)),
        examples,
    )  # fmt: skip


def _documents(
    texts: Sequence[str], languages: Sequence[str]
) -> tuple[list[list[str]], dict[str, str]]:
    """Per text its words (folded); and for each word the original form seen most."""
    seen: dict[str, Counter[str]] = {}
    docs = []
    for text, folded, lang in zip(texts, fold_many(texts), languages, strict=True):
        if lang == "en":
            words = english_tokens(folded)
            for word in words:
                seen.setdefault(word, Counter())[word] += 1
        else:
            tokens = chinese_tokens(folded)
            words = [word for word, _, _ in tokens]
            for word, start, end in tokens:
                seen.setdefault(word, Counter())[text[start:end]] += 1
        docs.append(words)
    return docs, {word: forms.most_common(1)[0][0] for word, forms in seen.items()}


def _cluster(
    texts: list[str],
    docs: list[list[str]],
    shown: dict[str, str],
    k: int,
    examples: int,
) -> list[Theme]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(
        analyzer=_identity,
        min_df=2 if len(docs) >= 20 else 1,
        max_df=0.5,
        sublinear_tf=True,
    )
    try:
        matrix = vectorizer.fit_transform(docs)
    except ValueError:  # every word too rare or too common
        return []
    vocabulary = np.array(vectorizer.get_feature_names_out())
    space = _reduce(matrix)
    labels, centres = _kmeans(space, k)
    themes = []
    for cluster in range(k):
        members = np.flatnonzero(labels == cluster)
        if len(members) < 2:
            continue
        weights = np.asarray(matrix[members].mean(axis=0)).ravel()
        top = [shown[str(w)] for w in vocabulary[np.argsort(-weights)[:_KEYWORDS]]]
        near = members[np.argsort(-(space[members] @ centres[cluster]))[:examples]]
        themes.append((len(members), tuple(top), tuple(_short(texts[i]) for i in near)))
    themes.sort(key=lambda theme: -theme[0])
    return [
        Theme(key=f"theme_{n:02d}", keywords=top, examples=near, size=size)
        for n, (size, top, near) in enumerate(themes, start=1)
    ]


def _identity(words: list[str]) -> list[str]:
    return words


def _reduce(matrix: Any) -> np.ndarray:
    """Latent semantic analysis: at most 100 SVD components, rows of unit length."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import normalize

    components = min(100, matrix.shape[1] - 1, matrix.shape[0] - 1)
    if components < 2:
        return np.asarray(normalize(matrix).toarray())
    reduced = TruncatedSVD(n_components=components, random_state=_SEED).fit_transform(
        matrix
    )
    return np.asarray(normalize(reduced))


def _kmeans(space: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.cluster import KMeans
    from sklearn.preprocessing import normalize

    model = KMeans(n_clusters=k, n_init=4, random_state=_SEED).fit(space)
    return model.labels_, np.asarray(normalize(model.cluster_centers_))


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _EXAMPLE_CHARS else text[: _EXAMPLE_CHARS - 1] + "…"


@dataclass(frozen=True, slots=True)
class ThemeReport:
    """What theme discovery found in a file."""

    texts: int
    without_topic: int
    themes: tuple[Theme, ...]
    rejects: int
    names: tuple[RecurringName, ...] = ()


def discover_file_themes(
    *,
    input: Path,
    text_column: str,
    taxonomy_path: Path | None = None,
    n_themes: int | None = None,
    examples: int = 3,
) -> ThemeReport:
    """Read a CSV, JSON Lines or Parquet file and discover the themes of its texts.

    Each text is read as ``text score`` reads it (:func:`cxloop.text.scoring.prepare_text`:
    its markup out, and of a chat or call transcript only the customer's turns), so the
    agents' replies and the speaker labels are neither theme words nor examples.

    Raises
    ------
    InvalidInput
        When the file cannot be read, the column is missing or the taxonomy is invalid.
    """
    from cxloop.text.files import column_texts, read_input
    from cxloop.text.language import detect_languages
    from cxloop.text.scoring import prepare_text
    from cxloop.text.taxonomy import load_taxonomy

    taxonomy = load_taxonomy(taxonomy_path)
    table = read_input(input, required=(text_column,))
    texts = [prepare_text(text) for text in column_texts(table.table, text_column)]
    languages = detect_languages(drop_terms(texts, taxonomy.ignore_terms))
    keys = topic_keys(texts, languages, taxonomy=taxonomy)
    themes = discover_themes(
        texts, languages, taxonomy=taxonomy, n_themes=n_themes, examples=examples
    )
    return ThemeReport(
        texts=len(texts),
        without_topic=sum(
            1 for t, k in zip(texts, keys, strict=True) if t.strip() and not k
        ),
        themes=tuple(themes),
        rejects=len(table.rejects),
        names=tuple(recurring_names(texts, ignore_terms=taxonomy.ignore_terms)),
    )


def themes_to_yaml(
    themes: Sequence[Theme],
    *,
    names: Sequence[RecurringName] = (),
    extends_default: bool = False,
) -> str:
    """Render themes as taxonomy topics (YAML) to review and paste into a taxonomy.

    The result loads with :func:`cxloop.text.taxonomy.parse_taxonomy`; each topic's
    examples are YAML comments. ``names`` (recurring tags and accounts) become its
    ``ignore_terms``; with ``extends_default`` it starts with ``extends: default``, so
    that it can be used as it is, beside the shipped topics.
    """
    lines = [
        "# Topics proposed by theme discovery: rename them, prune the keywords and move",
        "# the ones worth keeping into your taxonomy file.",
    ]
    if extends_default:
        lines[1:] = [
            "# the ones worth keeping. This file adds to the shipped default taxonomy",
            "# (extends: default): pass it to --taxonomy or CXLOOP_TAXONOMY_PATH as it is.",
            "extends: default",
        ]
    if names:
        lines += [
            "# Tags and accounts found in many of the texts (how many carry each). Keep",
            "# the ones that are your own names (brands, stores, accounts) and delete the",
            "# others: your own names say nothing about how a customer feels.",
            "ignore_terms:",
            *(f"  - {_quote(name.name)}  # {name.texts} texts" for name in names),
        ]
    topics: list[str] = []
    for number, theme in enumerate(themes, start=1):
        zh = [w for w in theme.keywords if not w.isascii()]
        en = [w for w in theme.keywords if w.isascii() and english_word_ok(w)]
        if not zh and not en:
            continue
        label = "、".join(theme.keywords[:3])
        topics += [
            f"  - key: {theme.key}",
            f"    name: {{zh-TW: {_quote(f'主題 {number}：{label}')}, "
            f"en: {_quote(f'Theme {number}: ' + ', '.join(theme.keywords[:3]))}}}",
            f"    # {theme.size} texts, for example:",
            *(f"    #   {_comment(example)}" for example in theme.examples),
            "    keywords:",
            f"      zh: [{', '.join(_quote(w) for w in zh)}]",
            f"      en: [{', '.join(_quote(w) for w in en)}]",
        ]
    lines += ["topics:", *topics] if topics or not extends_default else ["topics: []"]
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _comment(text: str) -> str:
    return " ".join(text.split())
