"""What scoring says about one text: the shared result types of the text stage."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Languages the shipped models read; any other language is scored as unsupported.
SUPPORTED_LANGUAGES = ("zh-Hant", "zh-Hans", "en")
#: The language code of a text with no letters at all (empty, only emoji or punctuation).
UNDETERMINED = "und"
SENTIMENTS = ("positive", "neutral", "negative")
#: Default intents; a user-trained intent model brings its own labels (plus ``other``).
INTENTS = ("complaint", "praise", "question", "suggestion", "churn_threat", "other")
#: Default emotions.
EMOTIONS = ("joy", "gratitude", "anger", "frustration", "disappointment", "worry",
            "surprise", "none")  # fmt: skip


@dataclass(frozen=True, slots=True)
class TopicHit:
    """One taxonomy topic a text is about, with the sentiment of the words about it."""

    topic: str
    sentiment: str | None = None
    score: float | None = None
    matches: tuple[str, ...] = ()
    source: str = "rule"  # "rule" (taxonomy keywords) or "model" (learned classifier)

    def to_json(self) -> dict[str, Any]:
        """The form stored in ``interaction.topics`` (a JSON list of these)."""
        return {"topic": self.topic, "sentiment": self.sentiment, "score": self.score,
                "matches": list(self.matches), "source": self.source}  # fmt: skip


@dataclass(frozen=True, slots=True)
class TextScore:
    """Everything the text stage says about one text (``None`` where not scored)."""

    language: str
    supported: bool
    sentiment: str | None = None
    sentiment_score: float | None = None
    emotion: str | None = None
    emotion_confidence: float | None = None
    topics: tuple[TopicHit, ...] = ()
    intent: str | None = None
    intent_confidence: float | None = None
    keywords: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
