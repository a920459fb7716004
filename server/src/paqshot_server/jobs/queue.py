"""The Huey queue. It carries job ids only; the jobs table holds the truth (ARCHITECTURE decision 1).

``enqueue`` is the one function the API uses. The task body lives in ``runner``; this module only wires
it to a Huey instance built from settings (nothing is created at import time).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from huey import SqliteHuey


class JobQueue:
    """A SqliteHuey instance on ``<home>/queue.db`` with the ``run_job`` task registered."""

    def __init__(self, queue_db: str, handler: Callable[[str], None] | None = None, immediate: bool = False):
        # fsync is left at its default: fsync=False would mean synchronous=OFF (see RELIABILITY.md).
        self.huey = SqliteHuey(name="jobs", filename=queue_db, results=False, immediate=immediate, timeout=10)
        self._handler = handler

        def run_job(job_id: str) -> None:
            if self._handler is None:
                raise RuntimeError("this queue was built for enqueueing only")
            self._handler(job_id)

        self._task: Any = self.huey.task(name="run_job")(run_job)

    def enqueue(self, job_id: str) -> None:
        """Put a job id on the queue (a duplicate is harmless: claiming is conditional)."""
        self._task(job_id)

    def pending(self) -> int:
        """Messages waiting in the queue."""
        return int(self.huey.pending_count())

    def queued_ids(self) -> set[str]:
        """Job ids that have a message waiting (reads the whole queue: for the sweeper, not hot paths)."""
        return {str(task.args[0]) for task in self.huey.pending() if task.args}
