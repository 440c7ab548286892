"""An e-mail invitation, end to end: SMTP, the link in a real browser, the stored answer.

aiosmtpd receives what the dispatcher sends; the personal link in the message opens
the form of a real ``cxloop serve`` in chromium; the answer is stored once, tied to
the invitation and to the customer; the unsubscribe link works the same way.
"""

from __future__ import annotations

import email
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from e2e_pages import watch
from e2e_server import Server, running_server
from playwright.sync_api import Page, expect
from sqlalchemy import select

from cxloop.config import Settings
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import (
    Answer,
    ContactSuppression,
    Customer,
    Interaction,
    Invitation,
    Question,
    SurveyResponse,
)
from cxloop.surveys.definitions import save_survey
from cxloop.surveys.dispatch import dispatch_due
from cxloop.surveys.invitations import invite_customers

pytestmark = pytest.mark.e2e

SURVEY = {
    "key": "store-nps",
    "name": {"zh-TW": "門市體驗調查", "en": "Store experience"},
    "questions": [
        {"key": "nps", "type": "nps", "required": True,
         "text": {"zh-TW": "您有多大可能推薦我們的門市？",
                  "en": "How likely are you to recommend our store?"}},
        {"key": "liked", "type": "text", "show_if": {"question": "nps", "min": 9},
         "text": {"zh-TW": "您喜歡什麼？", "en": "What did you like?"}},
    ],
}  # fmt: skip


@dataclass
class _Inbox:
    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"


@pytest.fixture
def inbox() -> Iterator[tuple[_Inbox, int]]:
    """aiosmtpd on 127.0.0.1 and a free port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = _Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with running_server(tmp_path) as running:
        yield running


def _links(message: EmailMessage) -> list[str]:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return re.findall(r'href="([^"]+)"', part.get_content())


def _invite_one(settings: Settings) -> tuple[int, str]:
    """A customer invited to the survey: (customer id, invitation token)."""
    save_survey(settings=settings, definition=SURVEY)
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        customer = Customer(name="陳美玲", email="mei@example.com", language="zh-TW")
        session.add(customer)
        session.flush()
        customer_id = customer.id
    summary = invite_customers(settings=settings, survey_key="store-nps",
                               customer_ids=[customer_id])  # fmt: skip
    assert summary.queued == 1
    with engine_for(settings.database_url).connect() as conn:
        token = conn.scalar(select(Invitation.token))
    assert token is not None
    return customer_id, token


def test_emailed_link_opens_the_form_and_the_answer_is_tied_to_the_customer(
    server: Server, inbox: tuple[_Inbox, int], page: Page, artifacts: Path,
    tmp_path: Path,
) -> None:  # fmt: skip
    handler, port = inbox
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'cxloop.db'}",
                        public_url=server.url, smtp_host="127.0.0.1", smtp_port=port,
                        smtp_security="none")  # fmt: skip
    customer_id, token = _invite_one(settings)
    assert dispatch_due(settings=settings).sent == 1
    [message] = handler.messages
    assert message["Subject"] == "「門市體驗調查」邀請您分享寶貴意見"
    link = f"{server.url}/r/{token}"
    assert link in _links(message)

    problems = watch(page, server.url)
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("門市體驗調查")
    page.locator("#q-nps label.scale-option").filter(
        has=page.locator('input[value="9"]')
    ).click()
    page.get_by_label("您喜歡什麼？").fill("店員很親切，結帳很快")
    page.screenshot(path=artifacts / "survey-email-form.png", full_page=True)
    page.get_by_role("button", name="送出回答").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("謝謝您！")
    assert problems == []

    with engine_for(settings.database_url).connect() as conn:
        response = conn.execute(select(SurveyResponse)).one()
        nps = conn.scalar(
            select(Answer.value)
            .join(Question, Question.id == Answer.question_id)
            .where(
                Answer.interaction_id == response.interaction_id, Question.key == "nps"
            )
        )
        interaction = conn.execute(
            select(Interaction).where(Interaction.id == response.interaction_id)
        ).one()
        status = conn.scalar(select(Invitation.status))
    assert (response.customer_id, response.status, nps) == (customer_id, "complete", 9)
    assert interaction.customer_id == customer_id
    assert interaction.text == "店員很親切，結帳很快"
    assert status == "responded"


def test_emailed_unsubscribe_link_confirms_in_the_browser(
    server: Server, inbox: tuple[_Inbox, int], page: Page, artifacts: Path,
    tmp_path: Path,
) -> None:  # fmt: skip
    handler, port = inbox
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'cxloop.db'}",
                        public_url=server.url, smtp_host="127.0.0.1", smtp_port=port,
                        smtp_security="none")  # fmt: skip
    customer_id, token = _invite_one(settings)
    dispatch_due(settings=settings)
    [message] = handler.messages
    unsubscribe = f"{server.url}/unsubscribe/{token}"
    assert unsubscribe in _links(message)

    problems = watch(page, server.url)
    page.goto(unsubscribe)
    expect(page.get_by_role("heading", level=1)).to_have_text("取消訂閱問卷邀請")
    page.get_by_role("button", name="取消訂閱").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("您已取消訂閱")
    page.screenshot(path=artifacts / "survey-unsubscribed.png", full_page=True)
    assert problems == []
    with engine_for(settings.database_url).connect() as conn:
        suppressed = list(conn.scalars(select(ContactSuppression.customer_id)))
    assert suppressed == [customer_id]
