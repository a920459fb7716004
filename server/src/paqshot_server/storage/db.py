"""SQLite connections with the pragmas this appliance relies on, and write transactions.

WAL lets the API read while a worker writes; ``busy_timeout`` makes writers wait instead of failing;
``synchronous=FULL`` because a 202 is a promise; writes use ``BEGIN IMMEDIATE`` so a transaction that
reads then writes cannot fail half-way with SQLITE_BUSY.
"""

from __future__ import annotations

import itertools
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import sqlite_utils

from ..errors import DatabaseGone, StorageFull
from . import migrations
from .faults import is_storage_full


def connect(path: Path, *, create: bool = True) -> sqlite_utils.Database:
    """Open (and migrate) the app database. One connection per thread: do not share across threads.

    A new database file is created owner-only (0600; SQLite gives its ``-wal`` and ``-shm`` files the same
    mode): it holds webhook secrets and customer data. With ``create=False`` a missing file is an error
    instead of a new, empty database (``doctor``).

    Raises:
        DatabaseGone: ``create=False`` and there is no database file.
        StorageFull: the disk is full while the schema is brought up to date.
    """
    if create:
        create_private(path)
    elif not path.is_file():
        raise DatabaseGone(f"{path} does not exist (run `init`, or restore it from a backup).")
    target = str(path) if create else f"file:{path}?mode=rw"
    conn = sqlite3.connect(target, timeout=BUSY_SECONDS, isolation_level=None, check_same_thread=False, uri=not create)
    try:
        _switch_to_wal(conn)
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute(f"PRAGMA busy_timeout={int(BUSY_SECONDS * 1000)}")
        conn.execute("PRAGMA foreign_keys=ON")
        db = sqlite_utils.Database(conn)
        migrations.apply(db)
        _WRITE_LOCKS[db] = _PATH_WRITE_LOCKS.setdefault(str(path.resolve()), threading.RLock())
    except sqlite3.Error as exc:
        conn.close()
        if is_storage_full(exc):
            raise StorageFull("database") from exc
        raise
    return db


BUSY_SECONDS = 10.0  # how long a connection waits for another's lock (sqlite3's timeout, busy_timeout)
# Threads of one process queue for each other's write transactions on a lock per file, woken the moment it is
# released. Left to SQLite, a waiting connection polls with sleeps growing to 100 ms (sqliteDefaultBusyCallback):
# at 16 concurrent submissions the slowest inserts waited 130-190 ms for nothing. Other processes (workers) still
# wait in SQLite (busy_timeout).
_PATH_WRITE_LOCKS: dict[str, threading.RLock] = {}
_WRITE_LOCKS: weakref.WeakKeyDictionary[sqlite_utils.Database, threading.RLock] = weakref.WeakKeyDictionary()


def _switch_to_wal(conn: sqlite3.Connection) -> None:
    """``PRAGMA journal_mode=WAL``, tried again while another connection holds the lock for the same switch.

    SQLite does not call its busy handler for this lock (waiting could deadlock two connections upgrading at once),
    so processes opening a new file together got "database is locked" (measured: 23 of 200 rounds of six threads).
    """
    deadline = time.monotonic() + BUSY_SECONDS
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def quick_check(db: sqlite_utils.Database) -> str:
    """SQLite's ``PRAGMA quick_check``: ``"ok"``, or the first problem it found."""
    return str(db.conn.execute("PRAGMA quick_check").fetchone()[0])


def create_private(path: Path) -> None:
    """Make the data folder (0700 when new) and an empty database file (0600) unless they exist."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    os.close(fd)


_commits = itertools.count()
_committed = 0


def commits() -> int:
    """How many :func:`write` transactions this process has committed (with SQLite's ``data_version``, which
    counts other connections' commits, it tells a reader that nothing changed since it last looked)."""
    return _committed


def commit_without_fsync(conn: sqlite3.Connection) -> None:
    """WAL with ``synchronous=NORMAL``: a commit waits for no fsync; a power cut may undo the last commits, never
    corrupt the file. Only for data that can be rebuilt (the queue's messages: ``jobs.wakeup``)."""
    conn.execute("PRAGMA synchronous=NORMAL")


def data_version(conn: sqlite3.Connection) -> int:
    """Changes when another connection has committed to the database (SQLite's PRAGMA data_version)."""
    return int(conn.execute("PRAGMA data_version").fetchone()[0])


@contextmanager
def write(db: sqlite_utils.Database) -> Iterator[sqlite3.Connection]:
    """A ``BEGIN IMMEDIATE`` transaction: commit on success, roll back on any exception."""
    lock = _WRITE_LOCKS.get(db)
    held = lock is not None and lock.acquire(timeout=BUSY_SECONDS)  # past it, SQLite's own wait (then its error)
    try:
        with _transaction(db) as conn:
            yield conn
    finally:
        if held:
            assert lock is not None
            lock.release()


@contextmanager
def _transaction(db: sqlite_utils.Database) -> Iterator[sqlite3.Connection]:
    global _committed
    conn = db.conn
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        _committed = next(_commits) + 1
    except sqlite3.OperationalError as exc:
        if is_storage_full(exc):  # "database or disk is full": a clear 503, not a generic error
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise StorageFull("database") from exc
        raise


class _Holder:
    """One thread's connection; when the thread ends, its thread-local storage (and this) goes, and a
    finalizer closes the connection, so connections of short-lived threads (anyio's pool) never pile up."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db


class FilePin:
    """The identity of a file this process opened: a descriptor kept open (so its inode cannot be reused) to
    tell, later, whether the name now points to another file or to none."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def pin(self) -> None:
        """Remember the file now at ``path`` (once; later calls keep the first)."""
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDONLY)

    def change(self) -> Literal["deleted", "replaced"] | None:
        """What became of the pinned file: ``deleted``, ``replaced`` (another file has its name now), or None
        while it is still the file on disk (or nothing was pinned yet)."""
        if self._fd is None:
            return None
        pinned = os.fstat(self._fd)
        try:
            now = os.stat(self.path)
        except FileNotFoundError:
            return "deleted"
        return "replaced" if (now.st_dev, now.st_ino) != (pinned.st_dev, pinned.st_ino) else None

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class ThreadLocalDB:
    """Hands each thread its own connection to one database file (sqlite3 objects are per-thread).

    The file first opened is pinned (a descriptor kept open, so its inode cannot be reused): if the path
    is later deleted or replaced, :meth:`identity_problem` says so and no new connection is opened to
    whatever file now has that name (which would split the data between two databases).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._open: set[sqlite3.Connection] = set()
        self._lock = threading.Lock()
        self._pin = FilePin(path)
        self.damage: str | None = None  # the first sign of a damaged file seen (kept until the process restarts)
        self.checked_at = -float("inf")  # monotonic time of the last integrity check (readiness)

    def note_damage(self, what: str) -> None:
        """Remember that the file was found damaged (SQLite: malformed, not a database); readiness reports it."""
        if self.damage is None:
            self.damage = what

    def get(self) -> sqlite_utils.Database:
        """This thread's connection, opened on first use.

        Raises:
            DatabaseGone: the database file was deleted or replaced since this process first opened it.
        """
        holder = getattr(self._local, "holder", None)
        if holder is not None:
            return holder.db
        problem = self.identity_problem()
        if problem:
            raise DatabaseGone(problem)
        db = connect(self.path)
        with self._lock:
            self._pin.pin()
            self._open.add(db.conn)
        holder = _Holder(db)
        weakref.finalize(holder, self._forget, db.conn)
        self._local.holder = holder
        return db

    def _forget(self, conn: sqlite3.Connection) -> None:
        with self._lock:
            self._open.discard(conn)
        conn.close()

    def open_connections(self) -> int:
        """Connections handed out and not yet closed (threads that ended have given theirs back)."""
        with self._lock:
            return len(self._open)

    def identity_change(self) -> Literal["deleted", "replaced"] | None:
        """What became of the database file this process uses: ``deleted``, ``replaced`` (another file has its
        name now), or None while it is still the file on disk."""
        return self._pin.change()

    def identity_problem(self) -> str | None:
        """Why the database file on disk is no longer the one this process uses (with its path, for the
        operator), or None."""
        change = self.identity_change()
        if change == "deleted":
            return f"{self.path} was deleted while the appliance was running; restore it from a backup and restart."
        if change == "replaced":
            return f"{self.path} was replaced while the appliance was running; restart to use the new file."
        return None

    def close(self) -> None:
        """Close every connection handed out (at shutdown)."""
        with self._lock:
            for conn in self._open:
                conn.close()
            self._open.clear()
            self._pin.release()
        self._local = threading.local()


def held_elsewhere(path: Path) -> list[tuple[int, str]]:
    """Processes that hold a database file by this name open which is no longer the file at ``path``.

    Reads ``/proc/<pid>/fd`` (Linux; the processes of this user, or all as root): a descriptor whose target
    is ``path`` but whose inode differs (replaced), or that is marked deleted. Returns (pid, what) pairs;
    an empty list where ``/proc`` is not readable.
    """
    name = str(path.resolve())
    try:
        current = os.stat(path)
        here: tuple[int, int] | None = (current.st_dev, current.st_ino)
    except FileNotFoundError:
        here = None
    found: dict[int, str] = {}
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            fds = list((entry / "fd").iterdir())
        except OSError:  # gone, or not ours to read
            continue
        for fd in fds:
            try:
                target = os.readlink(fd)
                if target != name and target != f"{name} (deleted)":
                    continue
                held = os.stat(fd)
            except OSError:
                continue
            if target.endswith(" (deleted)") or here is None:
                found[int(entry.name)] = "holds a deleted copy"
            elif (held.st_dev, held.st_ino) != here:
                found[int(entry.name)] = "holds a different (replaced) file"
    return sorted(found.items())
