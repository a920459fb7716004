"""The webhook delivery log as API extensions: a key sees and redelivers its own events (operators: the CLI)."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

import anyio.to_thread
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.status_codes import HTTP_202_ACCEPTED
from msgspec import Meta, Struct

from ..errors import InvalidRequest, NotFound
from ..ids import shown
from ..storage import webhooks as webhooks_sql
from ..storage.keys import ApiKey
from .openapi import ERROR_RESPONSES
from .query import strict_query
from .state import ApiState

EventState = Literal["pending", "delivered", "failed", "stopped", "dropped"]

_STATE_DOC = (
    "pending: waiting for its next attempt; delivered: a 2xx answer; failed: out of retries, or its URL can never "
    "be sent; stopped: the receiver answered 410; dropped: its generation was deleted."
)


class WebhookAttempt(Struct, kw_only=True):
    """One POST made to the receiver."""

    attempt: Annotated[int, Meta(ge=1, description="1 for the first POST of this event; redeliveries continue.")]
    at: str
    status_code: int | None = None
    latency_ms: float | None = None
    error: Annotated[str | None, Meta(description="Why the attempt did not deliver, in words.")] = None
    response_excerpt: Annotated[str | None, Meta(description="Start of the receiver's answer (non-2xx).")] = None


class WebhookEvent(Struct, kw_only=True):
    """One webhook event of a generation and where its delivery stands."""

    id: Annotated[str, Meta(description="The webhook-id header of every attempt.")]
    generation_id: str
    event: str
    url: str
    state: Annotated[EventState, Meta(description=_STATE_DOC)]
    attempts: Annotated[int, Meta(ge=0, description="POSTs made so far.")]
    created_at: str
    next_attempt_at: Annotated[float | None, Meta(description="Unix time of the next attempt (pending).")] = None
    last_status: int | None = None
    last_error: str | None = None
    attempt_log: list[WebhookAttempt] | None = None


class WebhookEventList(Struct, kw_only=True):
    data: list[WebhookEvent]


def _event(row: dict[str, Any], with_log: bool = False) -> WebhookEvent:
    return WebhookEvent(
        id=row["id"],
        generation_id=row["job_id"],
        event=row["event"],
        url=row["url"],
        state=row["state"],
        attempts=row["total_attempts"],
        created_at=row["created_at"],
        next_attempt_at=row["next_attempt_at"] if row["state"] == "pending" else None,
        last_status=row["last_status"],
        last_error=row["last_error"],
        attempt_log=[WebhookAttempt(**{k: a[k] for k in WebhookAttempt.__struct_fields__}) for a in row["attempt_log"]]
        if with_log
        else None,
    )


class WebhookController(Controller):
    path = "/v1/webhooks"
    tags = ["webhooks"]  # noqa: RUF012 - Litestar reads class attributes
    security = [{"bearerAuth": []}]  # noqa: RUF012 - Litestar reads this class attribute

    @get(
        "/",
        operation_id="listWebhookEvents",
        summary="Your webhook events and their delivery state (extension)",
        responses=ERROR_RESPONSES,
        before_request=strict_query,
    )
    async def list_events(
        self,
        key: NamedDependency[ApiKey],
        api: NamedDependency[ApiState],
        status: Annotated[EventState | None, QueryParameter(description="Only events in this state.")] = None,
        generation_id: Annotated[
            str | None, QueryParameter(max_length=64, description="Only this generation's events.")
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
    ) -> WebhookEventList:
        """Newest first."""
        rows = await anyio.to_thread.run_sync(
            lambda: webhooks_sql.list_events(
                api.db.get(), key_id=key.id, job_id=generation_id, states=(status,) if status else (), limit=limit
            )
        )
        return WebhookEventList(data=[_event(r) for r in rows])

    @get(
        "/{event_id:str}",
        operation_id="getWebhookEvent",
        summary="One webhook event with every attempt (extension)",
        responses=ERROR_RESPONSES,
    )
    async def get_event(
        self, event_id: FromPath[str], key: NamedDependency[ApiKey], api: NamedDependency[ApiState]
    ) -> WebhookEvent:
        """Status, latency, error and the start of the receiver's answer for each attempt."""
        row = await anyio.to_thread.run_sync(lambda: webhooks_sql.get_event(api.db.get(), event_id, key.id))
        if row is None:
            raise NotFound(f"Webhook event {shown(event_id)} not found.")
        return _event(row, with_log=True)

    @post(
        "/{event_id:str}/redeliver",
        operation_id="redeliverWebhookEvent",
        status_code=HTTP_202_ACCEPTED,
        summary="Send a webhook event again now, with a fresh retry schedule (extension)",
        responses=ERROR_RESPONSES,
    )
    async def redeliver(
        self, event_id: FromPath[str], key: NamedDependency[ApiKey], api: NamedDependency[ApiState]
    ) -> WebhookEvent:
        """The same event id and body; earlier attempts stay in the log. Refused while an attempt is in flight."""

        def work() -> WebhookEvent:
            db = api.db.get()
            outcome = webhooks_sql.redeliver(db, event_id, time.time(), key_id=key.id)
            if outcome == "not_found":
                raise NotFound(f"Webhook event {shown(event_id)} not found.")
            if outcome == "deleted":
                raise InvalidRequest("This event's generation was deleted; there is nothing to deliver.")
            if outcome == "in_flight":
                raise InvalidRequest("An attempt at this event is being made right now; retry once it has ended.")
            row = webhooks_sql.get_event(db, event_id, key.id)
            assert row is not None
            return _event(row, with_log=True)

        return await anyio.to_thread.run_sync(work)
