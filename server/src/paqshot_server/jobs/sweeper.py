"""Periodic upkeep run by every worker: recover expired leases, re-send lost queue messages, purge files
past retention, forget old idempotency keys. (The heartbeat is ``worker.Upkeep``'s; webhooks are the
dispatcher's.)"""

from __future__ import annotations

import logging
import time

from ..storage import jobs as jobs_sql
from ..storage import stats
from ..words import counted
from . import ending
from .context import WorkerContext
from .queue import JobQueue

log = logging.getLogger(__name__)


def recover_leases(ctx: WorkerContext, queue: JobQueue, now: float) -> tuple[int, int]:
    """Re-queue jobs whose worker died; fail those out of attempts. Returns (requeued, failed)."""
    requeued = failed = 0
    for job in jobs_sql.expired_leases(ctx.db.get(), now):
        try:
            if job.attempts >= ctx.settings.max_attempts:
                message = (
                    f"The worker running this generation stopped {counted(job.attempts, 'time')} before finishing "
                    "(killed, or out of memory); giving up."
                )
                if ending.fail(ctx, job, "server_error", message, owner=None):
                    failed += 1
            elif jobs_sql.requeue(ctx.db.get(), job.id, now):
                queue.enqueue(job.id)
                requeued += 1
        except Exception as exc:  # one job's row that cannot be written must not hold up every other job's
            if ending.busy(exc):
                raise
            log.exception("lease recovery of job %s failed; the next sweep tries again", job.id)
    if requeued:
        stats.increment(ctx.db.get(), "lease_recoveries", requeued)
    if requeued or failed:
        log.warning("lease recovery: %d re-queued, %d failed", requeued, failed)
    return requeued, failed


def resend_lost(ctx: WorkerContext, queue: JobQueue, now: float, grace: float = 120.0) -> int:
    """Queued jobs idle for ``grace`` seconds with no message in the queue get their id sent again.

    A message can be lost if a process died between the insert and the enqueue, or the queue file was
    restored from a backup. A duplicate would be harmless (claiming is conditional) but is avoided anyway.
    """
    ids = jobs_sql.queued_ids(ctx.db.get(), now - grace)
    if not ids:
        return 0
    waiting = queue.queued_ids()
    lost = [job_id for job_id in ids if job_id not in waiting]
    for job_id in lost:
        queue.enqueue(job_id)
    jobs_sql.touch(ctx.db.get(), ids, now)
    return len(lost)


def purge_expired(ctx: WorkerContext, now: float) -> int:
    """Delete result and input files past retention; the row stays (its URLs answer 404)."""
    count = 0
    for job in jobs_sql.expired_unpurged(ctx.db.get(), now):
        ctx.files.delete_owned(job.id, job.files())
        jobs_sql.mark_purged(ctx.db.get(), job.id)
        count += 1
    jobs_sql.forget_idempotency_keys(ctx.db.get(), older_than=now - ctx.settings.idempotency_hours * 3600)
    return count


def forget_records(ctx: WorkerContext, now: float) -> int:
    """Delete the records of generations that ended over ``record_retention_days`` ago (``storage.jobs.forget_ended``:
    a batch per call, so a long backlog goes over several sweeps without holding the write lock long)."""
    return jobs_sql.forget_ended(ctx.db.get(), now - ctx.settings.record_retention_days * 86400)


ORPHAN_GRACE = 24 * 3600.0  # a file younger than this may belong to a submission still being written


def purge_orphans(ctx: WorkerContext) -> int:
    """Delete stored files whose job (or backdrop plate) does not exist (a request that failed after storing its
    input, a worker killed while writing) and temp files left by a killed writer. Returns how many files were
    deleted. Backdrop plates are kept whatever their age: retention is for generations.

    Skipped while the database holds no job at all: that is more likely a replaced or empty database than
    a folder of orphans, and deleting every file would turn one fault into two.
    """
    from ..storage import backdrops as backdrops_sql
    from ..storage.files import owner_of

    db = ctx.db.get()
    if jobs_sql.count(db) == 0:
        return 0
    stale = list(ctx.files.stale(ORPHAN_GRACE))
    owners = sorted({o for p in stale if (o := owner_of(p.name)) is not None})
    known = jobs_sql.existing_ids(db, owners) | backdrops_sql.existing_ids(db, owners)
    deleted = 0
    for path in stale:
        owner = owner_of(path.name)
        if path.name.startswith(".tmp-") or (owner is not None and owner not in known):
            path.unlink(missing_ok=True)
            deleted += 1
    if deleted:
        log.warning("deleted %s that belonged to no job", counted(deleted, "stored file"))
    return deleted


def sweep(ctx: WorkerContext, queue: JobQueue) -> None:
    """One round of upkeep."""
    now = time.time()
    recover_leases(ctx, queue, now)
    resend_lost(ctx, queue, now)
    purge_expired(ctx, now)
    forget_records(ctx, now)
