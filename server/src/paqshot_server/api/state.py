"""Resources shared by the API's handlers, built once by ``create_app``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from ..jobs.queue import JobQueue
from ..jobs.ratelimit import RateLimiter
from ..jobs.service import JobService
from ..resources import Resources
from ..storage.checkpoint import Checkpointer


@dataclass
class ApiState(Resources):
    """The process resources plus what only the API needs: the queue to enqueue on and the jobs service."""

    @cached_property
    def queue(self) -> JobQueue:
        return JobQueue(str(self.settings.queue_db), autocheckpoint=False)  # ``checkpointer`` does it

    @cached_property
    def checkpointer(self) -> Checkpointer:
        """Checkpoints the app database's and the queue's WAL off the request path (started and stopped with the
        app; the connections of this process leave it to it)."""
        return Checkpointer([self.settings.app_db, self.settings.queue_db])

    @cached_property
    def jobs(self) -> JobService:
        return JobService(self, self.queue, RateLimiter())
