"""A seeded store and a real ``cxloop serve`` subprocess on a free loopback port."""

from __future__ import annotations

import itertools
import os
import random
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from cxloop.accounts import service as accounts
from cxloop.config import Settings
from cxloop.store import tables
from cxloop.store.engine import UnitOfWork, make_engine
from cxloop.store.migrate import upgrade

EMAIL = "admin@example.com"
PASSWORD = "e2e-password-123"
CHANNELS = ("web", "store", "app")
TOUCHPOINTS = {"web": "線上結帳", "store": "台北信義店櫃台", "app": "App 登入"}
FIRST_DAY = date(2025, 4, 1)
DAYS = 180


@dataclass(frozen=True)
class Answer:
    metric: str
    score: int
    day: date
    channel: str


def demo_answers() -> list[Answer]:
    """Six months of NPS, CSAT and CES answers in three channels (deterministic)."""
    draw = random.Random(20250401)  # noqa: S311 - reproducible test data
    answers = []
    ranges = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
    tilt = {"web": 1, "store": 0, "app": -1}
    for offset in range(DAYS):
        day = FIRST_DAY + timedelta(days=offset)
        for channel in CHANNELS:
            for metric, (low, high) in ranges.items():
                for _ in range(draw.randint(0, 2)):
                    score = draw.randint(low, high) + tilt[channel] * draw.randint(0, 1)
                    answers.append(
                        Answer(metric, min(max(score, low), high), day, channel)
                    )
    return answers


def _seed(settings: Settings, answers: list[Answer]) -> None:
    engine = make_engine(settings.database_url)
    ids = itertools.count(1)
    try:
        with UnitOfWork(engine).session() as session:
            questions = {}
            for metric in ("nps", "csat", "ces"):
                survey = tables.Survey(key=f"e2e-{metric}", name=metric)
                session.add(survey)
                session.flush()
                question = tables.Question(
                    survey_id=survey.id, key=metric, metric=metric
                )
                session.add(question)
                session.flush()
                questions[metric] = question.id
            for answer in answers:
                interaction = tables.Interaction(
                    occurred_at=datetime.combine(answer.day, datetime.min.time(), UTC)
                    + timedelta(hours=4),
                    channel=answer.channel,
                    touchpoint=TOUCHPOINTS[answer.channel],
                    kind="survey_response",
                    source="e2e",
                    external_id=f"e{next(ids)}",
                )
                session.add(interaction)
                session.flush()
                session.add(tables.Answer(interaction_id=interaction.id,
                                          question_id=questions[answer.metric],
                                          metric=answer.metric, value=answer.score))  # fmt: skip
    finally:
        engine.dispose()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _wait_until_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    process.terminate()
    process.wait(timeout=10)
    pytest.fail(f"cxloop serve did not answer /health; its output:\n{log.read_text()}")


@dataclass(frozen=True)
class Server:
    url: str
    answers: list[Answer]


@contextmanager
def running_server(tmp_path: Path) -> Iterator[Server]:
    """A seeded SQLite store, an admin, and ``python -m cxloop serve`` on a free port."""
    database_url = f"sqlite:///{tmp_path / 'cxloop.db'}"
    settings = Settings(database_url=database_url, analytics_dir=str(tmp_path / "an"))
    upgrade(database_url)
    answers = demo_answers()
    _seed(settings, answers)
    accounts.create_user(settings=settings, email=EMAIL, password=PASSWORD,
                         role="admin", name="示範管理員")  # fmt: skip
    port = _free_port()
    env = {**os.environ, "CXLOOP_DATABASE_URL": database_url,
           "CXLOOP_ANALYTICS_DIR": str(tmp_path / "an"),
           "CXLOOP_SECRET_KEY": "e2e-secret-key-0123456789abcdef",
           "CXLOOP_SECRET_KEY_FILE": str(tmp_path / "secret")}  # fmt: skip
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "cxloop", "serve", "--host", "127.0.0.1",
             "--port", str(port)],
            env=env, stdout=output, stderr=subprocess.STDOUT, cwd=tmp_path,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_healthy(url, process, log)
            yield Server(url, answers)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
