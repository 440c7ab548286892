"""Middling remarks: "一般般吧", "不好不壞", "it was okay" are neutral.

The shipped Chinese sentiment model learnt from reviews with two labels, where a bare
"一般" (so-so) sits on the negative side, so alone it gets a confident negative score.
A CX team reads such a remark as neither praise nor complaint. So a short text that is
nothing but middling remarks (:data:`ZH_PHRASES`, :data:`EN_PHRASES`), optionally after
a lead-in such as 整體來說 or "overall" and before a closing particle such as 吧 or
"I guess", is labelled ``neutral``. Its score keeps its sign and shrinks to at most
:data:`MAX_SCORE`, so the sign (and every positive/negative accuracy measured on it) is
the model's.

Anything that says more ("味道一般，送餐很慢", "okay but the app crashes") keeps the
model's reading. The phrases are written in Traditional Chinese and compared after
:func:`cxloop.text.chinese.normalise`, so Simplified text matches alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import cache

from cxloop.text.chinese import has_han, normalise_many

#: Changes whenever the phrases or the rule change (part of the sentiment model version).
VERSION = "middling-1"
#: The largest |score| a middling remark keeps.
MAX_SCORE = 0.1
#: Longer texts are never bare middling remarks (and are not looked at).
MAX_CHARS = 48

ZH_PHRASES = (
    "一般", "一般般", "普通", "普普通通", "中規中矩", "馬馬虎虎", "平平", "平平無奇",
    "平平淡淡", "不過不失", "不好不壞", "不好也不壞", "不好不差", "不好也不差",
    "不算好也不算差", "不算好不算差", "沒有特別好也沒有特別差", "沒特別好也沒特別差",
    "沒有很好也沒有很差", "沒有特別好或不好", "沒有特別好或特別差", "沒有好也沒有不好",
    "說不上好壞", "說不上好也說不上壞", "沒什麼特別", "沒有什麼特別",
    "沒啥特別", "就那樣", "無感", "有好有壞", "時好時壞", "好壞參半", "見仁見智",
)  # fmt: skip
EN_PHRASES = (
    "ok", "okay", "so so", "average", "nothing special", "not bad not great",
    "not great not bad", "not good not bad", "not bad not good",
    "not great not terrible", "neither good nor bad", "neither bad nor good",
    "middle of the road", "could be better could be worse", "hit and miss", "hit or miss",
)  # fmt: skip
#: Words that may come before the remark: "整體來說一般", "overall it was okay". Not
#: intensifiers: "很一般" and "really average" are complaints.
ZH_LEADS = (
    "整體來說", "整體而言", "總的來說", "總體來說", "總體而言", "大致上", "老實說", "說實話",
    "個人覺得", "我覺得", "我感覺", "覺得", "感覺", "整體", "總體", "其實", "真的", "還是",
    "就是", "只是", "算是", "比較", "都", "就", "算", "還",
)  # fmt: skip
EN_LEADS = (
    "overall", "honestly", "to be honest", "tbh", "all in all", "i think", "i guess",
    "it was", "it is", "it s", "its", "that was", "was", "is", "just", "pretty",
    "kinda", "kind of", "fairly", "quite", "the service was",
    "the food was", "service was", "food was",
)  # fmt: skip
#: Words that may come after it: "一般般吧", "okay I guess".
ZH_TAILS = (
    "而已", "罷了", "的說", "吧", "啦", "啊", "阿", "喔", "哦", "耶", "呢", "囉", "了", "的",
    "呀", "嘛", "咯", "哈",
)  # fmt: skip
EN_TAILS = ("i guess", "i suppose", "overall", "honestly", "i think", "tbh", "lol")

Sentiment = tuple[str, float]

_NOT_WORD = re.compile(r"[^\w]+")
_DIGITS = re.compile(r"\d")


@cache
def _lexicon() -> tuple[frozenset[str], tuple[str, ...], tuple[str, ...]]:
    """The Chinese phrases, leads and tails in the form texts are compared in."""
    phrases, leads, tails = (
        normalise_many(list(group)) for group in (ZH_PHRASES, ZH_LEADS, ZH_TAILS)
    )
    return frozenset(phrases), _longest_first(leads), _longest_first(tails)


@cache
def _zh_characters() -> frozenset[str]:
    """Every character of the Chinese lexicon: a remark uses no other."""
    return frozenset("".join(word for group in _lexicon() for word in group))


def _longest_first(words: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(words), key=len, reverse=True))


def _cores(
    core: str, leads: Sequence[str], tails: Sequence[str], *, sep: str
) -> list[str]:
    """``core`` and what is left of it as leading ``leads`` and trailing ``tails`` go.

    Every stage is kept: "就那樣" is a phrase of its own, not the lead 就 and 那樣.
    """
    fronts = [core]
    while True:
        lead = next((w for w in leads if fronts[-1].startswith(w + sep)), None)
        if lead is None:
            break
        fronts.append(fronts[-1][len(lead) + len(sep) :])
    out = []
    for front in fronts:
        out.append(front)
        while True:
            tail = next((w for w in tails if out[-1].endswith(sep + w)), None)
            if tail is None:
                break
            out.append(out[-1][: len(out[-1]) - len(tail) - len(sep)])
    return out


def _made_of(core: str, phrases: frozenset[str], *, sep: str) -> bool:
    """Whether ``core`` is one or more of ``phrases`` in a row (a word break)."""
    if not core:
        return False
    pieces = core.split(sep) if sep else list(core)
    ends = [False] * (len(pieces) + 1)
    ends[0] = True
    for end in range(1, len(pieces) + 1):
        ends[end] = any(
            ends[start] and sep.join(pieces[start:end]) in phrases
            for start in range(end)
        )
    return ends[-1]


def _is_middling_zh(core: str) -> bool:
    if not _zh_characters().issuperset(core):
        return False  # most texts: one character outside the lexicon settles it
    phrases, leads, tails = _lexicon()
    return any(_made_of(c, phrases, sep="") for c in _cores(core, leads, tails, sep=""))


_EN = frozenset(EN_PHRASES)
_EN_LEADS = _longest_first(EN_LEADS)
_EN_TAILS = _longest_first(EN_TAILS)
_EN_WORDS = frozenset(" ".join((*EN_PHRASES, *EN_LEADS, *EN_TAILS)).split())


def _is_middling_en(core: str) -> bool:
    if not _EN_WORDS.issuperset(core.split(" ")):
        return False
    # "ok, nothing special" -> "ok nothing special": one phrase after another
    cores = _cores(core, _EN_LEADS, _EN_TAILS, sep=" ")
    return any(_made_of(c, _EN, sep=" ") for c in cores)


def middling(texts: Sequence[str]) -> list[bool]:
    """Whether each text is nothing but a middling remark (Chinese or English).

    Examples
    --------
    >>> middling(["一般般吧～", "整體來說普普通通", "味道一般，送餐很慢", "It was okay, I guess."])
    [True, True, False, True]
    """
    out = [False] * len(texts)
    short = [i for i, t in enumerate(texts) if len(t) <= MAX_CHARS]
    for i, text in zip(short, normalise_many([texts[i] for i in short]), strict=True):
        if _DIGITS.search(text):
            continue  # "一般 3 分", "ok 2/5": a rating says more than the words
        core = _NOT_WORD.sub(" ", text).replace("_", " ").strip()
        if has_han(core):
            out[i] = _is_middling_zh(core.replace(" ", ""))
        else:
            out[i] = _is_middling_en(" ".join(core.split()))
    return out


def soften(texts: Sequence[str], found: Sequence[Sentiment]) -> list[Sentiment]:
    """``found`` (one ``(label, score)`` per text) with every middling remark labelled
    neutral, its score's sign kept."""
    return [
        ("neutral", round(max(-MAX_SCORE, min(MAX_SCORE, hit[1])), 4)) if flag else hit
        for flag, hit in zip(middling(texts), found, strict=True)
    ]
