"""An agent works a case in a real browser: signs in, takes a case from the inbox,
replies with a suggested article, resolves it. The reply arrives as a real e-mail
file in the server's outbox."""

from __future__ import annotations

import email
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from e2e_pages import watch
from e2e_server import Server
from playwright.sync_api import Page, expect

from cxloop.accounts import service as accounts
from cxloop.config import Settings
from cxloop.loop import cases
from cxloop.loop.kb_service import import_faq
from cxloop.loop.teams import save_routing_rules
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import Customer

pytestmark = pytest.mark.e2e

AGENT, PASSWORD = "amy@heguang.example", "agent-password-123"
REFUND_ANSWER = "信用卡退款會在 7 到 14 個工作天內退回原卡，請留意帳單。"
FAQ = f"""id,question,answer
refund,退款多久會退回信用卡？,{REFUND_ANSWER}
refund,退貨退款什麼時候到帳,{REFUND_ANSWER}
points,紅利點數怎麼兌換？,到會員中心的點數專區即可兌換。
delivery,宅配多久會送到？,下單後三個工作天內送達。
"""


def _seed(folder: Path) -> int:
    """An agent in the billing team, a FAQ, a customer and one unassigned case."""
    settings = Settings(database_url=f"sqlite:///{folder / 'cxloop.db'}",
                        analytics_dir=str(folder / "an"))  # fmt: skip
    accounts.create_user(settings=settings, email=AGENT, password=PASSWORD,
                         role="agent", name="林美華", language="zh-TW")  # fmt: skip
    save_routing_rules(settings=settings, document={
        "teams": [{"key": "billing", "name": "帳務組", "assignment": "manual",
                   "members": [AGENT]}],
        "rules": [{"name": "refunds", "team": "billing", "when": {"topic": "refund"}}]})  # fmt: skip
    faq = folder / "faq.csv"
    faq.write_text(FAQ, encoding="utf-8")
    import_faq(settings=settings, path=faq, id_column="id",
               question_column="question", answer_column="answer", source="faq")  # fmt: skip
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        customer = Customer(name="陳怡君", email="chen@example.test", language="zh-TW",
                            attributes={})  # fmt: skip
        session.add(customer)
        session.flush()
        customer_id = customer.id
    opened = cases.open_case(settings=settings, customer_id=customer_id,
                             title="退款還沒退回信用卡", topics=["refund"],
                             description="上週退貨，信用卡退款多久會退回？",
                             channel="email")  # fmt: skip
    return opened.id


def test_agent_takes_replies_with_an_article_and_resolves(
    page: Page, cxloop_server: Server, tmp_path: Path, artifacts: Path
) -> None:
    case_id = _seed(tmp_path)
    server = cxloop_server
    problems = watch(page, server.url)
    page.goto(f"{server.url}/cases")
    page.get_by_label("電子郵件").fill(AGENT)
    page.get_by_label("密碼").fill(PASSWORD)
    page.get_by_role("button", name="登入").click()
    expect(page).to_have_url(f"{server.url}/cases")

    page.get_by_role("link", name="未指派").click()
    row = page.get_by_test_id("case-row").filter(has_text="退款還沒退回信用卡")
    expect(row).to_contain_text("帳務組")
    expect(row.get_by_test_id("due")).to_contain_text("首次回應")
    page.screenshot(path=str(artifacts / "case-inbox.png"), full_page=True)
    row.get_by_role("link", name="退款還沒退回信用卡").click()

    page.get_by_test_id("take").click()
    expect(page.get_by_test_id("case-owner")).to_contain_text("林美華")
    expect(page.get_by_test_id("case-status")).to_have_text("處理中")

    articles = page.get_by_test_id("suggested-articles")
    expect(articles).to_contain_text("7 到 14 個工作天")
    articles.get_by_role("checkbox").first.check()
    page.get_by_label("您的回覆").fill("陳小姐您好，已為您查詢退款進度：")
    page.screenshot(path=str(artifacts / "case-page.png"), full_page=True)
    page.get_by_test_id("send-reply").click()
    history = page.get_by_test_id("case-history")
    expect(history).to_contain_text(REFUND_ANSWER)

    page.get_by_label("變更為").select_option("resolved")
    page.get_by_label("處理說明（結案前必填）").fill("已說明退款時程")
    page.get_by_role("button", name="變更狀態").click()
    expect(page.get_by_test_id("case-status")).to_have_text("已解決")
    expect(page.get_by_test_id("resolution")).to_have_text("已說明退款時程")
    page.screenshot(path=str(artifacts / "case-resolved.png"), full_page=True)
    assert problems == []

    kinds = [e.kind for e in _detail(tmp_path, case_id).events]
    assert kinds[:6] == ["created", "routed", "taken", "status", "reply", "status"]
    mails = list((tmp_path / "cxloop.outbox").glob("*.eml"))
    assert len(mails) == 1
    message = email.message_from_bytes(mails[0].read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    text = message.get_body(preferencelist=("plain",))
    assert text is not None
    assert REFUND_ANSWER in text.get_content()


def _detail(folder: Path, case_id: int) -> cases.CaseDetail:
    settings = Settings(database_url=f"sqlite:///{folder / 'cxloop.db'}",
                        analytics_dir=str(folder / "an"))  # fmt: skip
    return cases.get_case(settings=settings, case_id=case_id)
