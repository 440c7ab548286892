"""Chinese script handling: one script for model features, the other for benchmarks.

Every text model reads text through :func:`normalise`, which turns Traditional Chinese
into Simplified (phrase-aware, Taiwan usage: 軟體 → 软件) so that the same comment
scores the same in either script. :func:`to_traditional` goes the other way and is used
to measure that promise on converted test sets. The OpenCC converters are built lazily,
once per process.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import cache
from typing import Literal

import opencc

_SPACES = re.compile(r"\s+")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
#: Separators for normalising many texts in one call: ``_BATCH`` is not whitespace, so
#: it survives whitespace collapsing; OpenCC then reads ``_JOIN`` (which, collapsed, no
#: text contains any more) because it stops at NUL.
_BATCH = "\x00"
_JOIN = "\n"
#: Script detection looks at this many Han characters at most.
_SCRIPT_SAMPLE = 300
#: Characters OpenCC would convert to Traditional that Taiwan text also uses as they are.
_SHARED = frozenset("台里后干余云系周只才准游范松冲征致布凶咸郁晒吓揾")


@cache
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(f"{config}.json")


def has_han(text: str) -> bool:
    """Whether ``text`` contains at least one Han (Chinese) character."""
    return _HAN.search(text) is not None


def _clean(text: str, max_chars: int) -> str:
    text = unicodedata.normalize("NFKC", text[: max_chars * 2])
    return _SPACES.sub(" ", text).strip().lower()[:max_chars]


def normalise(text: str, *, max_chars: int = 2000) -> str:
    """Return ``text`` in the one form every text model reads.

    NFKC (full-width letters and digits become ASCII), whitespace collapsed to single
    spaces, Latin lower-cased, Traditional Chinese converted to Simplified with Taiwan
    phrases (OpenCC ``tw2sp``), and the result cut to ``max_chars`` characters.

    Parameters
    ----------
    text : str
        Any text; HTML and other markup are kept as plain characters.
    max_chars : int
        The longest result; longer texts are truncated, never rejected.

    Examples
    --------
    >>> normalise("這個ＡＰＰ的軟體  很好用")
    '这个app的软件 很好用'
    """
    cleaned = _clean(text, max_chars)
    if not has_han(cleaned):
        return cleaned
    return str(_converter("tw2sp").convert(cleaned))[:max_chars]


def normalise_many(texts: Sequence[str], *, max_chars: int = 2000) -> list[str]:
    """:func:`normalise` for many texts at once (one NFKC and one OpenCC call per batch)."""
    if not texts:
        return []
    parts = [t if len(t) <= max_chars * 2 else t[: max_chars * 2] for t in texts]
    joined = _BATCH.join(parts)
    if joined.count(_BATCH) != max(len(parts) - 1, 0):  # a text holds the separator
        return [normalise(t, max_chars=max_chars) for t in texts]
    joined = _SPACES.sub(" ", unicodedata.normalize("NFKC", joined)).lower()
    if has_han(joined):
        converted = str(_converter("tw2sp").convert(joined.replace(_BATCH, _JOIN)))
        pieces = converted.split(_JOIN)
        if len(pieces) != len(parts):  # never seen; stay exact rather than fast
            return [normalise(t, max_chars=max_chars) for t in texts]
    else:
        pieces = joined.split(_BATCH)
    return [piece.strip()[:max_chars] for piece in pieces]


def to_simplified(texts: Sequence[str]) -> list[str]:
    """Traditional Chinese in ``texts`` as Simplified (OpenCC ``tw2sp``); nothing else changes.

    Unlike :func:`normalise`, case, width and spacing are kept (a transformer's own
    tokenizer deals with them); texts without Han characters come back as they are.
    """
    convert = _converter("tw2sp").convert
    return [str(convert(t)) if has_han(t) else t for t in texts]


def to_traditional(text: str) -> str:
    """Convert Simplified Chinese to Traditional with Taiwan phrases (OpenCC ``s2twp``).

    Examples
    --------
    >>> to_traditional("这个软件很好用")
    '這個軟體很好用'
    """
    return str(_converter("s2twp").convert(text))


def script_of(text: str) -> Literal["Hant", "Hans"] | None:
    """Return the Chinese script of ``text``, or ``None`` when it has no Han character.

    Counts, character by character, those that only exist in Traditional form and those
    that only exist in Simplified form; the larger count wins. A text whose characters are the same in
    both scripts (``很好``) is reported as ``"Hant"``, the product's first language.

    Examples
    --------
    >>> script_of("這個軟體很好用"), script_of("这个软件很好用"), script_of("ok")
    ('Hant', 'Hans', None)
    """
    han = _HAN.findall(text)[:_SCRIPT_SAMPLE]
    if not han:
        return None
    # One character per line, so that OpenCC converts characters, not phrases.
    chars = _JOIN.join(han)
    as_simplified = str(_converter("t2s").convert(chars)).split(_JOIN)
    as_traditional = str(_converter("s2t").convert(chars)).split(_JOIN)
    traditional_only = sum(a != b for a, b in zip(han, as_simplified, strict=False))
    simplified_only = sum(
        a != b and a not in _SHARED for a, b in zip(han, as_traditional, strict=False)
    )
    return "Hans" if simplified_only > traditional_only else "Hant"
