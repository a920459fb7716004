"""A job's end, published once: the row's final state and its webhook event in one transaction.

Every path that ends a job goes through here: the worker (completed, failed, cancelled), the sweeper (out of
attempts) and the jobs service (cancel before start).
"""

from __future__ import annotations

import time
from typing import Any

import msgspec

from ..errors import CutoutRefused
from ..ids import iso
from ..resources import Resources
from ..storage import jobs as jobs_sql
from ..storage.jobs import Job, JobEnd, JobResult, StoredReason
from .delivery import build_event


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
    if refused is None:
        return _end(res, job, owner, state="failed", error_code=code, error_message=message)
    result = JobResult(
        images=[],
        confidence=refused.confidence,
        needs_review=bool(refused.review_reasons),
        review_reasons=[StoredReason(code=code, message=text) for code, text in refused.review_reasons],
        meta={"cutout_engine": refused.cutout_engine},
    )
    return _end(
        res, job, owner, state="failed", error_code=code, error_message=message, engine=refused.engine, result=result
    )


def complete(res: Resources, job: Job, result: JobResult, engine: str, *, owner: str) -> bool:
    """End ``job`` as completed with its stored result (only while ``owner`` holds the lease)."""
    return _end(res, job, owner, state="completed", result=result, engine=engine)


def _end(res: Resources, job: Job, owner: str | None, **how: Any) -> bool:
    """Publish ``job``'s end now; its files stay downloadable for ``retention_days``."""
    now = time.time()
    end = JobEnd(completed_at=iso(now), expires_at=iso(now + res.settings.retention_days * 86400), **how)
    return publish(res, job, end, owner=owner, now=now)
