"""A submission's one trip to a thread: handed over at once, and carried through to its end even when the caller
is cancelled.

``anyio.to_thread.run_sync`` (what the rest of the API uses) yields to the event loop twice before it hands the
work over (a cancellation checkpoint, then its capacity limiter's checkpoint): at 16 concurrent 1 MB submissions
each turn of the loop waits behind every other connection's body and parse, which made the hop into the thread
13–25 ms of a request's ~70 ms (docs/progress/issue-14.md, "Door tail, session 6"). Here the work is queued on
the executor in the caller's own step, as ``loop.run_in_executor`` does; the answer comes back as anyio's does
(one callback from the thread, then the task's step).

At most :data:`LANES` trips run at once; the others wait in line, and the thread whose trip ends takes the next.
At 16 concurrent 1 MB submissions, 16 threads writing, fsyncing and committing at once each took the GIL back from
the event loop at every step (a thread waking while the loop runs waits up to the 5 ms switch interval, then takes
it): the loop's turns and every trip grew longer (issue-14.md, "Door tail, session 10"). Work that takes long
without needing the loop (a full decode of a big photo) gives its lane up meanwhile (:func:`slow`), so the lanes
never all wait on big photos while small ones queue.

Cancellation keeps anyio's shield: once the work has started it runs to its end and the caller returns only
then, with the cancellation (no request ends while its files and row are half made, and nothing runs in the
thread after the caller's clean-up). Work still waiting in line when the caller is cancelled never starts.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import functools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")

# The trips' threads: LANES of them at a time run trips, and more while trips do slow work (``slow``: decodes of big
# photos, each giving its lane to the next trip meanwhile). As many as anyio's default limiter lets run at once.
THREADS = 40
_POOL = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="submit")
# Trips running at once (see above). Measured on 2 cores, bench_api's 16 clients, 4 rounds alternated (issue-14.md,
# "Door tail, session 10"): p99 median 99.5 ms with no limit (40 threads), 81.8 with a pool of 4 threads, 87.8 with
# these lanes, 145 with a semaphore per pool thread. A group commit groups the trips waiting together, so fewer
# lanes mean smaller groups, not more commits than trips.
LANES = 4


class _Lanes:
    """At most ``lanes`` trips at once on :data:`_POOL`'s threads; the others wait in line, as futures no thread has
    taken. A thread whose trip ends takes the next in line itself, holding the GIL it has, rather than waking another
    thread that would have to take the GIL from the event loop (a lane as a semaphore in each pool thread measured
    worse than none)."""

    def __init__(self, lanes: int) -> None:
        self._lock = threading.Lock()
        self._free = lanes  # below zero while trips back from :func:`slow` run over the limit
        self._line: collections.deque[tuple[Future[Any], Callable[[], Any]]] = collections.deque()

    def submit(self, work: Callable[[], T]) -> Future[T]:
        """A future of ``work()``, run on a pool thread once a lane is free. Cancelling it before then means it
        never runs."""
        item: tuple[Future[Any], Callable[[], Any]] = (Future(), work)
        with self._lock:
            if self._free <= 0:
                self._line.append(item)
                return item[0]
            self._free -= 1
        _POOL.submit(self._run, item)
        return item[0]

    def _run(self, item: tuple[Future[Any], Callable[[], Any]] | None) -> None:
        while item is not None:
            done, work = item
            if done.set_running_or_notify_cancel():
                _lane.held = self
                try:
                    done.set_result(work())
                except BaseException as exc:  # the caller's to see, as ThreadPoolExecutor hands it over
                    done.set_exception(exc)
                finally:
                    _lane.held = None
            item = self._next()

    def _next(self) -> tuple[Future[Any], Callable[[], Any]] | None:
        """The next trip in line for the lane just ended, or None (the lane is freed)."""
        with self._lock:
            if self._free >= 0 and self._line:
                return self._line.popleft()
            self._free += 1
            return None

    def step_out(self) -> None:
        """The calling trip gives its lane to the next in line, if any, while it does slow work."""
        with self._lock:
            item = self._line.popleft() if self._line else None
            if item is None:
                self._free += 1
        if item is not None:
            _POOL.submit(self._run, item)

    def step_in(self) -> None:
        """The trip is back from its slow work: it goes on at once, over the limit if no lane is free meanwhile (it
        only has its row left to write), and the lane it takes is given up when it ends."""
        with self._lock:
            self._free -= 1


_LANES = _Lanes(LANES)
_lane = threading.local()  # .held: the lanes of the trip this thread runs now


async def run_in_thread(func: Callable[..., T], *args: Any) -> T:
    """``func(*args)`` in a thread of the submissions' pool, with the caller's context variables (the request id
    of log lines); returns its result or raises its exception. Must run on an asyncio event loop.

    Raises:
        asyncio.CancelledError: the caller was cancelled; raised once ``func`` has ended (if it had started).
    """
    loop = asyncio.get_running_loop()
    done: Future[T] = _LANES.submit(functools.partial(contextvars.copy_context().run, functools.partial(func, *args)))
    try:
        return await asyncio.wrap_future(done, loop=loop)
    except asyncio.CancelledError:
        if not done.cancel():  # it has started (or ended): wait for its end, through any further cancellation
            await _outlive(done, loop)
        raise


@contextmanager
def slow() -> Iterator[None]:
    """Inside a trip, for work that can take long without the event loop (a full decode of a big photo: seconds):
    the trip's lane goes to the next in line meanwhile; after it the trip goes on at once (:meth:`_Lanes.step_in`).
    Anywhere else it does nothing."""
    lanes = getattr(_lane, "held", None)
    if lanes is None:
        yield
        return
    _lane.held = None
    lanes.step_out()
    try:
        yield
    finally:
        lanes.step_in()
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
