"""Sign-in throttling: too many failed attempts for one account lock it for a while.

Pure logic with the clock passed in, so the web layer keeps one instance per process
and tests drive time by hand.

>>> throttle = LoginThrottle(max_failures=2, window_seconds=60)
>>> throttle.failed("a@example.com", now=0.0)
>>> throttle.failed("a@example.com", now=1.0)
>>> throttle.blocked("a@example.com", now=2.0), throttle.blocked("a@example.com", now=62.0)
(True, False)
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass
class LoginThrottle:
    """At most ``max_failures`` failed sign-ins per key within ``window_seconds``."""

    max_failures: int = 5
    window_seconds: float = 900.0
    max_keys: int = 10_000
    _failures: dict[str, deque[float]] = field(default_factory=dict, repr=False)

    def blocked(self, key: str, *, now: float) -> bool:
        """Whether ``key`` has used up its failed attempts in the current window."""
        recent = self._recent(key, now)
        return recent is not None and len(recent) >= self.max_failures

    def failed(self, key: str, *, now: float) -> None:
        """Record a failed attempt for ``key``."""
        recent = self._recent(key, now)
        if recent is None:
            if len(self._failures) >= self.max_keys:
                oldest = min(self._failures, key=lambda k: self._failures[k][-1])
                del self._failures[oldest]
            recent = self._failures[key] = deque()
        recent.append(now)

    def succeeded(self, key: str) -> None:
        """Forget the failures of ``key`` after a successful sign-in."""
        self._failures.pop(key, None)

    def _recent(self, key: str, now: float) -> deque[float] | None:
        recent = self._failures.get(key)
        if recent is None:
            return None
        while recent and recent[0] <= now - self.window_seconds:
            recent.popleft()
        if not recent:
            del self._failures[key]
            return None
        return recent
