"""A submission's one trip to a thread: handed over at once, and carried through to its end even when the caller
is cancelled.

``anyio.to_thread.run_sync`` (what the rest of the API uses) yields to the event loop twice before it hands the
work over (a cancellation checkpoint, then its capacity limiter's checkpoint): at 16 concurrent 1 MB submissions
each turn of the loop waits behind every other connection's body and parse, which made the hop into the thread
13–25 ms of a request's ~70 ms (docs/progress/issue-14.md, "Door tail, session 6"). Here the work is queued on
the executor in the caller's own step, as ``loop.run_in_executor`` does; the answer comes back as anyio's does
(one callback from the thread, then the task's step).

Cancellation keeps anyio's shield: once the work has started it runs to its end and the caller returns only
then, with the cancellation (no request ends while its files and row are half made, and nothing runs in the
thread after the caller's clean-up). Work still waiting for a thread when the caller is cancelled never starts.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

# As many threads as anyio's default limiter lets run at once (40): a submission's thread mostly waits on the disk
# (fsyncs) and on its group's commit, which groups only the submissions that are waiting together.
THREADS = 40
_POOL = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="submit")


async def run_in_thread(func: Callable[..., T], *args: Any) -> T:
    """``func(*args)`` in a thread of the submissions' pool, with the caller's context variables (the request id
    of log lines); returns its result or raises its exception. Must run on an asyncio event loop.

    Raises:
        asyncio.CancelledError: the caller was cancelled; raised once ``func`` has ended (if it had started).
    """
    loop = asyncio.get_running_loop()
    done: Future[T] = _POOL.submit(contextvars.copy_context().run, functools.partial(func, *args))
    try:
        return await asyncio.wrap_future(done, loop=loop)
    except asyncio.CancelledError:
        if not done.cancel():  # it has started (or ended): wait for its end, through any further cancellation
            await _outlive(done, loop)
        raise


async def _outlive(work: Future[Any], loop: asyncio.AbstractEventLoop) -> None:
    """Wait until ``work`` has ended, whatever it raised and however often this task is cancelled meanwhile."""
    while not work.done():
        try:
            await asyncio.shield(asyncio.wrap_future(work, loop=loop))
        except asyncio.CancelledError:
            continue
        except Exception:  # its own error: the caller is cancelled, which is what it will be told
            return
