"""Per-key sliding-window rate limit on generate requests (polling never consumes it).

In memory: the appliance runs one API process per node; a restart forgets at most one minute of history.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

from ..errors import RateLimited


class RateLimiter:
    """``limit`` requests per ``window`` seconds per key id."""

    def __init__(self, window: float = 60.0) -> None:
        self.window = window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key_id: str, limit: int, now: float | None = None) -> tuple[int, int]:
        """Record one request; raise RateLimited when over. Returns (remaining, seconds to reset)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.setdefault(key_id, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= limit:
                retry = max(1, math.ceil(hits[0] + self.window - now))
                raise RateLimited(
                    f"Rate limit of {limit} generate requests per minute reached; retry in {retry} s.", retry, limit
                )
            hits.append(now)
            reset = math.ceil(hits[0] + self.window - now)
            return limit - len(hits), reset
