"""The periodic work of the loop, in one pass: what a running server does every minute.

One pass sends due survey e-mail (invitations, reminders, trigger e-mails), sends
case follow-up surveys and records their answers on the cases, runs the alert rules
over new feedback, answers new inbound questions automatically (when
``CXLOOP_AUTO_REPLY`` is on) and escalates SLA breaches. Each step is independent:
one that fails is logged and the others still run. ``cxloop serve`` runs a pass
every ``CXLOOP_DISPATCH_INTERVAL_SECONDS``; ``cxloop worker`` runs one (or loops) for
cron or a separate process. Every step claims its rows, so several workers may run
at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput

logger = logging.getLogger(__name__)


@dataclass
class WorkerPass:
    """What each step of one pass returned, and the steps that failed."""

    results: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def _steps() -> list[tuple[str, Callable[..., Any]]]:
    from cxloop.loop import alerts, auto_replies, followup_sending, sla
    from cxloop.surveys import dispatch
    from cxloop.text import pipeline

    return [
        ("text", pipeline.score_pending),
        ("surveys", dispatch.dispatch_due),
        ("followups", followup_sending.run_followups),
        ("alerts", alerts.run_alert_rules),
        ("replies", auto_replies.run_auto_replies),
        ("escalations", sla.escalate_breaches),
    ]


def run_pass(*, settings: Settings, now: datetime | None = None) -> WorkerPass:
    """Run every step once; a failing step is logged and recorded, never raised."""
    result = WorkerPass()
    for name, step in _steps():
        try:
            result.results[name] = step(settings=settings, now=now)
        except Exception as exc:  # one broken step must not stop the others
            logger.exception("worker step %s failed", name)
            result.errors[name] = f"{type(exc).__name__}: {exc}"
    return result


def run_forever(
    *,
    settings: Settings,
    interval_seconds: float,
    stop: threading.Event,
    on_pass: Callable[[WorkerPass], None] | None = None,
) -> None:
    """Run a pass every ``interval_seconds`` until ``stop`` is set."""
    if interval_seconds <= 0:
        raise InvalidInput(f"interval {interval_seconds} s must be positive")
    while not stop.is_set():
        done = run_pass(settings=settings)
        if on_pass is not None:
            on_pass(done)
        stop.wait(interval_seconds)


class BackgroundWorker:
    """A daemon thread running :func:`run_pass` on a timer; :meth:`stop` ends it."""

    def __init__(self, settings: Settings, interval_seconds: float) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=run_forever,
            kwargs={
                "settings": settings,
                "interval_seconds": interval_seconds,
                "stop": self._stop,
            },
            name="cxloop-worker",
            daemon=True,
        )

    def start(self) -> BackgroundWorker:
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the thread to stop and wait for the pass in progress to end."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)


def start_background_worker(
    settings: Settings, interval_seconds: float = 60.0
) -> BackgroundWorker:
    """Start the periodic work inside a long-running process (the web server)."""
    return BackgroundWorker(settings, interval_seconds).start()
