"""The public response form: languages, validation, escaping, storing once, limits."""

from __future__ import annotations

import re
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from cxloop.analytics.service import metric_frame
from cxloop.config import Settings
from cxloop.store.engine import UnitOfWork, engine_for
from cxloop.store.tables import Customer, Interaction, Invitation, SurveyResponse
from cxloop.surveys.definitions import SurveyRecord, save_survey, set_status
from cxloop.web.app import create_app

HOSTILE = "<script>alert(1)</script>{{ 7*7 }}\u202e滿意"
DEFINITION: dict[str, Any] = {
    "key": "form-nps",
    "name": {"zh-TW": "門市體驗調查", "en": "Store visit survey"},
    "description": {"zh-TW": HOSTILE, "en": "About your visit"},
    "thanks": {"zh-TW": "感謝您的寶貴意見！", "en": "Thanks a lot!"},
    "questions": [
        {"key": "nps", "type": "nps", "required": True,
         "text": {"zh-TW": "您有多大可能推薦我們？", "en": "How likely are you to recommend us?"}},
        {"key": "improve", "type": "text", "show_if": {"question": "nps", "max": 6},
         "text": {"zh-TW": "我們該改進什麼？", "en": "What should we improve?"}},
        {"key": "csat", "type": "csat",
         "text": {"zh-TW": "您對服務滿意嗎？", "en": "How satisfied are you?"}},
        {"key": "channel", "type": "single", "required": True,
         "text": {"zh-TW": "您在哪裡購物？", "en": "Where did you shop?"},
         "choices": [{"value": "app", "text": {"zh-TW": "App", "en": "App"}},
                     {"value": "store", "text": {"zh-TW": HOSTILE, "en": "Store"}}]},
    ],
}  # fmt: skip
KEY = re.compile(r'name="_submission_key" value="([^"]+)"')


@pytest.fixture
def survey(sqlite_settings: Settings) -> SurveyRecord:
    return save_survey(settings=sqlite_settings, definition=DEFINITION)


def _client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), client=("198.51.100.7", 5000)) as client:
        yield client


@pytest.fixture
def form_client(sqlite_settings: Settings) -> Iterator[TestClient]:
    yield from _client(sqlite_settings)


def _key(page: httpx2.Response) -> str:
    match = KEY.search(page.text)
    assert match is not None, page.text
    return match.group(1)


def _invite(settings: Settings, survey: SurveyRecord, **fields: Any) -> str:
    token = secrets.token_urlsafe(16)
    with UnitOfWork(engine_for(settings.database_url)).session() as session:
        customer = Customer(name="林志豪")
        session.add(customer)
        session.flush()
        session.add(Invitation(survey_id=survey.id, customer_id=customer.id,
                               token=token, channel="email", **fields))  # fmt: skip
    return token


def _responses(settings: Settings) -> list[tuple[str, int | None, str | None]]:
    with engine_for(settings.database_url).connect() as conn:
        rows = conn.execute(
            select(
                SurveyResponse.status, SurveyResponse.customer_id, Interaction.channel
            )
            .join(Interaction, Interaction.id == SurveyResponse.interaction_id)
            .order_by(SurveyResponse.id)
        )
        return [(status, customer, channel) for status, customer, channel in rows]


def test_public_form_renders_in_chinese_from_the_browser(
    form_client: TestClient, survey: SurveyRecord
) -> None:
    page = form_client.get(f"/s/{survey.public_token}",
                           headers={"accept-language": "zh-TW,zh;q=0.9"})  # fmt: skip
    assert page.status_code == 200
    assert page.template.name == "pages/survey_form.html"  # type: ignore[attr-defined]
    context = page.context  # type: ignore[attr-defined]
    assert context["lang"] == "zh-TW"
    assert [q.key for q in context["questions"]] == [
        "nps",
        "improve",
        "csat",
        "channel",
    ]
    assert '<html lang="zh-TW">' in page.text
    assert '<legend class="question-text">您有多大可能推薦我們？' in page.text
    assert page.text.count('type="radio" name="nps"') == 11
    assert "完全不可能" in page.text
    assert "送出回答" in page.text
    assert (
        "若您在「您有多大可能推薦我們？」的回答為 6 或以下，請回答此題。" in page.text
    )
    assert "set-cookie" not in page.headers
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert re.search(r"<script(?![^>]*\bsrc=)", page.text) is None
    assert " style=" not in page.text


def test_public_form_renders_in_english_when_asked(
    form_client: TestClient, survey: SurveyRecord
) -> None:
    page = form_client.get(f"/s/{survey.public_token}?lang=en")
    assert '<html lang="en">' in page.text
    assert "How likely are you to recommend us?" in page.text
    assert "Not at all likely" in page.text
    assert "Extremely likely" in page.text
    assert "Answer this if your answer to “How likely are you to recommend us?” was 6 or less." in page.text  # fmt: skip
    assert f'action="/s/{survey.public_token}?lang=en"' in page.text
    assert "Save and finish later" not in page.text  # only on personal links


def test_form_escapes_hostile_survey_and_answer_text(
    form_client: TestClient, survey: SurveyRecord
) -> None:
    url = f"/s/{survey.public_token}?lang=zh-TW"
    page = form_client.post(url, data={"_submission_key": secrets.token_urlsafe(18),
                                       "nps": "3", "improve": HOSTILE})  # fmt: skip
    assert page.status_code == 422
    assert "<script>alert(1)" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;{{ 7*7 }}\u202e滿意" in page.text
    assert page.text.count("&lt;script&gt;") == 3  # description, choice, kept answer
    assert "49" not in page.text


def test_invalid_submit_shows_messages_and_keeps_answers(
    form_client: TestClient, survey: SurveyRecord, sqlite_settings: Settings
) -> None:
    url = f"/s/{survey.public_token}?lang=en"
    page = form_client.post(url, data={"_submission_key": secrets.token_urlsafe(18),
                                       "nps": "2", "improve": "排隊太久", "csat": "9"})  # fmt: skip
    assert page.status_code == 422
    errors = {q.key: q.error for q in page.context["questions"] if q.error}  # type: ignore[attr-defined]
    assert errors == {"csat": "Choose a number from 1 to 5.",
                      "channel": "Please answer this question."}  # fmt: skip
    assert '<p class="field-error" id="e-csat">' in page.text
    assert 'aria-describedby="e-channel"' in page.text
    assert 'name="nps" value="2" checked' in page.text
    assert ">排隊太久</textarea>" in page.text
    assert _responses(sqlite_settings) == []
    zh = form_client.post(f"/s/{survey.public_token}?lang=zh-TW", data={"nps": "x"})
    assert "請從列出的數字中選擇一個。" in zh.text
    assert "請回答這一題。" in zh.text


def test_double_submit_stores_one_response(
    form_client: TestClient, survey: SurveyRecord, sqlite_settings: Settings
) -> None:
    url = f"/s/{survey.public_token}?lang=en"
    key = _key(form_client.get(url))
    answers = {"_submission_key": key, "nps": "9", "channel": "store"}
    first, second = (
        form_client.post(url, data=answers),
        form_client.post(url, data=answers),
    )
    assert (first.status_code, second.status_code) == (200, 200)
    assert 'class="survey-state state-thanks"' in second.text
    assert "Thanks a lot!" in second.text
    assert _responses(sqlite_settings) == [("complete", None, "web")]


def test_channel_of_the_link_is_stored(
    form_client: TestClient, survey: SurveyRecord, sqlite_settings: Settings
) -> None:
    page = form_client.get(f"/s/{survey.public_token}?channel=store")
    assert 'name="_channel" value="store"' in page.text
    form_client.post(f"/s/{survey.public_token}",
                     data={"_submission_key": _key(page), "_channel": "store",
                           "nps": "10", "channel": "app"})  # fmt: skip
    assert _responses(sqlite_settings) == [("complete", None, "store")]


def test_personal_token_cannot_be_reused(
    form_client: TestClient, survey: SurveyRecord, sqlite_settings: Settings
) -> None:
    token = _invite(sqlite_settings, survey, language="en")
    page = form_client.get(f"/r/{token}")
    assert page.context["lang"] == "en"  # type: ignore[attr-defined]
    assert "Save and finish later" in page.text
    action = re.search(
        r'<form class="survey-form" method="post" action="([^"]+)"', page.text
    )
    assert action is not None
    assert action.group(1) == f"/r/{token}?lang=en"
    done = form_client.post(action.group(1),
                            data={"_submission_key": _key(page), "nps": "10", "channel": "app"})  # fmt: skip
    assert done.status_code == 200
    assert "Thanks a lot!" in done.text
    again = form_client.get(f"/r/{token}")
    assert 'class="survey-state state-answered"' in again.text
    retry = form_client.post(action.group(1),
                             data={"_submission_key": _key(page), "nps": "10", "channel": "app"})  # fmt: skip
    assert retry.status_code == 200  # the same submission again: thanks, nothing new
    refused = form_client.post(action.group(1),
                               data={"_submission_key": secrets.token_urlsafe(18),
                                     "nps": "0", "channel": "app"})  # fmt: skip
    assert refused.status_code == 409
    assert "You have already answered this survey" in refused.text
    customer = _responses(sqlite_settings)[0][1]
    assert _responses(sqlite_settings) == [("complete", customer, "email")]
    assert customer is not None


def test_personal_link_saves_and_finishes_later(
    form_client: TestClient, survey: SurveyRecord, sqlite_settings: Settings
) -> None:
    token = _invite(sqlite_settings, survey)
    page = form_client.get(f"/r/{token}?lang=zh-TW")
    saved = form_client.post(f"/r/{token}?lang=zh-TW",
                             data={"_submission_key": _key(page), "_action": "save",
                                   "nps": "4"})  # fmt: skip
    assert 'class="survey-state state-saved"' in saved.text
    assert "已儲存您的回答" in saved.text
    back = form_client.get(f"/r/{token}")
    assert 'name="nps" value="4" checked' in back.text
    form_client.post(f"/r/{token}", data={"_submission_key": _key(back), "nps": "4",
                                          "channel": "app"})  # fmt: skip
    assert [row[0] for row in _responses(sqlite_settings)] == ["complete"]


@pytest.mark.parametrize(("status", "code", "words"),
                         [("closed", 410, "本問卷已結束"), ("draft", 404, "本問卷尚未開放")])  # fmt: skip
def test_survey_not_active_takes_no_answers(
    form_client: TestClient, survey: SurveyRecord, sqlite_settings: Settings,
    status: str, code: int, words: str,
) -> None:  # fmt: skip
    set_status(settings=sqlite_settings, key=survey.key, status=status)
    page = form_client.get(f"/s/{survey.public_token}?lang=zh-TW")
    assert (page.status_code, words in page.text) == (code, True)
    post = form_client.post(f"/s/{survey.public_token}",
                            data={"nps": "9", "channel": "app"})  # fmt: skip
    assert post.status_code == 410
    assert _responses(sqlite_settings) == []


def test_unknown_and_expired_links_show_a_page(
    form_client: TestClient, survey: SurveyRecord, sqlite_settings: Settings
) -> None:
    expired = _invite(sqlite_settings, survey,
                      expires_at=datetime.now(UTC) - timedelta(days=1))  # fmt: skip
    assert form_client.get(f"/r/{expired}?lang=en").status_code == 410
    unknown = form_client.get("/r/nothing-here?lang=en")
    assert unknown.status_code == 404
    assert "Survey not found" in unknown.text
    assert form_client.post("/s/nothing-here", data={"nps": "1"}).status_code == 404


def test_anonymous_submissions_are_rate_limited_per_client(
    sqlite_settings: Settings, survey: SurveyRecord
) -> None:
    settings = sqlite_settings.model_copy(update={"survey_rate_limit": 3})
    for client in _client(settings):
        codes = [
            client.post(f"/s/{survey.public_token}?lang=en",
                        data={"nps": "8", "channel": "app"}).status_code
            for _ in range(4)
        ]  # fmt: skip
        limited = client.post(f"/s/{survey.public_token}?lang=en", data={"nps": "8"})
        token = _invite(settings, survey)
        personal = client.post(f"/r/{token}", data={"nps": "8", "channel": "app"})
    assert codes == [200, 200, 200, 429]
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert "Too many answers at once" in limited.text
    assert personal.status_code == 200
    assert len(_responses(settings)) == 4


def test_answers_show_up_in_the_nps_metric(
    form_client: TestClient, survey: SurveyRecord, sqlite_settings: Settings
) -> None:
    scores = [10, 9, 9, 7, 3, 0]
    for score in scores:
        form_client.post(f"/s/{survey.public_token}",
                         data={"_submission_key": secrets.token_urlsafe(18),
                               "nps": str(score), "channel": "app"})  # fmt: skip
    frame = metric_frame(settings=sqlite_settings, metric="nps", by=["channel"])
    rows = frame.to_dict("records")
    assert [(r["channel"], r["n"]) for r in rows] == [("web", 6)]
    assert rows[0]["value"] == pytest.approx(100 * (3 - 2) / 6)


def test_embed_script_offers_the_survey(
    form_client: TestClient, survey: SurveyRecord, sqlite_settings: Settings
) -> None:
    script = form_client.get(f"/embed/{survey.public_token}.js")
    assert script.status_code == 200
    assert script.headers["content-type"] == "application/javascript; charset=utf-8"
    assert f'"url": "http://127.0.0.1:8000/s/{survey.public_token}"' in script.text
    assert "document.currentScript" in script.text
    assert "textContent" in script.text
    assert form_client.get("/embed/unknown.js").status_code == 404
    set_status(settings=sqlite_settings, key=survey.key, status="closed")
    closed = form_client.get(f"/embed/{survey.public_token}.js")
    assert closed.status_code == 200
    assert "createElement" not in closed.text


def test_form_pages_set_no_session_cookie(
    form_client: TestClient, survey: SurveyRecord, sqlite_settings: Settings
) -> None:
    token = _invite(sqlite_settings, survey)
    pages = [form_client.get(f"/s/{survey.public_token}"), form_client.get(f"/r/{token}"),
             form_client.post(f"/s/{survey.public_token}", data={"nps": "5", "channel": "app"})]  # fmt: skip
    assert [("set-cookie" in page.headers) for page in pages] == [False, False, False]
    with engine_for(sqlite_settings.database_url).connect() as conn:
        opened = conn.scalar(
            select(func.count()).where(Invitation.opened_at.is_not(None))
        )
    assert opened == 1


def test_submit_waits_in_a_worker_while_another_process_writes(
    form_client: TestClient, survey: SurveyRecord, sqlite_settings: Settings
) -> None:
    path = sqlite_settings.database_url.removeprefix("sqlite:///")
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.5, lambda: other.execute("ROLLBACK"))
    release.start()
    try:
        page = form_client.post(f"/s/{survey.public_token}",
                                data={"nps": "6", "channel": "store"})  # fmt: skip
    finally:
        release.join()
        other.close()
    assert page.status_code == 200
    assert _responses(sqlite_settings) == [("complete", None, "web")]
