"""500 concurrent submissions to a real ``cxloop serve`` on SQLite are stored once each."""

from __future__ import annotations

import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from e2e_server import running_server
from sqlalchemy import func, select

from cxloop.config import Settings
from cxloop.store.engine import engine_for
from cxloop.store.tables import Answer, Interaction, Question, SurveyResponse
from cxloop.surveys.definitions import save_survey

pytestmark = pytest.mark.e2e

SUBMISSIONS = 500
REPEATS = 50  # the first 50 submissions are sent twice (a retry after a lost reply)
CONCURRENCY = 50
DEFINITION = {
    "key": "load-nps",
    "name": {"zh-TW": "壓力測試", "en": "Load test"},
    "questions": [
        {"key": "nps", "type": "nps", "required": True, "text": "推薦的可能性？"},
        {"key": "why", "type": "text", "text": "原因？"},
    ],
}


def _send_all(url: str, keys: list[str]) -> list[int]:
    """Every submission (and the repeats) over CONCURRENCY keep-alive connections."""
    parts = urlsplit(url)
    local = threading.local()
    opened: list[HTTPConnection] = []

    def send(index: int) -> int:
        if not hasattr(local, "conn"):
            local.conn = HTTPConnection(parts.hostname or "", parts.port, timeout=30)
            opened.append(local.conn)
        body = urlencode({"_submission_key": keys[index], "nps": index % 11,
                          "why": f"第 {index} 位"})  # fmt: skip
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        local.conn.request("POST", parts.path, body=body, headers=headers)
        response = local.conn.getresponse()
        response.read()
        return int(response.status)

    order = [*range(SUBMISSIONS), *range(REPEATS)]
    try:
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            return list(pool.map(send, order))
    finally:
        for conn in opened:
            conn.close()


def test_concurrent_submissions_are_stored_exactly_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CXLOOP_SURVEY_RATE_LIMIT", "0")  # one client sends them all
    with running_server(tmp_path) as server:
        settings = Settings(database_url=f"sqlite:///{tmp_path / 'cxloop.db'}")
        survey = save_survey(settings=settings, definition=DEFINITION)
        keys = [secrets.token_urlsafe(18) for _ in range(SUBMISSIONS)]
        codes = _send_all(f"{server.url}/s/{survey.public_token}", keys)
    assert codes == [200] * (SUBMISSIONS + REPEATS)
    with engine_for(settings.database_url).connect() as conn:
        responses = conn.scalar(select(func.count()).select_from(SurveyResponse))
        stored_keys = set(conn.scalars(select(SurveyResponse.submission_key)))
        interactions = conn.scalar(
            select(func.count()).where(Interaction.source == "survey:load-nps")
        )
        nps = conn.execute(
            select(func.count(), func.sum(Answer.value))
            .join(Question, Question.id == Answer.question_id)
            .where(Question.survey_id == survey.id, Question.key == "nps")
        ).one()
    assert (responses, interactions) == (SUBMISSIONS, SUBMISSIONS)
    assert stored_keys == set(keys)
    assert tuple(nps) == (SUBMISSIONS, sum(i % 11 for i in range(SUBMISSIONS)))
