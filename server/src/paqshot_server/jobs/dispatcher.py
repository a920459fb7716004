"""The webhook dispatcher: its own thread and event loop, apart from the jobs, the heartbeat and the sweeper.

Why an event loop: each attempt is a coroutine under one hard deadline (``net.post``), so a receiver that
hangs or drips is cancelled on time (``webhook_timeout_seconds``), and many attempts share one thread.
Concurrency is bounded in all (``webhook_concurrency``) and per API key (``webhook_per_key``), so one key's
slow receivers cannot take every slot and delay other keys' webhooks. Database calls run on one helper thread
(one SQLite connection) so a busy database never stalls the loop.

Exactly one attempt at a time per event: an event is leased just before its attempt starts (never in a
batch that waits), the lease (:func:`lease_for` the deadline) outlasts the longest attempt, and the outcome is
written only while the lease is still ours; every attempt made is logged, whatever happens.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from ..net.post import PostOutcome, post
from ..resources import Resources
from ..storage import keys as keys_sql
from ..storage import webhooks as webhooks_sql
from ..storage.webhooks import WebhookEvent
from .delivery import headers_for, judge

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5
# What an attempt may spend beyond its deadline: its database writes, each of which may wait out SQLite's
# busy_timeout (10 s, storage.db), with room to spare. The default deadline of 15 s gives the 60 s lease.
LEASE_MARGIN_SECONDS = 45.0

T = TypeVar("T")


def lease_for(deadline: float) -> float:
    """Seconds an event stays leased for one attempt with ``deadline``: never re-claimed while it runs."""
    return deadline + LEASE_MARGIN_SECONDS


class Dispatcher:
    """Claims due webhook events and delivers them concurrently; one per worker process. Its limits are the
    settings ``webhook_concurrency``, ``webhook_per_key`` and ``webhook_timeout_seconds``."""

    def __init__(self, resources: Resources, owner: str, *, poll: float = POLL_SECONDS) -> None:
        settings = resources.settings
        self.resources, self.owner, self.poll = resources, owner, poll
        self.concurrency, self.per_key = settings.webhook_concurrency, settings.webhook_per_key
        self.deadline = settings.webhook_timeout_seconds
        self._db_thread = ThreadPoolExecutor(1, thread_name_prefix="webhook-db")
        self._inflight: dict[asyncio.Task[str], str] = {}  # task -> key id

    async def _db(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        def call() -> T:
            return fn(self.resources.db.get(), *args, **kwargs)

        return await asyncio.get_running_loop().run_in_executor(self._db_thread, call)

    async def attempt(self, event: WebhookEvent) -> str:
        """One attempt at one leased event: sign, POST, log, schedule. Returns the event's new state."""
        settings = self.resources.settings
        now = time.time()
        number = await self._db(webhooks_sql.begin_attempt, event.id, owner=self.owner, now=now)
        key = await self._db(keys_sql.get, event.key_id)
        if key is None:
            outcome = PostOutcome(None, 0.0, "the API key of this event was deleted", permanent=True)
        else:
            schemes = ("http", "https") if settings.allow_private_network else ("https",)
            headers = headers_for(settings.brand, key, event, now)
            outcome = await post(
                event.url, event.body, headers, self.resources.policy, schemes=schemes, deadline=self.deadline
            )
        attempt = event.attempts + 1
        verdict = judge(outcome, attempt, settings.webhook_retry_scale, time.time(), event.schedule_from)
        await self._db(
            webhooks_sql.record_attempt,
            event,
            number,
            owner=self.owner,
            status_code=outcome.status_code,
            latency_ms=outcome.latency_ms,
            error=verdict.error,
            excerpt=outcome.excerpt,
            next_state=verdict.state,
            next_attempt_at=verdict.next_attempt_at,
        )
        log.info(
            "webhook %s attempt %d for %s: %s -> %s",
            event.id,
            number,
            event.job_id,
            outcome.status_code or verdict.error,
            verdict.state,
        )
        return verdict.state

    async def _guarded(self, event: WebhookEvent) -> str:
        try:
            return await self.attempt(event)
        except asyncio.CancelledError:
            raise
        except Exception:  # e.g. the database is locked or full: the lease expires and the event is retried
            log.exception("webhook %s: attempt could not be recorded", event.id)
            return "error"

    async def fill(self) -> int:
        """Claim as many due events as there are free slots and start them. Returns how many started."""
        free = self.concurrency - len(self._inflight)
        if free <= 0:
            return 0
        busy = Counter(self._inflight.values())
        events = await self._db(
            webhooks_sql.claim_due,
            time.time(),
            owner=self.owner,
            lease_seconds=lease_for(self.deadline),
            limit=free,
            busy_keys=busy,
            per_key=self.per_key,
        )
        for event in events:
            task = asyncio.create_task(self._guarded(event), name=f"webhook-{event.id}")
            self._inflight[task] = event.key_id
            task.add_done_callback(self._inflight.pop)
        return len(events)

    async def run(self, stopping: asyncio.Event) -> None:
        """Deliver until ``stopping`` is set, then let attempts in flight end (each is bounded by the deadline)."""
        while not stopping.is_set():
            try:
                await self.fill()
            except Exception:  # the database may be locked or full for a while; try again next round
                log.exception("webhook dispatcher round failed")
            waits: list[asyncio.Future[Any]] = [asyncio.ensure_future(stopping.wait())]
            if self._inflight:  # a slot that frees up is filled at once, not at the next poll
                waits.append(asyncio.ensure_future(asyncio.wait(list(self._inflight), return_when="FIRST_COMPLETED")))
            await asyncio.wait(waits, timeout=self.poll, return_when="FIRST_COMPLETED")
            for waiter in waits:
                waiter.cancel()
        if self._inflight:
            await asyncio.wait(list(self._inflight), timeout=self.deadline + 5)
        for task in list(self._inflight):
            task.cancel()

    async def drain(self) -> int:
        """Deliver everything due now and wait for it (tests and one-off runs). Returns attempts made."""
        made = 0
        while started := await self.fill():
            made += started
            await asyncio.wait(list(self._inflight))
        if self._inflight:
            await asyncio.wait(list(self._inflight))
        return made

    def close(self) -> None:
        """Stop the database helper thread (its connection closes with it)."""
        self._db_thread.shutdown(wait=True)


class DispatcherThread(threading.Thread):
    """Runs a :class:`Dispatcher` on its own event loop until :meth:`stop`."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        super().__init__(name="webhook-dispatcher", daemon=True)
        self.dispatcher = dispatcher
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()

    def run(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stopping = asyncio.Event()
            self._ready.set()
            await self.dispatcher.run(self._stopping)

        try:
            asyncio.run(main())
        finally:
            self._ready.set()
            self.dispatcher.close()

    def stop(self, timeout: float | None = None) -> None:
        """Ask the loop to stop (attempts in flight may take up to their deadline) and wait for the thread."""
        self._ready.wait(5)
        if self._loop is not None and self._stopping is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed in between: nothing left to stop
                self._loop.call_soon_threadsafe(self._stopping.set)
        self.join(timeout)


def dispatch_due(resources: Resources, owner: str = "wrk_oneshot", **options: Any) -> int:
    """Deliver every due event once, synchronously (tests, operators). Returns how many attempts were made."""
    dispatcher = Dispatcher(resources, owner, **options)
    try:
        return asyncio.run(dispatcher.drain())
    finally:
        dispatcher.close()
