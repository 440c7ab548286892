"""Keywords of short texts: jieba for Chinese, a stop-worded tokenizer for English.

Chinese text is segmented by jieba on its folded form (Simplified characters, so
Traditional and Simplified texts give the same words) and ranked by TF-IDF with jieba's
IDF table; each keyword is shown as the substring of the original text, in its own
script. English words are ranked by frequency in the text times their rarity in the
English training corpora (``models/keywords_en.json``, built by
``scripts/text_models/keywords_en.py``), so a text's keywords never depend on the other
texts of its batch.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import re
from collections import Counter
from collections.abc import Sequence
from importlib import resources
from typing import Any

from cxloop.text.topic_rules import fold_many

_EN_WORD = re.compile(r"[a-z][a-z'-]*[a-z]")
_NOT_WORD = re.compile(r"^[\W\d_]+$")
_ZH_STOP = frozenset(
    ["的", "了", "是", "很", "也", "都", "就", "还", "没有", "我们", "这个", "那个", "非常", "一个", "什么", "我", "你", "他", "她", "它", "在", "有", "和", "与", "及", "但是", "但", "可是", "因为", "所以", "如果", "就是", "而且", "不过", "然后", "还是", "已经", "一下", "一点", "这样", "那样", "这么", "那么", "比较", "真的", "感觉", "觉得", "东西", "时候", "可以", "没", "不", "太", "挺", "好", "还有", "有点", "一些", "一次", "这次", "这家", "下次", "以后", "其他", "一样", "这里", "那里", "请问", "知道", "出来", "起来", "看到", "应该", "怎么", "特别", "不是", "不错", "问题", "一直", "实在"]
)  # fmt: skip
_DEFAULT_IDF = 10.0
#: The English document-frequency table, in the package's ``text/models`` folder.
EN_IDF_FILE = "keywords_en.json"


@functools.cache
def _jieba() -> tuple[Any, dict[str, float], float]:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    # jieba.analyse would load the same table but leaves the file open.
    table = resources.files("jieba").joinpath("analyse", "idf.txt").read_text("utf-8")
    idf: dict[str, float] = {}
    for line in table.splitlines():
        word, _, value = line.rpartition(" ")
        if word:
            idf[word] = float(value)
    values = sorted(idf.values())
    median = values[len(values) // 2] if values else _DEFAULT_IDF
    return jieba, idf, median


@functools.cache
def _en_stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS) | {
        "just",
        "really",
        "got",
        "get",
        "did",
        "place",
    }


def extract_keywords(
    texts: Sequence[str], languages: Sequence[str], *, top: int = 5
) -> list[tuple[str, ...]]:
    """Return up to ``top`` keywords per text, most telling first, in the text's script.

    Texts in a language other than Chinese or English get no keywords.
    """
    if len(texts) != len(languages):
        raise ValueError("texts and languages must have the same length")
    folded = fold_many(texts, max_chars=2000)
    result: list[tuple[str, ...]] = []
    for text, fold, language in zip(texts, folded, languages, strict=True):
        if language.startswith("zh"):
            result.append(_chinese(text, fold, top))
        elif language == "en":
            result.append(_english(fold, top))
        else:
            result.append(())
    return result


def chinese_tokens(folded: str) -> list[tuple[str, int, int]]:
    """jieba's words of a folded text with their spans (stop words and symbols dropped)."""
    jieba = _jieba()[0]
    tokens = []
    # Dictionary words only (no HMM guessing of new words): 1.7x faster, and a
    # guessed word is seldom a telling keyword.
    for word, start, end in jieba.tokenize(folded, HMM=False):
        word = word.strip()
        if len(word) < 2 or word in _ZH_STOP or _NOT_WORD.match(word):
            continue
        if word.isascii() and word in _en_stop_words():
            continue
        tokens.append((word, start, end))
    return tokens


def english_tokens(folded: str) -> list[str]:
    """Lower-case English words of a folded text, stop words dropped."""
    stop = _en_stop_words()
    return [w for w in _EN_WORD.findall(folded) if w not in stop and len(w) > 2]


def _chinese(text: str, folded: str, top: int) -> tuple[str, ...]:
    _, idf, median = _jieba()
    counts: Counter[str] = Counter()
    shown: dict[str, str] = {}
    for word, start, end in chinese_tokens(folded):
        counts[word] += 1
        shown.setdefault(word, text[start:end])
    ranked = sorted(counts, key=lambda w: -counts[w] * idf.get(w, median))
    return tuple(shown[w] for w in ranked[:top])


def _english(folded: str, top: int) -> tuple[str, ...]:
    idf = _en_idf()
    rare = idf[""]
    counts = Counter(english_tokens(folded))
    # Ties (same count and rarity) keep the order of first appearance in the text.
    ranked = sorted(counts, key=lambda w: -counts[w] * idf.get(w, rare))
    return tuple(ranked[:top])


@functools.cache
def _en_idf() -> dict[str, float]:
    """Word → log(1 + documents / (1 + documents holding it)); ``""``: an unseen word."""
    path = resources.files("cxloop.text").joinpath("models", EN_IDF_FILE)
    document = json.loads(path.read_text(encoding="utf-8"))
    total = int(document["documents"])
    idf = {word: math.log(1 + total / (1 + n))
           for word, n in document["document_frequency"].items()}  # fmt: skip
    idf[""] = math.log(1 + total)
    return idf


@functools.cache
def model_version() -> str:
    """The version of the English keyword table (part of the text version)."""
    path = resources.files("cxloop.text").joinpath("models", EN_IDF_FILE)
    version: str = json.loads(path.read_text(encoding="utf-8"))["version"]
    return version
