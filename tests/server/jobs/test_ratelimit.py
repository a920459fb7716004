"""The per-key moving window: a request is allowed while fewer than ``limit`` were allowed in the minute before."""

from __future__ import annotations

import threading
import time

import pytest
from paqshot_server.errors import RateLimited
from paqshot_server.jobs.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_the_window_moves_with_its_oldest_request() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    assert limiter.hit("a", 3) == (2, 60)
    clock.now += 20
    assert limiter.hit("a", 3) == (1, 40)  # resets when the first request leaves the window
    clock.now += 20
    assert limiter.hit("a", 3) == (0, 20)
    with pytest.raises(RateLimited) as refused:
        limiter.hit("a", 3)
    assert refused.value.retry_after == 20 and refused.value.limit == 3
    assert limiter.hit("b", 3) == (2, 60)  # each key has its own window
    clock.now += 20  # the first request is now a minute old: one place frees
    assert limiter.hit("a", 3) == (0, 20)
    with pytest.raises(RateLimited):  # a refused request takes no place
        limiter.hit("a", 3)
    clock.now += 20.5
    assert limiter.hit("a", 3) == (0, 20)  # the oldest in the window is now the one of 1040 (19.5 s, rounded up)


def test_no_more_than_the_limit_pass_when_threads_race() -> None:
    limiter, passed = RateLimiter(), []

    def client() -> None:
        for _ in range(50):
            try:
                limiter.hit("k", 120)
                passed.append(1)
            except RateLimited:
                pass

    threads = [threading.Thread(target=client) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(passed) == 120


def test_the_limiter_starts_no_thread_per_request() -> None:
    before = threading.active_count()
    limiter = RateLimiter()
    for _ in range(20):
        limiter.hit("k", 1000)
    assert threading.active_count() == before  # the library it replaces started a timer thread per hit


def test_the_window_does_not_follow_the_wall_clock() -> None:
    # breaker, session 2: with time.time as the clock, a wall clock set back an hour blocked a key for an hour;
    # a monotonic clock never goes back (the window arithmetic itself is tested above with a clock of our own)
    assert RateLimiter()._clock is time.monotonic
