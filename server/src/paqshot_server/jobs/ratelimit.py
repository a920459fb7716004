"""Per-key moving-window rate limit on generate and check requests (polling never consumes it).

In memory: the appliance runs one API process per node; a restart forgets at most one minute of history.

Our own, not the ``limits`` library's moving window (used until this was measured): its in-memory storage starts
a timer thread on almost every hit and walks every entry of the window to count it, 0.3-0.6 ms of the door's CPU
a request at a few thousand requests a minute; a deque of times per key counts the same window in O(1)
amortised. Same rule: a request is allowed while fewer than ``limit`` requests were allowed in the minute before
it; the window resets when its oldest request leaves it.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from ..errors import RateLimited
from ..words import counted

WINDOW_SECONDS = 60.0


class RateLimiter:
    """``limit`` requests per minute per key id (each key has its own limit). Thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:  # a wall clock set back would block keys
        self._clock = clock
        self._allowed: dict[
            str, deque[float]
        ] = {}  # per key: times of the requests allowed in the window, oldest first
        self._lock = threading.Lock()

    def hit(self, key_id: str, limit: int) -> tuple[int, int]:
        """Record one request; raise RateLimited when over. Returns (remaining, seconds until the window resets)."""
        now = self._clock()
        with self._lock:
            allowed = self._allowed.setdefault(key_id, deque())
            while allowed and allowed[0] <= now - WINDOW_SECONDS:
                allowed.popleft()
            if len(allowed) >= limit:
                reset = max(1, math.ceil(allowed[0] + WINDOW_SECONDS - now)) if allowed else int(WINDOW_SECONDS)
                raise RateLimited(
                    f"Rate limit of {counted(limit, 'request')} per minute reached; retry in {reset} s.", reset, limit
                )
            allowed.append(now)
            return limit - len(allowed), max(1, math.ceil(allowed[0] + WINDOW_SECONDS - now))
