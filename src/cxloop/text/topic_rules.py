"""Taxonomy keywords and rules, compiled once into one regular expression.

Texts are *folded* before matching: NFKC (full-width letters become ASCII), lower case,
and Taiwan Traditional characters become Simplified (OpenCC ``tw2s``, character by
character). Folding keeps the length of the text, so a match at ``[start:end]`` of the
folded text is the substring ``text[start:end]`` of the original, in its own script.
Keywords are folded the same way, each in several script variants (``軟體`` also
matches ``软件``), and compiled into one trie-shaped regular expression: one scan finds
every keyword of every topic, the longest one winning where they overlap.
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from cxloop.text.taxonomy import Taxonomy

#: Changes whenever the rule of :func:`sentiment_span` changes (part of the text version).
SPANS_VERSION = "spans-2"
#: Longest prefix of a text that topics are looked for in.
MAX_CHARS = 10_000
_CLAUSE_END = re.compile(
    r"[。！？!?；;，,、：:\n\r\t…~～]+|\.(?!\d)|\s+-\s+|(?<!不)但是?|可是|不过|"
    r"\b(?:but|however|although|though|except)\b"
)
_BARE_CLAUSE = 2
#: A separator with one of these turns to something else: the clause after it is never
#: read as more about the topic before it.
_CONTRAST = re.compile(r"但|可是|不过|\b(?:but|however|although|though|except)\b")
_ASCII_ALNUM = re.compile(r"[a-z0-9]")
_ASCII_WORD = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_END = ""


@dataclass(frozen=True, slots=True)
class CompiledTaxonomy:
    """A taxonomy made ready for matching (see :func:`compile_taxonomy`)."""

    keys: tuple[str, ...]
    chinese: dict[str, tuple[int, ...]]
    english: re.Pattern[str]
    exact: dict[str, tuple[int, ...]]
    stems: dict[str, tuple[int, ...]]
    rule_words: re.Pattern[str]
    rule_ids: dict[str, frozenset[int]]
    rules: tuple[tuple[int, tuple[int, ...]], ...]


@dataclass(slots=True)
class RuleHits:
    """The topics found by keywords and rules in one text.

    ``spans[topic]`` are the matched ``(start, end)`` spans; ``clauses[topic]`` the
    indexes into ``clause_spans`` of the clauses that mention the topic; ``turns`` the
    indexes of the clauses that follow a contrast (但是, 可是, but, however...).
    """

    clause_spans: list[tuple[int, int]]
    spans: dict[int, list[tuple[int, int]]]
    clauses: dict[int, list[int]]
    turns: frozenset[int] = frozenset()


@functools.cache
def _converters() -> tuple[Any, ...]:
    import opencc

    return tuple(opencc.OpenCC(name) for name in ("tw2s", "tw2sp", "s2twp", "s2t"))


def fold(text: str, *, max_chars: int = MAX_CHARS) -> str:
    """Fold one text for matching; the result has the length of ``text[:max_chars]``."""
    return fold_many([text], max_chars=max_chars)[0]


def fold_many(texts: Sequence[str], *, max_chars: int = MAX_CHARS) -> list[str]:
    """Fold a batch of texts (one OpenCC call for the whole batch)."""
    wide = [_fold_width(text[:max_chars]).replace("\n", "\r") for text in texts]
    converter = _converters()[0]
    joined: str = converter.convert("\n".join(wide))
    folded = joined.split("\n")
    if len(folded) != len(wide):
        folded = [converter.convert(text) for text in wide]
    return [
        simple if len(simple) == len(text) else _by_char(text)
        for simple, text in zip(folded, wide, strict=True)
    ]


def _fold_width(text: str) -> str:
    if not text.isascii():
        text = text.translate(_width_table())
    lower = text.lower()
    return lower if len(lower) == len(text) else "".join(_fold_char(ch) for ch in text)


@functools.cache
def _width_table() -> dict[int, str]:
    """NFKC for the characters of the Basic Multilingual Plane it maps to one character
    (full-width letters, digits and punctuation, compatibility ideographs...)."""
    table = {}
    for code in range(0x80, 0x10000):
        if 0xD800 <= code < 0xE000:
            continue
        folded = unicodedata.normalize("NFKC", chr(code))
        if len(folded) == 1 and folded != chr(code):
            table[code] = folded
    return table


def _by_char(text: str) -> str:
    converter = _converters()[0]
    return "".join(
        (out if len(out := converter.convert(ch)) == 1 else ch) for ch in text
    )


def _fold_char(ch: str) -> str:
    folded = unicodedata.normalize("NFKC", ch).lower()
    if len(folded) == 1:
        return folded
    lower = ch.lower()
    return lower if len(lower) == 1 else ch


def _variants(word: str, *, chinese: bool) -> set[str]:
    base = fold(word)
    if not chinese:
        return {base}
    _, tw2sp, s2twp, s2t = _converters()
    forms = {base, tw2sp.convert(base), s2twp.convert(base), s2t.convert(base)}
    return {fold(form) for form in forms if form}


@functools.lru_cache(maxsize=8)
def compile_taxonomy(taxonomy: Taxonomy) -> CompiledTaxonomy:
    """Compile the keywords, excludes and rules of ``taxonomy`` (cached per taxonomy)."""
    exact: dict[str, list[int]] = {}
    stems: dict[str, list[int]] = {}
    for index, topic in enumerate(taxonomy.topics):
        for word, chinese, keep in _terms(topic):
            for form in _variants(word.rstrip("*"), chinese=chinese):
                table = stems if word.endswith("*") else exact
                roles = table.setdefault(form, [])
                if keep and index not in roles:
                    roles.append(index)
    words, rules = _rule_words(taxonomy)
    ids: dict[str, set[int]] = {}
    for word_id, word in enumerate(words):
        for form in _variants(word, chinese=True):
            ids.setdefault(form, set()).add(word_id)
    tries = _tries(exact, stems)
    return CompiledTaxonomy(
        keys=taxonomy.keys,
        chinese=_lengths(w for w in exact if w[0] not in _ASCII_WORD),
        english=_compile_trie(tries[True], boundary=True),
        exact={k: tuple(v) for k, v in exact.items()},
        stems={k: tuple(v) for k, v in stems.items()},
        rule_words=_compile_trie(_tries(dict.fromkeys(ids), {}, split=False)[False],
                                 boundary=False),
        rule_ids={k: frozenset(v) for k, v in ids.items()},
        rules=tuple(rules),
    )  # fmt: skip


def _lengths(words: Iterable[str]) -> dict[str, tuple[int, ...]]:
    """For each first character, the lengths of the words starting with it, longest first."""
    lengths: dict[str, set[int]] = {}
    for word in words:
        lengths.setdefault(word[0], set()).add(len(word))
    return {ch: tuple(sorted(sizes, reverse=True)) for ch, sizes in lengths.items()}


def _scan(folded: str, compiled: CompiledTaxonomy) -> list[tuple[int, int]]:
    """Longest-first forward scan for the non-English words (faster than a regular
    expression with hundreds of alternatives)."""
    found = []
    lengths, exact = compiled.chinese, compiled.exact
    i, size = 0, len(folded)
    while i < size:
        for length in lengths.get(folded[i], ()):
            if folded[i : i + length] in exact:
                found.append((i, i + length))
                i += length
                break
        else:
            i += 1
    return found


def _rule_words(
    taxonomy: Taxonomy,
) -> tuple[list[str], list[tuple[int, tuple[int, ...]]]]:
    words: dict[str, int] = {}
    rules = []
    for index, topic in enumerate(taxonomy.topics):
        for rule in topic.rules:
            ids = tuple(words.setdefault(w, len(words)) for w in rule.all)
            rules.append((index, ids))
    return list(words), rules


def _terms(topic: Any) -> Iterable[tuple[str, bool, bool]]:
    yield from ((w, True, True) for w in topic.keywords_zh)
    yield from ((w, False, True) for w in topic.keywords_en)
    yield from ((w, True, False) for w in topic.exclude_zh)
    yield from ((w, False, False) for w in topic.exclude_en)


def _tries(
    exact: dict[str, Any], stems: dict[str, Any], *, split: bool = True
) -> dict[bool, dict[str, Any]]:
    """Character tries: words starting with an ASCII letter or digit (``True``) and the
    rest (``False``); with ``split=False`` all words go to the ``False`` trie."""
    tries: dict[bool, dict[str, Any]] = {True: {}, False: {}}
    for table, mark in ((exact, "plain"), (stems, "star")):
        for word in table:
            node = tries[split and word[0] in _ASCII_WORD]
            for ch in word:
                node = node.setdefault(ch, {})
            if node.get(_END) != "star":
                node[_END] = mark
    return tries


def _compile_trie(trie: dict[str, Any], *, boundary: bool) -> re.Pattern[str]:
    """One regular expression for a trie, longest words first.

    With ``boundary`` an English word must not follow a letter or digit: the look-behind
    sits after the first character so that the expression starts with a literal, which
    lets the regular expression engine skip quickly to candidate positions.
    """
    if not trie:
        return re.compile(r"(?!x)x")
    alternatives = []
    for ch, child in sorted(trie.items()):
        guard = f"(?<![a-z0-9]{re.escape(ch)})" if boundary else ""
        alternatives.append((ch, re.escape(ch) + guard + _node_regex(child, ch)))
    size = max(8, int(len(alternatives) ** 0.5))
    groups = [alternatives[i : i + size] for i in range(0, len(alternatives), size)]
    if len(groups) == 1:
        return re.compile("(?:" + "|".join(alt for _, alt in alternatives) + ")")
    # Two levels: a character class picks the group, so each position tries about
    # 2 * sqrt(n) alternatives rather than n.
    return re.compile(
        "|".join(
            "(?=[" + "".join(re.escape(ch) for ch, _ in group) + "])(?:"
            + "|".join(alt for _, alt in group) + ")"
            for group in groups
        )
    )  # fmt: skip


def _node_regex(node: dict[str, Any], last: str) -> str:
    alternatives = [
        re.escape(ch) + _node_regex(child, ch)
        for ch, child in sorted(node.items())
        if ch != _END
    ]
    mark = node.get(_END)
    if mark is not None:
        alternatives.append(_ending(mark, last))
    if len(alternatives) == 1:
        return alternatives[0]
    return "(?:" + "|".join(alternatives) + ")"


def _ending(mark: str, last: str) -> str:
    if mark == "star":
        return r"[a-z0-9'-]*(?![a-z0-9])"
    return r"(?![a-z0-9])" if last in _ASCII_WORD else ""


def clause_spans(folded: str) -> list[tuple[int, int]]:
    """The ``(start, end)`` spans of the clauses of a folded text (never empty)."""
    spans = []
    start = 0
    for sep in _CLAUSE_END.finditer(folded):
        if sep.start() > start:
            spans.append((start, sep.start()))
        start = sep.end()
    if start < len(folded) or not spans:
        spans.append((start, len(folded)))
    return spans


def match_rules(folded: str, compiled: CompiledTaxonomy) -> RuleHits:
    """Find the topics of one folded text by keywords and rules."""
    clauses = clause_spans(folded)
    starts = [s for s, _ in clauses]
    turns = frozenset(
        i for i in range(1, len(clauses))
        if _CONTRAST.search(folded, clauses[i - 1][1], clauses[i][0])
    )  # fmt: skip
    hits = RuleHits(clause_spans=clauses, spans={}, clauses={}, turns=turns)
    spans = _scan(folded, compiled)
    if _ASCII_ALNUM.search(folded):
        spans += (match.span() for match in compiled.english.finditer(folded))
    for start, end in spans:
        clause = bisect.bisect_right(starts, start) - 1
        for topic in _roles(folded[start:end], compiled):
            _add(hits, topic, (start, end), clause)
    if compiled.rules:
        _apply_rules(folded, hits, compiled, starts)
    return hits


def _roles(term: str, compiled: CompiledTaxonomy) -> tuple[int, ...]:
    roles = compiled.exact.get(term, ())
    if compiled.stems and term[0] in _ASCII_WORD:
        for size in range(len(term), 0, -1):
            extra = compiled.stems.get(term[:size])
            if extra:
                roles = roles + extra
    return roles


def _add(hits: RuleHits, topic: int, span: tuple[int, int], clause: int) -> None:
    hits.spans.setdefault(topic, []).append(span)
    seen = hits.clauses.setdefault(topic, [])
    if clause not in seen:
        seen.append(clause)


def _apply_rules(
    folded: str, hits: RuleHits, compiled: CompiledTaxonomy, starts: list[int]
) -> None:
    """Add the topics whose rule words all occur in one clause."""
    found: dict[int, dict[int, tuple[int, int]]] = {}
    for match in compiled.rule_words.finditer(folded):
        clause = bisect.bisect_right(starts, match.start()) - 1
        words = found.setdefault(clause, {})
        for word_id in compiled.rule_ids[match.group()]:
            words.setdefault(word_id, (match.start(), match.end()))
    for clause, words in found.items():
        for topic, ids in compiled.rules:
            if all(word_id in words for word_id in ids):
                for word_id in ids:
                    _add(hits, topic, words[word_id], clause)


def sentiment_span(hits: RuleHits, topic: int) -> list[tuple[int, int]]:
    """The spans whose words carry the sentiment about ``topic``.

    The clauses that mention the topic, each with the clauses after it that mention no
    topic, up to the next one that does or to a contrast ("客服回覆很快，處理得很好":
    both clauses are about customer service; "配送很快，但東西壞了": only the first is
    about delivery). The clauses before the first mention of any topic go with that
    first mention. A clause that is little more than the matched words (a bare noun
    such as ``外送員，``) takes the clause after it along even when that one mentions
    another topic, but not across a contrast.
    """
    mentioned = {index for found in hits.clauses.values() for index in found}
    first = min(mentioned)
    last_clause = len(hits.clause_spans) - 1
    spans = []
    for index in sorted(hits.clauses[topic]):
        start, end = hits.clause_spans[0 if index == first else index]
        matched = sum(e - s for s, e in hits.spans[topic] if start <= s < end)
        after = index
        while (after < last_clause and after + 1 not in mentioned
               and after + 1 not in hits.turns):  # fmt: skip
            after += 1
        bare = end - start - matched < _BARE_CLAUSE
        if (
            after == index
            and bare
            and index < last_clause
            and index + 1 not in hits.turns
        ):
            after = index + 1
        spans.append((start, hits.clause_spans[after][1]))
    return _merged(spans)


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping spans (in order) joined into one."""
    out: list[tuple[int, int]] = []
    for start, end in spans:
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out
