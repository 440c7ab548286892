"""The journey map on SQLite and PostgreSQL: hand-checked cells, worst touchpoints,
filters, sentiment and topics; and the demo company's rude store found worst."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from journey_seeding import Event, seed

from cxloop.config import Settings
from cxloop.demo.company import RUDE_STORE
from cxloop.demo.service import load_demo
from cxloop.domain import metrics
from cxloop.domain.errors import InvalidInput
from cxloop.journeys.exports import map_csv, map_document
from cxloop.journeys.maps import Cell, JourneyMap, topic_names
from cxloop.journeys.service import JourneyFilters, journey_map
from cxloop.journeys.svg import map_svg

GOOD_STORE = [9, 10, 9, 8, 10, 9, 9, 10, 7, 9, 10, 9]
BAD_STORE = [2, 3, 6, 1, 4, 0, 5, 3, 2, 6, 1, 4]


def _events() -> list[Event]:
    events = []
    for i, score in enumerate(GOOD_STORE):
        events.append(Event(i % 3 + 1, f"2025-01-{i + 1:02d}T04:00:00", "store",
                            "台北信義店", "purchase", answers={"nps": score}))  # fmt: skip
    for i, score in enumerate(BAD_STORE):
        events.append(Event(i % 3 + 4, f"2025-02-{i + 1:02d}T04:00:00", "store",
                            RUDE_STORE, "purchase", answers={"nps": score}))  # fmt: skip
    events += [
        Event(1, "2025-03-01T04:00:00", "web", "宅配", "delivery",
              answers={"csat": 5, "nps": 10}, sentiment=0.6, topics=["配送", "包裝"]),
        Event(2, "2025-03-02T04:00:00", "web", "宅配", "delivery",
              answers={"csat": 2}, sentiment=-0.4, topics=[{"topic": "配送"}]),
        Event(3, "2025-03-03T04:00:00", "phone", "客服中心", "support", kind="call"),
        Event(None, "2025-03-04T04:00:00", "store", "台北信義店", "discover", kind="visit"),
    ]  # fmt: skip
    return events


def _cells(found: JourneyMap) -> dict[str, Cell]:
    return {cell.key: cell for cell in found.cells}


def test_map_cells_match_hand_counts(settings: Settings) -> None:
    seed(settings, _events())
    found = journey_map(settings=settings, name="retail")
    cells = _cells(found)
    good = cells["purchase/purchase_store/台北信義店"]
    assert good.volume == len(GOOD_STORE)
    assert good.metrics["nps"].value == pytest.approx(metrics.nps(GOOD_STORE).value)
    assert good.metrics["nps"].moe == pytest.approx(metrics.nps(GOOD_STORE).moe)
    assert good.score is not None
    assert good.score.mean == pytest.approx(sum(GOOD_STORE) / 10 / len(GOOD_STORE))
    delivery = cells["delivery/home_delivery"]
    assert delivery.metrics["csat"].value == pytest.approx(50.0)
    # Scores on the common scale: nps 10 -> 1.0, csat 5 -> 1.0, csat 2 -> 0.25.
    assert delivery.score is not None
    assert delivery.score.mean == pytest.approx(2.25 / 3)
    assert delivery.sentiment == pytest.approx(0.1)
    assert delivery.topics == (("配送", 2), ("包裝", 1))
    assert cells["support/call_centre"].volume == 1
    assert cells["support/call_centre"].score is None
    assert cells["discover/discover_store/台北信義店"].customers == 0
    assert [cell.key for cell in found.worst] == [
        f"purchase/purchase_store/{RUDE_STORE}"
    ]


def test_map_reads_the_store_when_metrics_run_on_spark(settings: Settings) -> None:
    """Interactions are never in the Spark export: journeys read the store itself."""
    seed(settings, _events())
    on_spark = settings.model_copy(
        update={"analytics_engine": "spark", "spark_data_dir": "/no/such/export"}
    )
    found = journey_map(settings=on_spark, name="retail")
    assert _cells(found)["delivery/home_delivery"].metrics["csat"].value == pytest.approx(50.0)  # fmt: skip


def test_map_filters_by_channel_period_and_segment(settings: Settings) -> None:
    seed(settings, _events(), segments={4: "家庭", 5: "家庭"})
    by_channel = _cells(journey_map(settings=settings, name="retail",
                                    filters=JourneyFilters(channel="web")))  # fmt: skip
    assert set(by_channel) == {"delivery/home_delivery"}
    in_january = journey_map(
        settings=settings, name="retail",
        filters=JourneyFilters(date_from=date(2025, 1, 1),
                               date_to=date(2025, 1, 31)),
    )  # fmt: skip
    assert set(_cells(in_january)) == {"purchase/purchase_store/台北信義店"}
    families = _cells(journey_map(settings=settings, name="retail",
                                  filters=JourneyFilters(segment="家庭")))  # fmt: skip
    rude = families[f"purchase/purchase_store/{RUDE_STORE}"]
    assert rude.metrics["nps"].n == 8  # customers 4 and 5 of 4, 5, 6
    assert set(families) == {f"purchase/purchase_store/{RUDE_STORE}"}


def test_unknown_persona_is_refused(sqlite_settings: Settings) -> None:
    with pytest.raises(InvalidInput, match="unknown persona"):
        journey_map(settings=sqlite_settings, name="retail",
                    filters=JourneyFilters(persona="nobody"))  # fmt: skip


def test_topic_names_ignore_what_is_not_a_list() -> None:
    assert topic_names('{"a": 1}') == []
    assert topic_names("not json") == []
    assert topic_names('[" 價格 ", 3, {"name": "門市"}]') == ["價格", "門市"]


@pytest.fixture(scope="module")
def demo_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The small demo company in an SQLite store (loaded once for this module)."""
    from cxloop.store.migrate import upgrade

    folder: Path = tmp_path_factory.mktemp("demo")
    url = f"sqlite:///{folder / 'cxloop.db'}"
    upgrade(url)
    settings = Settings(database_url=url, analytics_dir=str(folder / "an"))
    assert load_demo(settings=settings, size="small").rejected == 0
    return settings


def test_demo_rude_store_is_the_worst_touchpoint(demo_settings: Settings) -> None:
    found = journey_map(settings=demo_settings, name="retail")
    worst = found.worst[0]
    assert worst.detail == RUDE_STORE
    assert worst.score is not None
    assert worst.score.upper is not None
    assert found.overall is not None
    assert worst.score.upper < found.overall.mean
    stores = [c for c in found.cells if c.slot.touchpoint == "purchase_store"]
    assert min(stores, key=lambda c: c.score.mean if c.score else 1.0) is worst
    assert len(stores) == 12


def test_demo_map_exports_name_the_rude_store(demo_settings: Settings) -> None:
    found = journey_map(settings=demo_settings, name="retail",
                        filters=JourneyFilters(channel="store"))  # fmt: skip
    document = map_document(found, "en")
    assert document["worst"][0]["name"] == RUDE_STORE
    assert next(s["stage"] for s in document["stages"]) == "discover"
    text = map_csv(found, "zh-TW")
    header, *rows = text.splitlines()
    assert header.startswith("stage,touchpoint,cell,volume")
    rude = next(row for row in rows if row.startswith(f"購買,門市,{RUDE_STORE},"))
    assert rude.endswith(",1")
    svg = map_svg(found, "zh-TW")
    assert svg.startswith("<svg")
    assert f"#1 {RUDE_STORE}" in svg
