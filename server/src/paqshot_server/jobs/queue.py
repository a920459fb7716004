"""The Huey queue. It carries job ids only; the jobs table holds the truth (ARCHITECTURE decision 1).

``enqueue`` is the one function the API uses. The task body lives in ``runner``; this module only wires
it to a Huey instance built from settings (nothing is created at import time).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from huey import Huey

from ..storage.db import FilePin, create_private
from ..storage.locks import write_locked
from .wakeup import WakingSqliteStorage


class JobQueue:
    """A Huey instance on ``<home>/queue.db`` (SQLite, with the wake-up on enqueue of ``wakeup``) with the
    ``run_job`` task registered. A message is a wake-up carrying a job id: the worker then claims the next job
    by the fair policy (``storage.fair``), which need not be that one.

    The Huey instance is built on first use, not here: SqliteHuey opens its file when built, and a queue
    file that cannot be opened must fail the operation that needs it (a submission: 503; readiness: a
    report) and be tried again next time, not break everything built around the queue.
    """

    def __init__(
        self,
        queue_db: str,
        handler: Callable[[str], None] | None = None,
        immediate: bool = False,
        *,
        autocheckpoint: bool = True,
    ):
        """``autocheckpoint=False``: this process's commits to the queue file never checkpoint its WAL (the process
        runs ``storage.checkpoint.Checkpointer`` on it)."""
        self.queue_db, self.immediate, self.autocheckpoint = queue_db, immediate, autocheckpoint
        self._handler = handler
        self._lock = threading.Lock()
        self._huey: Huey | None = None
        self._task: Any = None
        self._pin = FilePin(Path(queue_db))

    @property
    def huey(self) -> Huey:
        """The Huey instance (built on first use; raises while the queue file cannot be opened)."""
        with self._lock:
            if self._huey is None:
                # Created owner-only before SQLite opens it (its -wal and -shm files take the same mode).
                create_private(Path(self.queue_db))
                # fsync is left at its default: fsync=False would mean synchronous=OFF (see RELIABILITY.md).
                huey = Huey(
                    name="jobs",
                    results=False,
                    immediate=self.immediate,
                    storage_class=WakingSqliteStorage,
                    filename=self.queue_db,
                    wake_path=self.queue_db + "-wake",
                    autocheckpoint=self.autocheckpoint,
                    timeout=10,
                )

                def run_job(job_id: str) -> None:
                    if self._handler is None:
                        raise RuntimeError("this queue was built for enqueueing only")
                    self._handler(job_id)

                self._task = huey.task(name="run_job")(run_job)
                self._huey = huey
                self._pin.pin()
            return self._huey

    def close(self) -> None:
        """Close the queue file's connection, the wake-up pipe and the pin (at shutdown: a process that builds
        many queues, as the tests do, would otherwise hold four descriptors per queue). A later use opens them
        again."""
        with self._lock:
            if self._huey is not None:
                storage = self._huey.storage
                storage.close()
                if isinstance(storage, WakingSqliteStorage):
                    storage.doorbell.close()
                self._huey = self._task = None
            self._pin.release()

    def enqueue(self, job_id: str) -> None:
        """Put a job id on the queue (a duplicate is harmless: claiming is conditional)."""
        self.huey  # noqa: B018 - builds the instance and its task on first use
        self._task(job_id)

    def identity_problem(self) -> str | None:
        """Why the queue file on disk is no longer the one this process uses, or None. Nothing is lost meanwhile
        (the jobs table is the record; the sweeper sends lost messages again), but processes started now would
        use another file than the running ones."""
        change = self._pin.change()
        if change is None:
            return None
        return (
            f"{self.queue_db} was {change} while the appliance was running; restart the appliance "
            "(queued jobs are kept: the jobs table is their record)."
        )

    def write_locked(self, wait_seconds: float) -> bool:
        """True when another process held the queue file's write lock for ``wait_seconds`` (seconds): every enqueue
        then waits out Huey's timeout and fails (breaker16 B16-11: readiness said the queue was fine meanwhile).

        Raises:
            sqlite3.Error: the file is missing or not a database."""
        return write_locked(Path(self.queue_db), wait_seconds)

    def pending(self) -> int:
        """Messages waiting in the queue."""
        return int(self.huey.pending_count())

    def queued_ids(self) -> set[str]:
        """Job ids that have a message waiting (reads the whole queue: for the sweeper, not hot paths)."""
        return {str(task.args[0]) for task in self.huey.pending() if task.args}
