"""Controllers of the v1 generation endpoints. Thin: validation lives in wire/intake, SQL in storage."""

from __future__ import annotations

from typing import Annotated, Literal

import anyio.to_thread
import msgspec
from litestar import Controller, HttpMethod, Request, Response, delete, get, post, route
from litestar.di import NamedDependency
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter
from litestar.status_codes import HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from ..errors import InvalidRequest, NotFound
from ..jobs.service import Submitted, generation_not_found
from ..storage import jobs as jobs_sql
from ..storage.keys import ApiKey
from ..words import counted
from . import pollcache
from .auth import bearer_token, current_key
from .errors import rate_limit_headers, remember_rate_window
from .openapi import ERROR_RESPONSES, INPUT_EXPIRED_RESPONSE
from .present import generation
from .query import strict_query
from .request_bodies import GENERATION_ID_PATTERN, GenerateRequest, PriorityChange, RerunRequest
from .state import ApiState
from .wire import GenerateAccepted, Generation, GenerationList

# Not empty: an empty header is a client's mistake (a template that lost its value), not "no key" (breaker, session 4)
IdempotencyKey = Annotated[str | None, HeaderParameter(name="Idempotency-Key", min_length=1, max_length=255)]
_STARTING_AFTER_DOC = (
    "Extension: a generation id; only generations listed after it (older) are paged, newest first. Pass the last "
    "id of a page to get the next: no repeats or gaps while new generations arrive. 404 if it is not yours."
)
_ENDING_BEFORE_DOC = (
    "Extension: a generation id; only generations listed before it (newer) are paged. Alone, the page is the one "
    "just above it, still newest first (pass a page's first id to page up, or to poll for new generations); with "
    "starting_after, the generations between the two (400 when none can be: the same id, or ending_before the newer "
    "of the two). 404 if it is not yours."
)


def read_idempotency_key(request: Request) -> str | None:
    """The request's ``Idempotency-Key`` without the spaces or tabs around it (RFC 9110 5.5: optional whitespace is
    not part of a field value; breaker12 B12-12: "k " and "k" were two keys, and the retry ran the job twice), or
    None when not sent. Its length (1 to 255) is the ``IdempotencyKey`` parameter's check.

    Raises:
        InvalidRequest: the header appears more than once (which one a proxy or this server reads is anyone's
            guess, and a retry answered for the other key runs the job twice), or holds only whitespace.
    """
    values = request.headers.getall("idempotency-key", [])
    if len(values) > 1:
        raise InvalidRequest(
            "The Idempotency-Key header is sent more than once; send it once, with the one key of this request."
        )
    if not values:
        return None
    key = values[0].strip(" \t")
    if not key:
        raise InvalidRequest("The header Idempotency-Key must be text, 1 to 255 characters long, not only spaces.")
    return key


def request_fingerprint(sent: object) -> bytes:
    """The parsed request as JSON with its keys sorted, no spaces and each whole number written as one: what the
    Idempotency-Key compares, so the same request with its keys in another order or other spacing (breaker12
    B12-12), or a number written otherwise (``5.0`` for ``5``, ``5e0``: JSON numbers that are equal; breaker13
    B13-12), is a replay."""
    return msgspec.json.encode(_whole_numbers(sent), order="sorted")


def earlier_fingerprints(sent: object, as_sent: bytes) -> tuple[bytes, ...]:
    """The forms earlier versions hashed for an Idempotency-Key, which rows written before an upgrade hold (for up
    to ``idempotency_hours``): the bytes as sent (before 846ee5e; breaker13 B13-14) and, where it differs from
    :func:`request_fingerprint`, the sorted-keys form that kept ``5.0`` as written (before B13-12's fix)."""
    sorted_form = msgspec.json.encode(sent, order="sorted")
    return (as_sent, sorted_form) if sorted_form != request_fingerprint(sent) else (as_sent,)


def _whole_numbers(value: object) -> object:
    """``value`` (parsed JSON) with every float that is a whole number as an int, at any depth."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole_numbers(v) for v in value]
    return value


class GenerationController(Controller):
    path = "/v1"
    tags = ["generations"]  # noqa: RUF012 - Litestar reads class attributes
    security = [{"bearerAuth": []}]  # noqa: RUF012 - Litestar reads this class attribute

    # Litestar 2 lists only the first-registered handler's methods in the automatic OPTIONS answer of a path with
    # several handlers (litestar-org/litestar#4169, fixed in 3). An explicit handler registered first (a controller
    # registers its handlers sorted by name: keep this name first) answers instead; the schema fuzz test checks it.
    @route("/generate/{generation_id:str}", http_method=HttpMethod.OPTIONS, include_in_schema=False)
    async def allowed_methods(self, generation_id: FromPath[str]) -> Response[None]:
        """``OPTIONS /v1/generate/{id}``: the methods the resource answers."""
        return Response(None, status_code=HTTP_204_NO_CONTENT, headers={"Allow": "DELETE, GET, OPTIONS"})

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
        idempotency_key: IdempotencyKey = None,  # bounds and documents it; read below
    ) -> Response[GenerateAccepted]:
        """Validate, store the product image, queue the job; answer 202 with the job id."""
        idempotency = read_idempotency_key(request)
        sent = await request.json()  # parsed already, for ``data``: its keys are the fields that beat a preset
        submitted = await api.jobs.submit(
            key,
            data,
            idempotency_key=idempotency,
            body=request_fingerprint(sent) if idempotency else None,
            sent=sent,
            on_counted=remember_rate_window(request),
            earlier=earlier_fingerprints(sent, await request.body()) if idempotency else (),  # body: read already
        )
        return _accepted(submitted, api)

    @get(
        "/generate/{generation_id:str}",
        operation_id="getGeneration",
        summary="Poll a generation",
        responses=ERROR_RESPONSES,
        sync_to_thread=False,
    )
    def fetch(self, generation_id: FromPath[str], request: Request) -> Response[Generation]:
        """Status of one of your generations (another key's generation is not found).

        The hot path of every client: key check and job lookup are one query, and the answer is encoded once;
        both are kept while the database is unchanged (``pollcache``). No injected dependency: Litestar resolves
        those on every request.
        """
        api: ApiState = request.app.state["api"]
        answer = pollcache.poll(api, generation_id, bearer_token(request))
        if answer is None:
            current_key(request, api)  # 401 when the key is the problem
            raise generation_not_found(generation_id, api.settings.record_retention_days)
        return answer

    @post(
        "/generate/{generation_id:str}/cancel",
        operation_id="cancelGeneration",
        status_code=200,
        summary="Cancel a generation (extension)",
        description=(
            "A waiting generation ends at once, `failed` with error code `cancelled` (this answer shows it). A running "
            "one stops at its next progress step (a cut-out's end, a scene's variant or model step) and then ends the "
            "same way; until it ends, this answer shows `processing`: poll the generation, or wait for its webhook, "
            "for the outcome. A generation already storing its finished images can no longer be stopped: the answer "
            "is 400 `invalid_request` saying so, and it ends `completed` as usual. An ended generation is left as it "
            "is."
        ),
        responses=ERROR_RESPONSES,
    )
    async def cancel(
        self, generation_id: FromPath[str], key: NamedDependency[ApiKey], api: NamedDependency[ApiState]
    ) -> Generation:
        """Ask a generation to stop (what a client sees: the operation's description)."""
        job = await anyio.to_thread.run_sync(api.jobs.cancel, key, generation_id)
        return generation(job, api)

    @post(
        "/generate/{generation_id:str}/priority",
        operation_id="prioritiseGeneration",
        status_code=200,
        summary="Change a waiting generation's priority (extension)",
        responses=ERROR_RESPONSES,
    )
    async def prioritise(
        self,
        generation_id: FromPath[str],
        data: JSONBody[PriorityChange],
        key: NamedDependency[ApiKey],
        api: NamedDependency[ApiState],
    ) -> Generation:
        """Its new place among your waiting generations (high, normal, low); 400 once it has started."""
        job = await anyio.to_thread.run_sync(api.jobs.reprioritise, key, generation_id, data.priority)
        return generation(job, api)

    @post(
        "/generate/{generation_id:str}/rerun",
        operation_id="rerunGeneration",
        status_code=HTTP_202_ACCEPTED,
        summary="Re-render a generation with changed options or a mask hint (extension)",
        responses={**ERROR_RESPONSES, 410: INPUT_EXPIRED_RESPONSE},
    )
    async def rerun(
        self,
        request: Request,
        generation_id: FromPath[str],
        data: JSONBody[RerunRequest],
        key: NamedDependency[ApiKey],
        api: NamedDependency[ApiState],
        idempotency_key: IdempotencyKey = None,  # bounds and documents it; read below
    ) -> Response[GenerateAccepted]:
        """A new generation (new id) from this one's stored photo: fields given replace its request's, the others
        are kept, except ``mask_hint`` (send it each time) and, when another ``preset`` is named, the fields that
        preset sets (its values apply unless given). 410 ``input_expired`` once the photo is past retention."""
        idempotency = read_idempotency_key(request)
        changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
        submitted = await api.jobs.rerun(
            key, generation_id, changes, idempotency_key=idempotency, on_counted=remember_rate_window(request)
        )
        return _accepted(submitted, api)

    @delete(
        "/generate/{generation_id:str}",
        operation_id="deleteGeneration",
        summary="Delete a generation and its files (extension)",
        responses=ERROR_RESPONSES,
    )
    async def delete(
        self, generation_id: FromPath[str], key: NamedDependency[ApiKey], api: NamedDependency[ApiState]
    ) -> None:
        """Its images, photo and hint are deleted (their URLs answer 404), a webhook not yet delivered is not sent,
        a processing generation is stopped; then it is not found. Answers 204."""
        await anyio.to_thread.run_sync(api.jobs.delete, key, generation_id)

    @get(
        "/generations",
        operation_id="listGenerations",
        summary="List your generations",
        responses=ERROR_RESPONSES,
        sync_to_thread=False,
        before_request=strict_query,
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
        filename: Annotated[
            str | None,
            QueryParameter(
                min_length=1,
                max_length=255,
                description="Extension: only generations whose filename contains this text (ASCII case ignored).",
            ),
        ] = None,
        needs_review: Annotated[
            bool | None,
            QueryParameter(description="Extension: only completed generations that need review (true) or not (false)."),
        ] = None,
        starting_after: Annotated[
            str | None, QueryParameter(pattern=GENERATION_ID_PATTERN, description=_STARTING_AFTER_DOC)
        ] = None,
        ending_before: Annotated[
            str | None, QueryParameter(pattern=GENERATION_ID_PATTERN, description=_ENDING_BEFORE_DOC)
        ] = None,
    ) -> GenerationList:
        """Newest first; ``status`` filters by the spec's three statuses, ``filename`` by the submitted file name,
        ``needs_review`` by the review flag.

        Paged by ``offset`` (the spec's) or, safe while new generations arrive, by cursor (extension).
        """
        try:
            page = jobs_sql.list_for_key(
                api.db.get(),
                key.id,
                status=status,
                limit=limit,
                offset=offset,
                filename=filename,
                needs_review=needs_review,
                starting_after=starting_after,
                ending_before=ending_before,
            )
        except NotFound as exc:  # a cursor naming no generation of this key: retention's deletions too (B16-6)
            raise NotFound(
                f"{exc.message.removesuffix('.')}, or its record was deleted "
                f"({counted(api.settings.record_retention_days, 'day')} after it ended). List without the cursor to "
                "start again from the newest."
            ) from exc
        return GenerationList(
            data=[generation(j, api) for j in page.jobs],
            total=page.total,
            limit=limit,
            offset=offset,
            has_more=page.has_more,
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
        headers.update(rate_limit_headers(submitted.rate))
    return Response(body, status_code=HTTP_202_ACCEPTED, headers=headers)
