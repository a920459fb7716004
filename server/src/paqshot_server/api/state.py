"""Resources shared by the API's handlers, built once by ``create_app``."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from ..jobs.queue import JobQueue
from ..resources import Resources
from .ratelimit import RateLimiter


@dataclass
class ApiState(Resources):
    """The process resources plus what only the API needs: the queue to enqueue on, the rate limiter."""

    limiter: RateLimiter = field(default_factory=RateLimiter)

    @cached_property
    def queue(self) -> JobQueue:
        return JobQueue(str(self.settings.queue_db))
