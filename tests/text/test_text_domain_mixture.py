"""The domain mixture: experts that read a word by its domain, the router, the file format."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from cxloop.domain.errors import InvalidInput
from cxloop.text import sentiment
from cxloop.text.domain_mixture import DomainMixtureModel, fit_domain_mixture
from cxloop.text.linear import FeatureSpec, fit_linear

SPEC = FeatureSpec(char_ngrams=(1, 3), n_features=2**16, idf=True)
OPENINGS = ["這次住的房間", "上週訂的房間", "飯店給的房間", "朋友推薦的房間"]
GADGETS = ["這次買的充電器", "上週訂的充電器", "網購來的充電器", "朋友推薦的充電器"]
MIDDLES = ["，老實說整體", "，我覺得整體", "，說真的整體", "，總之整體"]


def _xor_corpus() -> tuple[list[str], list[str], list[str]]:
    """Rooms are good when big; chargers are good when small. The size word is far
    from the thing it describes, so only knowing the domain tells the sign."""
    texts, labels, domains = [], [], []
    for opening, middle, end in itertools.product(OPENINGS + GADGETS, MIDDLES,
                                                  ["很大", "很小", "偏大", "偏小"]):  # fmt: skip
        room = opening in OPENINGS
        big = end.endswith("大")
        texts.append(opening + middle + end)
        labels.append("positive" if big == room else "negative")
        domains.append("hotel" if room else "gadget")
    return texts, labels, domains


PROBES = [("下個月訂的房間，大致上整體很大", "positive"),
          ("下個月訂的房間，大致上整體很小", "negative"),
          ("下個月訂的充電器，大致上整體很小", "positive"),
          ("下個月訂的充電器，大致上整體很大", "negative")]  # fmt: skip


def test_experts_read_the_same_word_by_its_domain() -> None:
    texts, labels, domains = _xor_corpus()
    probe_texts = [t for t, _ in PROBES]
    expected = [label for _, label in PROBES]
    mixture = fit_domain_mixture(
        texts, labels, domains, features=SPEC, c=16.0, nb_c=4.0
    )
    assert mixture.predict(probe_texts) == expected
    plain = fit_linear(texts, labels, features=SPEC, c=16.0)  # one weight per word
    assert plain.predict(probe_texts) != expected
    route = mixture.domain_proba(probe_texts)
    assert mixture.domains == ("gadget", "hotel")
    assert list(route.argmax(axis=1)) == [1, 1, 0, 0]
    proba = mixture.predict_proba(probe_texts)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert np.allclose(proba[:, 1], 1 / (1 + np.exp(-mixture.logits(probe_texts))))


def test_save_load_round_trip_and_sentiment_loader(tmp_path: Path) -> None:
    texts, labels, domains = _xor_corpus()
    model = fit_domain_mixture(texts, labels, domains, features=SPEC, c=4.0,
                               nb_c=1.0, name="sentiment_zh")  # fmt: skip
    model.meta["neutral_band"] = 0.25
    model.save(tmp_path / "sentiment_zh")
    loaded = DomainMixtureModel.load(tmp_path / "sentiment_zh")
    probe = [t for t, _ in PROBES] + ["", "ok 👍", "<b>房間</b>"]
    assert np.allclose(loaded.logits(probe), model.logits(probe), atol=1e-3)
    assert (loaded.version, loaded.domains, loaded.meta) == (
        model.version, model.domains, {"neutral_band": 0.25},
    )  # fmt: skip
    with np.load(tmp_path / "sentiment_zh.npz", allow_pickle=False) as arrays:
        assert "router_idf_codes" not in arrays  # the idf is stored once
    through = sentiment.load_model(tmp_path / "sentiment_zh")
    assert isinstance(through, DomainMixtureModel)
    scored = sentiment.score_with(through, [t for t, _ in PROBES])
    signs = ["positive" if score > 0 else "negative" for _, score in scored]
    assert signs == [label for _, label in PROBES]


def test_a_tampered_file_is_refused(tmp_path: Path) -> None:
    texts, labels, domains = _xor_corpus()
    fit_domain_mixture(texts, labels, domains, features=SPEC, c=4.0, nb_c=1.0).save(
        tmp_path / "m"
    )
    head = json.loads((tmp_path / "m.json").read_text(encoding="utf-8"))
    head["router"]["labels"] = ["gadget", "hotel", "spa"]
    (tmp_path / "m.json").write_text(json.dumps(head), encoding="utf-8")
    with pytest.raises(InvalidInput, match="shapes do not match"):
        DomainMixtureModel.load(tmp_path / "m")
    head["format"] = "cxloop-linear-1"
    (tmp_path / "m.json").write_text(json.dumps(head), encoding="utf-8")
    with pytest.raises(InvalidInput, match="not a cxloop-domain-mixture-1 model"):
        DomainMixtureModel.load(tmp_path / "m")


@pytest.mark.parametrize(
    ("labels", "domains"),
    [(["positive", "negative"] * 2, ["a"] * 4),  # one domain
     (["positive", "negative", "neutral", "positive"], ["a", "b"] * 2),  # three labels
     (["positive", "negative"] * 2, ["a", "b"])],  # lengths differ
)  # fmt: skip
def test_fit_refuses_what_it_cannot_fit(labels: list[str], domains: list[str]) -> None:
    with pytest.raises(InvalidInput, match="one label and one domain per text"):
        fit_domain_mixture(["好", "差", "好", "差"], labels, domains, features=SPEC,
                           c=1.0, nb_c=1.0)  # fmt: skip


def test_shipped_chinese_model_routes_texts_to_their_corpus() -> None:
    model = sentiment.load_model(sentiment.MODEL_DIR / sentiment.ZH_MODEL)
    assert isinstance(model, DomainMixtureModel)
    texts = ["外送員很準時，便當送到還是熱的", "房間乾淨，前台服務很周到，早餐豐富",
             "今天心情超好，和朋友去看了演唱會！"]  # fmt: skip
    expected = ["waimai_10k", "chnsenticorp_htl_all", "smp2020_ewect"]
    route = model.domain_proba(texts)
    assert [model.domains[i] for i in route.argmax(axis=1)] == expected
    assert [label for label, _ in sentiment.score_with(model, texts)] == [
        "positive"
    ] * 3
