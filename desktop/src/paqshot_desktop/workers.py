"""Background work: every blocking call runs on a QThreadPool and reports back through queued signals.

A :class:`Task` wraps a plain callable. Its outcome travels as a signal from the pool thread to the
:class:`Runner`, which lives in the GUI thread; the connection is explicitly queued, so callbacks always
run on the GUI thread and views never see a half-finished object. Errors are delivered too: nothing that
fails on a worker is swallowed.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)

Callback = Callable[[Any], None]
ErrorCallback = Callable[[BaseException], None]


class _TaskSignals(QObject):
    """Signals of one task (QRunnable is not a QObject, so it carries one)."""

    done = Signal(int, object)
    failed = Signal(int, object)
    progress = Signal(int, object)


class Task(QRunnable):
    """Runs ``fn(report)`` on a pool thread; ``report(x)`` sends progress ``x`` to the GUI thread."""

    def __init__(self, task_id: int, fn: Callable[[Callable[[Any], None]], Any], signals: _TaskSignals) -> None:
        super().__init__()
        self.task_id = task_id
        self.fn = fn
        # One signals object per Runner, connected once: per-task connections cost more than small tasks.
        self.signals = signals
        self.setAutoDelete(False)  # the Runner owns the task until its result has been delivered

    def run(self) -> None:
        """Executed on the pool thread."""
        try:
            result = self.fn(lambda value: self.signals.progress.emit(self.task_id, value))
        except Exception as exc:  # every failure must reach the user, not die with the thread
            self.signals.failed.emit(self.task_id, exc)
        else:
            self.signals.done.emit(self.task_id, result)


class Runner(QObject):
    """Starts tasks and dispatches their results to callbacks on the GUI thread."""

    idle_changed = Signal(bool)

    def __init__(self, pool: QThreadPool | None = None, max_threads: int = 4) -> None:
        super().__init__()
        self.pool = pool or QThreadPool()
        self.pool.setMaxThreadCount(max_threads)
        self._ids = itertools.count(1)
        self._signals = _TaskSignals()
        queued = Qt.ConnectionType.QueuedConnection
        self._signals.done.connect(self._on_done, queued)
        self._signals.failed.connect(self._on_failed, queued)
        self._signals.progress.connect(self._on_progress, queued)
        self._tasks: dict[int, tuple[Task, Callback | None, ErrorCallback | None, Callback | None]] = {}

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
        task = Task(next(self._ids), fn, self._signals)
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

    @Slot(int, object)
    def _on_done(self, task_id: int, result: object) -> None:
        on_done, _ = self._finish(task_id)
        if on_done is not None:
            on_done(result)

    @Slot(int, object)
    def _on_failed(self, task_id: int, exc: object) -> None:
        _, on_error = self._finish(task_id)
        if on_error is not None and isinstance(exc, BaseException):
            on_error(exc)
        else:
            log.error("background task %s failed without a handler: %r", task_id, exc)

    @Slot(int, object)
    def _on_progress(self, task_id: int, value: object) -> None:
        entry = self._tasks.get(task_id)
        if entry is not None and entry[3] is not None:
            entry[3](value)

    def wait(self, msecs: int = 5000) -> bool:
        """Wait for running tasks (used at shutdown, never during normal operation)."""
        return bool(self.pool.waitForDone(msecs))
