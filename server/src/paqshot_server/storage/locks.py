"""Who holds a SQLite database's write lock: read from the kernel's lock table, for ``doctor``'s words; and
whether anyone held it for a while (readiness).

In WAL mode (``storage.db``) a writer holds an exclusive POSIX lock on byte 120 of the ``-shm`` file (SQLite's
``WAL_WRITE_LOCK``, the first of the shared-memory locks at offset 120: ``os_unix.c``, ``UNIX_SHM_BASE``). Linux
lists every POSIX lock in ``/proc/locks`` with the holder's pid, so the process that keeps the appliance's writes
waiting can be named without asking it.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from .faults import is_database_busy

WAL_WRITE_LOCK_BYTE = 120  # UNIX_SHM_BASE ((22+SQLITE_SHM_NLOCK)*4) + WAL_WRITE_LOCK (0), sqlite3 os_unix.c


def write_lock_holders(db_path: Path, locks: Path = Path("/proc/locks")) -> list[tuple[int, str]]:
    """The processes holding the WAL write lock of the database at ``db_path``: (pid, command line) pairs, the
    command line "" where it cannot be read (another user's process). An empty list where nobody holds it, the
    ``-shm`` file does not exist, or the lock table cannot be read (not Linux)."""
    try:
        shm = os.stat(f"{db_path}-shm")
        table = locks.read_text()
    except OSError:
        return []
    device = f"{os.major(shm.st_dev):02x}:{os.minor(shm.st_dev):02x}:{shm.st_ino}"
    pids = set()
    for line in table.splitlines():
        # "2: POSIX  ADVISORY  WRITE 21186 fe:00:2402663 120 120"; a process waiting for a lock has "->" after
        # the number: it does not hold it
        fields = line.split()
        if "->" in fields or len(fields) < 8 or fields[1] != "POSIX" or fields[3] != "WRITE" or fields[5] != device:
            continue
        start, end = fields[6], fields[7]
        if int(start) <= WAL_WRITE_LOCK_BYTE and (end == "EOF" or int(end) >= WAL_WRITE_LOCK_BYTE):
            pids.add(int(fields[4]))
    return [(pid, _command_line(pid)) for pid in sorted(pids) if pid > 0]


def _command_line(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode("utf-8", "replace").strip()


def write_locked(db_path: Path, wait_seconds: float) -> bool:
    """True when another connection held the write lock of the database at ``db_path`` for ``wait_seconds``
    (seconds): an operator's ``sqlite3`` session, a backup. The file is opened read-write without being created;
    nothing is written (``BEGIN IMMEDIATE`` then ``ROLLBACK``).

    Raises:
        sqlite3.Error: the file is missing or not a database."""
    conn = sqlite3.connect(f"{db_path.as_uri()}?mode=rw", uri=True, timeout=wait_seconds)
    try:
        conn.execute("BEGIN IMMEDIATE")  # takes the write lock, or waits for it
        conn.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError as exc:
        if is_database_busy(exc):
            return True
        raise
    finally:
        conn.close()
