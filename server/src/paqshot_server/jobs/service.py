"""The jobs service: every operation a client asks of its jobs, whoever asks (API handler or CLI).

Submission runs, in this order: style permission, option combinations, Idempotency-Key replay, rate limit,
webhook URL policy, intake (fetch/decode, validate, normalise, store), insert (quota and idempotency in the
same transaction), enqueue. Cancel ends a queued job at once and asks a running one to stop at its next
progress step. Reads stay in ``storage.jobs`` (a handler may call them directly).

To add an operation (re-run, delete, …): a method here that takes the caller's :class:`ApiKey` first, raises
domain errors (``errors.py``), keeps its SQL in ``storage/`` and publishes a job's end through ``ending``;
the API handler and the CLI then call it in a line or two.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
import msgspec

from ..api.wire import GenerateRequest
from ..errors import AppError, Forbidden, NotFound
from ..ids import iso, new_id
from ..imaging.options import AspectRatio, RenderOptions
from ..imaging.presets import resolve_options
from ..resources import Resources
from ..storage import jobs as jobs_sql
from ..storage.jobs import Job, NewJob
from ..storage.keys import ApiKey
from . import ending, intake
from .queue import JobQueue
from .ratelimit import RateLimiter

log = logging.getLogger(__name__)

# Request fields stored in their own columns; every other field goes to ``options`` as sent.
_COLUMN_FIELDS = frozenset({"product_image", "webhook_url", "style", "aspect_ratio", "seed"})
# Rough seconds per job by engine (the estimate a 202 carries); other engines (models) 15 s.
_SECONDS_BY_ENGINE = {"classical": 2, "procedural": 3}
_DEFAULT_SECONDS = 15


@dataclass(frozen=True)
class RateWindow:
    """The caller's rate-limit window after this request (the ``X-RateLimit-*`` headers)."""

    limit: int
    remaining: int
    reset_seconds: int


@dataclass(frozen=True)
class Submitted:
    """What :meth:`JobService.submit` did: the job, and whether it is an earlier one replayed."""

    job: Job
    replayed: bool
    rate: RateWindow | None  # None when an Idempotency-Key replay was answered before the rate limit


class JobService:
    """Build once per process from the process resources, the queue it enqueues on, and its rate limiter."""

    def __init__(self, res: Resources, queue: JobQueue, limiter: RateLimiter) -> None:
        self.res, self.queue, self.limiter = res, queue, limiter

    # ---- submission --------------------------------------------------------------------------------------

    async def submit(
        self, key: ApiKey, request: GenerateRequest, *, idempotency_key: str | None = None, body: bytes | None = None
    ) -> Submitted:
        """Validate, store the product image, insert and enqueue a job for ``key``.

        ``body`` is the request as received, hashed to tell a replay from a reuse of the Idempotency-Key with
        another request (default: the request's JSON encoding), and whose keys are the fields the client sent
        (those beat the preset's values; default: the fields that differ from their defaults). Raises
        Forbidden (style not enabled, quota),
        InvalidRequest (options, webhook URL, image), IdempotencyConflict, RateLimited, ImageTooLarge,
        UnsupportedImage; a refused request leaves no stored file behind.
        """
        res = self.res
        if key.styles and request.style not in key.styles:
            raise Forbidden(f"Style '{request.style}' is not enabled for this API key.")
        options, aspect_ratio = self.options_with_preset(request, body)
        res.catalog.check_options(
            RenderOptions(style=request.style, shadow=options["shadow"], num_variants=request.num_variants)
        )
        res.catalog.check_cutout_engine(request.cutout_engine)
        idempotency = None
        if idempotency_key:
            body_hash = hashlib.sha256(msgspec.json.encode(request) if body is None else body).hexdigest()
            prior = await anyio.to_thread.run_sync(
                jobs_sql.idempotent_prior, res.db.get(), key.id, idempotency_key, body_hash
            )
            if prior is not None:
                return Submitted(prior, replayed=True, rate=None)
            idempotency = (idempotency_key, body_hash, time.time())
        remaining, reset = self.limiter.hit(key.id, key.rate_limit)
        rate = RateWindow(key.rate_limit, remaining, reset)
        if request.webhook_url:
            await intake.check_webhook_url(res, request.webhook_url)
        raw = await intake.load_product_image(res, request.product_image)
        job_id = new_id("gen")
        input_file = await intake.store_input(res, job_id, raw)
        new = NewJob(
            id=job_id,
            key_id=key.id,
            style=request.style,
            aspect_ratio=aspect_ratio,
            options=options,
            webhook_url=request.webhook_url,
            seed=request.seed,
            input_file=input_file,
            created_at=iso(time.time()),
            estimated_seconds=self.estimate(request.style),
        )
        try:
            job, created = await anyio.to_thread.run_sync(
                lambda: jobs_sql.create(res.db.get(), new, quota=key.quota, idempotency=idempotency)
            )
        except AppError:  # quota or idempotency conflict found at insert time: keep no orphan file
            res.files.delete(input_file)
            raise
        if created:
            await anyio.to_thread.run_sync(self.queue.enqueue, job.id)
        else:  # a concurrent request with the same Idempotency-Key inserted first
            res.files.delete(input_file)
        return Submitted(job, replayed=not created, rate=rate)

    def options_with_preset(self, request: GenerateRequest, body: bytes | None) -> tuple[dict[str, Any], AspectRatio]:
        """(stored options, aspect ratio) with the request's preset applied: the preset's values where the
        request did not send the field itself. Raises InvalidRequest for an unknown preset id."""
        options = _options(request)
        for preset_id in request.compliance_check or ():
            self.res.presets.get(preset_id)
        if request.preset is None:
            return options, request.aspect_ratio
        preset = self.res.presets.get(request.preset)
        values = msgspec.structs.asdict(request)
        sent = _sent_fields(request, body)
        resolved = resolve_options(preset, {name: values[name] for name in sent})
        options.update({k: v for k, v in resolved.items() if k not in _COLUMN_FIELDS})
        return options, resolved.get("aspect_ratio", request.aspect_ratio)

    def estimate(self, style: str) -> int:
        """Seconds until a job of ``style`` submitted now should be done: its engine's time × (jobs ahead + 1)."""
        base = _SECONDS_BY_ENGINE.get(self.res.catalog.status(style).engine or "", _DEFAULT_SECONDS)
        try:
            ahead = self.queue.pending()
        except Exception:  # an estimate must never fail a submission; say why it is off
            log.warning("queue length unknown; the estimate assumes an empty queue", exc_info=True)
            ahead = 0
        return int(base * (1 + ahead))

    # ---- other operations --------------------------------------------------------------------------------

    def get(self, key: ApiKey, job_id: str) -> Job:
        """``key``'s job, or NotFound (another key's job is not found either)."""
        job = jobs_sql.get(self.res.db.get(), job_id, key.id)
        if job is None:
            raise NotFound(f"Generation {job_id} not found.")
        return job

    def cancel(self, key: ApiKey, job_id: str) -> Job:
        """Ask ``key``'s job to stop; a queued job ends ``failed``/``cancelled`` now, a running one at its next
        progress step, an ended one is left as it is. Returns the job as it stands. Blocking (SQL)."""
        job = self.get(key, job_id)
        jobs_sql.request_cancel(self.res.db.get(), job.id)
        if job.state == "queued":
            ending.fail(self.res, job, "cancelled", "The generation was cancelled.", owner=None)
        return self.get(key, job_id)


def _sent_fields(request: GenerateRequest, body: bytes | None) -> set[str]:
    """Fields the client sent: the keys of the JSON body; without one, the fields that differ from the default."""
    if body is not None:
        return set(msgspec.json.decode(body, type=dict[str, Any]))
    return {
        f.name
        for f in msgspec.structs.fields(request)
        if getattr(request, f.name) != (f.default if f.default is not msgspec.NODEFAULT else object())
    }


def _options(request: GenerateRequest) -> dict[str, Any]:
    """The request's option fields (those left null are left out)."""
    return {
        name: value
        for name, value in msgspec.structs.asdict(request).items()
        if name not in _COLUMN_FIELDS and value is not None
    }
