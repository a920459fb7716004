"""The worker process: a Huey consumer running jobs, an upkeep thread (heartbeat + sweeper) and, apart from
both, the webhook dispatcher (``jobs.dispatcher``), so a slow receiver never delays a heartbeat or a sweep.

SIGINT stops gracefully (the current job finishes); SIGTERM interrupts. A SIGKILLed worker loses nothing:
its lease expires and another worker's sweeper re-queues the job. A queue that cannot be opened is retried
with back-off while the heartbeat tells readiness what is wrong (``workers.problem``).
"""

from __future__ import annotations

import io
import logging
import os
import signal
import threading
import time

from PIL import Image, ImageDraw

from ..settings import Settings
from ..storage import workers as workers_sql
from . import allocator, runner, sweeper
from .context import WorkerContext
from .dispatcher import Dispatcher, DispatcherThread
from .queue import JobQueue

log = logging.getLogger(__name__)

QUEUE_BACKOFF = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)  # seconds between tries to open a broken queue
ORPHAN_SWEEP_SECONDS = 3600.0  # the orphan sweep walks the whole file store: hourly is plenty


class Upkeep(threading.Thread):
    """Records the heartbeat (with any problem) and sweeps, every ``sweep_seconds``; watches the parent."""

    def __init__(self, ctx: WorkerContext, providers: list[str], parent_pid: int | None = None) -> None:
        super().__init__(name="upkeep", daemon=True)
        self.ctx, self.providers = ctx, providers
        self.parent_pid = parent_pid
        self.queue: JobQueue | None = None  # set once the queue opens
        self.queue_problem: str | None = None
        self.stopping = threading.Event()

    def problem(self) -> str | None:
        """What keeps this worker from running jobs, in words (None when it can)."""
        if self.queue_problem:
            return self.queue_problem
        if self.queue is not None:
            try:
                self.queue.pending()
            except Exception as exc:  # readiness reports it; the consumer retries on its own
                return f"cannot read the queue ({self.ctx.settings.queue_db.name}): {exc}"
        return None

    def beat(self) -> None:
        workers_sql.record_heartbeat(self.ctx.db.get(), self.ctx.worker_id, time.time(), self.providers, self.problem())

    def run(self) -> None:
        next_round = 0.0
        next_orphan_sweep = time.monotonic() + ORPHAN_SWEEP_SECONDS / 10  # not all at start-up
        while not self.stopping.is_set():
            if self.parent_pid is not None and os.getppid() != self.parent_pid:
                # `serve` died without stopping us (SIGKILL, OOM): stop gracefully instead of running orphaned.
                log.warning("parent %d is gone; stopping after the current job", self.parent_pid)
                os.kill(os.getpid(), signal.SIGINT)
                return
            if time.monotonic() >= next_round:
                next_round = time.monotonic() + self.ctx.settings.sweep_seconds
                try:
                    self.beat()
                    if self.queue is not None:
                        sweeper.sweep(self.ctx, self.queue)
                except Exception:  # upkeep must outlive a locked DB or a bad row; it retries next round
                    log.exception("upkeep round failed")
            if time.monotonic() >= next_orphan_sweep:
                next_orphan_sweep = time.monotonic() + ORPHAN_SWEEP_SECONDS
                try:
                    sweeper.purge_orphans(self.ctx)
                except Exception:  # the next sweep retries; orphans only cost disk space meanwhile
                    log.exception("orphan file sweep failed")
            self.stopping.wait(0.5)


def _job_queue(settings: Settings, ctx: WorkerContext) -> JobQueue:
    """The queue whose messages run jobs here (it opens nothing yet); a busy claim's message goes back on it."""
    queue = JobQueue(str(settings.queue_db), handler=lambda job_id: _run(ctx, job_id, queue))
    return queue


def open_queue(settings: Settings, ctx: WorkerContext, upkeep: Upkeep) -> JobQueue:
    """Open the queue, retrying with back-off (reported by the heartbeat) until it opens."""
    for attempt in range(1_000_000):
        queue = _job_queue(settings, ctx)
        try:
            queue.pending()  # a corrupt file fails here, not at the first dequeue
        except Exception as exc:
            queue.close()  # each retry opens anew: keep no descriptor of a failed one
            wait = QUEUE_BACKOFF[min(attempt, len(QUEUE_BACKOFF) - 1)]
            upkeep.queue_problem = f"cannot open the queue ({settings.queue_db.name}): {exc}"
            log.error("%s; trying again in %.0f s", upkeep.queue_problem, wait)
            _beat_quietly(upkeep)
            time.sleep(wait)
            continue
        if upkeep.queue_problem:
            log.warning("the queue opened again")
        upkeep.queue_problem = None
        return queue
    raise RuntimeError("unreachable")


def _beat_quietly(upkeep: Upkeep) -> None:
    try:
        upkeep.beat()
    except Exception:  # the next round retries; the queue problem is in the log already
        log.debug("heartbeat failed", exc_info=True)


def run_worker(settings: Settings, parent_pid: int | None = None) -> int:
    """Run until SIGINT/SIGTERM (or, with ``parent_pid``, until that parent is gone). Returns the exit code.
    SIGINT must be heard (``cli.main`` sets its handler before the worker's modules load)."""
    allocator.keep_freed_memory(arenas=allocator.WORKER_ARENAS)
    ctx = WorkerContext(settings, create_db=False)  # restarted after app.db was lost: never make an empty one
    providers = ctx.engines.providers()
    upkeep = Upkeep(ctx, providers, parent_pid)
    dispatcher = DispatcherThread(Dispatcher(ctx, ctx.worker_id))
    upkeep.start()
    dispatcher.start()
    try:
        queue = open_queue(settings, ctx, upkeep)
        upkeep.queue = queue
        _beat_quietly(upkeep)
        warm(ctx)
        log.info("worker %s started (providers: %s)", ctx.worker_id, ", ".join(providers) or "none")
        # The storage blocks on its wake-up pipe (``wakeup``): no polling back-off between jobs.
        consumer = queue.huey.create_consumer(workers=settings.worker_threads, worker_type="thread", periodic=False)
        consumer.run()
    except KeyboardInterrupt:  # SIGINT while the queue was still being retried
        log.info("worker %s stopped before its queue opened", ctx.worker_id)
    finally:
        upkeep.stopping.set()
        dispatcher.stop(timeout=20)
        upkeep.join(timeout=5)
        ctx.db.close()
    return 0


def warm(ctx: WorkerContext) -> float:
    """Import and load at start what a job needs (engine modules, the cut-out model's session, the signing
    identity), by running a tiny studio job through the same path without storing it; the first client's job
    then costs what every other one does. A failure is logged, never fatal: the job will report it.
    Returns the seconds it took."""
    from ..imaging.options import RenderOptions

    started = time.monotonic()
    photo = Image.new("RGB", (160, 160), (245, 245, 245))
    ImageDraw.Draw(photo).ellipse((50, 30, 110, 130), fill=(150, 60, 40))
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=90)
    raw = buffer.getvalue()
    try:
        image = runner.decode_image(raw, max_bytes=len(raw), max_pixels=ctx.settings.max_image_pixels).image
        options = RenderOptions(style="studio_packshot", long_side=128)
        result = ctx.engines.render_releasing(image, options)  # an idle worker then holds no model arena
        ctx.finisher.finish(result, product_photo=raw, title="warm-up", checks=[], find_product=None)
        from ..imaging.scenes import render  # noqa: F401 - scene styles' modules, imported once here
    except Exception:  # a broken model or certificate fails the job that needs it, with its message
        log.warning("warm-up failed; the first job will load what it needs", exc_info=True)
    # The model's arena, handed back after the warm-up's run, lies in the C heap as ~190 MB of kept freed memory
    # (issue-14.md, "Memory at 40 MP, session 5"): an idle worker need not hold it.
    allocator.hand_back()
    warm_heap(ctx)
    seconds = time.monotonic() - started
    log.info("warm-up took %.2f s", seconds)
    return seconds


WARM_HEAP_PHOTO = (2000, 1500)  # pixels of the photo warm_heap renders (a 3 MP photo at the default output size)


def warm_heap(ctx: WorkerContext) -> None:
    """Render a studio packshot of a :data:`WARM_HEAP_PHOTO` photo with the classical cut-out (no model arena) at the
    default output size, after :func:`warm` handed the heap back: the freed heap it leaves is what the allocator
    keeps between jobs (``allocator.keep_freed_memory``), so the first client's job reuses it like every later one.

    Without it the first job faulted its whole working set in (~9,000-13,000 pages for a 1200x900 photo: 270 ms
    against 125 ms for the next ones, quiet), and that job is the only time the ETA has measured on a fresh
    appliance: a burst after it was told ~2x its wait (issue-14.md, "Honest ETA and the door's re-reads, session 9").
    The cost: the kept heap (an idle fresh worker's RSS 111 -> 239 MiB; main's worker held 225 MiB after its first
    1200x900 job anyway) from its start instead of from its first job, and ~0.3 s more warm-up. A failure is
    logged, never fatal.
    """
    from ..imaging.options import CLASSICAL_CUTOUT, RenderOptions

    width, height = WARM_HEAP_PHOTO
    photo = Image.new("RGB", (width, height), (236, 236, 236))
    ImageDraw.Draw(photo).rectangle((width // 4, height // 5, 3 * width // 4, 4 * height // 5), fill=(190, 30, 35))
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=90)
    raw = buffer.getvalue()
    try:
        image = runner.decode_image(raw, max_bytes=len(raw), max_pixels=ctx.settings.max_image_pixels).image
        options = RenderOptions(style="studio_packshot", cutout_engine=CLASSICAL_CUTOUT)
        result = ctx.engines.render(image, options, consume=True)
        ctx.finisher.finish(result, product_photo=raw, title="warm-up", checks=[], find_product=None)
    except Exception:
        log.warning("warming the heap failed; the first job will fault its memory in", exc_info=True)


def _run(ctx: WorkerContext, job_id: str, queue: JobQueue) -> None:
    outcome = runner.process(ctx, job_id)
    log.info("woken by %s: %s", job_id, outcome)
    if outcome == "busy":  # the claim waited out app.db's busy timeout: the next try is the message again
        queue.enqueue(job_id)
