"""Hashtags and @accounts that recur across a company's texts: names to review.

A company's own tags (``#禾光生活``, ``#HeguangLiving``) and accounts (``@heguang_tw``)
say nothing about how a customer feels, yet the letters of a name the models never saw
move the sentiment until the name is listed under the taxonomy's ``ignore_terms``
(:mod:`cxloop.text.ignore_terms`). Nobody lists what they do not know is there, so
theme discovery also reports the tags and accounts that recur in many texts; the user
keeps those that are the company's own. Campaign or news tags (``#新冠肺炎#``) recur too:
they are the user's call, which is why the names are proposed, never applied.

A name counts once per text; its forms are one name when they differ only in case,
script (Traditional or Simplified) or a Weibo topic's closing ``#``, and it is shown as
most often written.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from cxloop.text.chinese import to_simplified
from cxloop.text.ignore_terms import drop_terms
from cxloop.text.language import HASHTAG
from cxloop.text.taxonomy import ignored_name_ok

#: A hashtag or Weibo topic (as the language rule reads them) or an @account; not the
#: "@example" of an e-mail address.
_NAME = re.compile(HASHTAG.pattern + r"|(?<![\w.@])@\w{2,40}")
#: A name must be in this share of the texts that are not empty, and in at least
#: _MIN_TEXTS of them.
MIN_SHARE = 0.005
_MIN_TEXTS = 3


@dataclass(frozen=True, slots=True)
class RecurringName:
    """A tag or account and the number of texts that carry it."""

    name: str
    texts: int


def recurring_names(
    texts: Sequence[str],
    *,
    ignore_terms: Sequence[str] = (),
    min_share: float = MIN_SHARE,
    limit: int = 20,
) -> list[RecurringName]:
    """The tags and accounts in at least ``min_share`` of the texts, most first.

    The share counts the texts that are not empty.

    Names already listed in ``ignore_terms`` are not proposed again.

    Examples
    --------
    >>> posts = ["門市很乾淨 #禾光生活", "#禾光生活# 排隊好久", "Great staff #HeguangLiving",
    ...          "店員親切 #禾光生活", "email me at a@b.com", "#禾光生活 好"]
    >>> recurring_names(posts, min_share=0.3)
    [RecurringName(name='#禾光生活', texts=4)]
    >>> recurring_names(posts, ignore_terms=["禾光生活"], min_share=0.3)
    []
    """
    if not 0 < min_share <= 1:
        raise ValueError("min_share must be in (0, 1]")
    per_text = [
        {
            name
            for match in _NAME.finditer(text or "")
            if ignored_name_ok(name := match.group().rstrip("#"))
        }
        for text in drop_terms(texts, ignore_terms)
    ]
    forms = sorted(set().union(*per_text))
    key_of = dict(zip(forms, to_simplified([f.lower() for f in forms]), strict=True))
    counts: Counter[str] = Counter()
    written: dict[str, Counter[str]] = {}
    for found in per_text:
        counts.update({key_of[form] for form in found})
        for form in found:
            written.setdefault(key_of[form], Counter())[form] += 1
    needed = max(
        _MIN_TEXTS, min_share * sum(1 for text in texts if text and text.strip())
    )
    return [
        RecurringName(name=written[key].most_common(1)[0][0], texts=n)
        for key, n in counts.most_common()
        if n >= needed
    ][:limit]
