"""Markup in customer text: what the text stage reads of a text that carries HTML.

Texts come from web forms, e-mail bodies and chat widgets, and some carry HTML
(``<br>``, ``<p>``, ``&nbsp;``) or worse (``<script>...</script>``). The text is stored
as it came and never rendered (every page escapes it), but scored as it is, the
markup's letters would count as words: "<script>alert(1)</script>客服態度很差" read as
partly English, and its sentiment shrank from −0.88 to −0.28. So before scoring, script
and style blocks go with their content, other tags go, a line break or a block's end
becomes a new line, and entities are decoded.

A ``<`` that does not start a tag stays: "價格<100元", "I <3 it".
"""

from __future__ import annotations

import html
import re

#: Changes whenever the rule changes (part of the text version).
VERSION = "markup-1"
_BLOCK = re.compile(r"<(script|style)\b[^<>]{0,200}>.*?(?:</\1\s*>|$)", re.I | re.S)
_BREAK = re.compile(r"<(?:br|/p|/div|/li|/tr|/h[1-6])\b[^<>]{0,200}>", re.I)
_TAG = re.compile(r"<!--.*?(?:-->|$)|</?[a-z][^<>]{0,200}>", re.I | re.S)
_SPACES = re.compile(r"[ \t\u00a0]{2,}")


def plain_text(text: str) -> str:
    """``text`` without its markup (see the module's docstring).

    Examples
    --------
    >>> plain_text("<p>外送太慢<br>餐點&amp;飲料都冷了</p>")
    '外送太慢\\n餐點&飲料都冷了'
    >>> plain_text("<script>alert(1)</script>客服態度很差")
    '客服態度很差'
    >>> plain_text("價格<100元, I <3 it")
    '價格<100元, I <3 it'
    """
    if "<" not in text and "&" not in text:
        return text
    text = _BLOCK.sub(" ", text)
    text = _BREAK.sub("\n", text)
    text = _TAG.sub(" ", text)
    return close_gaps(html.unescape(text))


def close_gaps(text: str) -> str:
    """``text`` with the gaps that taking pieces out of it left closed: runs of spaces
    made one, each line stripped, empty lines dropped.

    >>> close_gaps("外送太慢  \\n\\n  餐點冷了 ")
    '外送太慢\\n餐點冷了'
    """
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)
