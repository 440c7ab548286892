"""The customer's side of a conversation: what the text stage reads in a transcript.

A chat or call transcript (``客戶: ...`` / ``客服: ...`` one turn a line, as the intake
API stores it, or ``Customer: ... / Agent: ...``) mixes the customer's words with the
agent's polite boilerplate ("已為您記錄，將儘快處理"), and the speaker labels themselves
look like topic words (客服 = customer service). Sentiment, topics and intent are about
the customer, so only the customer's turns are scored. A text without speaker labels
is read whole.

An e-mail or ticket often starts with its header's label (``主旨：退款還沒到``,
``Subject: Re: refund``): the label is not the customer's words (it would be the top
keyword of every ticket) and is left out; the subject after it is read.
"""

from __future__ import annotations

import re

#: Changes whenever the labels or the rule change (part of the text version).
VERSION = "transcripts-3"
CUSTOMER_LABELS = ("客戶", "客户", "顧客", "顾客", "客人", "消費者", "消费者", "customer",
                   "client", "caller", "user")  # fmt: skip
#: An agent's note of what the customer said (``來電反映：...``, ``Caller says: ...``):
#: the words after it are the customer's too.
REPORTED_LABELS = ("來電反映", "来电反映", "來電表示", "来电表示", "客戶反映", "客户反映",
                   "客戶表示", "客户表示", "顧客反映", "顾客反映", "顧客表示", "顾客表示",
                   "客人反映", "民眾反映", "民众反映", "消費者反映", "消费者反映")  # fmt: skip
_SAYS = r"(?:[ \t]+(?:says|said|writes|wrote|reports|reported|asks|asked))?"
OTHER_LABELS = ("客服", "專員", "专员", "服務人員", "服务人员", "機器人", "机器人", "店員",
                "店员", "agent", "bot", "staff", "support", "system", "系統", "系统")  # fmt: skip
_LABELS = sorted(
    CUSTOMER_LABELS + REPORTED_LABELS + OTHER_LABELS, key=len, reverse=True
)
_LABEL = re.compile(
    r"^[ \t]*(" + "|".join(map(re.escape, _LABELS)) + r")" + _SAYS + r"[ \t]*[:：]",
    re.IGNORECASE | re.MULTILINE,
)
_CUSTOMER = frozenset(label.lower() for label in CUSTOMER_LABELS + REPORTED_LABELS)
#: Labels of an e-mail's or a ticket's header lines, left out where they start a line.
HEADER_LABELS = ("主旨", "標題", "标题", "主題", "主题", "subject", "re", "fw", "fwd")
_HEADER = re.compile(
    r"^[ \t]*(?:(?:"
    + "|".join(map(re.escape, HEADER_LABELS))
    + r")[ \t]*[:：][ \t]*)+",
    re.IGNORECASE | re.MULTILINE,
)


def without_header_labels(text: str) -> str:
    """``text`` with the header labels at the start of its lines left out.

    >>> without_header_labels("主旨：退款還沒到\\n我上週申請退款")
    '退款還沒到\\n我上週申請退款'
    >>> without_header_labels("Subject: RE: Fwd: refund")
    'refund'
    >>> without_header_labels("The subject: refunds")
    'The subject: refunds'
    """
    return _HEADER.sub("", text)


def customer_side(text: str) -> str:
    """The customer's turns of a transcript, one a line; ``text`` itself otherwise.

    A text is a transcript when a line starts with a customer label (``客戶:``,
    ``Customer:``, ``Customer says:``, or an agent's note such as ``來電反映：``); labels
    of the other side alone (a review saying ``Staff: rude``) do not make one.

    >>> customer_side("客戶: 包裹還沒到\\n客服: 已為您查詢")
    '包裹還沒到'
    >>> customer_side("來電反映：普通，沒有特別好或不好。")
    '普通，沒有特別好或不好。'
    >>> customer_side("The delivery was late.")
    'The delivery was late.'
    """
    turns = _customer_turns(text)
    if turns is None:
        return text
    return "\n".join(piece for a, b in turns if (piece := text[a:b].strip()))


def customer_spans(text: str) -> list[tuple[int, int]]:
    """Where the customer's words are in ``text``: its turns, or the whole text.

    The spans (start, end) index ``text`` itself, labels left out, so a page can mark
    the words that were read in the customer's turns and not in the agent's.

    >>> customer_spans("客戶: 包裹還沒到\\n客服: 已為您查詢")
    [(3, 10)]
    >>> customer_spans("The delivery was late.")
    [(0, 22)]
    """
    turns = _customer_turns(text)
    return [(0, len(text))] if turns is None else turns


def _customer_turns(text: str) -> list[tuple[int, int]] | None:
    """The spans of the customer's turns; ``None`` when ``text`` is no transcript."""
    labels = list(_LABEL.finditer(text))
    if not any(label.group(1).lower() in _CUSTOMER for label in labels):
        return None
    turns = []
    for label, following in zip(labels, [*labels[1:], None], strict=True):
        if label.group(1).lower() in _CUSTOMER:
            end = following.start() if following is not None else len(text)
            turns.append((label.end(), end))
    return turns
