"""A job's end, published once: the row's final state and its webhook event in one transaction.

Every path that ends a job goes through here: the worker (completed, failed, cancelled), the sweeper (out of
attempts) and the jobs service (cancel before start).

A failure is always published, whatever went wrong in writing it: when the full end (its result, its webhook event)
raises anything but a busy database, the job ends failed plainly, with its code and words and no result, its event
written when it can be built (breaker16 B16-10: every end of a job raised the same error and the job stayed
``running`` for good, the sweeper's failure included).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import msgspec

from ..errors import CutoutRefused, DatabaseBusy
from ..ids import iso
from ..resources import Resources
from ..storage import jobs as jobs_sql
from ..storage.faults import is_database_busy
from ..storage.jobs import Job, JobEnd, JobResult, StoredReason
from .delivery import build_event

log = logging.getLogger(__name__)

# The latest time an ISO date of this appliance can say (9999-12-31T23:59:59Z): an expiry past it is kept there.
LATEST = 253_402_300_799.0


def publish(res: Resources, job: Job, end: JobEnd, *, owner: str | None, now: float) -> bool:
    """Write ``end`` and the webhook event of the ended job; False when another attempt published first.

    With ``owner`` only while that worker holds the lease; with None for any job not yet ended.
    """
    ended = msgspec.structs.replace(
        job,
        state=end.state,
        result=end.result,
        engine=end.engine,
        error_code=end.error_code,
        error_message=end.error_message,
        completed_at=end.completed_at,
        expires_at=end.expires_at,
    )
    event = build_event(res.settings.base_url, res.secret, ended, now)
    return jobs_sql.finish(res.db.get(), job.id, owner, now=now, end=end, event=event)


def fail(
    res: Resources, job: Job, code: str, message: str, *, owner: str | None, refused: CutoutRefused | None = None
) -> bool:
    """End ``job`` as failed with error ``code`` and a message the client can act on.

    ``refused``: the cut-out ran and refused the photo; the job then records its engine (``engine`` column) and a
    result without images that holds its confidence, ``meta.cutout_engine`` and, for a result refused because it
    needs review (``on_low_confidence: fail``), ``needs_review`` and ``review_reasons`` (shown by the job's JSON,
    the webhook payload and ``/v1/generate`` lists like a completed job's).
    A failed job's stored input is kept for the retention period too, then purged like any result.
    """
    how = {} if refused is None else _refused(refused)
    try:
        return _end(res, job, owner, state="failed", error_code=code, error_message=message, **how)
    except Exception as exc:
        if busy(exc):  # the caller's to wait for (the lease)
            raise
        log.exception("job %s: its failure could not be published in full; it ends failed without its result", job.id)
    return fail_plainly(res, job, code, message, owner=owner)


def fail_plainly(res: Resources, job: Job, code: str, message: str, *, owner: str | None) -> bool:
    """End ``job`` as failed with ``code`` and ``message`` only (no result): the end of last resort, when a fuller
    end raised. Its webhook event goes with it when the event can be built and written, else the end goes without
    it (logged). Raises only what the database raises for the bare row (a busy database among them)."""
    now = time.time()
    end = JobEnd(
        completed_at=iso(now), expires_at=_expiry(res, now), state="failed", error_code=code, error_message=message
    )
    try:
        return publish(res, job, end, owner=owner, now=now)
    except Exception as exc:
        if busy(exc):
            raise
        log.exception("job %s: its webhook event could not be written; it ends failed without one", job.id)
    return jobs_sql.finish(res.db.get(), job.id, owner, now=now, end=end, event=None)


def busy(exc: BaseException) -> bool:
    """Whether ``exc`` is app.db's write lock held by another process (waited out by the caller, never a job's end)."""
    return isinstance(exc, DatabaseBusy) or is_database_busy(exc)


def _refused(refused: CutoutRefused) -> dict[str, Any]:
    """The end's fields of a job whose cut-out refused the photo: its engine and a result without images."""
    result = JobResult(
        images=[],
        confidence=refused.confidence,
        needs_review=bool(refused.review_reasons),
        review_reasons=[StoredReason(code=code, message=text) for code, text in refused.review_reasons],
        meta={"cutout_engine": refused.cutout_engine},
    )
    return {"engine": refused.engine, "result": result}


def complete(res: Resources, job: Job, result: JobResult, engine: str, *, owner: str) -> bool:
    """End ``job`` as completed with its stored result (only while ``owner`` holds the lease)."""
    return _end(res, job, owner, state="completed", result=result, engine=engine)


def _end(res: Resources, job: Job, owner: str | None, **how: Any) -> bool:
    """Publish ``job``'s end now; its files stay downloadable for ``retention_days``."""
    now = time.time()
    end = JobEnd(completed_at=iso(now), expires_at=_expiry(res, now), **how)
    return publish(res, job, end, owner=owner, now=now)


def _expiry(res: Resources, now: float) -> str:
    """When an end at ``now`` (seconds since the epoch) stops being downloadable: ``retention_days`` later, at the
    latest :data:`LATEST` (a date past year 9999 cannot be written: "year out of range", breaker16 B16-10)."""
    return iso(min(now + res.settings.retention_days * 86400, LATEST))
