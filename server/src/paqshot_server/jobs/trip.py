"""A submission's one trip to a thread: handed over at once, and carried through to its end even when the caller
is cancelled.

``anyio.to_thread.run_sync`` (what the rest of the API uses) yields to the event loop twice before it hands the
work over (a cancellation checkpoint, then its capacity limiter's checkpoint): at 16 concurrent 1 MB submissions
each turn of the loop waits behind every other connection's body and parse, which made the hop into the thread
13–25 ms of a request's ~70 ms (docs/progress/issue-14.md, "Door tail, session 6"). Here the work is queued on
the executor in the caller's own step, as ``loop.run_in_executor`` does; the answer comes back as anyio's does
(one callback from the thread, then the task's step).

At most :data:`LANES` trips run at once; the others wait for a lane asleep. At 16 concurrent 1 MB submissions, 16
threads writing, fsyncing and committing at once each took the GIL back from the event loop at every step (a
thread waking while the loop runs waits up to the 5 ms switch interval, then takes it): the loop's turns and every
trip grew longer. With 4 lanes the same load ran ~15 % more requests a second at less CPU each and a lower tail
(issue-14.md, "Door tail, session 10"). Work that takes long without needing the loop (a full decode of a big photo)
gives its lane up meanwhile (:func:`slow`), so the lanes never all wait on big photos while small ones queue.

Cancellation keeps anyio's shield: once the work has started it runs to its end and the caller returns only
then, with the cancellation (no request ends while its files and row are half made, and nothing runs in the
thread after the caller's clean-up). Work still waiting for a thread or a lane when the caller is cancelled never
starts.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")

# As many threads as anyio's default limiter lets run at once (40): a submission's thread mostly waits on the disk
# (fsyncs) and on its group's commit, which groups only the submissions that are waiting together.
THREADS = 40
_POOL = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="submit")
# Trips running at once (see above). Measured on 2 cores with bench_api's 16 clients: 40 (no limit) 247 req/s, p99
# 102-105 ms; 4: 269-304 req/s, p99 67-83 ms (issue-14.md, "Door tail, session 10"). A group commit groups the trips
# waiting together, so fewer lanes mean smaller groups, not more commits than trips.
LANES = 4
_LANES = threading.BoundedSemaphore(LANES)
_lane = threading.local()  # .held: this thread's trip holds a lane now


class _Abandoned(Exception):
    """The caller was cancelled while its work waited for a lane: the work never started."""


async def run_in_thread(func: Callable[..., T], *args: Any) -> T:
    """``func(*args)`` in a thread of the submissions' pool, with the caller's context variables (the request id
    of log lines); returns its result or raises its exception. Must run on an asyncio event loop.

    Raises:
        asyncio.CancelledError: the caller was cancelled; raised once ``func`` has ended (if it had started).
    """
    loop = asyncio.get_running_loop()
    abandoned = threading.Event()
    work = functools.partial(_in_lane, abandoned, functools.partial(func, *args))
    done: Future[T] = _POOL.submit(contextvars.copy_context().run, work)
    try:
        return await asyncio.wrap_future(done, loop=loop)
    except asyncio.CancelledError:
        abandoned.set()  # still waiting for a lane: it will not start
        if not done.cancel():  # it has a thread (or has ended): wait for its end, through any further cancellation
            await _outlive(done, loop)
        raise


def _in_lane(abandoned: threading.Event, work: Callable[[], T]) -> T:
    """``work()`` once a lane is free, unless the caller gave up meanwhile (:class:`_Abandoned`)."""
    lanes = _LANES  # the one released at the end is the one taken (tests replace the module's)
    lanes.acquire()
    _lane.held = lanes
    try:
        if abandoned.is_set():
            raise _Abandoned
        return work()
    finally:
        _lane.held = None
        lanes.release()


@contextmanager
def slow() -> Iterator[None]:
    """Inside a trip, for work that can take long without the event loop (a full decode of a big photo: seconds):
    the trip's lane goes to the next submission meanwhile and is taken again after (waiting for a free one).
    Anywhere else it does nothing."""
    lanes = getattr(_lane, "held", None)
    if lanes is None:
        yield
        return
    _lane.held = None
    lanes.release()
    try:
        yield
    finally:
        lanes.acquire()
        _lane.held = lanes


async def _outlive(work: Future[Any], loop: asyncio.AbstractEventLoop) -> None:
    """Wait until ``work`` has ended, whatever it raised and however often this task is cancelled meanwhile."""
    while not work.done():
        try:
            await asyncio.shield(asyncio.wrap_future(work, loop=loop))
        except asyncio.CancelledError:
            continue
        except Exception:  # its own error: the caller is cancelled, which is what it will be told
            return
