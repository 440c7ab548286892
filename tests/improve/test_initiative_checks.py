"""The Check: before/after, difference-in-differences, verdicts and responses needed.

The effects are compared with hand-computed figures: each group's NPS variance per
answer is ``p + d - (p - d)**2`` (promoters p, detractors d), so its standard error is
``100 * sqrt(var / n)``. The acceptance test runs on the small demo company, whose
price rise of 2025-09-01 must come out as a significant NPS drop.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from initiative_seeding import Batch, repeat, seed

from cxloop.analytics.service import metric_summary
from cxloop.config import Settings
from cxloop.demo.service import load_demo
from cxloop.domain.errors import InvalidInput
from cxloop.domain.experiments import responses_needed
from cxloop.improve import initiatives as ini
from cxloop.improve.checks import CheckResult, check_initiative
from cxloop.store.engine import dispose_engines

Z = 1.959963984540054
Counts = dict[float, int]
#: (touchpoint, counts per score before, after): 200 answers in each group.
TREATED: tuple[str, Counts, Counts] = (
    "宅配",
    {10: 100, 8: 60, 3: 40},
    {10: 140, 8: 40, 3: 20},
)  # 30 -> 60
FLAT: tuple[str, Counts, Counts] = (
    "超商取貨",
    {10: 80, 8: 80, 3: 40},
    {10: 80, 8: 80, 3: 40},
)  # 20 -> 20
SHARED: tuple[str, Counts, Counts] = (
    "超商取貨",
    {10: 80, 8: 80, 3: 40},
    {10: 140, 8: 20, 3: 40},
)  # 20 -> 50


def _groups(*groups: tuple[str, Counts, Counts]) -> list[Batch]:
    return [
        Batch("nps", repeat(counts), day, touchpoint=touchpoint)
        for touchpoint, before, after in groups
        for counts, day in ((before, "2025-01-15"), (after, "2025-02-15"))
    ]


def _se(p: float, d: float, n: int = 200) -> float:
    return 100 * math.sqrt((p + d - (p - d) ** 2) / n)


def _in_do(settings: Settings, metric: str = "nps", **extra: object) -> int:
    fields: dict[str, object] = {"scope": {"touchpoint": "宅配"}, **extra}
    view = ini.create_initiative(
        settings=settings, title="準時宅配", metric=metric,
        baseline_from=date(2025, 1, 1), baseline_to=date(2025, 1, 31),
        **fields,  # type: ignore[arg-type]
    )  # fmt: skip
    ini.advance(settings=settings, initiative_id=view.id, to_stage="do",
                change_date=date(2025, 2, 1))  # fmt: skip
    return view.id


def test_did_matches_hand_computed_effect(settings: Settings) -> None:
    seed(settings, _groups(TREATED, FLAT))
    initiative = _in_do(settings, comparison={"touchpoint": "超商取貨"})
    result = check_initiative(settings=settings, initiative_id=initiative)
    se_change = math.hypot(_se(0.5, 0.2), _se(0.7, 0.1))
    se_did = math.hypot(se_change, _se(0.4, 0.2), _se(0.4, 0.2))
    assert result.change.estimate == pytest.approx(30.0)
    assert result.change.se == pytest.approx(se_change)
    assert result.did is not None
    assert result.did.estimate == pytest.approx(30.0)
    assert result.did.se == pytest.approx(se_did)
    assert result.did.ci_low == pytest.approx(30.0 - Z * se_did)
    assert result.did.p_value == pytest.approx(math.erfc(30.0 / se_did / math.sqrt(2)))
    assert (result.outcome, result.responses_needed) == ("improved", None)
    assert "difference-in-differences is +30.0 points" in result.summary["en"]
    assert "差異中之差異（DiD）為 +30.0 分" in result.summary["zh-TW"]


def test_did_removes_shared_trend_no_detectable_change(settings: Settings) -> None:
    seed(settings, _groups(TREATED, SHARED))
    initiative = _in_do(
        settings, comparison={"touchpoint": "超商取貨"}, target_value=45.0
    )
    result = check_initiative(settings=settings, initiative_id=initiative)
    assert result.change.significant  # before/after alone would say "improved"
    assert result.did is not None
    assert result.did.estimate == pytest.approx(0.0, abs=1e-9)
    assert result.outcome == "no_detectable_change"
    assert result.target_effect == pytest.approx(15.0)
    assert result.responses_needed == responses_needed(result.did.se, 800, 15.0)
    assert result.responses_needed is not None
    assert result.responses_needed > 0
    assert result.target_reached is True  # 60 >= 45, though not shown to be caused
    stored = ini.get_initiative(settings=settings, initiative_id=initiative)
    assert stored.outcome == "no_detectable_change"
    assert stored.latest_check is not None
    assert stored.latest_check.result["responses_needed"] == result.responses_needed


def test_ces_fall_is_improvement(settings: Settings) -> None:
    seed(settings, [Batch("ces", repeat({4: 30, 5: 40, 6: 30}), "2025-01-15"),
                    Batch("ces", repeat({2: 30, 3: 40, 4: 30}), "2025-02-15")])  # fmt: skip
    initiative = _in_do(settings, metric="ces", target_value=3.5)
    result = check_initiative(settings=settings, initiative_id=initiative)
    assert result.change.estimate == pytest.approx(-2.0)
    assert (result.outcome, result.target_reached) == ("improved", True)
    assert "Verdict: improved." in result.summary["en"]


def test_check_refuses_without_change_date_or_before_it(settings: Settings) -> None:
    seed(settings, _groups(TREATED))
    planned = ini.create_initiative(settings=settings, title="t", metric="nps")
    with pytest.raises(InvalidInput, match="no change date yet"):
        check_initiative(settings=settings, initiative_id=planned.id)
    initiative = _in_do(settings)
    with pytest.raises(InvalidInput, match="is before the change date 2025-02-01"):
        check_initiative(settings=settings, initiative_id=initiative,
                         as_of=date(2025, 1, 31))  # fmt: skip


# --- the acceptance test on the demo company (SQLite, loaded once) --------------


@pytest.fixture(scope="module")
def demo(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    """The small demo company (seed 42) in one SQLite store for this module."""
    folder = tmp_path_factory.mktemp("demo")
    shutil.copyfile(sqlite_template, folder / "cxloop.db")
    settings = Settings(
        database_url=f"sqlite:///{folder / 'cxloop.db'}",
        secret_key="test-secret-key-not-for-production",
        analytics_dir=str(folder / "analytics"),
        timezone="Asia/Taipei",
    )
    load_demo(settings=settings, size="small", seed=42)
    yield settings
    dispose_engines()


def _demo_check(
    settings: Settings, window: tuple[date, date, date, date], **extra: object
) -> tuple[int, CheckResult]:
    first, last, change, as_of = window
    view = ini.create_initiative(
        settings=settings, title="價格調整", metric="nps", scope={},
        baseline_from=first, baseline_to=last, **extra,  # type: ignore[arg-type]
    )  # fmt: skip
    ini.advance(settings=settings, initiative_id=view.id, to_stage="do",
                change_date=change)  # fmt: skip
    return view.id, check_initiative(
        settings=settings, initiative_id=view.id, as_of=as_of
    )


def test_demo_price_rise_is_significant_nps_drop(demo: Settings) -> None:
    window = (date(2025, 6, 1), date(2025, 8, 31), date(2025, 9, 1), date(2025, 9, 30))
    _, result = _demo_check(demo, window, evidence={"kind": "topic", "value": "價格"})
    before = metric_summary(settings=demo, metric="nps", date_from=window[0],
                            date_to=window[1]).current  # fmt: skip
    assert result.outcome == "worse"
    change = result.change
    assert change.significant
    assert change.ci_high < 0
    assert change.estimate < -20
    assert result.before.value == pytest.approx(before.value)
    assert result.responses_needed is None


def test_demo_quiet_month_says_no_detectable_change(demo: Settings) -> None:
    window = (date(2025, 3, 1), date(2025, 5, 31), date(2025, 6, 1), date(2025, 6, 30))
    initiative, result = _demo_check(demo, window, target_value=30.0)
    assert result.outcome == "no_detectable_change"
    needed = result.responses_needed
    assert needed is not None
    assert needed > 0
    assert result.before.value is not None
    effect = 30.0 - result.before.value
    change = result.change
    assert needed == responses_needed(
        change.se, result.before.n + result.after.n, effect
    )
    assert f"About {needed} more responses" in result.summary["en"]
    assert ini.get_initiative(settings=demo, initiative_id=initiative).outcome == (
        "no_detectable_change"
    )
