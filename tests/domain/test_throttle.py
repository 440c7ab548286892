"""Sign-in throttling with a hand-driven clock."""

from __future__ import annotations

from cxloop.domain.throttle import LoginThrottle


def test_throttle_blocks_after_max_failures_within_window() -> None:
    throttle = LoginThrottle(max_failures=3, window_seconds=100)
    for second in (0.0, 10.0, 20.0):
        assert not throttle.blocked("a", now=second)
        throttle.failed("a", now=second)
    assert throttle.blocked("a", now=21.0)
    assert not throttle.blocked("b", now=21.0)


def test_throttle_forgets_failures_older_than_the_window() -> None:
    throttle = LoginThrottle(max_failures=2, window_seconds=100)
    throttle.failed("a", now=0.0)
    throttle.failed("a", now=50.0)
    assert throttle.blocked("a", now=99.0)
    assert not throttle.blocked("a", now=100.0)  # the first failure expired
    throttle.failed("a", now=120.0)
    assert throttle.blocked("a", now=121.0)


def test_throttle_success_resets_and_key_count_is_bounded() -> None:
    throttle = LoginThrottle(max_failures=1, window_seconds=100, max_keys=2)
    throttle.failed("a", now=0.0)
    throttle.succeeded("a")
    assert not throttle.blocked("a", now=1.0)
    throttle.failed("a", now=1.0)
    throttle.failed("b", now=2.0)
    throttle.failed("c", now=3.0)  # evicts "a", the oldest
    assert not throttle.blocked("a", now=4.0)
    assert throttle.blocked("b", now=4.0)
    assert throttle.blocked("c", now=4.0)
