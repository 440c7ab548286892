"""Triggers: one invitation per event, after the delay, never again, even in a race."""

from __future__ import annotations

import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from distribution_seeding import (
    add_case,
    add_customer,
    add_interaction,
    add_purchase,
    invitations,
    make_surveys,
    resolve_case,
)
from smtp_sink import mail_settings

from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput, NotFound
from cxloop.surveys.invitations import CONTACT_CAP, UNSUBSCRIBED, unsubscribe_customer
from cxloop.surveys.triggers import (
    add_trigger,
    disable_trigger,
    fire_triggers,
    list_triggers,
)

NOW = datetime.now(UTC)


@pytest.fixture(autouse=True)
def _now_of_this_test(monkeypatch: pytest.MonkeyPatch) -> None:
    """NOW is taken when each test starts: a long suite must not age it."""
    monkeypatch.setattr(sys.modules[__name__], "NOW", datetime.now(UTC))


@pytest.fixture
def outbox(settings: Settings, tmp_path: Path) -> Settings:
    """No SMTP server: messages go to the outbox folder."""
    return mail_settings(settings, None, outbox_dir=str(tmp_path / "outbox"))


def test_purchase_trigger_fires_once_per_event_across_passes(outbox: Settings) -> None:
    make_surveys(outbox)
    customer = add_customer(outbox, "陳美玲", "mei@example.com")
    trigger = add_trigger(settings=outbox, survey_key="after-purchase",
                          event="purchase", delay_minutes=120)  # fmt: skip
    bought = NOW - timedelta(minutes=30)
    purchase = add_purchase(outbox, customer, bought, ref="P1")
    assert fire_triggers(settings=outbox, now=NOW).queued == 1
    assert fire_triggers(settings=outbox, now=NOW).queued == 0
    [invitation] = invitations(outbox)
    assert invitation.event_ref == f"purchase:{purchase}"
    assert invitation.trigger_id == trigger.id
    assert invitation.send_after == bought + timedelta(hours=2)
    assert (invitation.status, invitation.email) == ("queued", "mei@example.com")
    assert list_triggers(settings=outbox)[0].watermark == purchase


def test_trigger_ignores_events_before_it_was_added(outbox: Settings) -> None:
    make_surveys(outbox)
    customer = add_customer(outbox, "王小明", "ming@example.com")
    add_purchase(outbox, customer, NOW - timedelta(hours=1), ref="OLD")
    add_trigger(settings=outbox, survey_key="after-purchase", event="purchase")
    assert fire_triggers(settings=outbox, now=NOW).queued == 0
    assert invitations(outbox) == []


def test_trigger_leaves_out_events_older_than_max_age(outbox: Settings) -> None:
    make_surveys(outbox)
    customer = add_customer(outbox, "王小明", "ming@example.com")
    add_trigger(settings=outbox, survey_key="after-purchase", event="purchase",
                conditions={"max_age_days": 3})  # fmt: skip
    add_purchase(outbox, customer, NOW - timedelta(days=40), ref="IMPORTED")
    summary = fire_triggers(settings=outbox, now=NOW)
    assert (summary.queued, summary.skipped, summary.too_old) == (0, 0, 1)
    assert invitations(outbox) == []


def test_case_resolved_trigger_fires_when_the_case_is_resolved(
    outbox: Settings,
) -> None:
    # The trigger watches cases resolved after it was created: use the real clock
    # (the module's NOW may lie minutes back when the suite runs long).
    now = datetime.now(UTC)
    make_surveys(outbox)
    customer = add_customer(outbox, "李大華", "hua@example.com")
    add_trigger(settings=outbox, survey_key="after-purchase", event="case_resolved",
                delay_minutes=60)  # fmt: skip
    case = add_case(outbox, customer, now - timedelta(days=2), None)
    assert fire_triggers(settings=outbox, now=now).queued == 0
    resolved = now + timedelta(minutes=1)
    resolve_case(outbox, case, resolved)
    later = now + timedelta(minutes=5)
    assert fire_triggers(settings=outbox, now=later).queued == 1
    assert fire_triggers(settings=outbox, now=later).queued == 0
    [invitation] = invitations(outbox)
    assert invitation.event_ref == f"case:{case}"
    assert invitation.send_after == resolved + timedelta(hours=1)


def test_interaction_trigger_matches_touchpoint_and_never_survey_answers(
    outbox: Settings,
) -> None:
    make_surveys(outbox)
    store_visitor = add_customer(outbox, "張雅婷", "ting@example.com")
    app_user = add_customer(outbox, "黃怡君", "yi@example.com")
    add_trigger(settings=outbox, survey_key="after-purchase", event="interaction",
                conditions={"touchpoint": "台北信義店櫃台"})  # fmt: skip
    at = NOW - timedelta(minutes=10)
    visit = add_interaction(outbox, store_visitor, at, ref="V1", kind="visit",
                            touchpoint="台北信義店櫃台")  # fmt: skip
    add_interaction(outbox, app_user, at, ref="V2", kind="visit", touchpoint="App 登入")
    add_interaction(outbox, app_user, at, ref="S1", kind="survey_response",
                    touchpoint="台北信義店櫃台")  # fmt: skip
    assert fire_triggers(settings=outbox, now=NOW).queued == 1
    assert [(i.customer_id, i.event_ref) for i in invitations(outbox)] == [
        (store_visitor, f"interaction:{visit}")
    ]


def test_trigger_records_capped_and_unsubscribed_customers_as_skipped(
    outbox: Settings,
) -> None:
    make_surveys(outbox)
    regular = add_customer(outbox, "林志豪", "hao@example.com")
    gone = add_customer(outbox, "蔡依林", "jolin@example.com")
    unsubscribe_customer(settings=outbox, customer=str(gone))
    add_trigger(settings=outbox, survey_key="after-purchase", event="purchase")
    first = add_purchase(outbox, regular, NOW - timedelta(minutes=3), ref="A")
    second = add_purchase(outbox, regular, NOW - timedelta(minutes=2), ref="B")
    third = add_purchase(outbox, gone, NOW - timedelta(minutes=1), ref="C")
    summary = fire_triggers(settings=outbox, now=NOW)
    assert (summary.queued, summary.skipped) == (1, 2)
    assert [(i.event_ref, i.status, i.error) for i in invitations(outbox)] == [
        (f"purchase:{first}", "queued", None),
        (f"purchase:{second}", "skipped", CONTACT_CAP),
        (f"purchase:{third}", "skipped", UNSUBSCRIBED),
    ]
    assert fire_triggers(settings=outbox, now=NOW + timedelta(days=40)).skipped == 0
    assert len(invitations(outbox)) == 3


def test_two_dispatchers_firing_at_once_make_one_invitation_per_event(
    outbox: Settings,
) -> None:
    make_surveys(outbox)
    uncapped = outbox.model_copy(update={"contact_cap_days": 0})
    add_trigger(settings=uncapped, survey_key="after-purchase", event="purchase")
    customers = [
        add_customer(uncapped, f"顧客{i}", f"c{i}@example.com") for i in range(20)
    ]
    for i, customer in enumerate(customers):
        add_purchase(uncapped, customer, NOW - timedelta(minutes=5), ref=f"R{i}")
    barrier, errors = threading.Barrier(3), list[Exception]()

    def fire() -> None:
        barrier.wait()
        try:
            fire_triggers(settings=uncapped, now=NOW)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=fire) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    refs = [i.event_ref for i in invitations(uncapped)]
    assert len(refs) == len(set(refs)) == 20


def test_disabled_trigger_fires_no_more(outbox: Settings) -> None:
    make_surveys(outbox)
    customer = add_customer(outbox, "周杰", "jay@example.com")
    trigger = add_trigger(
        settings=outbox, survey_key="after-purchase", event="purchase"
    )
    disable_trigger(settings=outbox, trigger_id=trigger.id)
    add_purchase(outbox, customer, NOW, ref="X")
    assert fire_triggers(settings=outbox, now=NOW).queued == 0
    assert not list_triggers(settings=outbox)[0].active
    with pytest.raises(NotFound):
        disable_trigger(settings=outbox, trigger_id=trigger.id + 100)


@pytest.mark.parametrize(
    ("event", "delay", "conditions", "message"),
    [
        ("login", 0, {}, "choose one of purchase"),
        ("purchase", -5, {}, "must not be negative"),
        ("purchase", 0, {"team": "客服"}, "does not apply to purchase"),
        ("interaction", 0, {"touchpoint": ""}, "give text values"),
        ("purchase", 0, {"max_age_days": 0}, "whole number"),
    ],
)
def test_add_trigger_refuses_bad_definitions(
    outbox: Settings, event: str, delay: int, conditions: dict[str, Any], message: str
) -> None:
    make_surveys(outbox)
    with pytest.raises(InvalidInput, match=message):
        add_trigger(settings=outbox, survey_key="after-purchase", event=event,
                    delay_minutes=delay, conditions=conditions)  # fmt: skip
    with pytest.raises(NotFound):
        add_trigger(settings=outbox, survey_key="missing", event="purchase")
