"""The taxonomy's ``ignore_terms``: names taken out of a text before it is read.

A company's own brand, hashtags, accounts and store names say nothing about how a
customer feels, yet a name the models never saw moves the sentiment through its letters
(bench/README.md, "Tags do not decide the language"), and a brand named in every post
would top every text's keywords. The names listed under ``ignore_terms`` in the taxonomy
are removed from what the language, sentiment, emotion, topics, intent and keywords read;
the stored text keeps them.

A name matches case-insensitively, in either Chinese script, with or without a leading
``#`` or ``@`` (and a Weibo topic's closing ``#``), and with or without the spaces in it
("Heguang Living" also matches "#HeguangLiving"). A name that starts or ends with a
Latin letter or digit matches whole words only ("Acme" is not taken out of "Acmeville").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from cxloop.text.chinese import has_han, to_simplified, to_traditional
from cxloop.text.markup import close_gaps

_WORDLIKE = re.compile(r"[A-Za-z0-9]")


def drop_terms(texts: Sequence[str], terms: Sequence[str]) -> list[str]:
    """``texts`` with every one of ``terms`` taken out (see the module's notes).

    Examples
    --------
    >>> drop_terms(["It was okay. #HeguangLiving", "禾光生活的店員很親切", "Acmeville"],
    ...            ["Heguang Living", "禾光生活", "Acme"])
    ['It was okay.', '的店員很親切', 'Acmeville']
    """
    if not terms:
        return list(texts)
    pattern = _pattern(tuple(terms))
    return [close_gaps(pattern.sub(" ", text)) if text else text for text in texts]


@lru_cache(maxsize=8)
def _pattern(terms: tuple[str, ...]) -> re.Pattern[str]:
    forms = {form for term in terms for form in _forms(term)}
    parts = [_one(form) for form in sorted(forms, key=len, reverse=True)]
    return re.compile("|".join(parts), re.IGNORECASE)


def _forms(term: str) -> set[str]:
    """The term as written and, when it has Han characters, in both scripts."""
    bare = term.strip().lstrip("#@").rstrip("#").strip()
    forms = {bare} if bare else set()
    if bare and has_han(bare):
        forms |= {to_traditional(bare), *to_simplified([bare])}
    return forms


def _one(form: str) -> str:
    """One name as a pattern: optional #/@ before, optional # after, spaces optional."""
    body = r"[\s_]*".join(re.escape(word) for word in form.split())
    start = r"(?<![\w])" if _WORDLIKE.match(form[0]) else ""
    end = r"(?![\w])" if _WORDLIKE.match(form[-1]) else ""
    return rf"(?:(?<![\w#@])[#@])?{start}{body}{end}#?"
