"""The per-client token bucket of the anonymous survey link."""

from __future__ import annotations

from cxloop.domain.rate_limit import RateLimiter


def test_allow_refuses_a_burst_above_the_limit() -> None:
    limiter = RateLimiter(limit=3, period_seconds=60)
    assert [limiter.allow("a", now=0.0) for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b", now=0.0)


def test_allow_earns_requests_back_evenly() -> None:
    limiter = RateLimiter(limit=3, period_seconds=60)
    for _ in range(3):
        limiter.allow("a", now=0.0)
    assert limiter.retry_after("a", now=0.0) == 20.0
    assert not limiter.allow("a", now=19.0)
    assert limiter.allow("a", now=20.0)
    assert not limiter.allow("a", now=20.5)


def test_allow_steady_rate_at_the_limit_always_passes() -> None:
    limiter = RateLimiter(limit=20, period_seconds=60)
    assert all(limiter.allow("a", now=i * 3.0) for i in range(200))


def test_keys_are_bounded_forgetting_the_least_recent() -> None:
    limiter = RateLimiter(limit=1, period_seconds=60, max_keys=3)
    for key in "abcd":
        assert limiter.allow(key, now=0.0)
    assert len(limiter) == 3
    assert limiter.allow("a", now=0.0)  # forgotten: a full bucket again
    assert not limiter.allow("d", now=0.0)


def test_limit_zero_turns_limiting_off() -> None:
    limiter = RateLimiter(limit=0)
    assert all(limiter.allow("a", now=0.0) for _ in range(100))
    assert limiter.retry_after("a", now=0.0) == 0.0
    assert len(limiter) == 0
