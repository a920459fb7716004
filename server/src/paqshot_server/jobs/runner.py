"""Runs one job: claim with a lease, heartbeat, render, store, publish (state + webhook event at once)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import sqlite_utils

from .. import logs
from ..errors import AppError, UnsupportedImage
from ..ids import iso
from ..imaging.decode import decode_image
from ..imaging.options import RenderOptions
from ..imaging.result import RenderResult
from ..settings import Settings
from ..storage import jobs as jobs_sql
from ..storage.jobs import Job
from .context import WorkerContext
from .delivery import build_event
from .review import refused_for_review

log = logging.getLogger(__name__)

# Fields of RenderOptions that the job's stored options may carry.
_RENDER_FIELDS = set(RenderOptions.__dataclass_fields__)


class Cancelled(Exception):
    """Raised inside the engine (through the progress callback) when the client cancelled the job."""


class _Lease:
    """Background heartbeat that keeps the lease, records progress and notices cancellation."""

    def __init__(self, ctx: WorkerContext, job_id: str) -> None:
        self.ctx, self.job_id = ctx, job_id
        self.progress: float | None = None
        self.lost = False
        self.cancelled = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{job_id}", daemon=True)

    def __enter__(self) -> _Lease:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def beat(self) -> None:
        until = time.time() + self.ctx.settings.lease_seconds
        ours, cancel = jobs_sql.heartbeat(self.ctx.db.get(), self.job_id, self.ctx.worker_id, until, self.progress)
        self.lost = self.lost or not ours
        self.cancelled = self.cancelled or cancel

    def _run(self) -> None:
        while not self._stop.wait(self.ctx.settings.heartbeat_seconds):
            try:
                self.beat()
            except Exception:  # a missed beat is retried next tick; the lease outlives several ticks
                log.exception("heartbeat failed for %s", self.job_id)

    def report(self, fraction: float) -> None:
        """Progress callback handed to engines; raises Cancelled when the client asked to stop."""
        self.progress = max(0.0, min(1.0, fraction))
        if self.cancelled:
            raise Cancelled


def render_options(job: Job, settings: Settings) -> RenderOptions:
    """The engine's options from the stored request."""
    values = {k: v for k, v in job.options.items() if k in _RENDER_FIELDS}
    values.update(
        style=job.style,
        aspect_ratio=job.aspect_ratio,
        seed=job.seed,
        long_side=settings.output_long_side,
        jpeg_quality=settings.jpeg_quality,
    )
    return RenderOptions(**values)


def _store(ctx: WorkerContext, job: Job, result: RenderResult) -> dict[str, Any]:
    ext = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
    images = []
    for index, image in enumerate(result.images, start=1):
        stem = f"{job.id}_a{job.attempts}_{index}"
        name = f"{stem}.{ext[image.mime]}"
        thumb = f"{stem}_thumb.{ext[image.thumbnail_mime]}"
        ctx.files.put(name, image.data)
        ctx.files.put(thumb, image.thumbnail)
        images.append({"file": name, "thumb": thumb, "width": image.width, "height": image.height})
    meta = {k: v for k, v in result.meta.items() if isinstance(v, str | int | float | bool | list | dict)}
    return {
        "images": images,
        "confidence": result.confidence,
        "needs_review": result.needs_review,
        "review_reasons": [r.as_dict() for r in result.review_reasons],
        "notes": list(result.notes),
        "meta": meta,
    }


def fail_job(
    db: sqlite_utils.Database, settings: Settings, secret: bytes, job: Job, code: str, message: str, owner: str | None
) -> bool:
    """End a job as failed (with its webhook event); with ``owner`` only while that worker holds the lease.

    A failed job's stored input is kept for the retention period too, then purged like any result.
    """
    now = time.time()
    failed = Job(**{**job.__dict__, "state": "failed", "error_code": code, "error_message": message})
    fields = {
        "error_code": code,
        "error_message": message,
        "completed_at": iso(now),
        "expires_at": iso(now + settings.retention_days * 86400),
    }
    return jobs_sql.finish(
        db,
        job.id,
        owner,
        now=now,
        state="failed",
        fields=fields,
        event=build_event(settings.base_url, secret, failed, now),
    )


def _fail(ctx: WorkerContext, job: Job, code: str, message: str, owner: str | None) -> bool:
    return fail_job(ctx.db.get(), ctx.settings, ctx.secret, job, code, message, owner)


def process(ctx: WorkerContext, job_id: str) -> str:
    """Run one job if it can be claimed; returns what happened (for logs and tests)."""
    token = logs.job_id.set(job_id)
    try:
        return _process(ctx, job_id)
    finally:
        logs.job_id.reset(token)


def _process(ctx: WorkerContext, job_id: str) -> str:
    db = ctx.db.get()
    job = jobs_sql.claim(db, job_id, ctx.worker_id, time.time(), ctx.settings.lease_seconds)
    if job is None:
        return "not-claimed"
    if job.cancel_requested:
        _fail(ctx, job, "cancelled", "The generation was cancelled before it finished.", ctx.worker_id)
        return "cancelled"
    started = time.monotonic()
    with _Lease(ctx, job.id) as lease:
        try:
            raw = ctx.files.read(job.input_file)  # validated at the door; decoding again normalises it
            image = decode_image(raw, max_bytes=len(raw), max_pixels=ctx.settings.max_image_pixels).image
            result = ctx.engines.render(image, render_options(job, ctx.settings), progress=lease.report)
            refusal = refused_for_review(job, result)
            if refusal is not None:
                raise UnsupportedImage(refusal)
        except Cancelled:
            _fail(ctx, job, "cancelled", "The generation was cancelled before it finished.", ctx.worker_id)
            return "cancelled"
        except AppError as exc:
            _fail(ctx, job, exc.code, exc.message, ctx.worker_id)
            return "failed"
        except Exception:
            log.exception("job %s failed unexpectedly", job.id)
            _fail(
                ctx,
                job,
                "server_error",
                f"Generation failed unexpectedly; see the server log for {job.id}.",
                ctx.worker_id,
            )
            return "failed"
        stored = _store(ctx, job, result)
    stored["meta"]["duration_ms"] = round((time.monotonic() - started) * 1000, 1)
    now = time.time()
    expires = now + ctx.settings.retention_days * 86400
    done = Job(
        **{**job.__dict__, "state": "completed", "result": stored, "engine": result.engine, "expires_at": iso(expires)}
    )
    published = jobs_sql.finish(
        db,
        job.id,
        ctx.worker_id,
        now=now,
        state="completed",
        fields={
            "result": stored,
            "engine": result.engine,
            "progress": 1.0,
            "completed_at": iso(now),
            "expires_at": iso(expires),
        },
        event=build_event(ctx.settings.base_url, ctx.secret, done, now),
    )
    if not published:  # another attempt published first: drop our copies, keep theirs
        for image in stored["images"]:
            ctx.files.delete(image["file"])
            ctx.files.delete(image["thumb"])
        return "superseded"
    return "completed"
