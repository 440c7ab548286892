"""Hashtags and @mentions left out of what the language is read from.

A social post often ends with the brand's own tag ("#禾光生活", "#HeguangLiving") or names
an account ("@heguang_tw"). Such a name is not the language of the post: before this
rule an English review with "#禾光生活" appended was read as Chinese (and scored by the
Chinese model), which cost the UCI Amazon test sentences 9 points of accuracy (0.909 →
0.823; 0.904 with the rule, see bench/README.md).

Only the language is read without tags. The sentiment, the emotion, the topics and the
keywords read them: hashtags carry feeling in tweets (#fail, #blessed), and leaving
every tag out of the sentiment cost TweetEval emotion 11 points of macro-F1. A text
that is nothing but tags keeps them (there is nothing else to read).
"""

from __future__ import annotations

import re

from cxloop.text.markup import close_gaps

#: Names the rule (part of the text version, so ``text rescore`` picks older rows up).
VERSION = "tags-1"

#: A Weibo topic (#新冠肺炎#), a hashtag with at least one letter (#HeguangLiving, #禾光生活;
#: not "#12" of an order number), or an @mention (not the middle of an e-mail address).
_TAG = re.compile(
    r"#[^#\s]{1,40}#|(?<![\w&])#(?=\w*[^\W\d_])\w+|(?<![\w.+-])@\w+(?:\.\w+)*"
)


def without_tags(text: str) -> str:
    """``text`` without its hashtags and @mentions; ``text`` itself when that leaves nothing.

    Examples
    --------
    >>> without_tags("Delivery was late. #HeguangLiving @heguang_tw")
    'Delivery was late.'
    >>> without_tags("#新冠肺炎# 口罩還是買不到")
    '口罩還是買不到'
    >>> without_tags("order #12 for a@b.tw")
    'order #12 for a@b.tw'
    >>> without_tags("#love #happy")
    '#love #happy'
    """
    if "#" not in text and "@" not in text:
        return text
    left = close_gaps(_TAG.sub(" ", text))
    return left if any(ch.isalnum() for ch in left) else text
