"""Rate limiting per client: a token bucket for each key, with a bounded number of keys.

Pure logic with the clock passed in (like :mod:`cxloop.domain.throttle`): the web layer
keeps one limiter per process and tests drive time by hand. Each key (a client address)
may spend ``limit`` requests at once and earns them back evenly over ``period_seconds``,
so a steady ``limit`` per period always passes and a burst above it is refused.

>>> limiter = RateLimiter(limit=2, period_seconds=60)
>>> [limiter.allow("198.51.100.7", now=0.0) for _ in range(3)]
[True, True, False]
>>> limiter.retry_after("198.51.100.7", now=0.0)
30.0
>>> limiter.allow("198.51.100.7", now=30.0), limiter.allow("203.0.113.9", now=30.0)
(True, True)
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field


@dataclass
class RateLimiter:
    """At most ``limit`` requests per key in any ``period_seconds`` (token bucket).

    ``limit`` of 0 or less turns limiting off. At most ``max_keys`` keys are tracked;
    past that the key seen least recently is forgotten (it starts again with a full
    bucket), so memory stays bounded whatever the number of clients.
    """

    limit: int
    period_seconds: float = 60.0
    max_keys: int = 10_000
    _buckets: OrderedDict[str, tuple[float, float]] = field(
        default_factory=OrderedDict, repr=False
    )

    @property
    def _rate(self) -> float:
        return self.limit / self.period_seconds

    def allow(self, key: str, *, now: float) -> bool:
        """Spend one request of ``key``; False when its bucket is empty."""
        if self.limit <= 0:
            return True
        tokens = self._tokens(key, now)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            return False
        self._buckets[key] = (tokens - 1.0, now)
        self._buckets.move_to_end(key)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return True

    def retry_after(self, key: str, *, now: float) -> float:
        """Seconds until ``key`` may make its next request (0 when it may now)."""
        if self.limit <= 0:
            return 0.0
        missing = 1.0 - self._tokens(key, now)
        return max(0.0, missing / self._rate)

    def __len__(self) -> int:
        return len(self._buckets)

    def _tokens(self, key: str, now: float) -> float:
        held = self._buckets.get(key)
        if held is None:
            return float(self.limit)
        tokens, since = held
        return min(float(self.limit), tokens + max(0.0, now - since) * self._rate)
