"""WAL checkpoints in a background thread, not in the thread whose commit crosses SQLite's threshold.

By default SQLite checkpoints automatically when a commit leaves the WAL over 1,000 pages, in the committing
thread: a job insert writes ~9 pages, so every ~90th submission also copied the WAL back into the database and
fsynced it (``synchronous=FULL``) before its 202 (measured, session 4: the WAL was reset after commits 50, 140, 227,
317, … of a run of inserts; the queue file's enqueues likewise). The API process turns that off for its connections
and runs a PASSIVE checkpoint (it takes no lock a reader or writer waits for) of each file from this thread instead,
every ``interval`` seconds while anything was committed to it, as https://sqlite.org/wal.html suggests
("Application-Initiated Checkpoints": turn the automatic checkpoints off and run them in a separate thread).
Workers keep the automatic checkpoint: a worker's commit is nobody's wait.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from .db import BUSY_SECONDS, data_version

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 0.5  # ~110 submissions' pages between checkpoints at the door's peak rate (~220 per second)
# A file whose checkpoint fails (damaged, unreadable) is tried again after a wait that doubles from the interval up to
# this: a corrupt queue.db was logged twice a second for as long as the API ran (breaker11 B11-3). Readiness and
# `doctor` say what is wrong with the file; this log says once, then again only as the waits double.
MAX_RETRY_SECONDS = 60.0


class Checkpointer:
    """A daemon thread that checkpoints the WAL of each of ``paths`` (SQLite files in WAL mode; one not yet made is
    skipped, never created); :meth:`start` once, :meth:`stop` at shutdown."""

    def __init__(
        self, paths: Sequence[Path], interval: float = INTERVAL_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.files = [_File(path) for path in paths]
        self.interval = interval
        self.clock = clock  # seconds, for the waits after a failure
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(BUSY_SECONDS)
            self._thread = None

    def run_once(self) -> dict[Path, int]:
        """Checkpoint each file now if anything was committed to it since the last time; returns the WAL frames
        copied back per file (0 when nothing was committed). Blocking (the files' writes and fsyncs)."""
        copied = {}
        now = self.clock()
        for file in self.files:
            if now < file.retry_at:
                continue
            try:
                copied[file.path] = file.checkpoint()
            except sqlite3.Error as exc:  # a busy or damaged file: tried again later; readiness and doctor report
                file.close()
                self._failed(file, exc, now)
                continue
            if file.failures:
                log.warning("WAL checkpoint of %s works again (after %d failures)", file.path, file.failures)
                file.failures, file.retry_at = 0, 0.0
        return copied

    def _failed(self, file: _File, exc: sqlite3.Error, now: float) -> None:
        """Wait longer before the next try (doubling up to MAX_RETRY_SECONDS); log the 1st, 2nd, 4th … 64th failure in
        a row, then every 64th (hourly at the one-minute wait)."""
        file.failures += 1
        wait = min(MAX_RETRY_SECONDS, self.interval * 2**file.failures)
        file.retry_at = now + wait
        if file.failures & (file.failures - 1) == 0 or file.failures % 64 == 0:  # 1, 2, 4, …, 64, 128, 192, …
            log.warning(
                "WAL checkpoint of %s failed (%d times in a row): %s; trying again in %.0f s, less often while it "
                "fails (readyz and `doctor` check the file)",
                file.path,
                file.failures,
                exc,
                wait,
            )

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                self.run_once()
        finally:
            for file in self.files:
                file.close()


class _File:
    """One file's checkpoint connection (opened on first use, once the file exists)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._seen: int | None = None
        self.failures = 0  # checkpoints failed in a row
        self.retry_at = 0.0  # the checkpointer's clock: no try before

    def checkpoint(self) -> int:
        if self._conn is None:
            if not self.path.is_file():
                return 0
            target = f"file:{self.path}?mode=rw"  # never creates it
            self._conn = sqlite3.connect(target, uri=True, timeout=BUSY_SECONDS, isolation_level=None)
            self._conn.execute("PRAGMA synchronous=FULL")  # the WAL is fsynced before its pages are copied back
        version = data_version(self._conn)  # changes when another connection has committed
        if version == self._seen:
            return 0
        self._seen = version
        _busy, _frames, copied = self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return max(0, int(copied))

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn, self._seen = None, None
