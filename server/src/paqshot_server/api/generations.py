"""Controllers of the v1 generation endpoints. Thin: validation lives in wire/intake, SQL in storage."""

from __future__ import annotations

import hashlib
import time
from typing import Annotated, Any, Literal

import anyio.to_thread
import msgspec
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter
from litestar.status_codes import HTTP_202_ACCEPTED

from ..errors import AppError, Forbidden, NotFound
from ..ids import iso, new_id
from ..imaging.options import RenderOptions
from ..jobs.runner import fail_job
from ..storage import jobs as jobs_sql
from ..storage import keys as keys_sql
from ..storage.keys import ApiKey
from . import intake
from .auth import bearer_token, current_key
from .openapi import ERROR_RESPONSES
from .present import generation
from .state import ApiState
from .wire import GenerateAccepted, GenerateRequest, Generation, GenerationList

_NON_OPTIONS = {"product_image", "webhook_url", "style", "aspect_ratio", "seed"}
_DEFAULT_SECONDS = {"classical": 2, "procedural": 3}


def _options(data: GenerateRequest) -> dict[str, Any]:
    return {k: v for k, v in msgspec.structs.asdict(data).items() if k not in _NON_OPTIONS and v is not None}


def _estimate(api: ApiState, engine: str | None) -> int:
    base = _DEFAULT_SECONDS.get(engine or "", 15)
    try:
        ahead = api.queue.pending()
    except Exception:  # an estimate must never fail a request
        ahead = 0
    return int(base * (1 + ahead))


class GenerationController(Controller):
    path = "/v1"
    tags = ["generations"]  # noqa: RUF012 - Litestar reads class attributes
    security = [{"bearerAuth": []}]  # noqa: RUF012 - Litestar reads this class attribute

    @post(
        "/generate",
        operation_id="createGeneration",
        status_code=HTTP_202_ACCEPTED,
        summary="Submit a generation job",
        responses=ERROR_RESPONSES,
    )
    async def create(
        self,
        request: Request,
        data: JSONBody[GenerateRequest],
        key: NamedDependency[ApiKey],
        api: NamedDependency[ApiState],
        idempotency_key: Annotated[str | None, HeaderParameter(name="Idempotency-Key", max_length=255)] = None,
    ) -> Response[GenerateAccepted]:
        """Validate, store the product image, queue the job; answer 202 with the job id."""
        if key.styles and data.style not in key.styles:
            raise Forbidden(f"Style '{data.style}' is not enabled for this API key.")
        api.engines.check_options(RenderOptions(style=data.style, shadow=data.shadow, num_variants=data.num_variants))
        api.engines.check(data.style)
        api.engines.check_cutout_engine(data.cutout_engine)
        body_hash = hashlib.sha256(await request.body()).hexdigest() if idempotency_key else ""
        if idempotency_key:
            prior = await anyio.to_thread.run_sync(
                lambda: jobs_sql.idempotent_prior(api.db.get(), key.id, idempotency_key, body_hash)
            )
            if prior is not None:
                return _accepted(prior, api, replay=True)
        remaining, reset = api.limiter.hit(key.id, key.rate_limit)
        if data.webhook_url:
            await intake.check_webhook_url(api, data.webhook_url)
        raw = await intake.load_product_image(api, data.product_image)
        job_id = new_id("gen")
        input_file = await intake.store_input(api, job_id, raw)
        now = time.time()
        engine = api.engines.status(data.style).engine
        row = {
            "id": job_id,
            "key_id": key.id,
            "state": "queued",
            "style": data.style,
            "aspect_ratio": data.aspect_ratio,
            "options": _options(data),
            "webhook_url": data.webhook_url,
            "seed": data.seed,
            "input_file": input_file,
            "created_at": iso(now),
            "updated_at": iso(now),
            "estimated_seconds": _estimate(api, engine),
        }
        idem = (idempotency_key, body_hash, now) if idempotency_key else None
        try:
            job, created = await anyio.to_thread.run_sync(
                lambda: jobs_sql.create(api.db.get(), row, quota=key.quota, idempotency=idem)
            )
        except AppError:  # quota or idempotency conflict found at insert time: keep no orphan file
            api.files.delete(input_file)
            raise
        if created:
            await anyio.to_thread.run_sync(api.queue.enqueue, job.id)
        else:
            api.files.delete(input_file)
        response = _accepted(job, api, replay=not created)
        response.headers.update(
            {
                "X-RateLimit-Limit": str(key.rate_limit),
                "X-RateLimit-Remaining": str(remaining),
                "X-RateLimit-Reset": str(reset),
            }
        )
        return response

    @get(
        "/generate/{generation_id:str}",
        operation_id="getGeneration",
        summary="Poll a generation",
        responses=ERROR_RESPONSES,
        sync_to_thread=False,
    )
    def fetch(
        self, generation_id: FromPath[str], request: Request, api: NamedDependency[ApiState]
    ) -> Response[Generation]:
        """Status of one of your generations (another key's generation is not found).

        The hot path of every client: key check and job lookup are one query, the body is encoded once.
        """
        db = api.db.get()
        job = jobs_sql.get_with_key_hash(db, generation_id, keys_sql.hash_key(bearer_token(request)))
        if job is None:
            current_key(request, api)  # 401 when the key is the problem
            raise NotFound(f"Generation {generation_id} not found.")
        return Response(msgspec.json.encode(generation(job, api)), media_type=MediaType.JSON)  # type: ignore[arg-type]

    @post(
        "/generate/{generation_id:str}/cancel",
        operation_id="cancelGeneration",
        status_code=200,
        summary="Cancel a generation (extension)",
        responses=ERROR_RESPONSES,
    )
    async def cancel(
        self, generation_id: FromPath[str], key: NamedDependency[ApiKey], api: NamedDependency[ApiState]
    ) -> Generation:
        """Ask a processing job to stop; it ends ``failed`` with error code ``cancelled``."""

        def work() -> Generation:
            db = api.db.get()
            job = jobs_sql.get(db, generation_id, key.id)
            if job is None:
                raise NotFound(f"Generation {generation_id} not found.")
            jobs_sql.request_cancel(db, job.id)
            if job.state == "queued":  # not started: end it now; a running job stops at its next progress step
                fail_job(db, api.settings, api.secret, job, "cancelled", "The generation was cancelled.", None)
            return generation(jobs_sql.get(db, generation_id, key.id) or job, api)

        return await anyio.to_thread.run_sync(work)

    @get(
        "/generations",
        operation_id="listGenerations",
        summary="List your generations",
        responses=ERROR_RESPONSES,
        sync_to_thread=False,
    )
    def list(
        self,
        key: NamedDependency[ApiKey],
        api: NamedDependency[ApiState],
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000_000)] = 0,
        status: Annotated[
            Literal["processing", "completed", "failed"] | None, QueryParameter(description="Filter by status.")
        ] = None,
    ) -> GenerationList:
        """Newest first; ``status`` filters by the spec's three statuses."""
        page, total = jobs_sql.list_for_key(api.db.get(), key.id, status=status, limit=limit, offset=offset)
        return GenerationList(
            data=[generation(j, api) for j in page],
            total=total,
            limit=limit,
            offset=offset,
            has_more=offset + len(page) < total,
        )


def _accepted(job: jobs_sql.Job, api: ApiState, *, replay: bool) -> Response[GenerateAccepted]:
    body = GenerateAccepted(
        id=job.id,
        status="processing",
        style=job.style,  # type: ignore[arg-type]  # stored values were validated as the Literal on the way in
        aspect_ratio=job.aspect_ratio,  # type: ignore[arg-type]
        estimated_seconds=job.estimated_seconds,
        created_at=job.created_at,
    )
    headers = {"Location": f"{api.settings.base_url}/v1/generate/{job.id}"}
    if replay:
        headers["Idempotent-Replayed"] = "true"
    return Response(body, status_code=HTTP_202_ACCEPTED, headers=headers)
