"""Journey definitions: the shipped retail journey, YAML/JSON files, the catalog,
blueprints, the rules in the engine, and the ``cxloop journey`` commands."""

from __future__ import annotations

import json
from pathlib import Path

import ibis
import pytest
import yaml
from typer.testing import CliRunner

from cxloop.cli import app
from cxloop.config import Settings
from cxloop.domain.errors import Conflict, InvalidInput, NotFound
from cxloop.domain.vocab import JourneyStage
from cxloop.journeys import catalog
from cxloop.journeys.definitions import default_journey, dump_journey, load_journey
from cxloop.journeys.exports import blueprint_csv, safe_cell
from cxloop.journeys.placement import place, slots

SMALL = {
    "name": "small",
    "title": {"zh-TW": "小旅程", "en": "Small journey"},
    "stages": [{"key": "buy", "label": "Buy", "touchpoints": [
        {"key": "shop", "label": "Shop", "match": [{"channel": ["web", "app"]}]}]}],
}  # fmt: skip


def _write(path: Path, document: object) -> Path:
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def test_default_journey_follows_the_retail_stages() -> None:
    journey = default_journey()
    assert [stage.key for stage in journey.stages] == [s.value for s in JourneyStage]
    assert journey.name == "retail"
    assert [p.key for p in journey.personas][:2] == ["families", "office_workers"]
    assert journey.blueprint["frontstage"]["support"]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"channel": "store", "touchpoint": "台中公益店", "journey_stage": "purchase",
          "kind": "survey_response"}, "purchase_store"),
        ({"channel": "web", "touchpoint": "宅配", "journey_stage": "delivery",
          "kind": "survey_response"}, "home_delivery"),
        ({"channel": "email", "touchpoint": "會員滿意度調查", "journey_stage": "use",
          "kind": "survey_response"}, "membership"),
        ({"channel": "review_site", "touchpoint": "台北信義店",
          "journey_stage": "purchase", "kind": "review"}, "store_reviews"),
        ({"channel": "social", "touchpoint": "Threads", "journey_stage": "use",
          "kind": "social_post"}, "social"),
    ],
)  # fmt: skip
def test_default_journey_places_demo_interactions(
    fields: dict[str, str], expected: str
) -> None:
    placed = default_journey().place(fields)
    assert placed is not None
    assert placed[1].key == expected


def test_engine_placement_matches_python_rules() -> None:
    journey = default_journey()
    rows = [
        {"channel": c, "touchpoint": t, "journey_stage": s, "kind": k}
        for c in ("store", "web", "app", "phone", "email", None)
        for t in ("台中公益店", "宅配", "客服信箱", None)
        for s in ("discover", "delivery", "support", "renew_leave", None)
        for k in ("visit", "review", "survey_response")
    ]
    table = ibis.memtable(rows, schema=dict.fromkeys(rows[0], "string"))
    placed = place(journey, table.mutate(row=ibis.row_number())).execute()
    engine = {int(r.row): int(r.slot) for r in placed.itertuples()}
    keys = [slot.touchpoint for slot in slots(journey)]
    for number, fields in enumerate(rows):
        found = journey.place(fields)
        want = None if found is None else found[1].key
        got = keys[engine[number]] if number in engine else None
        assert got == want, fields


def test_journey_yaml_and_json_read_the_same(tmp_path: Path) -> None:
    from_yaml = load_journey(_write(tmp_path / "small.yaml", SMALL))
    json_path = tmp_path / "small.json"
    json_path.write_text(json.dumps(SMALL), encoding="utf-8")
    assert load_journey(json_path) == from_yaml
    again = tmp_path / "again.yaml"
    again.write_text(dump_journey(from_yaml), encoding="utf-8")
    assert load_journey(again) == from_yaml
    assert from_yaml.stages[0].touchpoints[0].match[0].channel == ("web", "app")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "Bad Name"}, "name: Value error, key 'Bad Name'"),
        ({"stages": []}, "stages: Tuple should have at least 1 item"),
        ({"extra": 1}, "extra: Extra inputs are not permitted"),
        ({"stages": [{"key": "a", "label": "A", "touchpoints": [
            {"key": "t", "label": "T", "match": [{}]}]}]},
         "stages.0.touchpoints.0.match: Value error, a rule must name"),
        ({"stages": [{"key": "a", "label": "A"}, {"key": "a", "label": "B"}]},
         "stage key 'a' is used twice"),
        ({"blueprint": {"frontstage": {"nowhere": "x"}}}, "names stage 'nowhere'"),
    ],
)  # fmt: skip
def test_bad_journey_files_are_refused_naming_the_place(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    path = _write(tmp_path / "small.yaml", {**SMALL, **change})
    with pytest.raises(InvalidInput, match=r"small\.yaml") as error:
        load_journey(path)
    assert message in str(error.value)


def test_unreadable_files_are_refused(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed", encoding="utf-8")
    with pytest.raises(InvalidInput, match="cannot be read"):
        load_journey(broken)
    with pytest.raises(InvalidInput, match=r"\.yaml, \.yml or \.json"):
        load_journey(_write(tmp_path / "small.txt", SMALL))
    with pytest.raises(InvalidInput, match="no such file"):
        load_journey(tmp_path / "missing.yaml")


def test_catalog_imports_lists_and_refuses_duplicates(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    path = _write(tmp_path / "in.yaml", SMALL)
    journey = catalog.import_journey(settings=sqlite_settings, path=path)
    folder = catalog.journey_dir(sqlite_settings)
    assert folder.name == "cxloop.journeys"
    assert (folder / "small.yaml").exists()
    names = [j.name for j in catalog.list_journeys(settings=sqlite_settings)]
    assert names == ["retail", "small"]
    assert catalog.get_journey(settings=sqlite_settings, name="small") == journey
    with pytest.raises(Conflict, match="--replace"):
        catalog.import_journey(settings=sqlite_settings, path=path)
    catalog.import_journey(settings=sqlite_settings, path=path, replace=True)
    with pytest.raises(NotFound, match="choose one of retail, small"):
        catalog.get_journey(settings=sqlite_settings, name="nope")


def test_blueprint_is_saved_checked_and_exported(sqlite_settings: Settings) -> None:
    start = catalog.get_blueprint(settings=sqlite_settings, name="retail")
    assert not start.saved
    assert start.cell("evidence", "purchase")
    cells = {"frontstage": {"delivery": '=HYPERLINK("x")', "use": "  "}}
    saved = catalog.save_blueprint(settings=sqlite_settings, name="retail", cells=cells)
    assert saved.cells == {"frontstage": {"delivery": '=HYPERLINK("x")'}}
    again = catalog.get_blueprint(settings=sqlite_settings, name="retail")
    assert again.saved
    assert again.cells == saved.cells
    text = blueprint_csv(default_journey(), again, "en")
    assert text.splitlines()[0].startswith("row,Discover,Evaluate,Purchase")
    assert "'=HYPERLINK" in text
    with pytest.raises(InvalidInput, match="not one of"):
        catalog.save_blueprint(settings=sqlite_settings, name="retail",
                               cells={"lobby": {"use": "x"}})  # fmt: skip
    assert safe_cell("+1") == "'+1"


def test_cli_lists_shows_and_imports_journeys(
    cli_settings: Settings, tmp_path: Path
) -> None:
    runner = CliRunner()
    listed = runner.invoke(app, ["journey", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.output) == ["retail"]
    shown = runner.invoke(app, ["journey", "show", "retail", "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["stages"][3]["key"] == "delivery"
    path = _write(tmp_path / "in.yaml", SMALL)
    imported = runner.invoke(app, ["journey", "import", str(path)])
    assert imported.exit_code == 0, imported.output
    assert "journey 'small' saved" in imported.output
    table = runner.invoke(app, ["journey", "show", "small", "--language", "en"])
    assert "channel=web/app" in table.output
    blueprint = runner.invoke(app, ["journey", "blueprint", "retail"])
    assert blueprint.output.startswith("row,探索")


def test_cli_map_and_paths_run_on_an_empty_store(cli_settings: Settings) -> None:
    runner = CliRunner()
    mapped = runner.invoke(app, ["journey", "map", "--json"])
    assert mapped.exit_code == 0, mapped.output
    assert json.loads(mapped.output)["overall"] is None
    paths = runner.invoke(app, ["journey", "paths", "--json", "--k", "2"])
    assert paths.exit_code == 0, paths.output
    assert json.loads(paths.output)["paths"] == 0
