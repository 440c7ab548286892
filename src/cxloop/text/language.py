"""Language identification: ``zh-Hant``, ``zh-Hans``, ``en``, another ISO code or ``und``.

Most customer texts are plainly Chinese or plainly English, so a fast rule decides them
from the characters they contain: Han characters (with the script from
:func:`cxloop.text.chinese.script_of`), kana, Hangul, and English function words. Only
the rest (other Latin-script languages, other scripts) go to py3langid, which is exact
but slower. A text with no letters at all (empty, emoji, punctuation, digits) is ``und``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import Any

from cxloop.text.chinese import script_of
from cxloop.text.results import SUPPORTED_LANGUAGES, UNDETERMINED

#: Changes whenever the rules change (part of the text version).
VERSION = "language-2"

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9d]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")
#: Characters common in written Chinese (and Cantonese) but not in Japanese.
_CHINESE_CUES = re.compile(r"[的們们這这係嘅咗啲佢唔冇嗎吗呢吧咩喺]")
_LATIN = re.compile(r"[a-zA-Z\u00c0-\u024f]")
_NON_ASCII_LATIN = re.compile(r"[\u00c0-\u024f]")
#: Markup, URLs, @mentions and the sticker codes of Weibo posts ([good], [doge]).
_TAG = re.compile(
    r"<[^<>]{0,200}>|&[a-z]{2,8};|https?://\S+|www\.\S+|@\w+|\[[a-zA-Z_]{1,12}\]"
)
#: A Weibo topic (#新冠肺炎#) or a hashtag with a letter in it (#禾光生活, #HeguangLiving; not
#: the "#12" of an order number). A brand's tag is not the language of the post: an
#: English review ending in "#禾光生活" was read as Chinese.
HASHTAG = re.compile(r"#[^#\s]{1,40}#|(?<![\w&])#(?=\w*[^\W\d_])\w+")
_WORD = re.compile(r"[a-z']+")
#: py3langid codes read as Chinese when the text has Han characters.
_CHINESE_CODES = frozenset({"zh", "yue", "wuu", "ja"})
#: Below this py3langid confidence an unaccented Latin text is taken as English.
_MIN_CONFIDENCE = 0.6
#: Texts longer than this are identified from their start (language rarely changes).
_SAMPLE_CHARS = 1000
#: A Han character counts as much as this many Latin letters (about one English word).
_HAN_WEIGHT = 3
_ENGLISH_WORDS = (
    "a about after again all also am an and any are as at be because been but by can "
    "could did do does don't for from get got had has have he her him his how i i'm if "
    "in is it it's its just me more my no not of on one only or our out so some than "
    "that the their them then there they this to too up us very was we were what when "
    "which who why will with would you your good great bad love like best worst thanks "
    "thank service product order delivery staff price please never ever again nice "
    "excellent terrible awful poor slow fast quick happy help customer app"
)
_ENGLISH = frozenset(_ENGLISH_WORDS.split(" "))
#: This many common English words make the Latin part a sentence: an English text that
#: names a few things in Chinese ("Friendly staff at 信義店, they helped me") is English,
#: unless its Chinese holds the small words of prose rather than names alone.
_ENGLISH_SENTENCE = 3
_CHINESE_PROSE = re.compile(
    r"[的了是不很我你他她也都太就在有沒没嗎吗呢吧啊得會会還还要]"
)
_CANTONESE_PROSE = re.compile(r"[們们這这係嘅既咗啲佢唔冇咩喺咁黎嚟噉]")


@cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def is_supported(code: str) -> bool:
    """Whether the shipped models read language ``code`` (zh-Hant, zh-Hans, en)."""
    return code in SUPPORTED_LANGUAGES


def _chinese(text: str) -> str:
    return "zh-Hans" if script_of(text) == "Hans" else "zh-Hant"


def _by_rule(text: str) -> str | None:
    """The language when characters decide it; ``None`` when py3langid must."""
    han = len(_HAN.findall(text))
    kana = len(_KANA.findall(text))
    if kana and kana * 4 >= han and not _CHINESE_CUES.search(text):
        return "ja"
    hangul = len(_HANGUL.findall(text))
    latin = len(_LATIN.findall(text))
    if hangul and hangul >= han and hangul * _HAN_WEIGHT >= latin:
        return "ko"
    names = _english_naming_chinese(text, han, latin)
    if han and han * _HAN_WEIGHT >= latin and not names:
        return _chinese(text)
    # "送餐很慢 but the food was ok": Chinese with English; "the staff at 信義店": English
    if (
        han >= 2
        and han * 6 >= latin
        and not names
        and (_english_words(text) < _ENGLISH_SENTENCE or _CHINESE_PROSE.search(text))
    ):
        return _chinese(text)
    if not latin and not any(ch.isalpha() for ch in text):
        return UNDETERMINED
    return _latin_rule(text) if latin else None


def _english_naming_chinese(text: str, han: int, latin: int) -> bool:
    """Whether ``text`` is short English prose that names something in Chinese.

    "Great product. (無線吸塵器)": no more Han characters than Latin letters, at least
    two common English words, and none of the small words of Chinese or Cantonese prose
    (的, 很, 係, 既...) among the Han characters: they are a name, not the language.
    """
    return (
        han <= latin
        and _english_words(text) >= 2
        and not _CHINESE_PROSE.search(text)
        and not _CANTONESE_PROSE.search(text)
    )


def _english_words(text: str) -> int:
    return sum(w in _ENGLISH for w in _WORD.findall(text.lower()))


def _latin_rule(text: str) -> str | None:
    words = _WORD.findall(text.lower())
    english = sum(w in _ENGLISH for w in words)
    accented = _NON_ASCII_LATIN.search(text) is not None
    if english and english * (3 if accented else 5) >= len(words):
        return "en"
    if accented or len(words) >= 3:
        return None
    return "en" if text.isascii() else None


def _by_model(text: str) -> str:
    code, confidence = _identifier().classify(text)
    if code in _CHINESE_CODES and _HAN.search(text):
        return _chinese(text)
    plain = not _NON_ASCII_LATIN.search(text)
    if plain and code != "en" and float(confidence) < _MIN_CONFIDENCE:
        return "en"
    return str(code)


def detect_language(text: str) -> str:
    """The language code of one text; see :func:`detect_languages`."""
    sample = _TAG.sub(" ", text[:_SAMPLE_CHARS])
    untagged = HASHTAG.sub(" ", sample)
    # a text of nothing but hashtags is read from the tags' words
    sample = (
        untagged if any(ch.isalpha() for ch in untagged) else sample.replace("#", " ")
    )
    found = _by_rule(sample)
    return found if found is not None else _by_model(sample)


def detect_languages(texts: Sequence[str]) -> list[str]:
    """Return the language code of each text.

    Parameters
    ----------
    texts : sequence of str
        Raw texts; HTML tags, URLs, @mentions, hashtags and entities are ignored when
        deciding (a text of nothing but hashtags is read from their words).

    Returns
    -------
    list of str
        ``zh-Hant`` or ``zh-Hans`` for Chinese (also when mixed with English, as long as
        Han characters are a fair share: one Han character weighs as much as three
        Latin letters, or six when the English part is a few words rather than a
        sentence), ``en`` (also for an English sentence naming a store or product in
        Chinese), another ISO 639-1 code from py3langid (``ja``, ``ko``,
        ``fr``...), or ``und`` when the text has no letters.

    Examples
    --------
    >>> detect_languages(["這個app很難用", "这个软件很好", "Great service!", "👍!!", ""])
    ['zh-Hant', 'zh-Hans', 'en', 'und', 'und']
    """
    return [detect_language(text) for text in texts]
