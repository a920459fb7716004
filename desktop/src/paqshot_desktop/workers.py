"""Background work: every blocking call runs on a QThreadPool and reports back to the GUI thread.

A :class:`Task` wraps a plain callable. Its outcome (and progress) goes into the :class:`Runner`'s outbox, a
thread-safe queue, and a posted event wakes the Runner, which lives in the GUI thread and drains the outbox
there: callbacks always run on the GUI thread and views never see a half-finished object. Errors are delivered
too: nothing that fails on a worker is swallowed.

Why not a queued signal: PySide6 emits with the GIL held, and a queued emission locks the receiver's Qt object
mutex; the GUI thread may hold that mutex (one of a small pool shared by all objects) while it waits for the GIL
(disconnecting a garbage-collected slot), and both threads then wait forever (breaker7, session 7, with a
decode on a pool thread). Posting an event takes only the event queue's lock, which nobody holds while waiting
for the GIL.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import queue
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)

Callback = Callable[[Any], None]
ErrorCallback = Callable[[BaseException], None]


_WAKE = QEvent.Type(QEvent.registerEventType())  # "the outbox has something": one event type for every Runner


class Task(QRunnable):
    """Runs ``fn(report)`` on a pool thread; ``report(x)`` sends progress ``x`` to the GUI thread."""

    def __init__(self, task_id: int, fn: Callable[[Callable[[Any], None]], Any], runner: Runner) -> None:
        super().__init__()
        self.task_id = task_id
        self.fn = fn
        self.runner = runner
        self.setAutoDelete(False)  # the Runner owns the task until its result has been delivered

    def run(self) -> None:
        """Executed on the pool thread."""
        try:
            result = self.fn(lambda value: self.runner.deliver(self.task_id, "progress", value))
        except Exception as exc:  # every failure must reach the user, not die with the thread
            self.runner.deliver(self.task_id, "failed", exc)
        else:
            self.runner.deliver(self.task_id, "done", result)


class Runner(QObject):
    """Starts tasks and dispatches their results to callbacks on the GUI thread."""

    idle_changed = Signal(bool)

    def __init__(self, pool: QThreadPool | None = None, max_threads: int = 4) -> None:
        super().__init__()
        self.pool = pool or QThreadPool()
        self.pool.setMaxThreadCount(max_threads)
        self._ids = itertools.count(1)
        self._outbox: queue.SimpleQueue[tuple[int, str, object]] = queue.SimpleQueue()
        self._tasks: dict[int, tuple[Task, Callback | None, ErrorCallback | None, Callback | None]] = {}

    def deliver(self, task_id: int, kind: str, value: object) -> None:
        """From any thread: hand ``value`` (``kind``: done, failed or progress) to the GUI thread."""
        self._outbox.put((task_id, kind, value))
        with contextlib.suppress(RuntimeError):  # the Runner is gone (the app quit): nobody is left to tell
            QCoreApplication.postEvent(self, QEvent(_WAKE))

    def event(self, event: QEvent) -> bool:
        """The GUI thread's side of :meth:`deliver`: every outcome waiting in the outbox, in order."""
        if event.type() != _WAKE:
            return super().event(event)
        handlers = {"done": self._on_done, "failed": self._on_failed, "progress": self._on_progress}
        while True:
            try:
                task_id, kind, value = self._outbox.get_nowait()
            except queue.Empty:
                return True
            try:
                handlers[kind](task_id, value)
            except BaseException:
                if not self._outbox.empty():  # the rest is delivered on the next turn of the event loop
                    QCoreApplication.postEvent(self, QEvent(_WAKE))
                raise

    @property
    def busy(self) -> int:
        """Number of tasks started and not yet reported back."""
        return len(self._tasks)

    def submit(
        self,
        fn: Callable[[], Any],
        on_done: Callback | None = None,
        on_error: ErrorCallback | None = None,
    ) -> int:
        """Run ``fn()`` in the pool; ``on_done(result)`` or ``on_error(exc)`` later runs on the GUI thread."""
        return self.submit_reporting(lambda _report: fn(), on_done, on_error)

    def submit_reporting(
        self,
        fn: Callable[[Callable[[Any], None]], Any],
        on_done: Callback | None = None,
        on_error: ErrorCallback | None = None,
        on_progress: Callback | None = None,
    ) -> int:
        """Like :meth:`submit`, for work that reports progress through the callable it is given."""
        task = Task(next(self._ids), fn, self)
        was_idle = not self._tasks
        self._tasks[task.task_id] = (task, on_done, on_error, on_progress)
        if was_idle:
            self.idle_changed.emit(False)
        self.pool.start(task)
        return task.task_id

    def _finish(self, task_id: int) -> tuple[Callback | None, ErrorCallback | None]:
        _task, on_done, on_error, _ = self._tasks.pop(task_id)
        if not self._tasks:
            self.idle_changed.emit(True)
        return on_done, on_error

    def _on_done(self, task_id: int, result: object) -> None:
        on_done, _ = self._finish(task_id)
        if on_done is not None:
            on_done(result)

    def _on_failed(self, task_id: int, exc: object) -> None:
        _, on_error = self._finish(task_id)
        if on_error is not None and isinstance(exc, BaseException):
            on_error(exc)
        else:
            log.error("background task %s failed without a handler: %r", task_id, exc)

    def _on_progress(self, task_id: int, value: object) -> None:
        entry = self._tasks.get(task_id)
        if entry is not None and entry[3] is not None:
            entry[3](value)

    def wait(self, msecs: int = 5000) -> bool:
        """Wait for running tasks (used at shutdown, never during normal operation)."""
        return bool(self.pool.waitForDone(msecs))
