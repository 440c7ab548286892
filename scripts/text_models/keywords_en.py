"""Build ``models/keywords_en.json``: how common each English word is, for keywords.

English keywords are ranked by how often a word occurs in the text times its rarity
(inverse document frequency). The rarity comes from this fixed table, counted once
over the train parts of the English corpora that train ``sentiment_en``, so a text's
keywords never depend on the other texts scored with it (one process, a batch of any
size, or a Spark worker give the same keywords). Words seen in fewer than
``MIN_DOCUMENTS`` texts are left out of the table and count as rare.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

from cxloop.text.keywords import EN_IDF_FILE, english_tokens
from cxloop.text.topic_rules import fold_many
from scripts.text_models.corpora import load_corpus
from scripts.text_models.sentiment import EN_CORPORA

MIN_DOCUMENTS = 3


def build(data_dir: Path, out_dir: Path) -> dict[str, Any]:
    """Count the documents holding each word; write the table; report its size."""
    counts: Counter[str] = Counter()
    documents = 0
    sources = []
    for name in EN_CORPORA:
        corpus = load_corpus(name, data_dir)
        if not corpus.commercial:  # pragma: no cover - the list holds none
            continue
        sources.append(f"{name} ({corpus.licence})")
        for folded in fold_many(corpus.train_texts, max_chars=2000):
            counts.update(set(english_tokens(folded)))
            documents += 1
    table = {word: n for word, n in sorted(counts.items()) if n >= MIN_DOCUMENTS}
    body = json.dumps(table, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    version = "keywords_en-" + hashlib.sha256(body.encode("utf-8")).hexdigest()[:10]
    document = {"version": version, "documents": documents, "trained_on": sources,
                "document_frequency": table}  # fmt: skip
    path = out_dir / EN_IDF_FILE
    path.write_text(json.dumps(document, ensure_ascii=False, separators=(",", ":")),
                    encoding="utf-8")  # fmt: skip
    return {"version": version, "documents": documents, "words": len(table),
            "bytes": path.stat().st_size}  # fmt: skip
