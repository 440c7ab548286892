"""Default intents: complaint, praise, question, suggestion, churn_threat or other.

Cue rules in Chinese (matched on folded text, so Traditional and Simplified alike) and
English, checked in this order, then the sentiment:

1. **churn_threat**: the customer says they will leave (再也不會來, 解約, 換一家,
   cancel my account, never coming back...).
2. **question**: a question mark or a question cue (請問, 怎麼, how do I, can I...);
   a question asked in anger without a polite cue (為什麼這麼慢？) is a complaint.
3. **suggestion**: 建議, 希望, 如果能, I suggest, it would be nice, please add...
4. **complaint** when the sentiment is negative, **praise** when it is positive,
   **other** when it is neutral.

The confidence is the rule's fixed precision estimate for cue rules, and grows with the
sentiment's strength for complaint and praise. A user-trained intent model
(``cxloop text train --task intent``) replaces these rules where one is configured.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from cxloop.text.results import SUPPORTED_LANGUAGES
from cxloop.text.topic_rules import fold_many

_CHURN_ZH = (
    "再也不", "不会再来", "不会再买", "不会再点", "不会再订", "不会再用", "不会再住", "再也不来",
    "不再光顾", "解约", "退订", "换一家", "换别家", "去别家", "换家", "转投", "转网", "携号转网",
    "销户", "注销账号", "注销账户", "取消会员", "取消订阅", "取消账户", "取消合约", "取消服务",
    "最后一次", "拉黑", "卸载", "不会再光顾", "永远不会", "再也不会",
)  # fmt: skip
_CHURN_EN = (
    r"cancel(?:l?ing|l?ed)? my (?:account|subscription|membership|plan|contract|service)",
    r"close my account", r"switch(?:ing)? to (?:another|a different|a competitor)",
    r"never (?:again|coming back|come back|return(?:ing)?|going back|go back|order(?:ing)?"
    r" (?:from|here)|buy(?:ing)? (?:from|here)|shop(?:ping)? here)",
    r"(?:won't|will not|wont|will never|never) be (?:back|returning|coming back)",
    r"(?:won't|will not|wont) (?:return|come back|order again|buy again|be ordering)",
    r"not coming back", r"taking my business elsewhere", r"unsubscribe",
    r"last time (?:i|we)", r"find another (?:provider|bank|company|store)",
)  # fmt: skip
_QUESTION_ZH = ("请问", "怎么", "如何", "为什么", "是否", "能不能", "可不可以", "有没有",
                "哪里", "什么时候", "多久", "吗")  # fmt: skip
_QUESTION_EN = (
    r"how (?:do|can|does|long|much|to)", r"(?:can|could|may) (?:i|we|you)\b",
    r"(?:is|are|was|does|do|did|will|would) (?:it|there|this|my|you|i)\b",
    r"what (?:is|are|time|should)", r"where (?:is|are|can|do)", r"when (?:will|does|is|can)",
    r"why (?:is|are|does|did|was)", r"^(?:any idea|anyone know)",
)  # fmt: skip
_POLITE = ("请问", "请教", "想问", "想了解", "麻烦问", "how do i", "how can i", "can i",
           "could you tell", "where can i")  # fmt: skip
_SUGGEST_ZH = ("建议", "希望", "最好能", "如果能", "要是能", "能否", "改进", "改善", "加强", "期待",
               "可以考虑", "应该要", "能不能增加", "希望能")  # fmt: skip
_SUGGEST_EN = (
    r"i (?:would )?suggest", r"suggestion", r"(?:it )?would be (?:nice|great|better|good)",
    r"should (?:add|have|offer|make|consider|improve|be able)", r"please (?:add|make|consider)",
    r"(?:i )?wish (?:you|they|it|there)", r"could (?:you )?(?:add|improve|offer)",
    r"(?:needs|need) (?:to be )?(?:improv|more|better)", r"hope (?:you|they) (?:will|can)",
    r"consider (?:adding|offering|making)",
)  # fmt: skip

_CHURN = 0.85
_QUESTION = 0.8
_SUGGESTION = 0.75


@functools.cache
def _patterns() -> dict[str, re.Pattern[str]]:
    def alternation(zh: Sequence[str], en: Sequence[str]) -> re.Pattern[str]:
        parts = [re.escape(w) for w in zh] + [rf"\b{p}" for p in en]
        return re.compile("|".join(parts))

    return {
        "churn_threat": alternation(_CHURN_ZH, _CHURN_EN),
        "question": alternation(_QUESTION_ZH, _QUESTION_EN),
        "polite": alternation([w for w in _POLITE if not w.isascii()],
                              [re.escape(w) for w in _POLITE if w.isascii()]),
        "suggestion": alternation(_SUGGEST_ZH, _SUGGEST_EN),
    }  # fmt: skip


def asks_question(folded: str) -> bool:
    """Whether a folded text (:func:`cxloop.text.topic_rules.fold_many`) asks something:
    a question mark or a question cue."""
    return "?" in folded or _patterns()["question"].search(folded) is not None


def detect_intents(
    texts: Sequence[str],
    languages: Sequence[str],
    sentiments: Sequence[tuple[str, float] | None],
) -> list[tuple[str, float] | None]:
    """Return ``(intent, confidence)`` per text; ``None`` where the language is unsupported.

    Parameters
    ----------
    texts
        The raw texts.
    languages
        Their language codes.
    sentiments
        Their ``(label, score)`` from :func:`cxloop.text.sentiment.score_sentiment`.
    """
    if not len(texts) == len(languages) == len(sentiments):
        raise ValueError("texts, languages and sentiments must have the same length")
    folded = fold_many(texts, max_chars=2000)
    return [
        _intent(text, sentiment) if language in SUPPORTED_LANGUAGES else None
        for text, language, sentiment in zip(folded, languages, sentiments, strict=True)
    ]


def _intent(text: str, sentiment: tuple[str, float] | None) -> tuple[str, float]:
    patterns = _patterns()
    if patterns["churn_threat"].search(text):
        return "churn_threat", _CHURN
    negative = sentiment is not None and sentiment[0] == "negative"
    asks = asks_question(text)
    if asks and (not negative or patterns["polite"].search(text)):
        return "question", _QUESTION
    if patterns["suggestion"].search(text):
        return "suggestion", _SUGGESTION
    if sentiment is None or sentiment[0] == "neutral":
        return "other", 0.5
    strength = min(1.0, abs(float(sentiment[1])))
    label = "complaint" if negative else "praise"
    return label, round(0.5 + 0.45 * strength, 4)
