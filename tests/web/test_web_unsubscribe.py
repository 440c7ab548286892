"""The public unsubscribe page: GET changes nothing, POST unsubscribes, both languages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from cxloop.config import Settings
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import ContactSuppression, Customer, Invitation, Survey
from cxloop.web.app import create_app

TOKEN = "tok_unsubscribe_0123456789abcdefgh"


@pytest.fixture
def client(sqlite_settings: Settings) -> Iterator[TestClient]:
    with UnitOfWork(engine_for(sqlite_settings.database_url)).session() as session:
        survey = Survey(key="relational", name="年度調查", definition={})
        customer = Customer(name="陳美玲", email="mei@example.com")
        session.add_all([survey, customer])
        session.flush()
        session.add(Invitation(survey_id=survey.id, customer_id=customer.id,
                               token=TOKEN, channel="email", status="sent",
                               email="mei@example.com", language="en"))  # fmt: skip
    with TestClient(create_app(sqlite_settings)) as test_client:
        yield test_client


def _suppressions(settings: Settings) -> int:
    with engine_for(settings.database_url).connect() as conn:
        return int(
            conn.scalar(select(func.count()).select_from(ContactSuppression)) or 0
        )


def test_get_shows_confirm_button_and_changes_nothing(
    client: TestClient, sqlite_settings: Settings
) -> None:
    response = client.get(f"/unsubscribe/{TOKEN}")
    assert response.status_code == 200
    assert response.template.name == "pages/unsubscribe.html"  # type: ignore[attr-defined]
    assert response.context["state"] == "confirm"  # type: ignore[attr-defined]
    assert "m***@example.com" in response.text
    assert "mei@example.com" not in response.text
    assert '<button type="submit"' in response.text
    assert "set-cookie" not in response.headers
    assert _suppressions(sqlite_settings) == 0


def test_post_unsubscribes_once_in_the_invitation_language(
    client: TestClient, sqlite_settings: Settings
) -> None:
    for _ in range(2):
        response = client.post(f"/unsubscribe/{TOKEN}")
        assert response.status_code == 200
        assert "You are unsubscribed" in response.text
    assert _suppressions(sqlite_settings) == 1
    again = client.get(f"/unsubscribe/{TOKEN}", params={"lang": "zh-TW"})
    assert again.context["state"] == "done"  # type: ignore[attr-defined]
    assert "您已取消訂閱" in again.text


def test_one_click_post_from_a_mail_provider_needs_no_cookie(
    client: TestClient, sqlite_settings: Settings
) -> None:
    client.cookies.clear()
    response = client.post(
        f"/unsubscribe/{TOKEN}", content=b"List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    assert response.status_code == 200
    assert _suppressions(sqlite_settings) == 1


def test_unknown_token_is_not_found_in_both_methods(client: TestClient) -> None:
    for method in ("GET", "POST"):
        response = client.request(method, "/unsubscribe/nope?lang=zh-TW")
        assert response.status_code == 404
        assert "這個取消訂閱連結無效" in response.text
