"""The four planted patterns of docs/en/demo.md are present and significant in `small`.

Each is measured with the same formulas and test the product uses
(:mod:`cxloop.domain.metrics`), on the small demo (about 3,600 responses), for the
default seed and two others.
"""

from __future__ import annotations

import pandas as pd
import pytest

from cxloop.demo import company as co
from cxloop.demo.generator import DemoData, generate
from cxloop.domain.metrics import ces, compare, csat, nps

SEEDS = [42, 7, 2024]


@pytest.fixture(scope="module", params=SEEDS, ids=[f"seed{s}" for s in SEEDS])
def feedback(request: pytest.FixtureRequest) -> pd.DataFrame:
    data: DemoData = generate(seed=request.param, size="small")
    return data.feedback


def _scores(frame: pd.DataFrame, column: str) -> list[int]:
    return [int(v) for v in frame[column].dropna()]


def test_late_deliveries_drive_detractors(feedback: pd.DataFrame) -> None:
    delivery = feedback[feedback["journey_stage"] == "delivery"]
    late = delivery["delivery_days"] > co.LATE_AFTER_DAYS
    change = compare(
        nps(_scores(delivery[late], "nps")), nps(_scores(delivery[~late], "nps"))
    )
    assert change.significant
    assert change.difference is not None
    assert change.difference < -40
    assert change.current.detail["detractors_pct"] > 40


def test_one_store_has_lower_csat_and_nps(feedback: pd.DataFrame) -> None:
    stores = feedback[feedback["channel"] == "store"]
    rude = stores["touchpoint"] == co.RUDE_STORE
    csat_change = compare(
        csat(_scores(stores[rude], "csat")), csat(_scores(stores[~rude], "csat"))
    )
    nps_change = compare(
        nps(_scores(stores[rude], "nps")), nps(_scores(stores[~rude], "nps"))
    )
    assert csat_change.significant
    assert csat_change.direction == "down"
    assert nps_change.direction == "down"
    by_store = {
        store: csat(_scores(group, "csat"))
        for store, group in stores.groupby("touchpoint")
    }
    sizeable = {store: r.value or 0 for store, r in by_store.items() if r.n >= 30}
    assert min(sizeable, key=lambda store: sizeable[store]) == co.RUDE_STORE


def test_price_change_month_lowers_nps(feedback: pd.DataFrame) -> None:
    month = feedback["submitted_at"].str[:7]
    around = month.isin(["2025-08", "2025-10"])
    change = compare(
        nps(_scores(feedback[month == co.PRICE_CHANGE_MONTH], "nps")),
        nps(_scores(feedback[around], "nps")),
    )
    assert change.significant
    assert change.direction == "down"
    monthly = {
        m: nps(_scores(group, "nps")).value for m, group in feedback.groupby(month)
    }
    assert min(monthly, key=lambda m: monthly[m] or 0) == co.PRICE_CHANGE_MONTH


def test_price_change_reaches_every_channel(feedback: pd.DataFrame) -> None:
    for channel in ("store", "web", "app", "email"):
        rows = feedback[feedback["channel"] == channel]
        month = rows["submitted_at"].str[:7]
        inside = nps(_scores(rows[month == co.PRICE_CHANGE_MONTH], "nps")).value
        around = nps(_scores(rows[month.isin(["2025-08", "2025-10"])], "nps")).value
        assert inside is not None
        assert around is not None
        assert inside < around, channel


def test_app_login_problems_raise_effort(feedback: pd.DataFrame) -> None:
    app = feedback[feedback["channel"] == "app"]
    after = app["submitted_at"] >= co.APP_LOGIN_ISSUE_FROM.isoformat()
    change = compare(ces(_scores(app[after], "ces")), ces(_scores(app[~after], "ces")))
    assert change.significant
    assert change.difference is not None
    assert change.difference > 1.0
    web = feedback[feedback["channel"] == "web"]
    web_after = web["submitted_at"] >= co.APP_LOGIN_ISSUE_FROM.isoformat()
    web_change = compare(
        ces(_scores(web[web_after], "ces")), ces(_scores(web[~web_after], "ces"))
    )
    assert web_change.difference is not None
    assert web_change.difference < 0.5  # the web shop's login did not change
