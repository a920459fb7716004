"""The worker process: a Huey consumer running jobs, plus an upkeep thread (sweeper + webhook dispatcher).

SIGINT stops gracefully (the current job finishes); SIGTERM interrupts. A SIGKILLed worker loses nothing:
its lease expires and another worker's sweeper re-queues the job.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time

from ..settings import Settings
from . import delivery, runner, sweeper
from .context import WorkerContext
from .queue import JobQueue

log = logging.getLogger(__name__)


class Upkeep(threading.Thread):
    """Delivers due webhooks twice a second and sweeps every ``sweep_seconds``."""

    def __init__(
        self, ctx: WorkerContext, queue: JobQueue, providers: list[str], parent_pid: int | None = None
    ) -> None:
        super().__init__(name="upkeep", daemon=True)
        self.ctx, self.queue, self.providers = ctx, queue, providers
        self.parent_pid = parent_pid
        self.stopping = threading.Event()

    def run(self) -> None:
        next_sweep = 0.0
        while not self.stopping.is_set():
            if self.parent_pid is not None and os.getppid() != self.parent_pid:
                # `serve` died without stopping us (SIGKILL, OOM): stop gracefully instead of running orphaned.
                log.warning("parent %d is gone; stopping after the current job", self.parent_pid)
                os.kill(os.getpid(), signal.SIGINT)
                return
            try:
                if time.monotonic() >= next_sweep:
                    sweeper.sweep(self.ctx, self.queue, self.providers)
                    next_sweep = time.monotonic() + self.ctx.settings.sweep_seconds
                delivery.dispatch_due(self.ctx)
            except Exception:  # upkeep must outlive a locked DB or a bad row; it retries next tick
                log.exception("upkeep round failed")
            self.stopping.wait(0.5)


def run_worker(settings: Settings, parent_pid: int | None = None) -> int:
    """Run until SIGINT/SIGTERM (or, with ``parent_pid``, until that parent is gone). Returns the exit code."""
    ctx = WorkerContext(settings)
    queue = JobQueue(str(settings.queue_db), handler=lambda job_id: _run(ctx, job_id))
    providers = ctx.engines.providers()
    upkeep = Upkeep(ctx, queue, providers, parent_pid)
    upkeep.start()
    log.info("worker %s started (providers: %s)", ctx.worker_id, ", ".join(providers) or "none")
    consumer = queue.huey.create_consumer(workers=settings.worker_threads, worker_type="thread", periodic=False)
    try:
        consumer.run()
    finally:
        upkeep.stopping.set()
        upkeep.join(timeout=5)
        ctx.db.close()
    return 0


def _run(ctx: WorkerContext, job_id: str) -> None:
    outcome = runner.process(ctx, job_id)
    log.info("job %s: %s", job_id, outcome)
