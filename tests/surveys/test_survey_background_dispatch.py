"""A running web app sends queued invitations by itself, and stops with the app."""

from __future__ import annotations

import time
from pathlib import Path

from distribution_seeding import add_customer, invitations, make_surveys
from fastapi.testclient import TestClient

from cxloop.config import Settings
from cxloop.surveys.invitations import invite_customers
from cxloop.web.app import create_app


def test_web_app_dispatcher_sends_queued_invitation_to_the_outbox(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    settings = sqlite_settings.model_copy(
        update={
            "dispatch_interval_seconds": 0.2,
            "smtp_host": "",
            "outbox_dir": str(tmp_path / "outbox"),
        }
    )
    make_surveys(settings)
    customer = add_customer(settings, "陳冠宇", "kuan@example.com")
    invite_customers(
        settings=settings, survey_key="relational", customer_ids=[customer]
    )
    assert [i.status for i in invitations(settings)] == ["queued"]
    with TestClient(create_app(settings)):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if invitations(settings)[0].status == "sent":
                break
            time.sleep(0.1)
    assert invitations(settings)[0].status == "sent"
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1


def test_web_app_without_interval_leaves_invitations_queued(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    settings = sqlite_settings.model_copy(
        update={"dispatch_interval_seconds": 0, "outbox_dir": str(tmp_path / "outbox")}
    )
    make_surveys(settings)
    customer = add_customer(settings, "林雅婷", "ya@example.com")
    invite_customers(
        settings=settings, survey_key="relational", customer_ids=[customer]
    )
    with TestClient(create_app(settings)) as client:
        assert client.get("/health").status_code == 200
    assert [i.status for i in invitations(settings)] == ["queued"]
