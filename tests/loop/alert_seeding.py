"""Helpers for the alert tests: feedback files, rule files, a local webhook receiver."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

from sqlalchemy import func, select

from cxloop.config import Settings
from cxloop.ingest.service import import_file
from cxloop.loop.alerts import save_rules
from cxloop.store.engine import engine_for
from cxloop.store.tables import Base

HEADER = (
    "response_id",
    "email",
    "submitted_at",
    "channel",
    "touchpoint",
    "nps",
    "comment",
)


def import_feedback(
    settings: Settings, folder: Path, rows: Sequence[Sequence[Any]], name: str = "fb"
) -> None:
    """Import feedback rows (HEADER columns) with the real importer."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    path = folder / f"{name}.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    summary = import_file(settings=settings, kind="feedback", path=path)
    assert summary.committed, summary.first_rejects
    assert summary.rejected == 0, summary.first_rejects


def apply_rules(settings: Settings, folder: Path, text: str) -> None:
    path = folder / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    save_rules(settings=settings, path=path)


def count(settings: Settings, table: type[Base]) -> int:
    with engine_for(settings.database_url).connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(table)) or 0)


def rows(settings: Settings, statement: Any) -> list[Any]:
    with engine_for(settings.database_url).connect() as connection:
        return list(connection.execute(statement).all())


@dataclass
class Receiver:
    """Requests a local HTTP server received: (path, headers, body)."""

    url: str
    calls: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)

    def bodies(self, path: str) -> list[dict[str, Any]]:
        return [json.loads(body) for p, _, body in self.calls if p == path]


@contextmanager
def webhook_receiver() -> Iterator[Receiver]:
    """An http.server on 127.0.0.1: ``/fail`` answers 500, anything else 204."""
    receiver = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            receiver.calls.append(
                (self.path, dict(self.headers), self.rfile.read(length))
            )
            self.send_response(500 if self.path == "/fail" else 204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def smtp_sink() -> ModuleType:
    """tests/surveys/smtp_sink.py (a real aiosmtpd server), loaded once."""
    if "smtp_sink" in sys.modules:
        return sys.modules["smtp_sink"]
    path = Path(__file__).resolve().parents[1] / "surveys" / "smtp_sink.py"
    spec = importlib.util.spec_from_file_location("smtp_sink", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["smtp_sink"] = module
    spec.loader.exec_module(module)
    return module
