"""Every public corpus the text models train and are measured on, with a fixed split.

``load_corpus(name, data_dir)`` returns the same train and held-out test texts on every
run: the training script and every benchmark read their splits from here, so nothing is
ever trained on a text that a benchmark then scores. Corpora that come without a test
split are split once here: exact duplicate texts dropped first (so no text sits on both
sides), then a stratified 20 % test part with the fixed seed 7. Corpora that come with
their own split lose the test texts that also appear in their train part (SMP2020-EWECT
has a couple of hundred), so a held-out figure never scores a text the model saw.

Labels: sentiment corpora use ``positive`` / ``neutral`` / ``negative``; the other corpora
keep their own labels (emotion names, intents, FAQ ids, ``1``/``0`` for question pairs).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

Split = tuple[pd.DataFrame, pd.DataFrame]
SEED = 7
TEST_SIZE = 0.2
_BINARY = {"1": "positive", "0": "negative", "positive": "positive",
           "negative": "negative"}  # fmt: skip


@dataclass(frozen=True)
class Corpus:
    """One corpus split into train and held-out test parts.

    Attributes
    ----------
    name : str
        The corpus key (the folder under ``data_dir`` it mostly comes from).
    train_texts, train_labels, test_texts, test_labels : list of str
        The fixed split. Never train on the test part.
    licence : str
        The licence as the dataset README states it.
    commercial : bool
        False when the licence forbids commercial use: such a corpus may be benchmarked
        but never trains a shipped model.
    language : str
        ``zh-Hans``, ``zh-Hant`` or ``en``.
    """

    name: str
    train_texts: list[str]
    train_labels: list[str]
    test_texts: list[str]
    test_labels: list[str]
    licence: str
    commercial: bool = True
    language: str = "en"


@dataclass(frozen=True)
class _Info:
    loader: Callable[[Path], Split]
    licence: str
    language: str
    commercial: bool = True


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _frame(df: pd.DataFrame, text: str, label: str) -> pd.DataFrame:
    out = pd.DataFrame({"text": df[text].str.strip(), "label": df[label]})
    out = out[out["text"] != ""]
    return out.reset_index(drop=True)


def _split(df: pd.DataFrame, strata: pd.Series | None = None) -> Split:
    """Drop duplicate texts, then a stratified 20 % held-out part (seed 7)."""
    keep = ~df["text"].duplicated()
    df = df[keep].reset_index(drop=True)
    by = (
        df["label"]
        if strata is None
        else strata[keep.to_numpy()].reset_index(drop=True)
    )
    train_idx, test_idx = train_test_split(
        df.index.to_numpy(), test_size=TEST_SIZE, random_state=SEED, stratify=by
    )
    return df.loc[sorted(train_idx)], df.loc[sorted(test_idx)]


def _binary(path: str, text: str = "review") -> Callable[[Path], Split]:
    def load(data_dir: Path) -> Split:
        df = _frame(_read(data_dir / path), text, "label")
        df["label"] = df["label"].map(_BINARY)
        return _split(df)

    return load


def _online_shopping(data_dir: Path) -> Split:
    raw = _read(data_dir / "online_shopping_10_cats/online_shopping_10_cats_dev.csv.gz")
    raw = raw[raw["review"].str.strip() != ""].reset_index(drop=True)
    df = _frame(raw, "review", "label")
    df["label"] = df["label"].map(_BINARY)
    return _split(df, raw["cat"] + "|" + df["label"])


def _self_split(
    path: str, text: str = "text", label: str = "label"
) -> Callable[[Path], Split]:
    def load(data_dir: Path) -> Split:
        return _split(_frame(_read(data_dir / path), text, label))

    return load


def _given(train: str, test: str, label: str = "label") -> Callable[[Path], Split]:
    def load(data_dir: Path) -> Split:
        return (_frame(_read(data_dir / train), "text", label),
                _frame(_read(data_dir / test), "text", label))  # fmt: skip

    return load


def _tweets(data_dir: Path) -> Split:
    """SemEval-2017 4A pool (mentions masked as TweetEval does) / TweetEval val."""
    train = _frame(
        _read(data_dir / "semeval2017_task4a_tweets/semeval2017_task4a_twitter.csv"),
        "text",
        "label",
    )
    train["text"] = train["text"].str.replace(r"@\w+", "@user", regex=True)
    test = _frame(_read(data_dir / "tweeteval_sentiment/val.csv"), "text", "label")
    return train, test


def _sst(data_dir: Path) -> Split:
    raw = _read(data_dir / "sst5_sentences/sst5_sentences.csv")
    df = _frame(raw, "text", "label")
    test = raw["split"].to_numpy() == "test"
    return df[~test], df[test]


def _atec(data_dir: Path) -> Split:
    """Question pairs as ``question1<TAB>question2``, label ``1`` (same) or ``0``."""
    raw = _read(data_dir / "atec_customer_service_qmatch/atec_dev.csv")
    raw["text"] = raw["question1"].str.strip() + "\t" + raw["question2"].str.strip()
    return _split(_frame(raw, "text", "label"))


def _esun(data_dir: Path) -> Split:
    """FAQ questions labelled with their FAQ id; one question of each id with two or more held out."""
    df = _frame(_read(data_dir / "esun_bank_faq_zh_hant/faq_kb.csv"), "question", "pid")
    df = df[~df["text"].duplicated()].reset_index(drop=True)
    shuffled = df.sample(frac=1.0, random_state=SEED)
    many = shuffled.groupby("label")["text"].transform("size") >= 2
    test_idx = shuffled[many].groupby("label").head(1).index
    return df.drop(index=test_idx), df.loc[sorted(test_idx)]


_NOT_STATED = "not stated by the source"
_TWITTER = ("SemEval-2017 Task 4 GOLD README: CC BY 3.0, plus Twitter terms (no "
            "redistribution of the tweets); TweetEval: released without restrictions, "
            "the original licences apply")  # fmt: skip
CORPORA: dict[str, _Info] = {
    "chnsenticorp_htl_all": _Info(_binary("chnsenticorp_htl_all/ChnSentiCorp_htl_all.csv"), _NOT_STATED, "zh-Hans"),
    "waimai_10k": _Info(_binary("waimai_10k/waimai_10k.csv"), _NOT_STATED, "zh-Hans"),
    "online_shopping_10_cats": _Info(_online_shopping, _NOT_STATED, "zh-Hans"),
    "hk_cantonese_forum_sentiment": _Info(_self_split("hk_cantonese_forum_sentiment/hk_cantonese_forum_sentiment_dev.csv"), _NOT_STATED, "zh-Hant"),
    "tweeteval_sentiment": _Info(_tweets, _TWITTER, "en"),
    "sst5_sentences": _Info(_sst, _NOT_STATED, "en"),
    "uci_sentiment_labelled_yelp": _Info(_binary("uci_sentiment_labelled_yelp/yelp_labelled.csv", "text"), "not stated (UCI: CC BY 4.0, unverified)", "en"),
    "uci_sentiment_labelled_amazon": _Info(_binary("uci_sentiment_labelled_amazon/amazon_cells_labelled.csv", "text"), "not stated (UCI: CC BY 4.0, unverified)", "en"),
    "uci_sentiment_labelled_imdb": _Info(_binary("uci_sentiment_labelled_imdb/imdb_labelled.csv", "text"), "not stated (UCI: CC BY 4.0, unverified)", "en"),
    "amazon_alexa_reviews": _Info(_self_split("amazon_alexa_reviews/amazon_alexa_reviews.csv"), _NOT_STATED, "en"),
    "financial_phrasebank": _Info(_self_split("financial_phrasebank/financial_phrasebank.csv"), "CC BY-NC-SA 3.0 (non-commercial)", "en", commercial=False),
    "smp2020_ewect": _Info(_given("smp2020_ewect/train.csv.gz", "smp2020_ewect/val.csv"), _NOT_STATED, "zh-Hans"),
    "tweeteval_emotion": _Info(_given("tweeteval_emotion/train.csv", "tweeteval_emotion/val.csv"), _TWITTER, "en"),
    "banking77": _Info(_self_split("banking77/train.csv", label="category"), "CC BY 4.0", "en"),
    "clinc150": _Info(_given("clinc150/train.csv", "clinc150/val.csv"), "CC BY 3.0", "en"),
    "atec_customer_service_qmatch": _Info(_atec, _NOT_STATED, "zh-Hans"),
    "esun_bank_faq_zh_hant": _Info(_esun, _NOT_STATED, "zh-Hant"),
}  # fmt: skip


def load_corpus(name: str, data_dir: Path) -> Corpus:
    """Return corpus ``name`` read from ``data_dir`` with its fixed train/test split.

    Parameters
    ----------
    name : str
        A key of :data:`CORPORA`.
    data_dir : Path
        The shared data folder (one sub-folder per dataset).

    Raises
    ------
    KeyError
        When ``name`` is not a known corpus.
    """
    if name not in CORPORA:
        raise KeyError(f"unknown corpus {name!r}; known: {', '.join(sorted(CORPORA))}")
    info = CORPORA[name]
    train, test = info.loader(Path(data_dir))
    test = test[~test["text"].isin(set(train["text"]))]  # never score a training text
    return Corpus(
        name=name,
        train_texts=train["text"].tolist(),
        train_labels=train["label"].tolist(),
        test_texts=test["text"].tolist(),
        test_labels=test["label"].tolist(),
        licence=info.licence,
        commercial=info.commercial,
        language=info.language,
    )
