"""A wake-up on enqueue for the Huey queue: idle workers sleep until a job arrives instead of polling.

Huey's SQLite storage is polled: its consumer sleeps between empty reads, backing off to ``max_delay`` (10 s by
default), so a lone job on an idle appliance waited seconds. Huey lets a storage say it blocks
(``BaseStorage.blocking``, what its Redis storage does with BLPOP); :class:`WakingSqliteStorage` is the SQLite
storage made blocking with a doorbell: every enqueue rings it, and an idle worker thread waits on it (in
``poll``, no CPU) for at most ``wait_seconds`` before it reads the queue anyway.

The doorbell is a named pipe (FIFO) beside the queue file, ``queue.db-wake``: one byte per enqueue. Workers
(the readers) create it and hold it open read-write, so a writer's non-blocking open succeeds while any worker
lives and fails at once (ENXIO) while none does; nothing is lost then, the message is in the queue. Each
woken thread takes one byte, so two jobs wake two idle threads; bytes rung while every worker was busy are
read later, each costing one empty read of the queue. The queue file holds the messages: the bell only says
"look now", and the timed wait covers a ring that never came (a process killed between the insert and the
ring, a file system without named pipes).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import math
import os
import select
import sqlite3
import stat
import threading
import time

from huey.storage import SqliteStorage

from ..storage.db import checkpoint_elsewhere, commit_without_fsync

log = logging.getLogger(__name__)

WAIT_SECONDS = 1.0  # an idle thread reads the queue at least this often (and notices a stop this soon)
NO_PIPE_POLL_SECONDS = 0.05  # where no named pipe can be made: poll at this interval instead


class Doorbell:
    """The named pipe at ``path``: :meth:`ring` from any process, :meth:`wait` from workers."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd: int | None = None
        self._lock = threading.Lock()
        self._broken = False

    def ring(self) -> None:
        """Wake one waiting worker thread, if any worker is listening; never raises, never blocks."""
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:  # ENOENT/ENXIO: no worker has the pipe open; the message waits in the queue
            return
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode):  # never write into a regular file of that name
                os.write(fd, b"\x01")
        except OSError:  # EAGAIN: the pipe is full of unread rings; every worker is busy and will look anyway
            pass
        finally:
            os.close(fd)

    def _listen(self) -> int | None:
        with self._lock:
            if self._fd is None and not self._broken:
                try:
                    with contextlib.suppress(FileExistsError):
                        os.mkfifo(self.path, 0o600)
                    if not stat.S_ISFIFO(os.stat(self.path).st_mode):
                        raise OSError(errno.EEXIST, "exists and is not a named pipe", self.path)
                    # Read-write: the pipe always has a writer (no EOF storms) and the open never blocks.
                    self._fd = os.open(self.path, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
                except OSError as exc:
                    self._broken = True
                    log.warning("no wake-up pipe (%s); idle workers poll every %.2f s", exc, NO_PIPE_POLL_SECONDS)
            return self._fd

    def wait(self, timeout: float) -> bool:
        """Block until a ring (True, one ring taken) or ``timeout`` seconds (False)."""
        fd = self._listen()
        if fd is None:
            threading.Event().wait(min(timeout, NO_PIPE_POLL_SECONDS))
            return False
        deadline = time.monotonic() + timeout
        # poll, not select: select() refuses descriptors >= FD_SETSIZE (1024), which a busy server (or a long test
        # run) reaches. One poll object per call: a poll object must not be polled from two threads at once.
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        while True:
            if not poller.poll(max(0, math.ceil((deadline - time.monotonic()) * 1000))):
                return False
            try:
                return bool(os.read(fd, 1))
            except BlockingIOError:  # another thread took that ring (all waiters see one byte): wait on
                continue

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


class WakingSqliteStorage(SqliteStorage):
    """Huey's SQLite storage, blocking: enqueue rings the doorbell; an empty dequeue waits for a ring."""

    blocking = True  # Huey's worker loop then calls dequeue again at once instead of sleeping with back-off

    def __init__(
        self,
        *args: object,
        wake_path: str,
        wait_seconds: float = WAIT_SECONDS,
        autocheckpoint: bool = True,
        **kwargs: object,
    ) -> None:
        self.doorbell = Doorbell(wake_path)
        self.wait_seconds = wait_seconds
        self.autocheckpoint = autocheckpoint  # False: see ``JobQueue``
        super().__init__(*args, **kwargs)

    def _create_connection(self) -> sqlite3.Connection:
        conn = super()._create_connection()
        # In WAL mode a commit then waits for no fsync (about 4 ms of every submission and every dequeue here). A
        # power cut can lose the last messages, never corrupt the file, and a lost message is sent again by the
        # sweeper (``sweeper.resend_lost``): the jobs table, synchronous=FULL, is the truth. (Huey's own
        # fsync=False would mean synchronous=OFF: not that.)
        commit_without_fsync(conn)
        if not self.autocheckpoint:
            checkpoint_elsewhere(conn)
        return conn

    def enqueue(self, data: bytes, priority: float | None = None) -> None:
        super().enqueue(data, priority)  # committed before the ring: a woken reader finds it
        self.doorbell.ring()

    def dequeue(self) -> bytes | None:
        data = super().dequeue()
        if data is not None:
            return data
        self.doorbell.wait(self.wait_seconds)
        return super().dequeue()

    def close(self) -> bool:
        self.doorbell.close()
        return bool(super().close())
