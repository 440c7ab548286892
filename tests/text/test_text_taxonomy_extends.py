"""``extends: default``: a taxonomy that adds to the shipped one, and the demo's taxonomy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cxloop.demo.texts import FRAMES, TOPICS
from cxloop.domain.errors import InvalidInput
from cxloop.text.scoring import TextModels, default_models, score_texts
from cxloop.text.taxonomy import default_taxonomy_path, load_taxonomy, parse_taxonomy

REPO = Path(__file__).resolve().parents[2]
DEMO_TAXONOMY = REPO / "src" / "cxloop" / "demo" / "taxonomy.yaml"
PARKING = {"key": "parking", "name": {"zh-TW": "停車", "en": "Parking"},
           "keywords": {"zh": ["停車"], "en": ["parking"]}}  # fmt: skip


def test_extending_the_default_with_names_only_equals_a_full_copy(tmp_path: Path) -> None:  # fmt: skip
    copy = tmp_path / "copy.yaml"
    copy.write_text(
        default_taxonomy_path()
        .read_text(encoding="utf-8")
        .replace("\nignore_terms: []\n", '\nignore_terms: ["禾光生活"]\n'),
        encoding="utf-8",
    )
    extended = parse_taxonomy({"extends": "default", "ignore_terms": ["禾光生活"]})
    assert extended == load_taxonomy(copy)  # same topics, names and version
    assert extended.version != load_taxonomy().version
    assert parse_taxonomy({"extends": "default"}) == load_taxonomy()


def test_own_topics_replace_the_default_ones_by_key_and_add_new_ones() -> None:
    default = load_taxonomy()
    delivery = {"key": "delivery", "name": {"zh-TW": "外送", "en": "Delivery"},
                "keywords": {"zh": ["外送"]}}  # fmt: skip
    taxonomy = parse_taxonomy(
        {"extends": "default", "use_model": False, "topics": [PARKING, delivery]}
    )
    assert taxonomy.keys == (*default.keys, "parking")  # the default's order, then new
    assert taxonomy.topic("delivery").keywords_zh == ("外送",)
    assert taxonomy.topic("price_value") == default.topic("price_value")
    assert taxonomy.use_model is False
    assert parse_taxonomy({"extends": "default"}).use_model is default.use_model


@pytest.mark.parametrize(
    ("data", "message"),
    [({"extends": "mine.yaml"}, "extends: 'mine.yaml' is not a taxonomy to extend"),
     ({"extends": ["default"]}, "extends: .* is not a taxonomy to extend"),
     ({"extends": "default", "topics": "parking"}, "topics: must be a non-empty list"),
     ({"extends": "default", "topics": [PARKING, PARKING]}, r"topics\[1\].key: duplicate"),
     ({"extends": "default", "ignore_terms": "brand"}, "ignore_terms: must be a list"),
     ({"use_model": True}, "topics: must be a non-empty list")],
)  # fmt: skip
def test_a_bad_extension_names_the_field(data: object, message: str) -> None:
    with pytest.raises(InvalidInput, match="t.yaml: " + message):
        parse_taxonomy(data, source="t.yaml")


def test_make_run_scores_the_demo_with_its_taxonomy() -> None:
    run = (REPO / "scripts" / "run").read_text(encoding="utf-8")
    exported = re.search(r'CXLOOP_TAXONOMY_PATH="\$\{CXLOOP_TAXONOMY_PATH-\$PWD/([^}"]+)\}"', run)  # fmt: skip
    assert exported is not None
    assert REPO / exported.group(1) == DEMO_TAXONOMY
    taxonomy = load_taxonomy(DEMO_TAXONOMY)
    assert taxonomy.keys == load_taxonomy().keys
    assert taxonomy.ignore_terms == ("禾光生活", "Heguang Living")


def test_the_demo_posts_read_as_their_words_without_the_company_tags() -> None:
    written = [
        (language, template.format(days=3, store="信義店", product="吸塵器"))
        for languages in TOPICS.values()
        for language in ("zh-TW", "en")
        for template in languages.get(language, [])
    ]
    bodies = [body for _, body in written]
    posts = [FRAMES["social_post"][language].format(body=body) for language, body in written]  # fmt: skip
    assert all("#" in post for post in posts)
    demo = TextModels.load(taxonomy_path=DEMO_TAXONOMY)

    def readings(texts: list[str], models: TextModels) -> list[tuple[str | None, float | None]]:  # fmt: skip
        return [(s.sentiment, s.sentiment_score) for s in score_texts(texts, models=models)]  # fmt: skip

    plain = readings(bodies, demo)
    assert readings(posts, demo) == plain
    moved = sum(a != b for a, b in zip(readings(posts, default_models()), plain, strict=True))  # fmt: skip
    assert moved > len(bodies) // 2  # the tags move most readings without the names
