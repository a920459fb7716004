"""Controllers of the v1 generation endpoints. Thin: validation lives in wire/intake, SQL in storage."""

from __future__ import annotations

from typing import Annotated, Literal

import anyio.to_thread
import msgspec
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter
from litestar.status_codes import HTTP_202_ACCEPTED

from ..errors import NotFound
from ..jobs.service import Submitted
from ..storage import jobs as jobs_sql
from ..storage import keys as keys_sql
from ..storage.keys import ApiKey
from .auth import bearer_token, current_key
from .openapi import ERROR_RESPONSES
from .present import generation
from .state import ApiState
from .wire import GenerateAccepted, GenerateRequest, Generation, GenerationList


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
        body = await request.body()  # as sent: the Idempotency-Key hash, and which fields beat a preset
        submitted = await api.jobs.submit(key, data, idempotency_key=idempotency_key, body=body)
        return _accepted(submitted, api)

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
        job = await anyio.to_thread.run_sync(api.jobs.cancel, key, generation_id)
        return generation(job, api)

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


def _accepted(submitted: Submitted, api: ApiState) -> Response[GenerateAccepted]:
    job = submitted.job
    body = GenerateAccepted(
        id=job.id,
        status="processing",
        style=job.style,
        aspect_ratio=job.aspect_ratio,
        estimated_seconds=job.estimated_seconds,
        created_at=job.created_at,
    )
    headers = {"Location": f"{api.settings.base_url}/v1/generate/{job.id}"}
    if submitted.replayed:
        headers["Idempotent-Replayed"] = "true"
    if submitted.rate is not None:
        headers["X-RateLimit-Limit"] = str(submitted.rate.limit)
        headers["X-RateLimit-Remaining"] = str(submitted.rate.remaining)
        headers["X-RateLimit-Reset"] = str(submitted.rate.reset_seconds)
    return Response(body, status_code=HTTP_202_ACCEPTED, headers=headers)
