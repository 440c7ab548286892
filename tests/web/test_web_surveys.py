"""The survey pages in process: the builder without JavaScript, roles, the results page
(hostile customer text escaped) and sending a survey to a saved segment."""

from __future__ import annotations

import re

import httpx2
import pytest
from fastapi.testclient import TestClient
from web_client import PASSWORD, csrf_from, sign_in
from web_survey_seeding import seed_segment

from cxloop.accounts import service as accounts
from cxloop.config import Settings
from cxloop.domain.errors import NotFound
from cxloop.domain.survey_spec import Condition
from cxloop.surveys import definitions
from cxloop.surveys.responses import new_submission_key, submit_response


@pytest.fixture
def web_settings(sqlite_settings: Settings) -> Settings:
    """A fresh store without the dashboard's seeded answers."""
    return sqlite_settings


HOSTILE = "<script>alert('x')</script>{{7*7}}\u202e太慢了"

SURVEY_FIELDS = {
    "key": "store-nps", "name_zh": "門市關係型 NPS", "name_en": "Store NPS",
    "description_zh": "", "description_en": "", "status": "active", "extra": "",
    "q0.key": "nps", "q0.type": "nps", "q0.text_zh": "您有多大可能向親友推薦我們？",
    "q0.text_en": "How likely are you to recommend us?", "q0.required": "1",
}  # fmt: skip
FOLLOW_UP = {
    "q1.key": "improve", "q1.type": "text", "q1.text_zh": "我們該改進什麼？",
    "q1.text_en": "What should we improve?", "q1.if_question": "nps",
    "q1.if_min": "", "q1.if_max": "6",
}  # fmt: skip


def _post(client: TestClient, url: str, fields: dict[str, str], action: str,
          **extra: str) -> httpx2.Response:  # fmt: skip
    token = csrf_from(client.get("/surveys").text)
    data = {**fields, **extra, "action": action, "csrf_token": token}
    return client.post(url, data=data, follow_redirects=False)


def _rows(html: str) -> list[str]:
    return re.findall(r'data-testid="question-(\d+)"', html)


def test_builder_adds_a_row_and_keeps_the_typed_values(signed_in: TestClient) -> None:
    page = signed_in.get("/surveys/new")
    assert page.status_code == 200
    assert page.template.name == "pages/survey_builder.html"  # type: ignore[attr-defined]
    assert _rows(page.text) == ["0"]
    added = _post(signed_in, "/surveys/new", SURVEY_FIELDS, "add", new_type="text")
    assert added.status_code == 200
    html = added.text
    assert _rows(html) == ["0", "1"]
    assert 'value="門市關係型 NPS"' in html
    assert "您有多大可能向親友推薦我們？" in html
    assert 'name="q1.key" value="text"' in html


def test_builder_saves_a_zh_tw_nps_survey_with_a_follow_up(
    signed_in: TestClient, web_settings: Settings
) -> None:
    saved = _post(signed_in, "/surveys/new", {**SURVEY_FIELDS, **FOLLOW_UP}, "save")
    assert saved.status_code == 303
    assert saved.headers["location"] == "/surveys/store-nps"
    record = definitions.get_survey(settings=web_settings, key="store-nps")
    assert record.spec.name.zh == "門市關係型 NPS"
    assert [q.key for q in record.spec.questions] == ["nps", "improve"]
    assert record.spec.questions[0].required
    assert record.spec.questions[1].show_if == Condition("nps", None, 6.0)
    listed = signed_in.get("/surveys")
    assert 'data-testid="survey-store-nps"' in listed.text
    assert "門市關係型 NPS" in listed.text
    results = signed_in.get("/surveys/store-nps")
    assert results.status_code == 200
    assert "/s/" + record.public_token in results.text
    assert f"/embed/{record.public_token}.js" in results.text


def test_builder_shows_the_error_and_keeps_values_when_invalid(
    signed_in: TestClient, web_settings: Settings
) -> None:
    fields = {**SURVEY_FIELDS, **FOLLOW_UP, "key": "Bad Key", "q1.if_question": "later"}
    response = _post(signed_in, "/surveys/new", fields, "save")
    assert response.status_code == 400
    html = response.text
    assert 'data-testid="builder-error"' in html
    assert "not a valid key" in html
    assert 'value="Bad Key"' in html
    assert "我們該改進什麼？" in html
    fixed = _post(signed_in, "/surveys/new", {**fields, "key": "ok"}, "save")
    assert "is not an earlier question" in fixed.text
    with pytest.raises(NotFound):
        definitions.get_survey(settings=web_settings, key="ok")


def test_builder_moves_and_removes_questions(signed_in: TestClient) -> None:
    fields = {**SURVEY_FIELDS, **FOLLOW_UP}
    moved = _post(signed_in, "/surveys/new", fields, "up-1").text
    assert moved.index('value="improve"') < moved.index('name="q1.key" value="nps"')
    removed = _post(signed_in, "/surveys/new", fields, "remove-0").text
    assert _rows(removed) == ["0"]
    assert 'name="q0.key" value="improve"' in removed


def test_builder_starts_from_a_template(signed_in: TestClient) -> None:
    page = signed_in.get("/surveys/new?template=servqual")
    assert page.status_code == 200
    assert len(_rows(page.text)) >= 10
    assert "reliability" in page.text  # the dimension rides in the hidden field
    chosen = _post(signed_in, "/surveys/new", SURVEY_FIELDS, "template",
                   template="relational-nps").text  # fmt: skip
    assert 'value="門市關係型 NPS"' in chosen
    assert len(_rows(chosen)) > 1


def test_viewer_reads_but_cannot_build_or_send(
    client: TestClient, web_settings: Settings
) -> None:
    definitions.save_survey(settings=web_settings, definition={
        "key": "read-only", "name": "唯讀", "questions": [
            {"key": "nps", "type": "nps", "text": "推薦？"}]})  # fmt: skip
    accounts.create_user(settings=web_settings, email="viewer@example.com",
                         password=PASSWORD, role="viewer")  # fmt: skip
    assert sign_in(client, "viewer@example.com", PASSWORD).status_code == 303
    listed = client.get("/surveys")
    assert 'data-testid="new-survey"' not in listed.text
    assert client.get("/surveys/new").status_code == 403
    saved = _post(client, "/surveys/new", SURVEY_FIELDS, "save")
    assert saved.status_code == 403
    with pytest.raises(NotFound):
        definitions.get_survey(settings=web_settings, key="store-nps")
    results = client.get("/surveys/read-only")
    assert results.status_code == 200
    assert 'data-testid="send"' not in results.text
    assert _post(client, "/surveys/read-only/status", {}, "close").status_code == 403
    assert (
        definitions.get_survey(settings=web_settings, key="read-only").status
        == "active"
    )


def test_results_page_escapes_hostile_answers(
    signed_in: TestClient, web_settings: Settings
) -> None:
    _post(signed_in, "/surveys/new", {**SURVEY_FIELDS, **FOLLOW_UP}, "save")
    record = definitions.get_survey(settings=web_settings, key="store-nps")
    for score, text in (("3", HOSTILE), ("10", ""), ("9", "")):
        result = submit_response(
            settings=web_settings, answers={"nps": score, "improve": text},
            submission_key=new_submission_key(), public_token=record.public_token,
        )  # fmt: skip
        assert result.outcome == "stored"
    page = signed_in.get("/surveys/store-nps")
    assert page.status_code == 200
    html = page.text
    assert "<script>alert('x')</script>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;{{7*7}}" in html
    assert "49" not in re.findall(r'data-testid="verbatim".*?</tr>', html, re.S)[0]
    assert page.context["r"].responses == 3  # type: ignore[attr-defined]
    assert 'data-testid="score-nps">33.3' in html
    assert 'data-testid="completion-rate">100.0%' in html


def test_send_form_queues_invitations_for_a_segment(
    signed_in: TestClient, web_settings: Settings
) -> None:
    _post(signed_in, "/surveys/new", SURVEY_FIELDS, "save")
    segment = seed_segment(web_settings, with_email=3, without_email=1)
    page = signed_in.get("/surveys/store-nps")
    assert 'value="north"' in page.text
    sent = _post(signed_in, "/surveys/store-nps/send", {}, "", segment=segment)
    assert sent.status_code == 200
    html = sent.text
    invite = sent.context["invite"]  # type: ignore[attr-defined]
    assert (invite.queued, invite.skipped_by_reason()) == (3, {"no e-mail address": 1})
    summary = re.search(r'data-testid="invite-summary">(.*?)</div>', html, re.S)
    assert summary is not None
    assert "3" in summary.group(1)
    assert "1" in summary.group(1)
    again = signed_in.get("/surveys/store-nps")
    assert again.context["r"].invitations.queued == 3  # type: ignore[attr-defined]


def test_status_buttons_close_and_reopen(
    signed_in: TestClient, web_settings: Settings
) -> None:
    _post(signed_in, "/surveys/new", SURVEY_FIELDS, "save")
    closed = _post(signed_in, "/surveys/store-nps/status", {}, "close")
    assert closed.status_code == 303
    assert (
        definitions.get_survey(settings=web_settings, key="store-nps").status
        == "closed"
    )
    _post(signed_in, "/surveys/store-nps/status", {}, "open")
    assert (
        definitions.get_survey(settings=web_settings, key="store-nps").status
        == "active"
    )


def test_edit_keeps_the_key_and_updates_the_text(
    signed_in: TestClient, web_settings: Settings
) -> None:
    _post(signed_in, "/surveys/new", SURVEY_FIELDS, "save")
    form = signed_in.get("/surveys/store-nps/edit")
    assert "readonly" in form.text
    changed = {**SURVEY_FIELDS, "key": "other", "q0.text_zh": "推薦的可能性？"}
    saved = _post(signed_in, "/surveys/store-nps/edit", changed, "save")
    assert saved.status_code == 303
    record = definitions.get_survey(settings=web_settings, key="store-nps")
    assert record.spec.questions[0].text.zh == "推薦的可能性？"
    assert signed_in.get("/surveys/missing").status_code == 404
