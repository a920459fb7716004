"""A worker's sign of life to ``serve``, apart from its database heartbeat: one byte down a pipe every second.

The database heartbeat says a worker can reach the database; it stops for a held write lock as well as for a hung
process, so it cannot tell ``serve`` to kill anything. This pipe is written by a thread that touches nothing else:
it stops only when the whole process does (SIGSTOP, a frozen cgroup) or when native code holds the GIL (breaker17
B17-9: a stopped worker was never replaced, its jobs stayed ``running`` and, frozen inside an app.db write, it held
every API write at 503). systemd's ``WatchdogSec=`` with ``sd_notify("WATCHDOG=1")`` is the same idea.
"""

from __future__ import annotations

import os
import threading

SIGN_SECONDS = 1.0  # one byte a second: a 64 KiB pipe holds ~18 h of signs should the reader stall


def start_signs(fd: int) -> threading.Thread:
    """Write one byte to the pipe ``fd`` every :data:`SIGN_SECONDS` from a daemon thread, until the reader is gone.

    A full pipe (the reader stalled) drops the sign instead of blocking.
    """
    os.set_blocking(fd, False)

    def run() -> None:
        stop = threading.Event()
        while not stop.wait(SIGN_SECONDS):
            try:
                os.write(fd, b".")
            except BlockingIOError:
                continue
            except OSError:  # the reader (serve) is gone: the parent watch in Upkeep stops this worker
                return

    thread = threading.Thread(target=run, name="liveness", daemon=True)
    thread.start()
    return thread


def drained(fd: int) -> bool:
    """Read every byte waiting in the non-blocking pipe ``fd``; True when there was at least one sign."""
    seen = False
    while True:
        try:
            chunk = os.read(fd, 4096)
        except BlockingIOError:
            return seen
        if not chunk:  # the writer closed its end (the process exited): nothing more will come
            return seen
        seen = True
