"""Per-key moving-window rate limit on generate requests (polling never consumes it), with the ``limits``
library's moving-window strategy.

In memory: the appliance runs one API process per node; a restart forgets at most one minute of history.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from ..errors import RateLimited


class RateLimiter:
    """``limit`` requests per minute per key id (each key has its own limit)."""

    def __init__(self) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def hit(self, key_id: str, limit: int) -> tuple[int, int]:
        """Record one request; raise RateLimited when over. Returns (remaining, seconds until the window resets)."""
        item = RateLimitItemPerMinute(limit)
        allowed = self._limiter.hit(item, key_id)
        stats = self._limiter.get_window_stats(item, key_id)
        reset = max(1, math.ceil(stats.reset_time - time.time()))
        if not allowed:
            raise RateLimited(
                f"Rate limit of {limit} generate requests per minute reached; retry in {reset} s.", reset, limit
            )
        return stats.remaining, reset
